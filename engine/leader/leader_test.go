package leader

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func client(t *testing.T) *clientv3.Client { return storetest.Client(t) }

func prefix(t *testing.T) string { return storetest.Prefix(t) }

// engine runs an elector and reports its terms.
type engine struct {
	id      string
	cancel  context.CancelFunc
	done    chan struct{}
	terms   chan Term
	leading atomic.Bool
	ended   chan struct{} // closed when a term's context ends
}

func start(t *testing.T, cli *clientv3.Client, pfx, id string, ttl int, active *atomic.Int32, maxActive *atomic.Int32) *engine {
	ctx, cancel := context.WithCancel(context.Background())
	e := &engine{id: id, cancel: cancel, done: make(chan struct{}), terms: make(chan Term, 8), ended: make(chan struct{}, 8)}
	go func() {
		defer close(e.done)
		_ = New(cli, pfx, id, ttl).Run(ctx, func(lctx context.Context, term Term) error {
			n := active.Add(1)
			for {
				m := maxActive.Load()
				if n <= m || maxActive.CompareAndSwap(m, n) {
					break
				}
			}
			e.leading.Store(true)
			e.terms <- term
			<-lctx.Done()
			e.leading.Store(false)
			active.Add(-1)
			e.ended <- struct{}{}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-e.done })
	return e
}

func TestOneLeaderAndHandOver(t *testing.T) {
	cli := client(t)
	pfx := prefix(t)
	var active, maxActive atomic.Int32
	a := start(t, cli, pfx, "a", 5, &active, &maxActive)
	termA := <-a.terms
	b := start(t, cli, pfx, "b", 5, &active, &maxActive)
	c := start(t, cli, pfx, "c", 5, &active, &maxActive)
	time.Sleep(300 * time.Millisecond)
	if id, _ := Leader(t.Context(), cli, pfx); id != "a" {
		t.Fatalf("leader %q, want a", id)
	}
	// A stops (SIGTERM): it resigns, and a standby leads at once.
	stopped := time.Now()
	a.cancel()
	<-a.done
	var next Term
	select {
	case next = <-b.terms:
	case next = <-c.terms:
	case <-time.After(3 * time.Second):
		t.Fatal("no standby took over")
	}
	if d := time.Since(stopped); d > 2*time.Second {
		t.Errorf("hand-over took %v", d)
	}
	if next.Revision <= termA.Revision {
		t.Errorf("the new term %d is not after %d", next.Revision, termA.Revision)
	}
	if m := maxActive.Load(); m != 1 {
		t.Errorf("%d leaders at once", m)
	}
}

// TestDeposedLeaderIsFenced: writes carrying an old term's fence fail once
// another engine leads.
func TestDeposedLeaderIsFenced(t *testing.T) {
	cli := client(t)
	pfx := prefix(t)
	s := store.New(cli, pfx, nil)
	var active, maxActive atomic.Int32
	a := start(t, cli, pfx, "a", 5, &active, &maxActive)
	termA := <-a.terms
	asA := s.Fenced(termA.Fence)
	if err := asA.Create(t.Context(), &store.Run{UUID: "r"}); err != nil {
		t.Fatal(err)
	}
	b := start(t, cli, pfx, "b", 5, &active, &maxActive)
	a.cancel()
	<-a.done
	termB := <-b.terms
	// A's late write, after the hand-over, never lands.
	if _, err := asA.Update(t.Context(), "r", func(r *store.Run) error { r.Status = store.Compiled; return nil }); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("deposed write: %v, want ErrFenced", err)
	}
	if _, err := s.Fenced(termB.Fence).Update(t.Context(), "r", func(r *store.Run) error { r.Status = store.Compiled; return nil }); err != nil {
		t.Fatalf("the new leader's write: %v", err)
	}
}

// TestLostSessionEndsTheTerm: when a leader's etcd session dies (its
// client is gone), its term's context ends and another engine leads after
// the lease's TTL.
func TestLostSessionEndsTheTerm(t *testing.T) {
	pfx := prefix(t)
	var active, maxActive atomic.Int32
	cliA, err := clientv3.New(clientv3.Config{Endpoints: []string{storetest.Endpoint()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a := start(t, cliA, pfx, "a", 1, &active, &maxActive)
	<-a.terms
	b := start(t, client(t), pfx, "b", 1, &active, &maxActive)
	cliA.Close()
	select {
	case <-a.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("a's term did not end")
	}
	select {
	case <-b.terms:
	case <-time.After(10 * time.Second):
		t.Fatal("b did not take over")
	}
}
