package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// instant succeeds every attempt as it is dispatched.
type instant struct{ *recorder }

func (i instant) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	_ = i.recorder.Dispatch(ctx, ref, c)
	i.finish(ref, executor.Succeeded)
	return nil
}

func TestInstantExecutor(t *testing.T) {
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	e, err := New(Config{Store: st, Executor: instant{newRecorder()}, Resync: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(300 * time.Millisecond)
	var mu sync.Mutex
	var uuids []string
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				run, err := e.Submit(t.Context(), Submission{Source: "s", Spec: "version: 1.1\nkind: component\ninputs: [{name: i, type: int}]\nrun: {container: {image: a, command: [echo, '{{ i }}']}}\n",
					Params: map[string]specs.Param{"i": {Value: g*10 + i}}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				uuids = append(uuids, run.UUID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	waitAll(t, st, uuids, store.Succeeded)
}
