package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
)

const trainComponent = `version: 1.1
kind: component
name: train
run: {kind: job, container: {image: x, command: [sh, -c, 'true']}}
`

const evaluateOnTrain = `version: 1.1
kind: operation
name: evaluate
events:
  - {kinds: [run_status_succeeded], ref: components.train}
component:
  run: {kind: job, container: {image: x, command: [sh, -c, 'echo {{ event.uuid }}']}}
`

// TestEventSubscriptionExactlyOnce: a subscription to a component's
// successes starts exactly one run per run of it that succeeds (100 of
// them, and none for the 10 that fail), across a leader change in the
// middle; each run has its event's run in its context.
func TestEventSubscriptionExactlyOnce(t *testing.T) {
	prefix := storetest.Prefix(t)
	ex := newRecorder()
	a := startNode(t, prefix, "a", ex, foOpts{})
	waitLeader(t, a.cli, prefix, a)
	b := startNode(t, prefix, "b", ex, foOpts{})
	sub, err := a.e.Submit(t.Context(), Submission{Source: "evaluate.yaml", Spec: evaluateOnTrain})
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Events || sub.Component != "" {
		t.Errorf("subscription record: events %v, component %q", sub.Events, sub.Component)
	}
	waitStatus(t, a.e.cfg.Store, sub.UUID, store.OnSchedule, nil)

	var mu sync.Mutex
	outcome := map[string]executor.Status{} // train run → how it ends
	submit := func(e *Engine, n int, end executor.Status) {
		for range n {
			r, err := e.Submit(context.Background(), Submission{Source: "train.yaml", Spec: trainComponent})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			outcome[r.UUID] = end
			mu.Unlock()
		}
	}
	// The cluster ends each attempt as its run should, again and again,
	// as a cluster reports what is true to whichever engine leads.
	play := func() {
		mu.Lock()
		defer mu.Unlock()
		for ref, n := range ex.createdRefs() {
			if n == 0 {
				continue
			}
			end, ok := outcome[ref.UUID]
			if !ok {
				end = executor.Succeeded // a run the subscription started
			}
			ex.report(executor.StatusUpdate{Run: ref, Status: end})
		}
	}
	submit(a.e, 50, executor.Succeeded)
	submit(a.e, 10, executor.Failed)
	waitUntil(t, 20*time.Second, func() (bool, string) {
		play()
		n := len(childrenOf(t, a.e.cfg.Store, sub.UUID))
		return n >= 20, fmt.Sprintf("%d runs started", n)
	})
	a.kill("crash")
	submit(b.e, 50, executor.Succeeded)
	waitLeader(t, b.cli, prefix, b)
	var ch map[string]*store.Run
	waitUntil(t, 30*time.Second, func() (bool, string) {
		play()
		ch = childrenOf(t, b.e.cfg.Store, sub.UUID)
		done := 0
		for _, r := range ch {
			if r.Status == store.Succeeded {
				done++
			}
		}
		return done >= 100, fmt.Sprintf("%d runs started, %d succeeded", len(ch), done)
	})
	time.Sleep(300 * time.Millisecond) // nothing more comes
	ch = childrenOf(t, b.e.cfg.Store, sub.UUID)
	if len(ch) != 100 {
		t.Errorf("%d runs started, want 100", len(ch))
	}
	created := ex.createdRefs()
	seen := map[string]bool{}
	for _, r := range ch {
		ev, _ := r.Params["event"].(map[string]any)
		u, _ := ev["uuid"].(string)
		if outcome[u] != executor.Succeeded || seen[u] || ev["status"] != "succeeded" || ev["component"] != "train" {
			t.Errorf("run %s: event %v", r.UUID, ev)
		}
		seen[u] = true
		if n := created[executor.RunRef{UUID: r.UUID, Attempt: 1}]; n != 1 {
			t.Errorf("run %s dispatched %d times", r.UUID, n)
		}
	}
	cur, err := b.e.cfg.Store.Cursor(t.Context(), sub.UUID)
	if err != nil || cur.Delivered != 100 || cur.Last == nil {
		t.Errorf("cursor %+v, %v", cur, err)
	}
	if _, err := b.e.Stop(t.Context(), sub.UUID); err != nil {
		t.Fatal(err)
	}
	if r := waitStatus(t, b.e.cfg.Store, sub.UUID, store.Stopped, play); b.e.cfg.Store.Logged(&store.Run{UUID: "x", Project: r.Project, Component: "train"}) {
		t.Errorf("a stopped subscription still logs the runs it listened to")
	}
}

