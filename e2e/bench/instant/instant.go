package instant

import (
	"context"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// New returns an executor that has dispatched nothing.
func New() *Executor { return Taking(0, 0) }

// Taking returns an executor whose attempts each take a time drawn
// uniformly from [0, 2*mean), from seed, on a timer: they hold no CPU,
// as an operation that waits on a GPU or the network. With mean 0 it is
// New's.
func Taking(mean time.Duration, seed uint64) *Executor {
	return &Executor{dispatched: map[string]time.Time{}, ended: map[string]time.Time{}, mean: mean,
		rnd: rand.New(rand.NewPCG(seed, seed))}
}

// Dispatched returns when each run was first dispatched.
func (x *Executor) Dispatched() map[string]time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return maps.Clone(x.dispatched)
}

// Ended returns when each run's first attempt ended (the time of its
// Succeeded update).
func (x *Executor) Ended() map[string]time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return maps.Clone(x.ended)
}

// Executor succeeds every attempt as it is dispatched, or after the time
// it takes (Taking). It notes when each run was first dispatched and
// when it ended, on the monotonic clock. Updates go out through a
// mailbox per watcher, so Dispatch never waits for the engine to read
// them.
type Executor struct {
	mu         sync.Mutex
	dispatched map[string]time.Time
	ended      map[string]time.Time
	running    map[executor.RunRef]bool
	subs       []*mailbox
	mean       time.Duration
	rnd        *rand.Rand
}

func (x *Executor) Dispatch(_ context.Context, ref executor.RunRef, _ *compiler.Compiled) error {
	now := time.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, dup := x.dispatched[ref.UUID]; !dup {
		x.dispatched[ref.UUID] = now
	}
	if x.mean <= 0 {
		x.endLocked(ref, now)
		return nil
	}
	if x.running == nil {
		x.running = map[executor.RunRef]bool{}
	}
	if x.running[ref] {
		return nil
	}
	x.running[ref] = true
	time.AfterFunc(time.Duration(x.rnd.Int64N(int64(2*x.mean))), func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		delete(x.running, ref)
		x.endLocked(ref, time.Now())
	})
	return nil
}

// endLocked succeeds an attempt.
func (x *Executor) endLocked(ref executor.RunRef, now time.Time) {
	if _, dup := x.ended[ref.UUID]; !dup {
		x.ended[ref.UUID] = now
	}
	for _, m := range x.subs {
		m.put(executor.StatusUpdate{Run: ref, Status: executor.Succeeded, Time: now})
	}
}

func (x *Executor) Stop(context.Context, executor.RunRef) error { return nil }

func (x *Executor) Status(_ context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.dispatched[ref.UUID]; !ok {
		return executor.StatusUpdate{}, executor.ErrUnknownRun
	}
	if x.running[ref] {
		return executor.StatusUpdate{Run: ref, Status: executor.Running}, nil
	}
	return executor.StatusUpdate{Run: ref, Status: executor.Succeeded}, nil
}

func (x *Executor) Watch(ctx context.Context) (<-chan executor.StatusUpdate, error) {
	m := &mailbox{wake: make(chan struct{}, 1)}
	x.mu.Lock()
	x.subs = append(x.subs, m)
	x.mu.Unlock()
	ch := make(chan executor.StatusUpdate, 1024)
	go func() {
		defer close(ch)
		defer func() {
			x.mu.Lock()
			defer x.mu.Unlock()
			x.subs = slices.DeleteFunc(x.subs, func(s *mailbox) bool { return s == m })
		}()
		for {
			for _, u := range m.take() {
				select {
				case ch <- u:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-m.wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func (x *Executor) Logs(context.Context, executor.RunRef, bool) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

// mailbox is an unbounded queue of updates with one reader.
type mailbox struct {
	mu   sync.Mutex
	q    []executor.StatusUpdate
	wake chan struct{}
}

func (m *mailbox) put(u executor.StatusUpdate) {
	m.mu.Lock()
	m.q = append(m.q, u)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox) take() []executor.StatusUpdate {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.q
	m.q = nil
	return q
}
