package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// resync queues every active run. Tombstones older than the previous
// resync are forgotten.
func (l *leading) resync(ctx context.Context) {
	if now := l.e.cfg.Now(); now.Sub(l.trimmed) >= time.Minute {
		l.trimmed = now
		if err := l.st.TrimEvents(ctx, now.Add(-l.e.cfg.KeepEvents)); err != nil && ctx.Err() == nil {
			l.e.cfg.Log.Warn("trimming the event log", "err", err)
		}
	}
	active, err := l.st.Active(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.e.cfg.Log.Warn("resync", "err", err)
		}
		return
	}
	l.mu.Lock()
	l.generation++
	generation := l.generation
	for uuid, t := range l.tombs {
		if t.generation < l.generation-1 {
			delete(l.tombs, uuid)
		}
	}
	l.mu.Unlock()
	for _, uuid := range active {
		l.queue.add(uuid)
	}
	if generation%sweepEvery == 1 {
		l.sweep(ctx)
	}
}

// sweepEvery: the executor's objects are swept at the first resync of a
// term, then every sweepEvery resyncs.
const sweepEvery = 6

// sweep reconciles what the executor holds with the store, when it can
// list it: an attempt of a run the store does not know is reported and
// left alone (it may belong to another Plexus on the same namespace); an
// attempt superseded by a newer one is stopped; the objects of a run that
// ended longer than KeepFinished ago are deleted.
func (l *leading) sweep(ctx context.Context) {
	lister, ok := l.e.cfg.Executor.(executor.Lister)
	if !ok {
		return
	}
	refs, err := lister.Attempts(ctx)
	if err != nil {
		l.e.cfg.Log.Warn("sweep: listing the executor's attempts", "err", err)
		return
	}
	now := l.e.cfg.Now()
	orphans := 0
	for _, ref := range refs {
		err := l.guard("sweeping", ref.UUID, func() error {
			hook("sweep", ref.UUID)
			if l.sweepOne(ctx, ref, now) {
				orphans++
			}
			return nil
		})
		if pe := (*panicError)(nil); errors.As(err, &pe) {
			l.poison(ref.UUID, pe)
		}
	}
	l.e.metrics.orphans.Set(float64(orphans))
}

// sweepOne deletes an attempt's objects if they are no longer needed; it
// reports an orphan: an attempt of a run the store does not know.
func (l *leading) sweepOne(ctx context.Context, ref executor.RunRef, now time.Time) (orphan bool) {
	r, err := l.current(ctx, ref.UUID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		l.e.cfg.Log.Warn("sweep: the executor holds an attempt of a run the store does not know; left as it is",
			"run", ref.UUID, "attempt", ref.Attempt)
		return true
	case err != nil:
		return false
	}
	if r.Status.Final() && len(r.Conditions) == 0 {
		// A tombstone: read the record for its end.
		if r, _, err = l.st.Get(ctx, ref.UUID); err != nil {
			return false
		}
	}
	var why string
	switch {
	case r.Status.Final() && len(r.Conditions) > 0 && now.Sub(r.Conditions[len(r.Conditions)-1].Time) > l.e.cfg.KeepFinished:
		why = "the run ended more than " + l.e.cfg.KeepFinished.String() + " ago"
	case !r.Status.Final() && ref.Attempt < r.Attempt:
		if u, err := l.e.cfg.Executor.Status(ctx, ref); err == nil && u.Status.Final() {
			return false // ended: kept with the run, for its logs
		}
		why = fmt.Sprintf("attempt %d superseded it", r.Attempt)
	default:
		return false
	}
	if err := l.e.cfg.Executor.Stop(ctx, ref); err != nil && !errors.Is(err, executor.ErrUnknownRun) {
		l.e.cfg.Log.Warn("sweep: deleting", "run", ref.UUID, "attempt", ref.Attempt, "err", err)
		return false
	}
	l.e.cfg.Log.Info("sweep: deleted an attempt's objects", "run", ref.UUID, "attempt", ref.Attempt, "why", why)
	return false
}

