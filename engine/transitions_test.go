package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

var allStatuses = []store.Status{store.Created, store.Compiled, store.Queued, store.Scheduled, store.Starting,
	store.Running, store.Processing, store.Succeeded, store.Failed, store.Stopped, store.Stopping, store.Skipped,
	store.UpstreamFailed, store.Retrying, store.Resuming, store.Warning, store.Unschedulable, store.OnSchedule}

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// TestEveryRow applies every legal move of the table, and checks each
// records its condition.
func TestEveryRow(t *testing.T) {
	moves := 0
	for from, tos := range transitions {
		for _, to := range tos {
			r := &store.Run{UUID: "r", Status: from}
			if err := Transition(r, to, "Because", "a message", now); err != nil {
				t.Errorf("%s -> %s: %v", from, to, err)
				continue
			}
			c := r.Conditions[len(r.Conditions)-1]
			if r.Status != to || c.Type != to || c.Reason != "Because" || !c.Time.Equal(now) {
				t.Errorf("%s -> %s: run %+v", from, to, r)
			}
			moves++
		}
	}
	if moves < 60 {
		t.Fatalf("only %d moves in the table", moves)
	}
}

// TestIllegalMoves: what the table does not allow changes nothing.
func TestIllegalMoves(t *testing.T) {
	illegal := [][2]store.Status{
		{store.Created, store.Running},        // not compiled, not dispatched
		{store.Created, store.Scheduled},      // not queued
		{store.Compiled, store.Scheduled},     // the queue is skipped
		{store.Queued, store.Succeeded},       // nothing ran
		{store.Stopping, store.Running},       // only an end after stopping
		{store.Stopping, store.Retrying},      // no retry once asked to stop
		{store.Retrying, store.Running},       // a new attempt is compiled and queued
		{store.Running, store.Created},        // no way back
		{store.Running, store.Skipped},        // only what did not start is skipped
		{store.Scheduled, store.Compiled},     // no way back
		{store.Running, store.UpstreamFailed}, // decided before starting
	}
	for _, m := range illegal {
		r := &store.Run{UUID: "r", Status: m[0]}
		if err := Transition(r, m[1], "", "", now); !errors.Is(err, ErrInvalidTransition) {
			t.Errorf("%s -> %s: got %v, want ErrInvalidTransition", m[0], m[1], err)
		}
		if r.Status != m[0] || len(r.Conditions) != 0 {
			t.Errorf("%s -> %s: the refused move changed the run", m[0], m[1])
		}
	}
}

// TestFinalIsFinal: nothing moves a final run, but an explicit resume of
// one that failed, was stopped or had an upstream fail.
func TestFinalIsFinal(t *testing.T) {
	for _, f := range final {
		if len(transitions[f]) != 0 {
			t.Errorf("%s has moves", f)
		}
		for _, to := range allStatuses {
			if to != f && CanTransition(f, to) {
				t.Errorf("%s -> %s is allowed", f, to)
			}
		}
		r := &store.Run{UUID: "r", Status: f}
		err := Resume(r, "ResumedByUser", now)
		resumable := f == store.Failed || f == store.Stopped || f == store.UpstreamFailed
		switch {
		case resumable && (err != nil || r.Status != store.Resuming):
			t.Errorf("resume %s: %v, status %s", f, err, r.Status)
		case !resumable && !errors.Is(err, ErrInvalidTransition):
			t.Errorf("resume %s: %v, want ErrInvalidTransition", f, err)
		}
	}
	// The table and the store agree on what is final.
	for _, s := range allStatuses {
		if IsFinal(s) != s.Final() {
			t.Errorf("%s: engine final %v, store final %v", s, IsFinal(s), s.Final())
		}
	}
}

func TestEveryStatusHasARowOrIsFinal(t *testing.T) {
	for _, s := range allStatuses {
		if _, ok := transitions[s]; !ok && !IsFinal(s) {
			t.Errorf("%s is neither final nor in the table", s)
		}
	}
}

func TestStopTarget(t *testing.T) {
	cases := map[store.Status]store.Status{
		store.Created: store.Stopped, store.Compiled: store.Stopped, store.Queued: store.Stopped,
		store.OnSchedule: store.Stopping, store.Resuming: store.Stopped, store.Retrying: store.Stopped,
		store.Scheduled: store.Stopping, store.Running: store.Stopping, store.Warning: store.Stopping,
		store.Stopping: store.Stopping,
	}
	for from, want := range cases {
		got, ok := StopTarget(from)
		if !ok || got != want {
			t.Errorf("stop from %s: %s, %v; want %s", from, got, ok, want)
		}
		if got != from && !CanTransition(from, got) {
			t.Errorf("stop from %s: %s is not a legal move", from, got)
		}
	}
	if _, ok := StopTarget(store.Succeeded); ok {
		t.Error("a succeeded run is stopped")
	}
}

func TestSameStatusIsANoOp(t *testing.T) {
	r := &store.Run{UUID: "r", Status: store.Running}
	if err := Transition(r, store.Running, "", "", now); err != nil || len(r.Conditions) != 0 {
		t.Errorf("got %v, %+v", err, r)
	}
}
