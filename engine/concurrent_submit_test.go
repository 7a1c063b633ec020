package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs"
)

// TestConcurrentSubmissions: many submissions at once are all scheduled.
func TestConcurrentSubmissions(t *testing.T) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{storetest.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st := store.New(cli, storetest.Prefix(t), nil)
	e, err := New(Config{Store: st, Executor: newRecorder(), Resync: 2 * time.Second})
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
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
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
	waitAll(t, st, uuids, store.Scheduled)
}
