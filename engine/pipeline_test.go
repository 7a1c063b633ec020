package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// dagSpec wraps operations and components (YAML lines indented for the
// dag) into a dag operation.
func dagSpec(extra, ops, comps string) string {
	return `version: 1.1
kind: operation
name: pipe
component:
  run:
    kind: dag
` + extra + `    operations:
` + ops + `    components:
      - name: ok
        inputs: [{name: x, type: int, isOptional: true, value: 0}]
        outputs: [{name: y, type: int}]
        run: {kind: job, container: {image: x, command: [sh, -c, 'echo "{\"y\": $(( {{ x }} + 1 ))}" > "$PLEXUS_OUTPUTS_PATH"']}}
      - name: fail
        run: {kind: job, container: {image: x, command: [sh, -c, 'exit 3']}}
      - name: slow
        run: {kind: job, container: {image: x, command: [sh, -c, 'sleep 0.3']}}
` + comps
}

// submitDag submits a dag and waits for its end; it returns the dag and
// its children by operation.
func submitDag(t *testing.T, e *Engine, spec string) (*store.Run, map[string]*store.Run) {
	t.Helper()
	run, err := e.Submit(t.Context(), Submission{Source: "pipe.yaml", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	return r, childrenOf(t, e.cfg.Store, run.UUID)
}

func childrenOf(t *testing.T, st *store.Store, uuid string) map[string]*store.Run {
	t.Helper()
	runs, err := st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Run{}
	for _, r := range runs {
		if o := out[r.Node]; o == nil || r.ParentAttempt > o.ParentAttempt {
			out[r.Node] = r
		}
	}
	return out
}

// nodeStatuses is "name=status" for each child, sorted.
func nodeStatuses(children map[string]*store.Run) string {
	var parts []string
	for n, r := range children {
		parts = append(parts, n+"="+string(r.Status))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func reasonOf(r *store.Run) (string, string) {
	c := r.Conditions[len(r.Conditions)-1]
	return c.Reason, c.Message
}

func started(r *store.Run) time.Time { return r.Conditions[0].Time }
func ended(r *store.Run) time.Time   { return r.Conditions[len(r.Conditions)-1].Time }

// TestDagDiamond: outputs flow down a diamond, each operation starts after
// its upstreams ended, and the children are wired to their dag.
func TestDagDiamond(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - {name: a, dagRef: ok, params: {x: {value: 1}}}
      - {name: b, dagRef: ok, params: {x: {ref: ops.a, value: outputs.y}}}
      - {name: c, dagRef: ok, params: {x: {ref: ops.a, value: "{{ outputs.y }}"}}}
      - {name: e, dagRef: ok, params: {x: {ref: ops.a, value: inputs.x}}}
      - name: d
        component:
          inputs: [{name: p, type: int}, {name: q, type: int}]
          outputs: [{name: y, type: int}]
          run: {kind: job, container: {image: x, command: [sh, -c, 'echo "{\"y\": $(( {{ p }} * {{ q }} ))}" > "$PLEXUS_OUTPUTS_PATH"']}}
        params:
          p: {ref: ops.b, value: outputs.y}
          q: {ref: ops.c, value: outputs.y}
`, ""))
	if dagRun.Status != store.Succeeded {
		t.Fatalf("dag %s: %v", dagRun.Status, dagRun.Conditions)
	}
	if got := nodeStatuses(ch); got != "a=succeeded b=succeeded c=succeeded d=succeeded e=succeeded" {
		t.Fatalf("children: %s", got)
	}
	// a gives 2, b and c 3 each, d 3*3; e reads a's input, 1.
	for node, want := range map[string]float64{"a": 2, "b": 3, "c": 3, "d": 9, "e": 2} {
		if got := ch[node].Outputs["y"]; got != want {
			t.Errorf("%s gave y=%v, want %v", node, got, want)
		}
	}
	for _, edge := range [][2]string{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}} {
		if up, down := ch[edge[0]], ch[edge[1]]; started(down).Before(ended(up)) {
			t.Errorf("%s was created at %v, before %s ended at %v", edge[1], started(down), edge[0], ended(up))
		}
	}
	for node, r := range ch {
		if r.Parent != dagRun.UUID || r.Root != dagRun.UUID || r.Name != node || r.ParentAttempt != 1 {
			t.Errorf("child %s: parent %q root %q name %q attempt %d", node, r.Parent, r.Root, r.Name, r.ParentAttempt)
		}
	}
	if got := ch["d"].Inputs; got["p"] != float64(3) || got["q"] != float64(3) {
		t.Errorf("d's inputs: %v", got)
	}
	if _, msg := reasonOf(dagRun); msg != "5 succeeded" {
		t.Errorf("the dag's last message: %q", msg)
	}
}

// TestDagFailure: a failure marks what depends on it upstream_failed, down
// the chain, fires the one_failed branch, and fails the dag.
func TestDagFailure(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - {name: a, dagRef: ok}
      - {name: b, dagRef: fail, dependencies: [a]}
      - {name: c, dagRef: ok, dependencies: [b]}
      - {name: d, dagRef: ok, dependencies: [c]}
      - {name: side, dagRef: ok, dependencies: [a]}
      - {name: alert, dagRef: ok, dependencies: [b], trigger: one_failed}
      - {name: cleanup, dagRef: ok, dependencies: [b, side], trigger: all_done}
`, ""))
	if dagRun.Status != store.Failed {
		t.Fatalf("dag %s, want failed: %v", dagRun.Status, dagRun.Conditions)
	}
	want := "a=succeeded alert=succeeded b=failed c=upstream_failed cleanup=succeeded d=upstream_failed side=succeeded"
	if got := nodeStatuses(ch); got != want {
		t.Fatalf("children:\n got %s\nwant %s", got, want)
	}
	if reason, msg := reasonOf(ch["c"]); reason != "UpstreamFailed" || !strings.Contains(msg, "all_succeeded") || !strings.Contains(msg, "b failed") {
		t.Errorf("c: %s %q", reason, msg)
	}
	if reason, msg := reasonOf(ch["d"]); reason != "UpstreamFailed" || !strings.Contains(msg, "c upstream_failed") {
		t.Errorf("d: %s %q", reason, msg)
	}
	if ch["d"].ExecutorRef != "" || ch["c"].Attempt != 0 {
		t.Errorf("an upstream_failed operation was dispatched: %+v", ch["c"])
	}
}

// TestDagAlertBranchNotFired: when nothing fails, the one_failed branch is
// upstream_failed and the dag still succeeds.
func TestDagAlertBranchNotFired(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - {name: train, dagRef: ok}
      - {name: alert, dagRef: ok, dependencies: [train], trigger: one_failed}
      - {name: deploy, dagRef: ok, dependencies: [train]}
`, ""))
	if dagRun.Status != store.Succeeded {
		t.Fatalf("dag %s, want succeeded: %v", dagRun.Status, dagRun.Conditions)
	}
	if got := nodeStatuses(ch); got != "alert=upstream_failed deploy=succeeded train=succeeded" {
		t.Fatalf("children: %s", got)
	}
}

// TestDagConditions: a false condition, over params that take upstream
// outputs, skips its operation; the skip propagates to an operation that
// skips on upstream skip, and fails the trigger of one that does not.
func TestDagConditions(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - {name: a, dagRef: ok, params: {x: {value: 4}}}
      - name: big
        dagRef: ok
        params: {x: {ref: ops.a, value: outputs.y}}
        conditions: "{{ x > 10 }}"
      - name: small
        dagRef: ok
        params: {x: {ref: ops.a, value: outputs.y}}
        conditions: "{{ x <= 10 and x > 0 }}"
      - {name: after-big, dagRef: ok, dependencies: [big], skipOnUpstreamSkip: true}
      - {name: after-after, dagRef: ok, dependencies: [after-big], skipOnUpstreamSkip: true}
      - {name: strict, dagRef: ok, dependencies: [big]}
      - {name: either, dagRef: ok, dependencies: [big, small], trigger: one_succeeded}
`, ""))
	want := "a=succeeded after-after=skipped after-big=skipped big=skipped either=upstream_failed small=succeeded strict=upstream_failed"
	if got := nodeStatuses(ch); got != want {
		t.Fatalf("children:\n got %s\nwant %s", got, want)
	}
	if reason, msg := reasonOf(ch["big"]); reason != "ConditionsCheckFailed" || !strings.Contains(msg, "x > 10") {
		t.Errorf("big: %s %q", reason, msg)
	}
	if ch["big"].ExecutorRef != "" {
		t.Error("a skipped operation was dispatched")
	}
	// Nothing failed: upstream_failed branches do not fail the dag.
	if dagRun.Status != store.Succeeded {
		t.Errorf("dag %s: %v", dagRun.Status, dagRun.Conditions)
	}
}

