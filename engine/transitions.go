package engine

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// ErrInvalidTransition is returned for a status move the table does not
// allow. It is terminal: the caller records it and does not retry.
var ErrInvalidTransition = errors.New("engine: invalid transition")

// final lists the statuses that end a run.
var final = []store.Status{store.Succeeded, store.Failed, store.Stopped, store.Skipped, store.UpstreamFailed}

// transitions is the table of legal moves, from each status to the ones
// it may become. Final statuses have no row: nothing moves them but
// Resume.
var transitions = map[store.Status][]store.Status{
	// Waiting to be compiled: a fresh run, a schedule between fires, a
	// resumed run.
	store.Created: {store.Compiled, store.OnSchedule, store.Succeeded /* from cache */, store.Skipped, store.UpstreamFailed,
		store.Stopped, store.Failed},
	// A schedule between (and during) its fires; it stops through
	// stopping, which stops the fires that run.
	store.OnSchedule: {store.Running, store.Processing, store.Succeeded, store.Stopping, store.Failed},
	store.Resuming:   {store.Compiled, store.OnSchedule, store.Stopped, store.Failed},
	// Compiled, waiting for a queue slot (or approval).
	store.Compiled: {store.Queued, store.Succeeded /* from cache */, store.Skipped, store.UpstreamFailed, store.Stopped, store.Failed},
	store.Queued:   {store.Scheduled, store.Running /* a parent */, store.Stopped, store.Failed},
	// Dispatched: the executor reports from here on.
	store.Scheduled: {store.Starting, store.Running, store.Warning, store.Unschedulable, store.Succeeded, store.Failed,
		store.Retrying, store.Stopping},
	store.Starting: {store.Running, store.Warning, store.Unschedulable, store.Succeeded, store.Failed, store.Retrying,
		store.Stopping},
	store.Running: {store.Processing, store.Warning, store.Succeeded, store.Failed, store.Retrying, store.Stopping},
	// A parent (dag, matrix, schedule) iterating.
	store.Processing:    {store.Running, store.Succeeded, store.Failed, store.Stopping},
	store.Warning:       {store.Starting, store.Running, store.Unschedulable, store.Succeeded, store.Failed, store.Retrying, store.Stopping},
	store.Unschedulable: {store.Starting, store.Running, store.Warning, store.Succeeded, store.Failed, store.Retrying, store.Stopping},
	// A new attempt goes through compilation and the queue again.
	store.Retrying: {store.Compiled, store.Queued, store.Stopped, store.Failed},
	// Once asked to stop, only an end is accepted.
	store.Stopping: {store.Stopped, store.Failed, store.Succeeded},
}

// CanTransition reports whether a run may move from one status to another.
func CanTransition(from, to store.Status) bool {
	return slices.Contains(transitions[from], to)
}

// IsFinal reports whether a status ends a run.
func IsFinal(s store.Status) bool { return slices.Contains(final, s) }

// Transition moves a run to a status and records the condition. Moving to
// the status it has is a no-op. An illegal move changes nothing and
// returns ErrInvalidTransition.
func Transition(r *store.Run, to store.Status, reason, message string, now time.Time) error {
	if r.Status == to {
		return nil
	}
	if !CanTransition(r.Status, to) {
		return fmt.Errorf("run %s: %s -> %s: %w", r.UUID, r.Status, to, ErrInvalidTransition)
	}
	r.Status = to
	r.Conditions = append(r.Conditions, store.Condition{Type: to, Reason: reason, Message: message, Time: now.UTC()})
	return nil
}

// Resume moves a finished run (failed, stopped or upstream_failed) back to
// resuming, for a new attempt of the same run. A run that succeeded or was
// skipped is not resumed: it is restarted as a new run.
func Resume(r *store.Run, reason string, now time.Time) error {
	switch r.Status {
	case store.Failed, store.Stopped, store.UpstreamFailed:
	default:
		return fmt.Errorf("run %s: resume from %s: %w", r.UUID, r.Status, ErrInvalidTransition)
	}
	r.Status = store.Resuming
	r.Conditions = append(r.Conditions, store.Condition{Type: store.Resuming, Reason: reason, Time: now.UTC()})
	return nil
}

// StopTarget is the status a stop request moves a run to: straight to
// stopped when nothing was dispatched, else stopping until the executor
// says it ended. A final run is not stopped.
func StopTarget(s store.Status) (store.Status, bool) {
	switch {
	case IsFinal(s):
		return "", false
	case s == store.Stopping:
		return s, true
	case CanTransition(s, store.Stopped):
		return store.Stopped, true
	}
	return store.Stopping, true
}
