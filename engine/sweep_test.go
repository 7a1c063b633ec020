package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
)

// cluster is a recorder that also lists what it holds and forgets what is
// stopped, as a cluster's Jobs.
type cluster struct {
	*recorder
	mu      sync.Mutex
	extra   []executor.RunRef // objects not made by this engine
	stopped map[executor.RunRef]bool
}

func (c *cluster) Attempts(context.Context) ([]executor.RunRef, error) {
	c.recorder.mu.Lock()
	defer c.recorder.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]executor.RunRef(nil), c.extra...)
	for ref := range c.created {
		if !c.stopped[ref] {
			out = append(out, ref)
		}
	}
	return out, nil
}

func (c *cluster) Stop(_ context.Context, ref executor.RunRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped[ref] = true
	return nil
}

func (c *cluster) isStopped(ref executor.RunRef) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped[ref]
}

// TestSweep: the leader deletes the objects of runs that ended longer ago
// than KeepFinished and of superseded attempts, keeps the rest, and only
// reports an attempt whose run it does not know.
func TestSweep(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := store.New(storetest.Client(t), storetest.Prefix(t), clk.now)
	stranger := executor.RunRef{UUID: "ffffffffffffffffffffffffffffffff", Attempt: 1}
	ex := &cluster{recorder: newRecorder(), extra: []executor.RunRef{stranger}, stopped: map[executor.RunRef]bool{}}
	e := runEngine(t, Config{Store: st, Executor: ex, Resync: 20 * time.Millisecond, LeaseTTL: 1, Now: clk.now,
		KeepFinished: time.Hour, RetryBackoff: time.Hour})
	submit := func(spec string) string {
		r, err := e.Submit(t.Context(), Submission{Source: "s.yaml", Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		return r.UUID
	}
	const job = "version: 1.1\nkind: component\nrun: {container: {image: x, command: ['true']}}\n"
	const retried = "version: 1.1\nkind: component\ntermination: {maxRetries: 1}\nrun: {container: {image: x, command: ['true']}}\n"
	done, running, failed, astray := submit(job), submit(job), submit(retried), submit(retried)
	waitAll(t, st, []string{done, running, failed, astray}, store.Scheduled)
	ex.finish(executor.RunRef{UUID: done, Attempt: 1}, executor.Succeeded)
	ex.finish(executor.RunRef{UUID: failed, Attempt: 1}, executor.Failed)
	// The engine hears that astray's attempt 1 failed, but the cluster
	// still runs it.
	ex.finish(executor.RunRef{UUID: astray, Attempt: 1}, executor.Failed)
	waitAll(t, st, []string{done}, store.Succeeded)
	waitAll(t, st, []string{failed, astray}, store.Retrying)
	ex.recorder.mu.Lock()
	ex.last[executor.RunRef{UUID: astray, Attempt: 1}] = executor.StatusUpdate{Status: executor.Running}
	ex.recorder.mu.Unlock()

	// A superseded attempt still running goes at once; an ended one, and
	// an ended run's objects, stay for an hour (their logs with them).
	for deadline := time.Now().Add(10 * time.Second); !ex.isStopped(executor.RunRef{UUID: astray, Attempt: 1}); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a superseded attempt still running was not deleted")
		}
	}
	if ex.isStopped(executor.RunRef{UUID: done, Attempt: 1}) || ex.isStopped(executor.RunRef{UUID: failed, Attempt: 1}) {
		t.Fatal("an ended attempt's objects were deleted before KeepFinished")
	}
	clk.add(2 * time.Hour)
	for deadline := time.Now().Add(10 * time.Second); !ex.isStopped(executor.RunRef{UUID: done, Attempt: 1}); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("an ended run's objects were kept past KeepFinished")
		}
	}
	if ex.isStopped(executor.RunRef{UUID: running, Attempt: 1}) || ex.isStopped(stranger) {
		t.Fatal("a running attempt or an unknown run's attempt was deleted")
	}
	if n := testutil.ToFloat64(e.metrics.orphans); n != 1 {
		t.Fatalf("orphaned attempts %v, want 1", n)
	}
}

// TestSweepTakeoverSaysEachTrialOnce: a new leader takes over a sweep
// whose trials so far have all ended and whose next ones were never
// created (the last leader died in between): replaying the ended trials
// suggests the next ones, and Start must not say them ready again, or the
// batch that creates them holds each twice and fails for ever.
func TestSweepTakeoverSaysEachTrialOnce(t *testing.T) {
	files, err := specs.Parse("s.yaml", []byte(matrixSpec("  kind: grid\n  concurrency: 10\n  params: {x: {kind: range, value: [0, 50, 1]}}\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	search, err := matrix.New("matrix", files[0].Operation.Matrix, 1)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := search.Next(nil, 48)
	if err != nil || len(first) != 48 {
		t.Fatalf("%d trials, %v", len(first), err)
	}
	var all []*store.Run
	current := map[string]*store.Run{}
	for _, tr := range first {
		r := &store.Run{UUID: fmt.Sprint("t", tr.Index), Node: strconv.Itoa(tr.Index), Params: tr.Params, Status: store.Succeeded, ParentAttempt: 1}
		all = append(all, r)
		current[r.Node] = r
	}
	s, err := newSweep(search, "", 10, all, current, nil)
	if err != nil {
		t.Fatal(err)
	}
	var changes []dag.Change
	for _, r := range all { // the replay of the children's news, as pipelineOf does
		changes = append(changes, s.Observe(r.Node, dag.Status(r.Status))...)
	}
	changes = append(changes, s.Start()...)
	said := map[string]int{}
	for _, c := range changes {
		if c.Decision == dag.Ready {
			said[c.Node]++
		}
	}
	if len(said) != 2 || said["48"] != 1 || said["49"] != 1 {
		t.Fatalf("ready: %v; want trials 48 and 49, each once", said)
	}
}
