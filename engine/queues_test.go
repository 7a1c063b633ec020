package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
)

// TestQueueConcurrency: a queue capped at 2 never has more than 2 runs
// dispatched; each that ends lets the next one go; other queues are not
// held back.
func TestQueueConcurrency(t *testing.T) {
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	ex := newRecorder()
	e := runEngine(t, Config{Store: st, Executor: ex, Resync: 100 * time.Millisecond, LeaseTTL: 1, Queues: map[string]int{"gpu": 2}})

	submit := func(queue string) string {
		run, err := e.Submit(t.Context(), Submission{Source: "q.yaml", Spec: fmt.Sprintf(
			"version: 1.1\nkind: component\nqueue: %s\nrun: {container: {image: x, command: ['true']}}\n", queue)})
		if err != nil {
			t.Fatal(err)
		}
		return run.UUID
	}
	var gpu []string
	for range 4 {
		gpu = append(gpu, submit("gpu"))
	}
	cpu := submit("cpu")
	dispatched := func() (n int, ids []string) {
		for _, u := range gpu {
			if r, _, _ := st.Get(t.Context(), u); dispatchedStatus(r.Status) {
				n++
				ids = append(ids, u)
			}
		}
		return n, ids
	}
	// The cpu run goes at once; two gpu runs go, and no more.
	waitAll(t, st, []string{cpu}, store.Scheduled)
	time.Sleep(500 * time.Millisecond)
	if n, _ := dispatched(); n != 2 {
		t.Fatalf("%d gpu runs dispatched, want 2", n)
	}
	finished := 0
	for finished < len(gpu) {
		n, running := dispatched()
		if n > 2 {
			t.Fatalf("%d gpu runs dispatched at once", n)
		}
		if n == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		ex.finish(executor.RunRef{UUID: running[0], Attempt: 1}, executor.Succeeded)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if r, _, _ := st.Get(t.Context(), running[0]); r.Status == store.Succeeded {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a finished run was not recorded")
			}
		}
		finished++
	}
	waitAll(t, st, gpu, store.Succeeded)
}
