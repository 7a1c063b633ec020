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

// TestConcurrentSubmissions: many submissions at once all reach the status
// their executor leads to.
func TestConcurrentSubmissions(t *testing.T) {
	for _, tc := range []struct {
		name             string
		ex               executor.Executor
		submitters, each int
		want             store.Status
	}{
		{"held", newRecorder(), 4, 5, store.Scheduled},
		{"instant", instant{newRecorder()}, 8, 10, store.Succeeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
			e := runEngine(t, Config{Store: st, Executor: tc.ex, Resync: 2 * time.Second})
			time.Sleep(300 * time.Millisecond)
			var mu sync.Mutex
			var uuids []string
			var wg sync.WaitGroup
			for g := range tc.submitters {
				wg.Go(func() {
					for i := range tc.each {
						run, err := e.Submit(t.Context(), Submission{Source: "s", Spec: "version: 1.1\nkind: component\ninputs: [{name: i, type: int}]\nrun: {container: {image: a, command: [echo, '{{ i }}']}}\n",
							Params: map[string]specs.Param{"i": {Value: g*100 + i}}})
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						uuids = append(uuids, run.UUID)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			waitAll(t, st, uuids, tc.want)
		})
	}
}
