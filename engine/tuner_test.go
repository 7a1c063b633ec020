package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

const helperTuner = "PLEXUS_TEST_TUNER"

// TestTunerHelper is not a test: run as a tuner component's process
// (helperTuner set), it reads its iteration and observations and writes
// its suggestions: in iteration k, x = the best y so far / 10 + k + 1 and
// x = 100 + k, each with seen = the observations it was given. From
// iteration FAIL_AT (if set) on, it fails.
func TestTunerHelper(t *testing.T) {
	if os.Getenv(helperTuner) == "" {
		return
	}
	k, _ := strconv.Atoi(os.Getenv("ITERATION"))
	if f := os.Getenv("FAIL_IF"); f != "" && k >= 1 {
		if _, err := os.Stat(f); err == nil {
			fmt.Println("tuner failing: there is", f)
			os.Exit(4)
		}
	}
	if at := os.Getenv("FAIL_AT"); at != "" && at != "-1" {
		if n, _ := strconv.Atoi(at); k >= n {
			fmt.Println("tuner failing at iteration", k)
			os.Exit(4)
		}
	}
	var obs []struct {
		Status  string
		Outputs map[string]any
	}
	if err := json.Unmarshal([]byte(os.Getenv("OBSERVATIONS")), &obs); err != nil {
		fmt.Println("observations:", err, os.Getenv("OBSERVATIONS"))
		os.Exit(5)
	}
	best := 0.0
	for _, o := range obs {
		if y, ok := o.Outputs["y"].(float64); ok && o.Status == "succeeded" && y > best {
			best = y
		}
	}
	var kind map[string]any
	_ = json.Unmarshal([]byte(os.Getenv("MATRIX")), &kind)
	suggestions := []map[string]any{
		{"x": int(best)/10 + k + 1, "seen": len(obs), "kind": kind["kind"]},
		{"x": 100 + k, "seen": len(obs), "kind": kind["kind"]},
	}
	out, _ := json.Marshal(map[string]any{"suggestions": suggestions})
	if err := os.WriteFile(os.Getenv("PLEXUS_OUTPUTS_PATH"), out, 0o644); err != nil {
		fmt.Println(err)
		os.Exit(6)
	}
}

// tunerEngine is an engine with a hub holding acme/tuner: this test
// binary as a tuner component.
func tunerEngine(t *testing.T) *Engine {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hub")
	if err := os.MkdirAll(filepath.Join(dir, "acme", "tuner"), 0o755); err != nil {
		t.Fatal(err)
	}
	comp := fmt.Sprintf(`version: 1.1
kind: component
name: tuner
inputs:
  - {name: observations, type: list, toEnv: OBSERVATIONS}
  - {name: iteration, type: int, toEnv: ITERATION}
  - {name: matrix, type: dict, toEnv: MATRIX}
  - {name: failAt, type: int, isOptional: true, value: -1, toEnv: FAIL_AT}
  - {name: failIf, type: str, isOptional: true, value: "", toEnv: FAIL_IF}
outputs:
  - {name: suggestions, type: list}
run:
  kind: job
  container:
    image: tuner
    command: [%q, "-test.run=^TestTunerHelper$", "-test.count=1"]
    env: [{name: %s, value: "1"}]
`, os.Args[0], helperTuner)
	if err := os.WriteFile(filepath.Join(dir, "acme", "tuner", "latest.yaml"), []byte(comp), 0o644); err != nil {
		t.Fatal(err)
	}
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	return runEngine(t, Config{Store: store.New(storetest.Client(t), storetest.Prefix(t), nil), Executor: ex,
		Sources: compiler.Sources{Hub: hub.New(hub.Dir(dir))}, Resync: 200 * time.Millisecond, RetryBackoff: 20 * time.Millisecond,
		RunInfo: func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.ContextPath = ex.ContextPath(r.UUID)
			return ri
		}})
}