// TestEventSubscriptionFromItsStart: a subscription consumes the events
// logged after it started, not those the log holds for an older one; a
// run's own runs and runs of other components are no events for it.
func TestEventSubscriptionFromItsStart(t *testing.T) {
	e := startEngine(t)
	subscribe := func() *store.Run {
		sub, err := e.Submit(t.Context(), Submission{Source: "evaluate.yaml", Spec: evaluateOnTrain})
		if err != nil {
			t.Fatal(err)
		}
		waitStatus(t, e.cfg.Store, sub.UUID, store.OnSchedule, nil)
		return sub
	}
	train := func(spec string) {
		r, err := e.Submit(t.Context(), Submission{Source: "train.yaml", Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		waitFinal(t, e, r.UUID)
	}
	started := func(sub *store.Run, want int) {
		t.Helper()
		waitUntil(t, 10*time.Second, func() (bool, string) {
			n := 0
			for _, r := range childrenOf(t, e.cfg.Store, sub.UUID) {
				if r.Status == store.Succeeded {
					n++
				}
			}
			return n == want, fmt.Sprintf("%d of %d runs", n, want)
		})
	}
	first := subscribe()
	train(trainComponent)
	train(trainComponent)
	train(strings.Replace(trainComponent, "name: train", "name: other", 1))
	started(first, 2)
	second := subscribe()
	train(trainComponent)
	started(first, 3)
	started(second, 1)
	time.Sleep(300 * time.Millisecond)
	if n := len(childrenOf(t, e.cfg.Store, second.UUID)); n != 1 {
		t.Errorf("the second subscription started %d runs, want 1", n)
	}
	g, err := e.Graph(t.Context(), first.UUID)
	if err != nil || g.Subscription == nil || g.Subscription.Cursor.Delivered != 3 || len(g.Nodes) != 3 {
		t.Errorf("graph %+v, %v", g, err)
	}
	for _, r := range childrenOf(t, e.cfg.Store, first.UUID) {
		if ev := r.Params["event"].(map[string]any); !strings.HasPrefix(r.Name, "evaluate-") || ev["kind"] != "run_status_succeeded" {
			t.Errorf("run %s: %v", r.Name, ev)
		}
	}
}

// TestDagEventsOnRuns: a dag's operation with events on a run outside
// the dag starts once that run reached one of the kinds, and is
// upstream_failed when it ended without (or does not exist); one on its
// dag's running starts at once; one on its dag's end is refused.
func TestDagEventsOnRuns(t *testing.T) {
	e := startEngine(t)
	x, err := e.Submit(t.Context(), Submission{Source: "x.yaml", Spec: strings.Replace(trainComponent, "'true'", "'sleep 1'", 1)})
	if err != nil {
		t.Fatal(err)
	}
	dagRun, ch := submitDag(t, e, dagSpec("", fmt.Sprintf(`
      - {name: after-x, dagRef: ok, events: [{ref: runs.%[1]s, kinds: [run_status_succeeded]}]}
      - {name: on-x-failed, dagRef: ok, events: [{ref: runs.%[1]s, kinds: [run_status_failed]}]}
      - {name: on-nothing, dagRef: ok, events: [{ref: runs.0123456789abcdef0123456789abcdef, kinds: [run_status_done]}]}
      - {name: at-once, dagRef: ok, events: [{ref: dag, kinds: [run_status_running]}]}
`, x.UUID), ""))
	xEnd := waitFinal(t, e, x.UUID)
	want := "after-x=succeeded at-once=succeeded on-nothing=upstream_failed on-x-failed=upstream_failed"
	if dagRun.Status != store.Succeeded || nodeStatuses(ch) != want { // as a trigger not met, an event not met does not fail the dag
		t.Fatalf("dag %s, children %s; want %s", dagRun.Status, nodeStatuses(ch), want)
	}
	if started(ch["after-x"]).Before(ended(xEnd)) {
		t.Errorf("after-x started at %v, before x ended at %v", started(ch["after-x"]), ended(xEnd))
	}
	if !started(ch["at-once"]).Before(ended(xEnd)) {
		t.Errorf("at-once started at %v, after x ended at %v", started(ch["at-once"]), ended(xEnd))
	}
	if _, msg := reasonOf(ch["on-nothing"]); !strings.Contains(msg, "names no run") {
		t.Errorf("on-nothing: %q", msg)
	}
	_, err = e.Submit(t.Context(), Submission{Source: "pipe.yaml", Spec: dagSpec("", "      - {name: a, dagRef: ok, events: [{ref: dag, kinds: [run_status_succeeded]}]}\n", "")})
	if err == nil || !strings.Contains(err.Error(), "run.operations[0].events[0].kinds[0]") {
		t.Errorf("an operation waiting for its dag's end: %v", err)
	}
}
