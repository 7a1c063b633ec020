package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// recorder is the executor of the failover tests: like a cluster, it is
// shared by the engines, keeps what was created, treats a second dispatch
// of an attempt as already done, and lets the test end attempts.
type recorder struct {
	mu      sync.Mutex
	created map[executor.RunRef]int // creations per attempt
	calls   map[executor.RunRef]int // dispatch calls per attempt
	last    map[executor.RunRef]executor.StatusUpdate
	subs    []chan executor.StatusUpdate
}

func newRecorder() *recorder {
	return &recorder{created: map[executor.RunRef]int{}, calls: map[executor.RunRef]int{}, last: map[executor.RunRef]executor.StatusUpdate{}}
}

func (r *recorder) Dispatch(_ context.Context, ref executor.RunRef, _ *compiler.Compiled) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[ref]++
	if r.created[ref] == 0 {
		r.created[ref] = 1
	}
	return nil
}

func (r *recorder) Stop(context.Context, executor.RunRef) error { return nil }

// Status is what the test reported last of a created attempt (pending
// before that).
func (r *recorder) Status(_ context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.created[ref] == 0 {
		return executor.StatusUpdate{}, executor.ErrUnknownRun
	}
	if u, ok := r.last[ref]; ok {
		return u, nil
	}
	return executor.StatusUpdate{Run: ref, Status: executor.Pending}, nil
}

// report keeps an update as the attempt's status and sends it to every
// watcher that has room for it: one that has none misses it, as on a
// network, and the engine learns it from Status when it checks.
func (r *recorder) report(u executor.StatusUpdate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last[u.Run] = u
	for _, c := range r.subs {
		select {
		case c <- u:
		default:
		}
	}
}

func (r *recorder) Watch(ctx context.Context) (<-chan executor.StatusUpdate, error) {
	ch := make(chan executor.StatusUpdate, 256)
	r.mu.Lock()
	r.subs = append(r.subs, ch)
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		for i, c := range r.subs {
			if c == ch {
				r.subs = append(r.subs[:i], r.subs[i+1:]...)
				break
			}
		}
		r.mu.Unlock()
		close(ch)
	}()
	return ch, nil
}

func (r *recorder) Logs(context.Context, executor.RunRef, bool) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

// finish reports the end of an attempt to every watcher.
func (r *recorder) finish(ref executor.RunRef, s executor.Status) {
	r.report(executor.StatusUpdate{Run: ref, Status: s, Time: time.Now()})
}

func (r *recorder) createdCount(ref executor.RunRef) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.created[ref]
}

// startOn runs an engine on a prefix with the given executor; stop ends it
// (resigning), crash closes its etcd client (its lease lapses).
func startOn(t *testing.T, prefix, id string, ex executor.Executor) (e *Engine, stop, crash func()) {
	t.Helper()
	return startOnWith(t, prefix, id, ex, nil)
}

// startOnWith is startOn with more of the engine's configuration: with
// sets it.
func startOnWith(t *testing.T, prefix, id string, ex executor.Executor, with func(*Config)) (e *Engine, stop, crash func()) {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{storetest.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{ID: id, Store: store.New(cli, prefix, nil), Executor: ex, Resync: 200 * time.Millisecond, LeaseTTL: 1}
	if with != nil {
		with(&cfg)
	}
	e, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done; cli.Close() }) }
	crash = func() { once.Do(func() { cli.Close(); cancel(); <-done }) }
	t.Cleanup(stop)
	return e, stop, crash
}

func waitAll(t *testing.T, st *store.Store, uuids []string, want store.Status) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n := 0
		for _, u := range uuids {
			if r, _, err := st.Get(context.Background(), u); err == nil && r.Status == want {
				n++
			}
		}
		if n == len(uuids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs are %s", n, len(uuids), want)
		}
	}
}

// TestLeaderLostMidRun: the leader goes away (resigning, or crashing so its
// lease lapses) while its runs are dispatched; the standby takes over,
// finds them scheduled, and finishes them without creating any attempt
// twice.
func TestLeaderLostMidRun(t *testing.T) {
	for _, how := range []string{"resigns", "crashes"} {
		t.Run(how, func(t *testing.T) {
			prefix := storetest.Prefix(t)
			ex := newRecorder()
			a, stopA, crashA := startOn(t, prefix, "a", ex)
			time.Sleep(300 * time.Millisecond) // a leads
			_, _, _ = startOn(t, prefix, "b", ex)
			var uuids []string
			for i := range 5 {
				run, err := a.Submit(t.Context(), Submission{Source: "s.yaml", Spec: fmt.Sprintf(
					"version: 1.1\nkind: component\nname: r%d\nrun: {container: {image: x, command: [true]}}\n", i)})
				if err != nil {
					t.Fatal(err)
				}
				uuids = append(uuids, run.UUID)
			}
			// The test reads with its own client: a's goes away with it.
			cli, err := clientv3.New(clientv3.Config{Endpoints: []string{storetest.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			st := store.New(cli, prefix, nil)
			waitAll(t, st, uuids, store.Scheduled)
			if how == "resigns" {
				stopA()
			} else {
				crashA()
			}
			// The new leader reconciles; the cluster finishes the attempts.
			time.Sleep(500 * time.Millisecond)
			for _, u := range uuids {
				ex.finish(executor.RunRef{UUID: u, Attempt: 1}, executor.Succeeded)
			}
			// A finish may reach only the old leader's watch: the new one
			// hears it again at its next report, as from a real cluster.
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
				done := 0
				for _, u := range uuids {
					if r, _, err := st.Get(context.Background(), u); err == nil && r.Status == store.Succeeded {
						done++
					} else {
						ex.finish(executor.RunRef{UUID: u, Attempt: 1}, executor.Succeeded)
					}
				}
				if done == len(uuids) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d runs succeeded", done, len(uuids))
				}
			}
			for _, u := range uuids {
				ref := executor.RunRef{UUID: u, Attempt: 1}
				if n := ex.createdCount(ref); n != 1 {
					t.Errorf("run %s attempt 1 created %d times", u, n)
				}
				// The new leader found it scheduled and dispatched it again:
				// only the executor's idempotence kept it from a second copy.
				ex.mu.Lock()
				calls := ex.calls[ref]
				ex.mu.Unlock()
				if calls < 2 {
					t.Errorf("run %s was dispatched %d times; the new leader did not re-dispatch it", u, calls)
				}
			}
		})
	}
}
