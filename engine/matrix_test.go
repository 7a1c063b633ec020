package engine

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// matrixSpec is an operation with the given matrix (YAML lines indented
// for the operation) over a component whose output y is x*10 + bonus.
func matrixSpec(matrix, extra string) string {
	return `version: 1.1
kind: operation
name: sweep
` + extra + `matrix:
` + matrix + `component:
  inputs:
    - {name: x, type: int}
    - {name: bonus, type: int, isOptional: true, value: 0}
  outputs: [{name: y, type: float}]
  run:
    kind: job
    container:
      image: x
      command: [sh, -c, 'if [ "{{ x }}" -lt 0 ]; then exit 3; fi; echo "{\"y\": $(( {{ x }} * 10 + {{ bonus }} ))}" > "$PLEXUS_OUTPUTS_PATH"']
`
}

// submitSweep submits a matrix operation and waits for its end; it returns
// the matrix run and its children by trial index.
func submitSweep(t *testing.T, e *Engine, spec string) (*store.Run, map[string]*store.Run) {
	t.Helper()
	return submitDag(t, e, spec)
}

// TestMatrixGrid: a grid runs one child per point of the product, each
// with its values as params (context-only when not an input), and the
// matrix succeeds once they all have.
func TestMatrixGrid(t *testing.T) {
	e := startEngine(t)
	// tag is no input: a context-only param, which templates read.
	run, ch := submitSweep(t, e, strings.Replace(matrixSpec(`
  kind: grid
  params:
    x: {kind: choice, value: [1, 2, 3]}
    tag: {kind: range, value: "0:2:1"}
`, ""), "{{ bonus }}", "{{ bonus }} + {{ tag }}", 1))
	if run.Status != store.Succeeded {
		t.Fatalf("matrix %s: %v", run.Status, run.Conditions)
	}
	if len(ch) != 6 {
		t.Fatalf("%d children, want 6: %s", len(ch), nodeStatuses(ch))
	}
	seen := map[string]bool{}
	for node, r := range ch {
		x := r.Params["x"]
		if r.Status != store.Succeeded || r.Outputs["y"] != float64(toInt(x)*10+toInt(r.Params["tag"])) || r.Parent != run.UUID || r.Name != "sweep-"+node {
			t.Errorf("trial %s: %s, params %v, outputs %v, name %s", node, r.Status, r.Params, r.Outputs, r.Name)
		}
		seen[fmt.Sprint(r.Params["x"], r.Params["tag"])] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct points, want 6", len(seen))
	}
	if _, msg := reasonOf(run); !strings.Contains(msg, "6 succeeded") {
		t.Errorf("matrix ended with %q", msg)
	}
}

func toInt(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	}
	return -1
}

// TestMatrixConcurrency: no more children run at once than the
// matrix's concurrency.
func TestMatrixConcurrency(t *testing.T) {
	e := startEngine(t)
	spec := strings.Replace(matrixSpec(`
  kind: mapping
  concurrency: 2
  values: [{x: 1}, {x: 2}, {x: 3}, {x: 4}, {x: 5}]
`, ""), "if [", "sleep 0.2; if [", 1)
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Succeeded || len(ch) != 5 {
		t.Fatalf("matrix %s with %d children", run.Status, len(ch))
	}
	for _, a := range ch {
		overlap := 0
		for _, b := range ch {
			if !started(b).After(started(a)) && ended(b).After(started(a)) {
				overlap++
			}
		}
		if overlap > 2 {
			t.Errorf("%d children ran when %s started", overlap, a.Name)
		}
	}
}