// countSlots counts, as a term starts, the places each capped queue has
// given to runs dispatched before it.
func (l *leading) countSlots(ctx context.Context) error {
	if len(l.e.cfg.Queues) == 0 {
		return nil
	}
	active, err := l.st.Active(ctx)
	if err != nil {
		return fmt.Errorf("engine: counting queues: %w", err)
	}
	for _, uuid := range active {
		err := l.guard("counting the queue place of", uuid, func() error {
			r, _, err := l.st.Get(ctx, uuid)
			if err != nil || !dispatchedStatus(r.Status) {
				return nil // an unreadable record is failed by its handling
			}
			l.learn(r)
			q := l.queueOf(r)
			l.mu.Lock()
			l.slots[uuid] = q
			l.count[q]++
			l.mu.Unlock()
			return nil
		})
		if pe := (*panicError)(nil); errors.As(err, &pe) {
			l.poison(uuid, pe)
		}
	}
	return nil
}

// dispatchedStatus: the run holds an executor's resources.
func dispatchedStatus(s store.Status) bool {
	switch s {
	case store.Scheduled, store.Starting, store.Running, store.Processing, store.Warning, store.Unschedulable, store.Stopping:
		return true
	}
	return false
}

// queueOf is the run's queue (its operation's `queue`), "" by default.
func (l *leading) queueOf(r *store.Run) string {
	t, err := l.traitsOf(r)
	if err != nil {
		return ""
	}
	return t.queue
}

// runTraits is what the term reads of a run's compilation once the run
// is dispatched: far smaller than the compilation, which a wide dag would
// otherwise hold for each of its running operations.
type runTraits struct {
	queue      string
	maxRetries int
	pipeline   bool
}

func traitsOf(c *compiler.Compiled) runTraits {
	t := runTraits{queue: c.Component.Queue, pipeline: isPipeline(c)}
	if term := c.Component.Termination; term != nil && term.MaxRetries != nil && !t.pipeline {
		t.maxRetries = term.MaxRetries.Value
	}
	return t
}

// traitsOf returns a run's traits, from its compilation when the term
// has it.
func (l *leading) traitsOf(r *store.Run) (runTraits, error) {
	l.mu.Lock()
	t, ok := l.traits[r.UUID]
	l.mu.Unlock()
	if ok {
		return t, nil
	}
	c, err := l.compiledOf(r)
	if err != nil {
		return runTraits{}, err
	}
	t = traitsOf(c)
	t.pipeline = t.pipeline || r.Events
	return t, nil
}

