package engine

// A term: how an engine leads (Run), and what the leader runs while it
// does (leading.run): the store's and the executor's news, the resync,
// the hooks, and the workers that reconcile runs.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plexus-ml/plexus/engine/leader"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Run campaigns for leadership and, while leading, reconciles every active
// run, until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	e.followOnce.Do(func() { go e.followSubscriptions(ctx) })
	el := leader.New(e.cfg.Store.Client(), e.cfg.Store.Prefix(), e.cfg.ID, e.cfg.LeaseTTL)
	return el.Run(ctx, func(ctx context.Context, t leader.Term) error {
		select { // a term writes nothing before it knows what to log
		case <-e.followed:
		case <-ctx.Done():
			return ctx.Err()
		}
		e.cfg.Log.Info("leading", "engine", e.cfg.ID, "term", t.Revision)
		l := newLeading(e, e.cfg.Store.Fenced(t.Fence))
		e.current.Store(l)
		e.metrics.leader.Set(1)
		defer func() {
			e.metrics.leader.Set(0)
			e.current.CompareAndSwap(l, nil)
		}()
		return l.run(ctx)
	})
}

// followSubscriptions has the store follow the event subscriptions, so
// it logs the changes they listen to; tried again until it can read them.
func (e *Engine) followSubscriptions(ctx context.Context) {
	for wait := 50 * time.Millisecond; ctx.Err() == nil; wait = min(2*wait, 5*time.Second) {
		if err := e.cfg.Store.FollowSubscriptions(ctx); err == nil {
			close(e.followed)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// leading is one term's work. Workers take runs from the queue, never
// the same run at once; what they share is behind mu.
type leading struct {
	e     *Engine
	st    *store.Store
	queue *queue

	mu sync.Mutex
	// known is the latest record of each run this term has seen, from the
	// watch and from its own writes, newest revision first: workers decide
	// from it without reading, and a write from a stale copy fails its
	// revision check and reads again. An ended run is kept in tombs
	// instead, as a tombstone (its status, revision and place), until two
	// resyncs have passed, so that a late event cannot bring it back.
	// knownLocked reads both.
	known      map[string]*store.Run
	tombs      map[string]tomb
	generation int
	// compiled holds a run's compilation from submission or compiling to
	// its dispatch; traits what the term still reads of it afterwards.
	compiled   map[string]*compiler.Compiled
	traits     map[string]runTraits
	dispatched map[string]int // run → the attempt dispatched in this term
	// pending holds the executor's news of each run, in order, for the
	// run's worker to record.
	pending map[string][]executor.StatusUpdate
	// slots says which queue each dispatched run holds a place in; count
	// how many places each queue has given, waiting which runs wait for
	// one.
	slots   map[string]string
	count   map[string]int
	waiting map[string]map[string]bool
	// pipelines are the dag runs this term drives; loading keeps two
	// workers from building the same one.
	pipelines map[string]*pipeline
	// subscribers are the event subscriptions the term drives: a logged
	// run's change wakes them.
	subscribers map[string]bool
	// waiters are, for a run outside their graph, the dags whose
	// operations wait on its events (gates.go).
	waiters map[string]map[string]bool
	trimmed time.Time // when the event log was last trimmed
	// hooks are the ended runs whose hook runs are to be created.
	hooks   chan string
	loading sync.Mutex
	// sends are the dispatches a dag makes of the runs it just created
	// scheduled, outside the queue; sending bounds how many at once.
	sends   sync.WaitGroup
	sending chan struct{}
	// sent are the runs a dag created scheduled and dispatches itself:
	// their other looks (the store's news of their creation) leave the
	// dispatch to it.
	sent map[string]bool
	// creating are the runs a dag's batch is creating: the store's news
	// of their creation is not read, since the batch learns them itself
	// once written.
	creating map[string]bool
	// poisoned are the runs whose handling panicked outside a worker: the
	// next worker to take one fails it (recover.go).
	poisoned map[string]*panicError
}

func newLeading(e *Engine, st *store.Store) *leading {
	return &leading{e: e, st: st, queue: newQueue(),
		known: map[string]*store.Run{}, tombs: map[string]tomb{},
		compiled: map[string]*compiler.Compiled{}, traits: map[string]runTraits{}, dispatched: map[string]int{},
		pending: map[string][]executor.StatusUpdate{},
		slots:   map[string]string{}, count: map[string]int{}, waiting: map[string]map[string]bool{},
		pipelines: map[string]*pipeline{}, subscribers: map[string]bool{}, waiters: map[string]map[string]bool{}, hooks: make(chan string, 1024), sending: make(chan struct{}, 32), sent: map[string]bool{}, creating: map[string]bool{},
		poisoned: map[string]*panicError{}}
}

func (l *leading) run(parent context.Context) error {
	// The term ends with the leadership, or when a write finds this
	// engine deposed.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	updates, err := l.e.cfg.Executor.Watch(ctx)
	if err != nil {
		return fmt.Errorf("engine: watching the executor: %w", err)
	}
	// Watch first, then read: nothing changed in between is missed.
	events, _ := l.st.WatchUnknown(ctx, 0, l.knows)
	if err := l.countSlots(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // store events: remember the run, look at it again
		defer wg.Done()
		for ev := range events {
			r := ev.Run
			if ev.Unreadable != nil {
				l.e.cfg.Log.Warn("a run's record cannot be read: its handling fails it", "run", r.UUID, "err", ev.Unreadable)
				l.queue.add(r.UUID)
				continue
			}
			err := l.guard("watching", r.UUID, func() error {
				hook("watch", r.UUID)
				if l.learn(r) && !r.Status.Final() {
					l.queue.add(r.UUID)
				}
				return nil
			})
			if pe := (*panicError)(nil); errors.As(err, &pe) {
				l.poison(r.UUID, pe)
			}
		}
	}()
	go func() { // executor news, for each run's worker to record
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-updates:
				if !ok {
					return
				}
				l.mu.Lock()
				l.pending[u.Run.UUID] = append(l.pending[u.Run.UUID], u)
				l.mu.Unlock()
				l.queue.add(u.Run.UUID)
			}
		}
	}()
	go func() { // level-triggered: every active run, now and then
		defer wg.Done()
		tick := time.NewTicker(l.e.cfg.Resync)
		defer tick.Stop()
		for {
			_ = l.guard("resyncing", "", func() error { l.resync(ctx); return nil })
			l.runPendingHooks(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	wg.Add(1)
	go func() { // runs older than the creation index (store/created.go), once per store
		defer wg.Done()
		n, err := l.st.IndexCreated(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			l.e.cfg.Log.Warn("indexing runs by creation: the next term tries again", "indexed", n, "err", err)
		case n > 0:
			l.e.cfg.Log.Info("indexed runs by creation", "runs", n)
		}
	}()
	wg.Add(1)
	go func() { // the hook runs of the runs that end (hooks.go)
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case uuid := <-l.hooks:
				err := l.guard("running the hooks of", uuid, func() error { return l.runHooks(ctx, uuid) })
				if err != nil && ctx.Err() == nil {
					l.e.cfg.Log.Warn("hooks: left for the next resync", "run", uuid, "err", err)
				}
			}
		}
	}()
	var deposed sync.Once
	var workers sync.WaitGroup
	for range l.e.cfg.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				uuid, ok := l.queue.next(ctx)
				if !ok {
					return
				}
				err := l.handle(ctx, uuid)
				l.queue.done(uuid)
				switch {
				case err == nil:
					l.queue.forget(uuid)
				case errors.Is(err, store.ErrFenced):
					deposed.Do(func() { l.e.cfg.Log.Warn("deposed: a write was fenced off", "engine", l.e.cfg.ID) })
					cancel()
					return
				case ctx.Err() != nil:
					return
				default:
					l.e.cfg.Log.Warn("reconcile", "run", uuid, "err", err)
					l.queue.retry(uuid)
				}
			}
		}()
	}
	workers.Wait()
	cancel()
	l.sends.Wait()
	wg.Wait()
	if parent.Err() != nil {
		return parent.Err()
	}
	return store.ErrFenced
}