// TestMatrixEarlyStopping: a metric that reaches its value stops the
// sweep; so does a share of failures.
func TestMatrixEarlyStopping(t *testing.T) {
	e := startEngine(t)
	run, ch := submitSweep(t, e, matrixSpec(`
  kind: mapping
  concurrency: 1
  values: [{x: 1}, {x: 5}, {x: 2}, {x: 3}, {x: 4}]
  earlyStopping:
    - {kind: metric_early_stopping, metric: y, value: 50, optimization: maximize}
`, ""))
	if run.Status != store.Stopped {
		t.Fatalf("matrix %s: %v", run.Status, run.Conditions)
	}
	if len(ch) > 3 || ch["1"] == nil || ch["1"].Status != store.Succeeded {
		t.Errorf("children after the stop: %s", nodeStatuses(ch))
	}
	found := false
	for _, c := range run.Conditions {
		found = found || c.Reason == "EarlyStopping" && strings.Contains(c.Message, "trial 1 gave y = 50")
	}
	if !found {
		t.Errorf("no early stopping condition naming trial 1: %v", run.Conditions)
	}
	run, ch = submitSweep(t, e, matrixSpec(`
  kind: mapping
  concurrency: 1
  values: [{x: -1}, {x: 1}, {x: -2}, {x: 3}, {x: 4}, {x: 5}]
  earlyStopping:
    - {kind: failure_early_stopping, percent: 30}
`, ""))
	if run.Status != store.Stopped || len(ch) != 3 {
		t.Errorf("failure early stopping: matrix %s with %s", run.Status, nodeStatuses(ch))
	}
}

// TestMatrixHyperband: successive halving runs the table's trials, each
// rung the best of the one before with eta times the resource.
func TestMatrixHyperband(t *testing.T) {
	e := startEngine(t)
	spec := `version: 1.1
kind: operation
name: hb
matrix:
  kind: hyperband
  maxIterations: 9
  eta: 3
  resource: {name: epochs, type: int}
  metric: {name: loss, optimization: minimize}
  seed: 3
  params:
    lr: {kind: choice, value: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}
component:
  inputs: [{name: lr, type: int}, {name: epochs, type: int}]
  outputs: [{name: loss, type: float}]
  run:
    kind: job
    container: {image: x, command: [sh, -c, 'echo "{\"loss\": $(( {{ lr }} * 100 / {{ epochs }} ))}" > "$PLEXUS_OUTPUTS_PATH"']}
`
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Succeeded {
		t.Fatalf("hyperband %s: %v", run.Status, run.Conditions)
	}
	// R=9, eta=3: brackets (9,1)(3,3)(1,9); (5,3)(1,9); (3,9).
	if len(ch) != 9+3+1+5+1+3 {
		t.Fatalf("%d trials, want 22", len(ch))
	}
	// The first bracket's last rung runs the smallest lr of its first
	// rung, with 9 epochs.
	best := 100
	for i := range 9 {
		best = min(best, toInt(ch[fmt.Sprint(i)].Params["lr"]))
	}
	if last := ch["12"]; toInt(last.Params["lr"]) != best || toInt(last.Params["epochs"]) != 9 {
		t.Errorf("rung 2 of bracket 2 ran %v, want lr %d with 9 epochs", last.Params, best)
	}
}