// TestMatrixTuner: an iterative matrix runs its tuner, then the trials
// it suggests, maxIterations times: each tuner is given every trial so
// far (params, status, outputs) and the matrix, and its trials are
// numbered after the earlier ones; a bayes matrix with a tuner runs the
// same way instead of its built-in optimiser.
func TestMatrixTuner(t *testing.T) {
	e := tunerEngine(t)
	for _, kind := range []string{"iterative", "bayes"} {
		t.Run(kind, func(t *testing.T) {
			m := `
  kind: iterative
  maxIterations: 3
  concurrency: 1
  params: {x: {kind: range, value: [0, 1000, 1]}}
  tuner: {hubRef: acme/tuner}
`
			if kind == "bayes" {
				m = `
  kind: bayes
  maxIterations: 2
  numInitialRuns: 2
  metric: {name: y, optimization: maximize}
  params: {x: {kind: uniform, value: [0, 1]}}
  tuner: {hubRef: acme/tuner}
`
			}
			run, ch := submitSweep(t, e, matrixSpec(m, ""))
			if run.Status != store.Succeeded {
				for n, c := range ch {
					if c.Status != store.Succeeded {
						t.Logf("%s: %+v", n, c.Conditions)
					}
				}
				t.Fatalf("sweep %s: %+v, children %s", run.Status, run.Conditions, nodeStatuses(ch))
			}
			// 3 tuners, 6 trials.
			if len(ch) != 9 {
				t.Fatalf("%d children: %s", len(ch), nodeStatuses(ch))
			}
			for k := 0; k < 3; k++ {
				tu := ch["tuner-"+strconv.Itoa(k)]
				if tu == nil || tu.Status != store.Succeeded || toInt(tu.Params["iteration"]) != k || tu.Name != "sweep-tuner-"+strconv.Itoa(k) {
					t.Fatalf("tuner %d: %+v", k, tu)
				}
				obs, _ := tu.Params["observations"].([]any)
				if len(obs) != 2*k {
					t.Errorf("tuner %d was told of %d trials, want %d", k, len(obs), 2*k)
				}
			}
			// Iteration 0: x=1, 100 (y 10, 1000); iteration 1: 1000/10+1+1,
			// 101 (y 1020, 1010); iteration 2: 1020/10+2+1, 102.
			wantX := []int{1, 100, 102, 101, 105, 102}
			for i, want := range wantX {
				tr := ch[strconv.Itoa(i)]
				if tr == nil || tr.Status != store.Succeeded || toInt(tr.Params["x"]) != want || toInt(tr.Params["seen"]) != i/2*2 || tr.Params["kind"] != kind {
					t.Errorf("trial %d: %+v, want x=%d, seen=%d", i, tr, want, i/2*2)
				}
			}
		})
	}
}

// TestMatrixTunerFails: a tuner that fails fails its sweep, saying which
// iteration's did; the trials it suggested before ran.
func TestMatrixTunerFails(t *testing.T) {
	e := tunerEngine(t)
	run, ch := submitSweep(t, e, matrixSpec(`
  kind: iterative
  maxIterations: 5
  params: {x: {kind: choice, value: [1, 2]}}
  tuner: {hubRef: acme/tuner, params: {failAt: {value: 1}}}
`, ""))
	if run.Status != store.Failed || len(ch) != 4 {
		t.Fatalf("sweep %s with %s", run.Status, nodeStatuses(ch))
	}
	if _, msg := reasonOf(run); !strings.Contains(msg, "the tuner of iteration 1 ended failed") {
		t.Errorf("ended with %q", msg)
	}
	if ch["0"].Status != store.Succeeded || ch["tuner-1"].Status != store.Failed {
		t.Errorf("children %s", nodeStatuses(ch))
	}
}

// TestMatrixTunerRefused: a tuner that cannot be one is refused at
// submission, at its hubRef.
func TestMatrixTunerRefused(t *testing.T) {
	e := tunerEngine(t)
	for hubRef, want := range map[string]string{
		"acme/nosuch": "matrix.tuner.hubRef: ",
		"tensorboard": "", // not in this hub either
	} {
		_, err := e.Submit(t.Context(), Submission{Source: "s.yaml", Spec: matrixSpec("  kind: iterative\n  maxIterations: 2\n  params: {x: {kind: choice, value: [1]}}\n  tuner: {hubRef: "+hubRef+"}\n", "")})
		if err == nil || !strings.Contains(err.Error(), "matrix.tuner.hubRef") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", hubRef, err)
		}
	}
}