// TestDagConcurrency: never more than `concurrency` children at once, and
// as many as that when there is work for them.
func TestDagConcurrency(t *testing.T) {
	e := startEngine(t)
	var ops strings.Builder
	for i := range 7 {
		fmt.Fprintf(&ops, "      - {name: s%d, dagRef: slow}\n", i)
	}
	dagRun, ch := submitDag(t, e, dagSpec("    concurrency: 2\n", ops.String(), ""))
	if dagRun.Status != store.Succeeded || len(ch) != 7 {
		t.Fatalf("dag %s with %d children", dagRun.Status, len(ch))
	}
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, r := range ch {
		evs = append(evs, ev{started(r), 1}, ev{ended(r), -1})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same time
	})
	most, n := 0, 0
	for _, v := range evs {
		n += v.delta
		most = max(most, n)
	}
	if most != 2 {
		t.Errorf("at most %d children at once, want 2", most)
	}
}

// TestDagStop: stopping a dag stops its running children; operations not
// started never run.
func TestDagStop(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "pipe.yaml", Spec: dagSpec("", `
      - {name: long, component: {run: {kind: job, container: {image: x, command: [sleep, "60"]}}}}
      - {name: after, dagRef: ok, dependencies: [long]}
`, "")})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, func() (bool, string) {
		ch := childrenOf(t, e.cfg.Store, run.UUID)
		l := ch["long"]
		return l != nil && l.Status == store.Running, nodeStatuses(ch)
	})
	if _, err := e.Stop(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	ch := childrenOf(t, e.cfg.Store, run.UUID)
	if r.Status != store.Stopped || nodeStatuses(ch) != "long=stopped" {
		t.Fatalf("dag %s, children %s", r.Status, nodeStatuses(ch))
	}
	if _, msg := reasonOf(r); msg != "1 stopped, 1 not run" {
		t.Errorf("the stopped dag's message: %q", msg)
	}
}

