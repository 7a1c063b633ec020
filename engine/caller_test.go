package engine

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestRunsCompiledForTheirCaller: under an access policy, a run and the
// runs it starts are compiled for who submitted it, at every stage: a dag
// of ana's runs to its end, its operations hers (compiled for no one,
// they would be refused the project); the same dag of bob's, whose
// project the policy does not give him, is refused at submission, as is
// one with an operation ana may not run (a hostPath volume).
func TestRunsCompiledForTheirCaller(t *testing.T) {
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	policy := &compiler.Policy{Rules: []compiler.Rule{{Users: []string{"ana"}, Projects: []string{"vision"}, Volumes: []string{"emptyDir"}}}}
	e := runEngine(t, Config{Store: store.New(storetest.Client(t), storetest.Prefix(t), nil), Executor: ex, Policy: policy,
		Resync: 200 * time.Millisecond, RunInfo: func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.ContextPath = ex.ContextPath(r.UUID)
			return ri
		}})
	const dag = `version: 1.1
kind: operation
name: pipe
component:
  run:
    kind: dag
    operations:
      - {name: a, component: {run: {kind: job, container: {image: a, command: [sh, -c, 'echo a']}}}}
      - name: b
        dependencies: [a]
        component: {run: {kind: job, container: {image: a, command: [sh, -c, 'echo b']}}}
`
	ana := compiler.Caller{User: "ana", Teams: []string{"cv"}}
	run, err := e.Submit(t.Context(), Submission{Spec: dag, Source: "pipe.yaml", Project: "vision", Caller: ana})
	if err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, run.UUID); r.Status != store.Succeeded {
		t.Fatalf("ana's dag: %s %+v", r.Status, r.Conditions)
	}
	page, err := e.cfg.Store.List(t.Context(), "", 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 3 {
		t.Fatalf("%d runs, want the dag and its 2 operations", len(page.Runs))
	}
	for _, r := range page.Runs {
		if r.User != "ana" || !slices.Equal(r.Teams, ana.Teams) {
			t.Errorf("run %s (%s) is %q %v, want ana's", r.UUID, r.Node, r.User, r.Teams)
		}
	}

	_, err = e.Submit(t.Context(), Submission{Spec: dag, Source: "pipe.yaml", Project: "vision", Caller: compiler.Caller{User: "bob"}})
	if err == nil || !strings.Contains(err.Error(), `bob may not use project "vision"`) {
		t.Fatalf("bob's dag: %v", err)
	}

	// What ana may not use is refused for her, at the operation.
	hostPath := strings.Replace(dag, "component: {run: {kind: job, container: {image: a, command: [sh, -c, 'echo b']}}}",
		"component: {run: {kind: job, volumes: [{name: h, hostPath: {path: /tmp}}], container: {image: a, command: [sh, -c, 'echo b']}}}", 1)
	_, err = e.Submit(t.Context(), Submission{Spec: hostPath, Source: "pipe.yaml", Project: "vision", Caller: ana})
	if err == nil || !strings.Contains(err.Error(), `component.run.operations[1]: operation "b" does not compile: access: run.volumes[0]: ana may not use volumes of kind "hostPath"`) {
		t.Fatalf("the dag with b's hostPath: %v", err)
	}
}
