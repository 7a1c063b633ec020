package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// No run can stop the engine (DESIGN §4, invariant 6). Wherever the
// leader starts handling one run — a worker taking it from the queue, the
// watch handing it a new record, a dag dispatching the runs it created,
// the sweep looking at an attempt — a panic is recovered: it is logged
// with its stack, and the run it was handling ends failed with a
// condition (reason Panic) naming it, through the transition table; the
// other runs go on. A compilation that panics, at submission or on the
// leader, is a compilation error of that run. A record that cannot be
// read, or a change that would make one, fails its run as well (reason
// UnreadableRecord), keeping what can be read of it.

// Reasons of the failures recover.go records.
const (
	reasonPanic      = "Panic"
	reasonUnreadable = "UnreadableRecord"
)

// panicHook, set by tests only, is called as the leader starts each kind
// of handling of a run (at: "reconcile", "watch", "observe", "send",
// "sweep", "compile", "fire", "hooks"): a test panics in it to prove the
// recovery of each, or holds the leader there to take it away.
var panicHook atomic.Pointer[func(at, uuid string)]

func hook(at, uuid string) {
	if h := panicHook.Load(); h != nil {
		(*h)(at, uuid)
	}
}

// panicError is a panic recovered while handling a run.
type panicError struct {
	at    string
	value any
}

func (p *panicError) Error() string {
	return fmt.Sprintf("the engine panicked while %s the run: %v", p.at, p.value)
}

// recordError is an error about the record of one run: it cannot be read,
// or a change would make it unreadable.
type recordError struct {
	uuid string
	err  error
}

func (r *recordError) Error() string { return r.err.Error() }
func (r *recordError) Unwrap() error { return r.err }

// ofRecord marks an unreadable-record error as run uuid's.
func ofRecord(uuid string, err error) error {
	if errors.Is(err, store.ErrUnreadable) {
		return &recordError{uuid: uuid, err: err}
	}
	return err
}

// recovered logs a recovered panic with its stack, at error level: it is
// a bug of the engine or of a library, found by a run's content.
func (e *Engine) recovered(at, uuid string, v any) *panicError {
	e.cfg.Log.Error("recovered a panic; only the run it was handling fails", "run", uuid, "at", at, "panic", fmt.Sprint(v),
		"stack", string(debug.Stack()))
	e.metrics.panics.Inc()
	return &panicError{at: at, value: v}
}

// guard calls f, turning a panic into a *panicError.
func (l *leading) guard(at, uuid string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = l.e.recovered(at, uuid, v)
		}
	}()
	return f()
}

// handle is a worker's turn with a run: its news recorded and the run
// moved on (work), and the run failed if that panicked or if its record
// cannot be read or written. An unreadable record of another run found on
// the way is queued, for its own handling to fail it.
func (l *leading) handle(ctx context.Context, uuid string) error {
	var err error
	if why, ok := l.takePoison(uuid); ok {
		err = why
	} else {
		err = l.guard("reconciling", uuid, func() error { return l.work(ctx, uuid) })
	}
	reason := reasonPanic
	var pe *panicError
	var re *recordError
	switch {
	case errors.As(err, &pe):
	case errors.As(err, &re) && re.uuid == uuid:
		reason = reasonUnreadable
	case errors.As(err, &re):
		l.queue.add(re.uuid)
		return err
	default:
		return err
	}
	ferr := l.guard("failing", uuid, func() error { return l.failRun(ctx, uuid, reason, err.Error()) })
	if ferr != nil {
		l.e.cfg.Log.Error("failing a run that cannot be handled", "run", uuid, "err", ferr)
		if pe != nil {
			// Failed at its next turn, after the worker's back-off,
			// without handling it again.
			l.markPoisoned(uuid, pe)
		}
	}
	return ferr
}

// poison marks a run whose handling panicked outside a worker (in the
// watch, a dag's dispatch, the sweep) and queues it: the next worker to
// take it fails it instead of handling it again.
func (l *leading) poison(uuid string, pe *panicError) {
	l.markPoisoned(uuid, pe)
	l.queue.add(uuid)
}