// TestDagResume: resuming a failed dag runs again only what did not
// succeed, keeping the runs that did.
func TestDagResume(t *testing.T) {
	e := startEngine(t)
	flag := filepath.Join(t.TempDir(), "ready")
	dagRun, first := submitDag(t, e, dagSpec("", `
      - {name: a, dagRef: ok}
      - name: b
        dependencies: [a]
        component: {run: {kind: job, container: {image: x, command: [test, -e, `+flag+`]}}}
      - {name: c, dagRef: ok, dependencies: [b]}
      - {name: d, dagRef: ok, dependencies: [a]}
`, ""))
	if dagRun.Status != store.Failed || nodeStatuses(first) != "a=succeeded b=failed c=upstream_failed d=succeeded" {
		t.Fatalf("first attempt: %s, %s", dagRun.Status, nodeStatuses(first))
	}
	if _, err := e.Resume(t.Context(), first["b"].UUID); !errors.Is(err, ErrInvalidTransition) || !strings.Contains(err.Error(), "resume the dag") {
		t.Errorf("resuming an operation of a dag: %v", err)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resume(t.Context(), dagRun.UUID); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, dagRun.UUID)
	second := childrenOf(t, e.cfg.Store, dagRun.UUID)
	if r.Status != store.Succeeded || r.Attempt != 2 || nodeStatuses(second) != "a=succeeded b=succeeded c=succeeded d=succeeded" {
		t.Fatalf("after resume: %s attempt %d, %s", r.Status, r.Attempt, nodeStatuses(second))
	}
	for node, kept := range map[string]bool{"a": true, "d": true, "b": false, "c": false} {
		if same := second[node].UUID == first[node].UUID; same != kept {
			t.Errorf("%s: kept its run %v, want %v", node, same, kept)
		}
	}
}