// TestMatrixHyperbandResume: with resume, a promoted trial continues the
// run it is promoted from: it is compiled as its copy (cloning kind, its
// original's uuid) and starts from the artifacts it left, so the epochs
// it trains add up over its rungs.
func TestMatrixHyperbandResume(t *testing.T) {
	e := startEngine(t)
	spec := `version: 1.1
kind: operation
name: hb
matrix:
  kind: hyperband
  maxIterations: 9
  eta: 3
  resume: true
  resource: {name: epochs, type: int}
  metric: {name: loss, optimization: minimize}
  seed: 3
  params:
    lr: {kind: choice, value: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}
component:
  inputs: [{name: lr, type: int}, {name: epochs, type: int}]
  outputs: [{name: loss, type: float}, {name: trained, type: int}, {name: from, type: str}]
  run:
    kind: job
    container:
      image: x
      command:
        - sh
        - -c
        - |
          d={{ globals.run_artifacts_path }}; mkdir -p "$d"
          n=$(( $(cat "$d/epochs" 2>/dev/null || echo 0) + {{ epochs }} )); echo $n > "$d/epochs"
          echo "{\"loss\": $(( {{ lr }} * 100 / $n )), \"trained\": $n, \"from\": \"{{ globals.cloning_kind }}:{{ globals.original_uuid }}\"}" > "$PLEXUS_OUTPUTS_PATH"
`
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Succeeded {
		t.Fatalf("hyperband %s: %v", run.Status, run.Conditions)
	}
	byUUID := map[string]*store.Run{}
	for _, r := range ch {
		byUUID[r.UUID] = r
	}
	resumed := 0
	for node, r := range ch {
		if r.ResumeOf == "" {
			if r.Outputs["trained"] != r.Params["epochs"] || r.Outputs["from"] != ":" {
				t.Errorf("trial %s, not promoted: trained %v for epochs %v, from %v", node, r.Outputs["trained"], r.Params["epochs"], r.Outputs["from"])
			}
			continue
		}
		resumed++
		orig := byUUID[r.ResumeOf]
		if orig == nil {
			t.Errorf("trial %s continues %s, not a trial of the sweep", node, r.ResumeOf)
			continue
		}
		want := toInt(orig.Outputs["trained"]) + toInt(r.Params["epochs"])
		if toInt(r.Outputs["trained"]) != want || r.Outputs["from"] != "copy:"+orig.UUID || r.Params["lr"] != orig.Params["lr"] {
			t.Errorf("trial %s (from %s): trained %v, want %d; from %v; lr %v vs %v", node, orig.Node, r.Outputs["trained"], want, r.Outputs["from"], r.Params["lr"], orig.Params["lr"])
		}
	}
	// R=9, eta=3: the promoted trials are bracket 2's rungs 1 and 2 (3 + 1)
	// and bracket 1's rung 1 (1).
	if resumed != 5 {
		t.Errorf("%d trials continued an earlier one, want 5", resumed)
	}
}