// TestMatrixTunerLeaderChange: the leader crashes in the middle of a
// tuned sweep; the standby goes on from the runs: the tuners' answers
// are read back, each tuner and each trial is created once, and the
// trials are those the tuners suggested, in order.
func TestMatrixTunerLeaderChange(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	if err := os.MkdirAll(filepath.Join(dir, "acme", "tuner"), 0o755); err != nil {
		t.Fatal(err)
	}
	const comp = "version: 1.1\nkind: component\ninputs: [{name: iteration, type: int}]\noutputs: [{name: suggestions, type: list}]\nrun: {kind: job, container: {image: t, command: [tune]}}\n"
	if err := os.WriteFile(filepath.Join(dir, "acme", "tuner", "latest.yaml"), []byte(comp), 0o644); err != nil {
		t.Fatal(err)
	}
	withHub := func(c *Config) { c.Sources = compiler.Sources{Hub: hub.New(hub.Dir(dir))} }
	prefix := storetest.Prefix(t)
	ex := newRecorder()
	a, _, crashA := startOnWith(t, prefix, "a", ex, withHub)
	time.Sleep(300 * time.Millisecond) // a leads
	_, _, _ = startOnWith(t, prefix, "b", ex, withHub)
	run, err := a.Submit(t.Context(), Submission{Source: "it.yaml", Spec: matrixSpec(`
  kind: iterative
  maxIterations: 4
  concurrency: 2
  params: {x: {kind: range, value: [0, 100, 1]}}
  tuner: {hubRef: acme/tuner}
`, "")})
	if err != nil {
		t.Fatal(err)
	}
	st := a.cfg.Store
	suggest := func(k int) []any {
		return []any{map[string]any{"x": 10 * k}, map[string]any{"x": 10*k + 1}, map[string]any{"x": 10*k + 2}}
	}
	crashed := false
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sweep did not end")
		}
		r, _, err := st.Get(context.Background(), run.UUID)
		if err != nil && !crashed {
			t.Fatal(err)
		}
		if err == nil && r.Status.Final() {
			if r.Status != store.Succeeded {
				t.Fatalf("sweep %s: %v", r.Status, r.Conditions)
			}
			break
		}
		children, err := st.ChildRuns(context.Background(), run.UUID)
		if err != nil {
			continue // the crashed leader's client
		}
		for _, ch := range children {
			ref := executor.RunRef{UUID: ch.UUID, Attempt: 1}
			if ch.Status.Final() || ex.createdCount(ref) == 0 {
				continue
			}
			out := map[string]any{"y": 1.0}
			if k, ok := TunerNode(ch.Node); ok {
				if !crashed && k == 2 {
					crashA() // between iterations: tuner 2 dispatched, not answered
					crashed = true
					st = store.New(storetest.Client(t), prefix, nil)
				}
				out = map[string]any{"suggestions": suggest(k)}
			}
			ex.report(executor.StatusUpdate{Run: ref, Status: executor.Succeeded, Time: time.Now(), Outputs: out})
		}
	}
	if !crashed {
		t.Fatal("the sweep ended before the leader could be crashed")
	}
	ch := childrenOf(t, st, run.UUID)
	if len(ch) != 4+12 {
		t.Fatalf("%d children, want 4 tuners and 12 trials: %s", len(ch), nodeStatuses(ch))
	}
	for node, r := range ch {
		if n := ex.createdCount(executor.RunRef{UUID: r.UUID, Attempt: 1}); n != 1 {
			t.Errorf("%s created %d times", node, n)
		}
		if k, ok := TunerNode(node); ok {
			if toInt(r.Params["iteration"]) != k {
				t.Errorf("%s: params %v", node, r.Params)
			}
			continue
		}
		i, _ := strconv.Atoi(node)
		if want := 10*(i/3) + i%3; toInt(r.Params["x"]) != want {
			t.Errorf("trial %d: x=%v, want %d", i, r.Params["x"], want)
		}
	}
}

// TestMatrixTunerInADag: a dag's operation with a tuned matrix runs its
// tuner and trials as children of its own sweep, then the operation
// after it runs.
func TestMatrixTunerInADag(t *testing.T) {
	e := tunerEngine(t)
	run, ch := submitDag(t, e, `version: 1.1
kind: operation
name: pipe
component:
  run:
    kind: dag
    operations:
      - name: tune
        dagRef: trial
        matrix: {kind: iterative, maxIterations: 2, params: {x: {kind: choice, value: [1]}}, tuner: {hubRef: acme/tuner}}
      - {name: after, dependencies: [tune], component: {run: {kind: job, container: {image: a, command: [echo, after]}}}}
    components:
      - name: trial
        inputs: [{name: x, type: int}]
        outputs: [{name: y, type: float}]
        run: {kind: job, container: {image: a, command: [sh, -c, 'echo "{\"y\": {{ x }}0}" > "$PLEXUS_OUTPUTS_PATH"']}}
`)
	if run.Status != store.Succeeded || ch["tune"] == nil || ch["after"] == nil || ch["after"].Status != store.Succeeded {
		t.Fatalf("dag %s: %s", run.Status, nodeStatuses(ch))
	}
	sweep := childrenOf(t, e.cfg.Store, ch["tune"].UUID)
	if len(sweep) != 2+4 || sweep["tuner-1"] == nil || toInt(sweep["2"].Params["x"]) != 1000/10+1+1 {
		t.Fatalf("the sweep's children: %s, trial 2 %v", nodeStatuses(sweep), sweep["2"])
	}
}

// TestMatrixTunerResume: a sweep whose tuner failed, resumed, asks that
// tuner again and goes on; what succeeded before (the first tuner, its
// trials) keeps its runs.
func TestMatrixTunerResume(t *testing.T) {
	e := tunerEngine(t)
	marker := filepath.Join(t.TempDir(), "fail")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run, first := submitSweep(t, e, matrixSpec(`
  kind: iterative
  maxIterations: 2
  params: {x: {kind: choice, value: [1, 2]}}
  tuner: {hubRef: acme/tuner, params: {failIf: {value: "`+marker+`"}}}
`, ""))
	if run.Status != store.Failed || first["tuner-1"] == nil || first["tuner-1"].Status != store.Failed {
		t.Fatalf("sweep %s with %s", run.Status, nodeStatuses(first))
	}
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	run = waitFinal(t, e, run.UUID)
	ch := childrenOf(t, e.cfg.Store, run.UUID)
	if run.Status != store.Succeeded || len(ch) != 6 {
		t.Fatalf("resumed: %s with %s", run.Status, nodeStatuses(ch))
	}
	for _, node := range []string{"tuner-0", "0", "1"} {
		if ch[node].UUID != first[node].UUID {
			t.Errorf("%s ran again", node)
		}
	}
	if ch["tuner-1"].UUID == first["tuner-1"].UUID || ch["tuner-1"].ParentAttempt != 2 || ch["tuner-1"].Status != store.Succeeded {
		t.Errorf("tuner-1: %+v", ch["tuner-1"])
	}
}