// TestDagNested: an operation whose component is itself a dag runs its
// own operations as its children, and its upstream outputs reach them.
func TestDagNested(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - {name: a, dagRef: ok, params: {x: {value: 10}}}
      - name: inner
        dependencies: [a]
        component:
          inputs: [{name: seed, type: int}]
          run:
            kind: dag
            operations:
              - {name: i1, dagRef: ok2, params: {x: {ref: dag, value: inputs.seed}}}
              - {name: i2, dagRef: ok2, params: {x: {ref: ops.i1, value: outputs.y}}}
            components:
              - name: ok2
                inputs: [{name: x, type: int}]
                outputs: [{name: y, type: int}]
                run: {kind: job, container: {image: x, command: [sh, -c, 'echo "{\"y\": $(( {{ x }} * 2 ))}" > "$PLEXUS_OUTPUTS_PATH"']}}
        params: {seed: {ref: ops.a, value: outputs.y}}
`, ""))
	if dagRun.Status != store.Succeeded || nodeStatuses(ch) != "a=succeeded inner=succeeded" {
		t.Fatalf("dag %s, children %s", dagRun.Status, nodeStatuses(ch))
	}
	inner := childrenOf(t, e.cfg.Store, ch["inner"].UUID)
	if nodeStatuses(inner) != "i1=succeeded i2=succeeded" {
		t.Fatalf("inner children %s", nodeStatuses(inner))
	}
	// a gives 11; i1 doubles it, i2 doubles again.
	if got := inner["i2"].Outputs["y"]; got != float64(44) {
		t.Errorf("i2 gave %v, want 44", got)
	}
	if inner["i1"].Root != dagRun.UUID || inner["i1"].Parent != ch["inner"].UUID {
		t.Errorf("i1: root %s parent %s", inner["i1"].Root, inner["i1"].Parent)
	}
	g, err := e.Graph(t.Context(), ch["inner"].UUID)
	if err != nil || len(g.Nodes) != 2 || g.Nodes[1].Name != "i2" || g.Nodes[1].Status != store.Succeeded {
		t.Errorf("graph of the inner dag: %+v, %v", g, err)
	}
}

// TestDagEvents: an events edge on run_status_running starts the
// operation while its upstream still runs.
func TestDagEvents(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - {name: train, component: {run: {kind: job, container: {image: x, command: [sleep, "1"]}}}}
      - name: board
        dagRef: ok
        events: [{ref: ops.train, kinds: [run_status_running]}]
`, ""))
	if dagRun.Status != store.Succeeded || nodeStatuses(ch) != "board=succeeded train=succeeded" {
		t.Fatalf("dag %s, children %s", dagRun.Status, nodeStatuses(ch))
	}
	if !started(ch["board"]).Before(ended(ch["train"])) {
		t.Errorf("board started at %v, not before train ended at %v", started(ch["board"]), ended(ch["train"]))
	}
}

// TestDagEarlyStopping: failure_early_stopping stops the dag once enough
// of its operations failed.
func TestDagEarlyStopping(t *testing.T) {
	e := startEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("    earlyStopping: [{kind: failure_early_stopping, percent: 30}]\n", `
      - {name: f1, dagRef: fail}
      - {name: f2, dagRef: fail}
      - {name: later, dagRef: ok, dependencies: [f1, f2], trigger: all_done}
      - {name: long, component: {run: {kind: job, container: {image: x, command: [sleep, "60"]}}}}
`, ""))
	if dagRun.Status != store.Stopped {
		t.Fatalf("dag %s, want stopped: %v", dagRun.Status, dagRun.Conditions)
	}
	var early bool
	for _, c := range dagRun.Conditions {
		early = early || c.Reason == "EarlyStopping"
	}
	if !early || ch["long"].Status != store.Stopped || ch["later"] != nil && ch["later"].Status == store.Succeeded {
		t.Errorf("conditions %v, children %s", dagRun.Conditions, nodeStatuses(ch))
	}
}