// TestMatrixInDag: a dag's operation with a matrix is a sweep inside the
// dag; its downstream runs once it is done.
func TestMatrixInDag(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - name: sweep
        dagRef: ok
        matrix: {kind: grid, params: {x: {kind: range, value: [1, 4, 1]}}}
      - {name: after, dagRef: ok, dependencies: [sweep], params: {x: {value: 7}}}
`, ""))
	if dagRun.Status != store.Succeeded || ch["sweep"].Status != store.Succeeded || ch["after"].Status != store.Succeeded {
		t.Fatalf("dag %s: %s", dagRun.Status, nodeStatuses(ch))
	}
	trials := childrenOf(t, e.cfg.Store, ch["sweep"].UUID)
	if len(trials) != 3 || started(ch["after"]).Before(ended(ch["sweep"])) {
		t.Errorf("%d trials; after started %v, sweep ended %v", len(trials), started(ch["after"]), ended(ch["sweep"]))
	}
}

// TestMatrixResume: resuming a sweep that failed runs again only the
// trials that failed, with the same params.
func TestMatrixResume(t *testing.T) {
	e := startEngine(t)
	dir := t.TempDir()
	// x=2 fails until the flag file exists.
	spec := strings.Replace(matrixSpec(`
  kind: grid
  params: {x: {kind: choice, value: [1, 2, 3]}}
`, ""), "if [", fmt.Sprintf(`if [ "{{ x }}" = 2 ] && [ ! -e %s/ok ]; then exit 4; fi; if [`, dir), 1)
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Failed || ch["1"].Status != store.Failed {
		t.Fatalf("first attempt: %s with %s", run.Status, nodeStatuses(ch))
	}
	first := map[string]string{}
	for n, r := range ch {
		first[n] = r.UUID
	}
	if err := os.WriteFile(dir+"/ok", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	run = waitFinal(t, e, run.UUID)
	ch = childrenOf(t, e.cfg.Store, run.UUID)
	if run.Status != store.Succeeded {
		t.Fatalf("resumed: %s with %s", run.Status, nodeStatuses(ch))
	}
	for n, r := range ch {
		if again := r.UUID != first[n]; again != (n == "1") || toInt(r.Params["x"]) != map[string]int{"0": 1, "1": 2, "2": 3}[n] {
			t.Errorf("trial %s: run %s (first %s), params %v", n, r.UUID, first[n], r.Params)
		}
	}
}

// TestMatrixRefused: what a matrix asks for that is not run yet, or that
// cannot run, is refused at submission at its path.
func TestMatrixRefused(t *testing.T) {
	e := startEngine(t)
	for name, tc := range map[string]struct{ matrix, want string }{
		"iterative": {`
  kind: iterative
  maxIterations: 3
  params: {x: {kind: choice, value: [1]}}
`, "matrix.tuner: a matrix of kind iterative needs a tuner component (tuner.hubRef)"},
		"tuner": {`
  kind: hyperband
  maxIterations: 3
  resource: {name: x, type: int}
  metric: {name: y, optimization: maximize}
  tuner: {hubRef: my-tuner}
`, `matrix.tuner.hubRef: this engine has no hub to find the tuner "my-tuner" in`},
		"eta 1": {`
  kind: hyperband
  maxIterations: 3
  eta: 1
  resource: {name: x, type: int}
  metric: {name: y, optimization: maximize}
`, "matrix.eta: successive halving needs eta greater than 1"},
		"bad trial": {`
  kind: mapping
  values: [{x: nope}]
`, "its first trial (x=nope) does not compile"},
	} {
		_, err := e.Submit(t.Context(), Submission{Source: "sweep.yaml", Spec: matrixSpec(tc.matrix, "")})
		var ce *compiler.CompilationError
		var el specs.ErrorList
		if err == nil || !strings.Contains(err.Error(), tc.want) || !(errors.As(err, &ce) || errors.As(err, &el)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestMatrixStop: stopping a sweep stops its running trials, and no trial
// is created after it.
func TestMatrixStop(t *testing.T) {
	e := startEngine(t)
	spec := strings.Replace(matrixSpec(`
  kind: mapping
  concurrency: 2
  values: [{x: 1}, {x: 2}, {x: 3}, {x: 4}, {x: 5}, {x: 6}]
`, ""), "if [", "sleep 30; if [", 1)
	run, err := e.Submit(t.Context(), Submission{Source: "sweep.yaml", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ch := childrenOf(t, e.cfg.Store, run.UUID)
		running := 0
		for _, r := range ch {
			if r.Status == store.Running {
				running++
			}
		}
		if running == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("two trials never ran at once: %s", nodeStatuses(ch))
		}
	}
	if _, err := e.Stop(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	ch := childrenOf(t, e.cfg.Store, run.UUID)
	if r.Status != store.Stopped || len(ch) != 2 || ch["0"].Status != store.Stopped || ch["1"].Status != store.Stopped {
		t.Errorf("stopped sweep %s with %s", r.Status, nodeStatuses(ch))
	}
	time.Sleep(300 * time.Millisecond)
	if later := childrenOf(t, e.cfg.Store, run.UUID); len(later) != 2 {
		t.Errorf("trials created after the stop: %s", nodeStatuses(later))
	}
}

// TestMatrixTemplated: a matrix's fields may be templates over the
// operation's params: a mapping's values, a count.
func TestMatrixTemplated(t *testing.T) {
	e := startEngine(t)
	spec := strings.Replace(matrixSpec(`
  kind: mapping
  concurrency: "{{ bonus }}"
  values: "{{ vals }}"
`, "params:\n  vals: {value: [{x: 4}, {x: 5}, {x: 6}]}\n  bonus: {value: 2}\n"),
		"    - {name: bonus,", "    - {name: vals, type: list}\n    - {name: bonus,", 1)
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Succeeded || len(ch) != 3 {
		t.Fatalf("matrix %s with %s", run.Status, nodeStatuses(ch))
	}
	for node, want := range map[string]float64{"0": 42, "1": 52, "2": 62} {
		if got := ch[node].Outputs["y"]; got != want {
			t.Errorf("trial %s gave %v, want %v", node, got, want)
		}
	}
}

// TestMatrixOptimisers: bayes and hyperopt sweeps run their trials, each
// iteration suggested from the metrics of the trials before, and their
// best trial is better than the worst of the random ones they began with.
func TestMatrixOptimisers(t *testing.T) {
	e := startEngine(t)
	for name, m := range map[string]string{
		"bayes": `
  kind: bayes
  numInitialRuns: 4
  maxIterations: 4
  seed: 2
  metric: {name: y, optimization: minimize}
  params: {x: {kind: uniform, value: [0, 10]}}
`,
		"tpe": `
  kind: hyperopt
  algorithm: tpe
  numRuns: 3
  maxIterations: 3
  seed: 2
  metric: {name: y, optimization: minimize}
  params: {x: {kind: uniform, value: [0, 10]}}
`,
	} {
		spec := `version: 1.1
kind: operation
name: opt
matrix:` + m + `component:
  inputs: [{name: x, type: float}]
  outputs: [{name: y, type: float}]
  run:
    kind: job
    container:
      image: x
      command: [sh, -c]
      args: ['awk -v x={{ x }} ''BEGIN { printf "{\"y\": %f}", (x - 3) * (x - 3) }'' > "$PLEXUS_OUTPUTS_PATH"']
`
		run, ch := submitSweep(t, e, spec)
		if run.Status != store.Succeeded || len(ch) != 8 && len(ch) != 9 {
			t.Fatalf("%s: %s with %s", name, run.Status, nodeStatuses(ch))
		}
		first := 3
		if name == "bayes" {
			first = 4
		}
		worst, best := 0.0, 1e9
		for node, r := range ch {
			y, ok := r.Outputs["y"].(float64)
			if !ok {
				t.Fatalf("%s: trial %s gave %v", name, node, r.Outputs)
			}
			if i, _ := strconv.Atoi(node); i < first {
				worst = max(worst, y)
			}
			best = min(best, y)
		}
		if !(best < worst) {
			t.Errorf("%s: best %v, worst initial %v", name, best, worst)
		}
	}
}

// TestMatrixResumeOptimiser: a bayes sweep whose first trials failed is
// resumed: they run again with the same params, the trials suggested after
// them are kept, and the sweep ends.
func TestMatrixResumeOptimiser(t *testing.T) {
	e := startEngine(t)
	dir := t.TempDir()
	spec := `version: 1.1
kind: operation
name: opt
matrix:
  kind: bayes
  numInitialRuns: 3
  maxIterations: 3
  concurrency: 1
  seed: 4
  metric: {name: y, optimization: minimize}
  params: {x: {kind: uniform, value: [0, 10]}}
component:
  inputs: [{name: x, type: float}]
  outputs: [{name: y, type: float}]
  run:
    kind: job
    container:
      image: x
      command: [sh, -c]
      args: ['n=$(ls ` + dir + ` | wc -l); if [ "$n" -eq 0 ]; then touch ` + dir + `/first; exit 5; fi; awk -v x={{ x }} ''BEGIN { printf "{\"y\": %f}", (x - 3) * (x - 3) }'' > "$PLEXUS_OUTPUTS_PATH"']
`
	// The first trial to run fails; the others succeed.
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Failed || len(ch) != 6 || ch["0"].Status != store.Failed {
		t.Fatalf("first attempt: %s with %s", run.Status, nodeStatuses(ch))
	}
	before := map[string]string{}
	for n, r := range ch {
		before[n] = fmt.Sprint(r.Params)
	}
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	run = waitFinal(t, e, run.UUID)
	ch = childrenOf(t, e.cfg.Store, run.UUID)
	if run.Status != store.Succeeded || len(ch) != 6 {
		t.Fatalf("resumed: %s with %s", run.Status, nodeStatuses(ch))
	}
	for n, r := range ch {
		if fmt.Sprint(r.Params) != before[n] {
			t.Errorf("trial %s ran %v, first %v", n, r.Params, before[n])
		}
	}
}

// TestMatrixPruning: a median stopping policy stops a trial whose
// reported values are worse than the median of the ended trials' at the
// same step; the trial is pruned, and the sweep succeeds.
func TestMatrixPruning(t *testing.T) {
	e := startEngine(t)
	spec := `version: 1.1
kind: operation
name: pruned
matrix:
  kind: mapping
  concurrency: 1
  values: [{q: 1}, {q: 2}, {q: 30}, {q: 1}]
  earlyStopping:
    - kind: metric_early_stopping
      metric: loss
      value: 0
      optimization: minimize
      policy: {kind: median, evaluationInterval: 1, minSamples: 2}
component:
  inputs: [{name: q, type: int}]
  outputs: [{name: loss, type: int}]
  run:
    kind: job
    container:
      image: x
      command: [sh, -c]
      args: ['for s in 1 2 3 4 5 6 7 8; do echo "step=$s loss=$(( {{ q }} * (10 - s) ))"; sleep 0.1; done; echo "{\"loss\": $(( {{ q }} * 2 ))}" > "$PLEXUS_OUTPUTS_PATH"']
`
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Succeeded || len(ch) != 4 {
		t.Fatalf("sweep %s with %s: %v", run.Status, nodeStatuses(ch), run.Conditions)
	}
	want := map[string]store.Status{"0": store.Succeeded, "1": store.Succeeded, "2": store.Stopped, "3": store.Succeeded}
	for n, st := range want {
		if ch[n].Status != st {
			t.Errorf("trial %s: %s, want %s", n, ch[n].Status, st)
		}
	}
	pruned := false
	for _, c := range ch["2"].Conditions {
		pruned = pruned || c.Reason == reasonPruned && strings.Contains(c.Message, "median stopping")
	}
	if !pruned || ch["2"].Outputs != nil {
		t.Errorf("trial 2: conditions %v, outputs %v", ch["2"].Conditions, ch["2"].Outputs)
	}
}

// TestMatrixPruningReadsBack: a resumed sweep judges its trials against
// the values the trials that ended before it reported, read back from
// their logs.
func TestMatrixPruningReadsBack(t *testing.T) {
	e := startEngine(t)
	dir := t.TempDir()
	spec := `version: 1.1
kind: operation
name: pruned
matrix:
  kind: mapping
  concurrency: 1
  values: [{q: 1}, {q: 2}, {q: 99}]
  earlyStopping:
    - kind: metric_early_stopping
      metric: loss
      value: 0
      optimization: minimize
      policy: {kind: median, evaluationInterval: 1, minSamples: 2}
component:
  inputs: [{name: q, type: int}]
  run:
    kind: job
    container:
      image: x
      command: [sh, -c]
      args: ['if [ {{ q }} -ne 1 ] && [ ! -e ` + dir + `/ok ]; then exit 3; fi; for s in 1 2 3 4 5 6 7 8; do echo "loss=$(( {{ q }} * (10 - s) ))"; sleep 0.1; done']
`
	run, ch := submitSweep(t, e, spec)
	if run.Status != store.Failed || ch["0"].Status != store.Succeeded {
		t.Fatalf("first attempt: %s with %s", run.Status, nodeStatuses(ch))
	}
	if err := os.WriteFile(dir+"/ok", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	run = waitFinal(t, e, run.UUID)
	ch = childrenOf(t, e.cfg.Store, run.UUID)
	// Trial 2 is judged against trial 0 (read back) and trial 1.
	if run.Status != store.Succeeded || ch["1"].Status != store.Succeeded || ch["2"].Status != store.Stopped {
		t.Errorf("resumed: %s with %s", run.Status, nodeStatuses(ch))
	}
}
