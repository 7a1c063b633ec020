package engine

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
)

// nestedList is a flow YAML (and JSON) value of n lists around 1.
func nestedList(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }

// dagOf is a dag component whose operations are ops (YAML flow mappings),
// all running component job.
func dagOf(ops ...string) string {
	return "version: 1.1\nkind: component\ninputs: [{name: n, type: int, value: 0, isOptional: true}]\nrun:\n  kind: dag\n  operations:\n" +
		"    - " + strings.Join(ops, "\n    - ") + `
  components:
    - name: job
      inputs: [{name: d, type: int, value: 1, isOptional: true}]
      outputs: [{name: out, type: int, isOptional: true}]
      run: {container: {image: x, command: [sh, -c, 'echo {{ d }}']}}
    - name: divides
      inputs: [{name: d, type: int}]
      run: {container: {image: x, command: [sh, -c, 'echo {{ 1 % d }}']}}
`
}

// TestSubmitRefusesWhatCannotRender: what can be rendered at submission
// is, and what fails refuses the submission at the field's path, storing
// nothing; what can only be rendered from upstream outputs is accepted.
func TestSubmitRefusesWhatCannotRender(t *testing.T) {
	deepDict := strings.Repeat(`{"a":`, specs.MaxDepth+1) + "1" + strings.Repeat("}", specs.MaxDepth+1)
	var deepParam any = 1
	for range specs.MaxDepth + 1 {
		deepParam = map[string]any{"a": deepParam}
	}
	cases := map[string]struct {
		spec   string
		params map[string]specs.Param
		path   string // "" for accepted
	}{
		"an operation dividing by zero": {
			spec: dagOf("{name: a, dagRef: job}", "{name: b, dagRef: divides, params: {d: {value: 0}}}"),
			path: "run.operations[1]"},
		"an operation dividing by the dag's input": {
			spec: dagOf("{name: a, dagRef: divides, params: {d: {ref: dag, value: inputs.n}}}"),
			path: "run.operations[0]"},
		"an operation of a dag in the dag": {
			spec: dagOf(`{name: inner, component: {run: {kind: dag, operations: [{name: x, component: {run: {container: {image: x, command: ["{{ 1 % 0 }}"]}}}}]}}}`),
			path: "run.operations[0].component.run.operations[0]"},
		"a default nested too deep": {
			spec: "version: 1.1\nkind: component\ninputs: [{name: x, type: list, value: " + nestedList(specs.MaxDepth+1) + "}]\nrun: {container: {image: x}}\n",
			path: "inputs[0].value"},
		"a param nested too deep": {
			spec:   "version: 1.1\nkind: component\ninputs: [{name: x, type: dict}]\nrun: {container: {image: x}}\n",
			params: map[string]specs.Param{"x": {Value: deepParam}},
			path:   "params.x.value"},
		"a string that reads as a dict nested too deep": {
			spec:   "version: 1.1\nkind: component\ninputs: [{name: x, type: dict}]\nrun: {container: {image: x}}\n",
			params: map[string]specs.Param{"x": {Value: deepDict}},
			path:   "params.x.value"},
		"an operation dividing by an upstream's output": {
			spec: dagOf("{name: a, dagRef: job}", "{name: b, dagRef: divides, params: {d: {ref: ops.a, value: outputs.out}}}")},
		"an iterative matrix without a tuner": {
			spec: "version: 1.1\nkind: operation\nmatrix: {kind: iterative, maxIterations: 2, params: {lr: {kind: choice, value: [1, 2]}}}\ncomponent: {inputs: [{name: lr, type: int}], run: {container: {image: x}}}\n",
			path: "matrix.tuner"},
		"a matrix whose first trial divides by zero": {
			spec: "version: 1.1\nkind: operation\nmatrix: {kind: grid, params: {lr: {kind: choice, value: [0, 2]}}}\ncomponent: {inputs: [{name: lr, type: int}], run: {container: {image: x, command: [\"{{ 1 % lr }}\"]}}}\n",
			path: "matrix"},
		"a dag's matrix whose first trial divides by zero": {
			spec: dagOf("{name: a, dagRef: divides, matrix: {kind: mapping, values: [{d: 0}]}}"),
			path: "run.operations[0].matrix"},
		"a stopping policy of a dag": {
			spec: "version: 1.1\nkind: component\nrun:\n  kind: dag\n  earlyStopping: [{kind: metric_early_stopping, metric: y, value: 1, optimization: maximize, policy: {kind: median, evaluationInterval: 1}}]\n  operations: [{name: a, component: {run: {container: {image: x}}}}]\n",
			path: "run.earlyStopping[0].policy"},
		"a dag's matrix that runs": {
			spec: dagOf("{name: a, dagRef: divides, matrix: {kind: mapping, values: [{d: 1}, {d: 2}]}}")},
		"a schedule of a dag's operation, not run yet": {
			spec: dagOf("{name: a, dagRef: job, schedule: {kind: interval, frequency: 60}}"),
			path: "run.operations[0].schedule"},
		"an operation waiting for its dag's end": {
			spec: dagOf("{name: a, dagRef: job, events: [{ref: dag, kinds: [run_status_done]}]}"),
			path: "run.operations[0].events[0].kinds[0]"},
		"an operation that divides by a non-zero input": {
			spec: dagOf("{name: a, dagRef: divides, params: {d: {value: 3}}}")},
	}
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	e, err := New(Config{Store: st, Executor: newRecorder()}) // not running: nothing moves what is stored
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before, _ := st.List(t.Context(), "", 1000, nil)
			run, err := e.Submit(t.Context(), Submission{Source: "s.yaml", Spec: tc.spec, Params: tc.params})
			if tc.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, _, err := st.Get(t.Context(), run.UUID); err != nil {
					t.Fatal(err)
				}
				return
			}
			var list specs.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("got %v, want a list of field errors (a 400)", err)
			}
			found := false
			for _, fe := range list {
				found = found || string(fe.Path) == tc.path
			}
			if !found {
				t.Fatalf("got %v, want an error at %s", err, tc.path)
			}
			if after, _ := st.List(t.Context(), "", 1000, nil); len(after.Runs) != len(before.Runs) {
				t.Errorf("a refused submission stored a run")
			}
		})
	}
}

