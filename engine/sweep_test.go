package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
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