// TestDagLeaderKilled: the leader dies in the middle of a dag; the next
// one finishes it, and no operation is dispatched twice.
func TestDagLeaderKilled(t *testing.T) {
	for _, how := range killModes {
		t.Run(how, func(t *testing.T) {
			prefix := storetest.Prefix(t)
			ex := newRecorder()
			a := startNode(t, prefix, "a", ex, foOpts{})
			waitLeader(t, a.cli, prefix, a)
			b := startNode(t, prefix, "b", ex, foOpts{})
			var ops strings.Builder
			// Each operation has params of its own: none is another's
			// cache hit.
			ops.WriteString("      - {name: root, dagRef: ok, params: {x: {value: 100}}}\n")
			for i := range 20 {
				fmt.Fprintf(&ops, "      - {name: m%d, dagRef: ok, params: {x: {value: %d}}, dependencies: [root]}\n", i, i)
			}
			ops.WriteString("      - {name: sink, dagRef: ok, params: {x: {value: 200}}, dependencies: [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18, m19]}\n")
			run, err := a.e.Submit(t.Context(), Submission{Source: "pipe.yaml", Spec: dagSpec("", ops.String(), "")})
			if err != nil {
				t.Fatal(err)
			}
			// Let root and half the middles end, then kill the leader.
			finished := 0
			waitUntil(t, 15*time.Second, func() (bool, string) {
				for ref, n := range ex.createdRefs() {
					if n > 0 && finished < 11 {
						if u, err := ex.Status(t.Context(), ref); err == nil && u.Status == executor.Pending {
							ex.finish(ref, executor.Succeeded)
							finished++
						}
					}
				}
				return finished >= 11, fmt.Sprintf("%d finished", finished)
			})
			a.kill(how)
			waitLeader(t, b.cli, prefix, b)
			// The cluster keeps reporting what is true to the new leader.
			waitUntil(t, 30*time.Second, func() (bool, string) {
				for ref, n := range ex.createdRefs() {
					if n > 0 {
						ex.finish(ref, executor.Succeeded)
					}
				}
				r, _, err := b.e.cfg.Store.Get(t.Context(), run.UUID)
				if err != nil {
					return false, err.Error()
				}
				return r.Status == store.Succeeded, string(r.Status)
			})
			ch := childrenOf(t, b.e.cfg.Store, run.UUID)
			if len(ch) != 22 {
				t.Fatalf("%d children, want 22", len(ch))
			}
			created := ex.createdRefs()
			perNode := map[string]int{}
			for ref, n := range created {
				if n != 1 {
					t.Errorf("attempt %v created %d times", ref, n)
				}
				perNode[ref.UUID]++
			}
			for node, r := range ch {
				if r.Status != store.Succeeded || perNode[r.UUID] != 1 || r.Attempt != 1 {
					t.Errorf("%s: %s, %d attempts created, attempt %d", node, r.Status, perNode[r.UUID], r.Attempt)
				}
			}
			if len(created) != 22 {
				t.Errorf("%d attempts created, want 22", len(created))
			}
		})
	}
}