// TestUpstreamOutputFailsOnlyThatOperation: an operation whose template
// can only be rendered with its upstream's outputs, and fails with them
// (a division by zero), fails; the dag fails, its other operations and
// the engine go on.
func TestUpstreamOutputFailsOnlyThatOperation(t *testing.T) {
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	ex := newRecorder()
	e := runEngine(t, Config{Store: st, Executor: ex, Resync: 50 * time.Millisecond})
	run, err := e.Submit(t.Context(), Submission{Source: "s.yaml",
		Spec: dagOf("{name: a, dagRef: job}", "{name: b, dagRef: divides, params: {d: {ref: ops.a, value: outputs.out}}}", "{name: c, dagRef: job}")})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !e.Leading(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the engine does not lead")
		}
	}
	term := e.current.Load()
	a, b, c := childUUID(run.UUID, "a", 1), childUUID(run.UUID, "b", 1), childUUID(run.UUID, "c", 1)
	waitAll(t, st, []string{a, c}, store.Scheduled)
	ex.succeedWith(executor.RunRef{UUID: a, Attempt: 1}, map[string]any{"out": 0})
	ex.finish(executor.RunRef{UUID: c, Attempt: 1}, executor.Succeeded)
	rb := waitEnd(t, st, b)
	if got := lastCondition(rb); rb.Status != store.Failed || got.Reason != "CompilationFailed" {
		t.Errorf("b is %s (%+v), want failed as it compiled", rb.Status, got)
	}
	if rd := waitEnd(t, st, run.UUID); rd.Status != store.Failed {
		t.Errorf("the dag is %s, want failed", rd.Status)
	}
	waitAll(t, st, []string{a, c}, store.Succeeded)
	if e.current.Load() != term {
		t.Error("the leader's term ended")
	}
}
