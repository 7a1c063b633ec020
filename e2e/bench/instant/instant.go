package instant

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// New returns an executor that has dispatched nothing.
func New() *Executor { return &Executor{dispatched: map[string]time.Time{}} }

// Dispatched returns when each run was first dispatched.
func (x *Executor) Dispatched() map[string]time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]time.Time, len(x.dispatched))
	for k, v := range x.dispatched {
		out[k] = v
	}
	return out
}

// Executor succeeds every attempt as it is dispatched. It notes when each
// run was first dispatched, on the monotonic clock; the attempt ends at
// that same moment (the time of its Succeeded update). Updates go out
// through a mailbox per watcher, so Dispatch never waits for the engine
// to read them.
type Executor struct {
	mu         sync.Mutex
	dispatched map[string]time.Time
	subs       []*mailbox
}

func (x *Executor) Dispatch(_ context.Context, ref executor.RunRef, _ *compiler.Compiled) error {
	now := time.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, dup := x.dispatched[ref.UUID]; !dup {
		x.dispatched[ref.UUID] = now
	}
	for _, m := range x.subs {
		m.put(executor.StatusUpdate{Run: ref, Status: executor.Succeeded, Time: now})
	}
	return nil
}

func (x *Executor) Stop(context.Context, executor.RunRef) error { return nil }

func (x *Executor) Status(_ context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.dispatched[ref.UUID]; !ok {
		return executor.StatusUpdate{}, executor.ErrUnknownRun
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