// TestDagRefToUndeclaredOutput: a param that reads an output the upstream's
// component does not declare is refused at submission, also when that
// component comes from another file.
func TestDagRefToUndeclaredOutput(t *testing.T) {
	e := startEngine(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "train.yaml"), []byte(`version: 1.1
kind: component
outputs: [{name: loss, type: float}]
run: {kind: job, container: {image: x, command: ["true"]}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := dagSpec("", `
      - {name: train, pathRef: ./train.yaml}
      - {name: eval, dagRef: ok, params: {x: {ref: ops.train, value: outputs.accuracy}}}
`, "")
	_, err := e.Submit(t.Context(), Submission{Source: "pipe.yaml", Spec: spec, Dir: dir})
	want := `component.run.operations[1].params.x.value: operation "train" has no output named "accuracy"`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "line 10") {
		t.Fatalf("got %v\nwant %s (line 10)", err, want)
	}
	if page, _ := e.cfg.Store.List(t.Context(), "", 10, nil); len(page.Runs) != 0 {
		t.Errorf("a refused submission stored %d runs", len(page.Runs))
	}
}

// capture is a cluster that records what it is given and succeeds it.
type capture struct {
	*recorder
	mu  sync.Mutex
	got map[string]*compiler.Compiled
}

func (c *capture) Dispatch(ctx context.Context, ref executor.RunRef, comp *compiler.Compiled) error {
	c.mu.Lock()
	c.got[ref.UUID] = comp
	c.mu.Unlock()
	if err := c.recorder.Dispatch(ctx, ref, comp); err != nil {
		return err
	}
	c.finish(ref, executor.Succeeded)
	return nil
}

// TestDagPassesDown: a dag's environment, connections and volumes reach
// its operations, where what an operation sets itself wins.
func TestDagPassesDown(t *testing.T) {
	ex := &capture{recorder: newRecorder(), got: map[string]*compiler.Compiled{}}
	e := runEngine(t, Config{Store: store.New(storetest.Client(t), storetest.Prefix(t), nil), Executor: ex, Resync: 200 * time.Millisecond})
	dagRun, ch := submitDag(t, e, `version: 1.1
kind: operation
component:
  run:
    kind: dag
    environment: {nodeSelector: {pool: gpu, zone: a}, labels: {team: ml}}
    connections: [datasets]
    volumes: [{name: scratch, emptyDir: {}}]
    operations:
      - name: plain
        component: {run: {kind: job, container: {image: x}}}
      - name: own
        component:
          run:
            kind: job
            environment: {nodeSelector: {zone: b}}
            connections: [repo]
            container: {image: x}
`)
	if dagRun.Status != store.Succeeded {
		t.Fatalf("dag %s: %v", dagRun.Status, dagRun.Conditions)
	}
	job := func(node string) *specs.Job {
		ex.mu.Lock()
		defer ex.mu.Unlock()
		return ex.got[ch[node].UUID].Component.Run.(*specs.Job)
	}
	plain, own := job("plain"), job("own")
	if fmt.Sprint(plain.Environment.NodeSelector) != "map[pool:gpu zone:a]" || plain.Environment.Labels["team"] != "ml" ||
		fmt.Sprint(plain.Connections) != "[datasets]" || len(plain.Volumes) != 1 || plain.Volumes[0].Name != "scratch" {
		t.Errorf("plain: environment %+v, connections %v, volumes %v", plain.Environment, plain.Connections, plain.Volumes)
	}
	if fmt.Sprint(own.Environment.NodeSelector) != "map[pool:gpu zone:b]" || fmt.Sprint(own.Connections) != "[datasets repo]" {
		t.Errorf("own: node selector %v, connections %v", own.Environment.NodeSelector, own.Connections)
	}
}

// TestDagCache: a dag's operations use the cache unless they disable it
// (the reference's default inside a pipeline). An operation whose
// component and params are those of a run that succeeded reuses its
// result, outputs included, within the dag and in a later dag; one with
// `cache: {disable: true}` runs again; one whose params differ runs.
func TestDagCache(t *testing.T) {
	e := startEngine(t)
	spec := func(x int) string {
		return dagSpec("", fmt.Sprintf(`
      - {name: a, dagRef: ok, params: {x: {value: 1}}}
      - {name: b, dagRef: ok, params: {x: {ref: ops.a, value: outputs.y}}}
      - {name: again, dagRef: ok, params: {x: {value: 1}}, dependencies: [a]}
      - {name: other, dagRef: ok, params: {x: {value: %d}}, dependencies: [b]}
      - {name: nocache, dagRef: fresh, dependencies: [a]}
`, x), `      - name: fresh
        cache: {disable: true}
        run: {kind: job, container: {image: x, command: [sh, -c, 'true']}}
`)
	}
	hitOf := func(r *store.Run) string {
		for _, c := range r.Conditions {
			if c.Type == store.Scheduled {
				return "" // dispatched
			}
		}
		if r.Status != store.Succeeded || r.CacheOf == "" {
			return ""
		}
		return r.CacheOf
	}
	first, ch1 := submitDag(t, e, spec(7))
	if first.Status != store.Succeeded || nodeStatuses(ch1) != "a=succeeded again=succeeded b=succeeded nocache=succeeded other=succeeded" {
		t.Fatalf("first dag %s, children %s", first.Status, nodeStatuses(ch1))
	}
	// Within the dag: `again` is `a` once more.
	if got := hitOf(ch1["again"]); got != ch1["a"].UUID {
		t.Errorf("again: cache of %q, want a's run %s; conditions %v", got, ch1["a"].UUID, ch1["again"].Conditions)
	}
	if fmt.Sprint(ch1["again"].Outputs["y"]) != "2" {
		t.Errorf("again: outputs %v, want a's y = 2", ch1["again"].Outputs)
	}
	for _, n := range []string{"a", "b", "other", "nocache"} {
		if got := hitOf(ch1[n]); got != "" {
			t.Errorf("first dag, %s: a cache hit of %s, want a run of its own", n, got)
		}
	}

	// The same dag again: every operation that uses the cache reuses the
	// first dag's results, outputs flowing as before; `other`, whose
	// param changed, runs, as does `nocache`.
	second, ch2 := submitDag(t, e, spec(8))
	if second.Status != store.Succeeded {
		t.Fatalf("second dag %s, children %s", second.Status, nodeStatuses(ch2))
	}
	for _, n := range []string{"a", "b"} {
		if got := hitOf(ch2[n]); got != ch1[n].UUID {
			t.Errorf("second dag, %s: cache of %q, want the first dag's %s", n, got, ch1[n].UUID)
		}
	}
	if fmt.Sprint(ch2["b"].Outputs["y"]) != "3" {
		t.Errorf("second dag, b: outputs %v, want y = 3", ch2["b"].Outputs)
	}
	for _, n := range []string{"other", "nocache"} {
		if got := hitOf(ch2[n]); got != "" {
			t.Errorf("second dag, %s: a cache hit of %s, want a run of its own", n, got)
		}
	}
}