// takeSlot reserves a place in queue q for a run, or says it is full (the
// run then waits for a place to free).
func (l *leading) takeSlot(uuid, q string) bool {
	limit, capped := l.e.cfg.Queues[q]
	if !capped {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, has := l.slots[uuid]; has {
		return true
	}
	if l.count[q] >= limit {
		if l.waiting[q] == nil {
			l.waiting[q] = map[string]bool{}
		}
		l.waiting[q][uuid] = true
		return false
	}
	l.slots[uuid] = q
	l.count[q]++
	return true
}

// isWaiting says whether the run waits for a place in its queue.
func (l *leading) isWaiting(uuid string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.waiting {
		if w[uuid] {
			return true
		}
	}
	return false
}

// releaseSlot gives back a place taken for a run that was not dispatched.
func (l *leading) releaseSlot(uuid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if q, ok := l.slots[uuid]; ok {
		delete(l.slots, uuid)
		l.count[q]--
	}
}

// work records the executor's news of a run, then moves it on.
func (l *leading) work(ctx context.Context, uuid string) error {
	hook("reconcile", uuid)
	l.mu.Lock()
	news := l.pending[uuid]
	delete(l.pending, uuid)
	l.mu.Unlock()
	for i, u := range news {
		if err := l.observe(ctx, u); err != nil {
			l.mu.Lock()
			l.pending[uuid] = append(news[i:], l.pending[uuid]...)
			l.mu.Unlock()
			return err
		}
	}
	return l.reconcile(ctx, uuid)
}

// reconcile moves a run on from what is known of it now. The early steps
// a run can take at once (compiled, queued, scheduled) are one write.
func (l *leading) reconcile(ctx context.Context, uuid string) error {
	run, err := l.current(ctx, uuid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	now := l.e.cfg.Now()
	switch run.Status {
	case store.Retrying:
		if wait := l.retryDelay(run, now); wait > 0 {
			l.queue.addAfter(uuid, wait)
			return nil
		}
		fallthrough
	case store.Created, store.Resuming:
		err = l.advance(ctx, run, now)
	case store.Compiled, store.Queued:
		err = l.advance(ctx, run, now)
	case store.OnSchedule, store.Scheduled, store.Starting, store.Running, store.Processing, store.Warning, store.Unschedulable, store.Stopping:
		if t, terr := l.traitsOf(run); terr == nil && t.pipeline {
			err = l.drive(ctx, run)
			break
		}
		switch run.Status {
		case store.Scheduled:
			l.mu.Lock()
			sent := l.sent[uuid]
			l.mu.Unlock()
			if sent {
				return nil
			}
			err = l.dispatch(ctx, run)
			if err == nil {
				err = l.check(ctx, run)
			}
		case store.Stopping:
			err = l.stop(ctx, run, now)
		default:
			err = l.check(ctx, run)
		}
	}
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// stop asks the executor to stop a stopping run's attempt; a run with
// nothing running is stopped at once.
func (l *leading) stop(ctx context.Context, run *store.Run, now time.Time) error {
	err := l.e.cfg.Executor.Stop(ctx, executor.RunRef{UUID: run.UUID, Attempt: run.Attempt})
	if errors.Is(err, executor.ErrUnknownRun) {
		// Nothing runs for it (any more): it is stopped.
		_, err = l.update(ctx, run, func(r *store.Run) error {
			return Transition(r, store.Stopped, "Stopped", "nothing was running", now)
		})
	}
	return err
}

// retryDelay is how long a retrying run still waits: the back-off doubles
// with each attempt, from Config.RetryBackoff, up to a minute.
func (l *leading) retryDelay(r *store.Run, now time.Time) time.Duration {
	if len(r.Conditions) == 0 || l.e.cfg.RetryBackoff <= 0 {
		return 0
	}
	d := l.e.cfg.RetryBackoff
	for i := 2; i < r.Attempt && d < time.Minute; i++ {
		d *= 2
	}
	d = min(d, time.Minute)
	return r.Conditions[len(r.Conditions)-1].Time.Add(d).Sub(now)
}

// advance takes a run from created (or resuming, retrying), compiled or
// queued as far as it can go at once: compiled, then queued unless it
// waits for approval, then scheduled if its queue has a place; and
// dispatches it when it got there. A cache hit ends it instead.
func (l *leading) advance(ctx context.Context, run *store.Run, now time.Time) error {
	from := run.Status
	c, err := l.compiledOf(run)
	if err != nil {
		if errors.Is(err, errUnavailable) || ctx.Err() != nil {
			return err // compiled again after a back-off
		}
		if from == store.Created || from == store.Resuming || from == store.Retrying {
			_, err = l.update(ctx, run, func(r *store.Run) error {
				if r.Status != from {
					return errSkip
				}
				return Transition(r, store.Failed, "CompilationFailed", err.Error(), now)
			})
		}
		return err
	}
	if run.Events && (from == store.Created || from == store.Resuming) {
		return l.startSubscription(ctx, run, now)
	}
	if isSchedule(c) && (from == store.Created || from == store.Resuming) {
		// Its fires are compiled, checked and queued, each in its turn.
		return l.startSchedule(ctx, run, c, now)
	}
	pipe := isPipeline(c)
	if from == store.Created {
		if ok, why := l.conditionsHold(ctx, run, c); !ok {
			_, err = l.update(ctx, run, func(r *store.Run) error {
				if r.Status != from {
					return errSkip
				}
				return Transition(r, store.Skipped, "ConditionsCheckFailed", why, now)
			})
			return err
		}
	}
	var hit *store.Run
	cacheKey, ttl, cacheOn := l.cacheKeyOf(run, c)
	cacheOn = cacheOn && !pipe
	if cacheOn && from == store.Created {
		if hit, err = l.cacheHit(ctx, cacheKey, ttl, now); err != nil {
			return err
		}
	}
	waits := func(r *store.Run) bool { return !r.Approved && needsApproval(c) }
	if hit == nil && (from == store.Compiled && waits(run)) {
		return nil // Approve queues it again
	}
	slot := hit == nil && !waits(run) && (pipe || l.takeSlot(run.UUID, c.Component.Queue))
	if hit == nil && from == store.Queued && !slot {
		return nil // a run that ends in its queue wakes it
	}
	r, err := l.update(ctx, run, func(r *store.Run) error {
		if r.Status != from {
			return errSkip
		}
		if r.Attempt == 0 {
			r.Attempt = 1
		}
		if hit != nil {
			r.CacheOf, r.Outputs = hit.UUID, hit.Outputs
			return Transition(r, store.Succeeded, "CacheHit", "reused the result of run "+hit.UUID, now)
		}
		if cacheOn {
			r.CacheKey = cacheKey
		}
		if r.Status != store.Queued && r.Status != store.Compiled {
			if err := Transition(r, store.Compiled, "Compiled", "", now); err != nil {
				return err
			}
			r.Inputs = inputValues(c)
		}
		if waits(r) {
			return nil
		}
		if err := Transition(r, store.Queued, "Queued", "", now); err != nil || !slot {
			return err
		}
		r.ExecutorRef = fmt.Sprintf("%s/%d", r.UUID, r.Attempt)
		r.Service = serviceOf(l.e.cfg.Executor, executor.RunRef{UUID: r.UUID, Attempt: r.Attempt}, c)
		return Transition(r, store.Scheduled, "Scheduled", "", now)
	})
	if err != nil || r.Status != store.Scheduled {
		if slot {
			l.releaseSlot(run.UUID)
		}
		if err == nil && (r.Status == store.Queued || r.Status == store.Compiled && !waits(r)) && !l.isWaiting(r.UUID) {
			// Approved, or its queue had a place, since it was read.
			l.queue.add(r.UUID)
		}
		return err
	}
	l.mu.Lock()
	l.compiled[run.UUID] = c
	l.mu.Unlock()
	if pipe {
		return l.drive(ctx, r)
	}
	return l.dispatch(ctx, r)
}

// inputValues are a compiled run's input values, by name.
func inputValues(c *compiler.Compiled) map[string]any {
	var out map[string]any
	for _, p := range c.Params {
		if p.IsOutput || p.Value == nil {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[p.Name] = p.Value
	}
	return out
}

// errSkip: the run changed since it was read; the new state is queued.
var errSkip = errors.New("engine: the run moved on")

// dispatch hands a scheduled attempt to the executor, once per term (the
// executor itself ignores an attempt it has). The record says scheduled
// before the executor hears of it, so its first news finds the run
// scheduled, and a leader that dies in between leaves a scheduled run
// that the next one dispatches.
func (l *leading) dispatch(ctx context.Context, run *store.Run) error {
	ref := executor.RunRef{UUID: run.UUID, Attempt: run.Attempt}
	l.mu.Lock()
	done := l.dispatched[ref.UUID] == ref.Attempt
	l.mu.Unlock()
	if done {
		return nil
	}
	c, err := l.compiledOf(run)
	if err != nil {
		return err
	}
	if err := l.e.cfg.Executor.Dispatch(ctx, ref, c); err != nil {
		if errors.Is(err, executor.ErrTransient) || ctx.Err() != nil {
			// Not the attempt's failure: the run stays scheduled, and the
			// queue's back-off brings it back here.
			return fmt.Errorf("engine: dispatching %s attempt %d: %w", ref.UUID, ref.Attempt, err)
		}
		_, uerr := l.update(ctx, run, func(r *store.Run) error {
			if r.Attempt != ref.Attempt || r.Status.Final() {
				return errSkip
			}
			return Transition(r, store.Failed, "DispatchFailed", err.Error(), l.e.cfg.Now())
		})
		return uerr
	}
	l.mu.Lock()
	l.dispatched[ref.UUID] = ref.Attempt
	if k := l.known[ref.UUID]; k != nil && !k.Status.Final() { // a tombstone is final
		// The executor has it: what the term reads of it now is small.
		l.traits[ref.UUID] = traitsOf(c)
	}
	delete(l.compiled, ref.UUID)
	l.mu.Unlock()
	l.e.metrics.dispatch.Observe(l.e.cfg.Now().Sub(run.CreatedAt).Seconds())
	return nil
}

// check compares a dispatched run with what the executor says of its
// attempt now: news the watch missed is recorded, and an attempt the
// executor has no trace of (lost with an engine that ran it locally, or
// its Job deleted) fails as lost, to be retried if the run has retries
// left.
func (l *leading) check(ctx context.Context, run *store.Run) error {
	ref := executor.RunRef{UUID: run.UUID, Attempt: run.Attempt}
	u, err := l.e.cfg.Executor.Status(ctx, ref)
	switch {
	case errors.Is(err, executor.ErrUnknownRun):
		l.mu.Lock()
		if l.dispatched[ref.UUID] == ref.Attempt {
			delete(l.dispatched, ref.UUID)
		}
		l.mu.Unlock()
		if run.Status == store.Scheduled {
			return l.dispatch(ctx, run)
		}
		return l.observe(ctx, executor.StatusUpdate{Run: ref, Status: executor.Failed, Reason: "Lost",
			Message: fmt.Sprintf("the executor has no trace of attempt %d: it was lost", run.Attempt), Time: l.e.cfg.Now()})
	case err != nil:
		return err
	case u.Status == executor.Pending || u.Run != ref:
		return nil
	}
	return l.observe(ctx, u)
}

// same maps the executor's statuses that are news only when the run is
// not in them yet.
var same = map[executor.Status]store.Status{
	executor.Starting: store.Starting, executor.Running: store.Running,
	executor.Warning: store.Warning, executor.Unschedulable: store.Unschedulable,
}

// observe records what the executor says of an attempt.
func (l *leading) observe(ctx context.Context, u executor.StatusUpdate) error {
	run, err := l.current(ctx, u.Run.UUID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	now := l.e.cfg.Now()
	_, err = l.update(ctx, run, func(r *store.Run) error {
		if r.Attempt != u.Run.Attempt || r.Status.Final() {
			return errSkip // an old attempt's news
		}
		if same[u.Status] == r.Status {
			return errSkip // nothing new
		}
		switch u.Status {
		case executor.Starting:
			return Transition(r, store.Starting, u.Reason, u.Message, now)
		case executor.Running:
			return Transition(r, store.Running, u.Reason, u.Message, now)
		case executor.Warning:
			return Transition(r, store.Warning, u.Reason, u.Message, now)
		case executor.Unschedulable:
			return Transition(r, store.Unschedulable, u.Reason, u.Message, now)
		case executor.Succeeded:
			r.Outputs = u.Outputs
			return Transition(r, store.Succeeded, u.Reason, u.Message, now)
		case executor.Stopped:
			return Transition(r, store.Stopped, u.Reason, u.Message, now)
		case executor.Failed:
			if r.Status != store.Stopping && r.Attempt <= l.maxRetries(r) {
				if err := Transition(r, store.Retrying, u.Reason, fmt.Sprintf("attempt %d failed: %s", r.Attempt, u.Message), now); err != nil {
					return err
				}
				r.Attempt++
				return nil
			}
			return Transition(r, store.Failed, u.Reason, u.Message, now)
		}
		return errSkip
	})
	switch {
	case err == nil, errors.Is(err, errSkip), errors.Is(err, store.ErrNotFound):
		return nil
	case errors.Is(err, ErrInvalidTransition):
		l.e.cfg.Log.Warn("recording an executor update", "run", u.Run.UUID, "status", u.Status, "err", err)
		return nil
	}
	return err
}

// compiledOf returns the run's compilation, from this term's cache or
// compiled again (compilation is deterministic).
func (l *leading) compiledOf(r *store.Run) (*compiler.Compiled, error) {
	l.mu.Lock()
	c := l.compiled[r.UUID]
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	var err error
	if compiledByDag(r) {
		c, err = l.compileChild(context.Background(), r)
	} else {
		c, err = l.e.compileStored(context.Background(), r)
	}
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if k := l.known[r.UUID]; k != nil && !k.Status.Final() { // a tombstone is final
		l.compiled[r.UUID] = c
	}
	l.mu.Unlock()
	return c, nil
}

// maxRetries is the run's termination.maxRetries.
func (l *leading) maxRetries(r *store.Run) int {
	t, err := l.traitsOf(r)
	if err != nil {
		return 0
	}
	return t.maxRetries
}

// needsApproval says whether the run asks to be approved (isApproved:
// false) before it is queued.
func needsApproval(c *compiler.Compiled) bool {
	return c.Component.IsApproved != nil && !*c.Component.IsApproved
}
