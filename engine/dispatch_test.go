package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// flaky fails each attempt's first dispatches with a transient error (an
// API server that throttles or fails for a moment), or with a permanent
// one, then succeeds it.
type flaky struct {
	*recorder
	failures  int
	permanent bool
	mu        sync.Mutex
	calls     map[executor.RunRef]int
}

func (f *flaky) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	f.mu.Lock()
	f.calls[ref]++
	n := f.calls[ref]
	f.mu.Unlock()
	switch {
	case n <= f.failures && f.permanent:
		return errors.New("the cluster refuses this attempt")
	case n <= f.failures:
		return fmt.Errorf("the API server answered 500: %w", executor.ErrTransient)
	}
	_ = f.recorder.Dispatch(ctx, ref, c)
	f.finish(ref, executor.Succeeded)
	return nil
}

// TestTransientDispatchFailures: a dispatch that fails transiently is tried
// again, and the attempt runs once it goes through; a permanent failure
// fails the run at once.
func TestTransientDispatchFailures(t *testing.T) {
	const spec = "version: 1.1\nkind: component\nrun: {container: {image: a, command: [train]}}\n"
	ex := &flaky{recorder: newRecorder(), failures: 3, calls: map[executor.RunRef]int{}}
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	e := runEngine(t, Config{Store: st, Executor: ex, Resync: time.Second})
	run, err := e.Submit(t.Context(), Submission{Source: "s", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, st, []string{run.UUID}, store.Succeeded)
	got, _, err := st.Get(t.Context(), run.UUID)
	if err != nil {
		t.Fatal(err)
	}
	ex.mu.Lock()
	calls := ex.calls[executor.RunRef{UUID: run.UUID, Attempt: 1}]
	ex.mu.Unlock()
	if got.Attempt != 1 || calls != 4 {
		t.Fatalf("attempt %d after %d dispatches; want attempt 1 dispatched 4 times (3 transient failures)", got.Attempt, calls)
	}

	bad := &flaky{recorder: newRecorder(), failures: 1, permanent: true, calls: map[executor.RunRef]int{}}
	st2 := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	e2 := runEngine(t, Config{Store: st2, Executor: bad, Resync: time.Second})
	run2, err := e2.Submit(t.Context(), Submission{Source: "s", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, st2, []string{run2.UUID}, store.Failed)
	failed, _, err := st2.Get(t.Context(), run2.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if c := failed.Conditions[len(failed.Conditions)-1]; c.Reason != "DispatchFailed" {
		t.Fatalf("the run failed with %+v, want DispatchFailed", c)
	}
}

// TestSetPolicyJudgesWhatComesNext: a policy replaced while a dag runs
// judges the operations compiled from then on; the one compiled before
// stands.
func TestSetPolicyJudgesWhatComesNext(t *testing.T) {
	ex := newRecorder()
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	open := &compiler.Policy{Rules: []compiler.Rule{{Users: []string{"*"}, Projects: []string{"*"}}}}
	e := runEngine(t, Config{Store: st, Executor: ex, Resync: time.Second, Policy: open})
	run, err := e.Submit(t.Context(), Submission{Source: "s", Caller: compiler.Caller{User: "alice"}, Spec: `version: 1.1
kind: operation
component:
  run:
    kind: dag
    operations:
      - {name: first, dagRef: step}
      - {name: second, dagRef: step, dependencies: [first]}
    components:
      - {name: step, run: {kind: job, container: {image: a, command: [step]}}}
`})
	if err != nil {
		t.Fatal(err)
	}
	var first *store.Run
	for deadline := time.Now().Add(10 * time.Second); first == nil; time.Sleep(20 * time.Millisecond) {
		for uuid := range ex.dispatchedRuns() {
			if r, _, err := st.Get(t.Context(), uuid); err == nil && r.Node == "first" {
				first = r
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the first operation was not dispatched")
		}
	}
	e.SetPolicy(&compiler.Policy{Rules: []compiler.Rule{{Users: []string{"bob"}, Projects: []string{"*"}}}})
	ex.finish(executor.RunRef{UUID: first.UUID, Attempt: 1}, executor.Succeeded)
	dag := waitFinal(t, e, run.UUID)
	kids := childrenOf(t, st, run.UUID)
	second := kids["second"]
	if kids["first"].Status != store.Succeeded || second == nil || second.Status != store.Failed || dag.Status != store.Failed {
		t.Fatalf("dag %s, first %s, second %v: want the second refused by the new policy", dag.Status, kids["first"].Status, second)
	}
	if c := second.Conditions[len(second.Conditions)-1]; !strings.Contains(c.Message, "alice") {
		t.Fatalf("the second failed with %+v, want the policy's refusal of alice", c)
	}
}