func (l *leading) markPoisoned(uuid string, pe *panicError) {
	l.mu.Lock()
	l.poisoned[uuid] = pe
	l.mu.Unlock()
}

func (l *leading) takePoison(uuid string) (*panicError, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pe, ok := l.poisoned[uuid]
	delete(l.poisoned, uuid)
	return pe, ok
}

// failRun ends a run that cannot be handled: failed, with a condition of
// reason and message, through the transition table. A record that cannot
// be read is repaired: what can be read of it is kept (a record with no
// status read is taken as created), the rest dropped; one that was final
// already is kept final, only made readable. A dag's children still
// running are asked to stop.
func (l *leading) failRun(ctx context.Context, uuid, reason, msg string) error {
	now := l.e.cfg.Now()
	var was store.Status // what it was, and which attempt, as it failed
	var attempt int
	r, err := l.st.Update(ctx, uuid, func(r *store.Run) error {
		if r.Status.Final() {
			return errSkip
		}
		was, attempt = r.Status, r.Attempt
		return Transition(r, store.Failed, reason, msg, now)
	})
	if errors.Is(err, store.ErrUnreadable) {
		r, err = l.st.Repair(ctx, uuid, func(r *store.Run) error {
			if r.Status.Final() {
				was = ""
				return nil
			}
			if r.Status == "" {
				r.Status = store.Created
			}
			was, attempt = r.Status, r.Attempt
			return Transition(r, store.Failed, reasonUnreadable, msg, now)
		})
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case errors.Is(err, errSkip): // it ended meanwhile
	case err != nil:
		return err
	default:
		l.learn(r)
		l.e.cfg.Log.Error("run failed: the engine could not handle it", "run", uuid, "reason", reason, "err", msg)
		if dispatchedStatus(was) && attempt > 0 {
			// Failed, its attempt is nobody's: the executor stops it.
			ref := executor.RunRef{UUID: uuid, Attempt: attempt}
			if err := l.e.cfg.Executor.Stop(ctx, ref); err != nil && !errors.Is(err, executor.ErrUnknownRun) {
				l.e.cfg.Log.Warn("stopping the attempt of a run that failed", "run", uuid, "attempt", attempt, "err", err)
			}
		}
	}
	return l.stopOrphans(ctx, uuid, now)
}

// stopOrphans asks the children of a run that failed while they ran to
// stop: no dag looks after them any more.
func (l *leading) stopOrphans(ctx context.Context, parent string, now time.Time) error {
	uuids, err := l.st.Children(ctx, parent)
	if err != nil || len(uuids) == 0 {
		return err
	}
	children, err := l.st.GetMany(ctx, uuids)
	var bad store.Unreadable
	switch {
	case errors.As(err, &bad):
		for _, b := range bad {
			u, _, _ := strings.Cut(b, ": ")
			l.queue.add(u) // failed by its own handling
		}
	case err != nil:
		return err
	}
	for _, ch := range children {
		if to, ok := StopTarget(ch.Status); !ok || to == ch.Status {
			continue
		}
		_, err := l.update(ctx, ch, func(r *store.Run) error {
			to, ok := StopTarget(r.Status)
			if !ok || to == r.Status {
				return errSkip
			}
			return Transition(r, to, "StopRequested", "its dag "+parent+" failed", now)
		})
		if err != nil && !errors.Is(err, errSkip) && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// compileSafely is compiler.Compile, a panic turned into a compilation
// error at path p (the operation compiled, "" for the run's own).
func (e *Engine) compileSafely(p specs.Path, uuid string, op *specs.Operation, comp *specs.Component, opts compiler.Options) (c *compiler.Compiled, err error) {
	defer func() {
		if v := recover(); v != nil {
			pe := e.recovered("compiling", uuid, v)
			c, err = nil, &compiler.CompilationError{Stage: stageCompile,
				Errors: specs.ErrorList{specs.Invalidf(p, nil, "compiling it panicked: %v", pe.value)}}
		}
	}()
	hook("compile", uuid)
	return compiler.Compile(op, comp, opts)
}

// stageCompile names a compilation that failed outside any stage's own
// errors (it panicked).
const stageCompile compiler.Stage = "compile"
