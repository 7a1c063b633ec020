package engine

import (
	"context"
	"testing"
	"time"
)

// TestQueue: a run is queued once however often it is added, is never
// with two workers at once, and one added while a worker has it comes back
// when the worker is done.
func TestQueue(t *testing.T) {
	q := newQueue()
	q.add("a")
	q.add("b")
	q.add("a")
	if q.len() != 2 {
		t.Fatalf("len %d, want 2", q.len())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	first, _ := q.next(ctx)
	if first != "a" {
		t.Fatalf("first %q", first)
	}
	q.add("a") // while a worker has it
	second, _ := q.next(ctx)
	if second != "b" {
		t.Fatalf("second %q, want b: a is with a worker", second)
	}
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if got, ok := q.next(short); ok {
		t.Fatalf("got %q while the only run queued is with a worker", got)
	}
	q.done("a")
	if got, _ := q.next(ctx); got != "a" {
		t.Fatalf("after done: %q, want a again", got)
	}
	q.done("a")
	q.done("b")
	if q.len() != 0 {
		t.Fatalf("len %d after all done", q.len())
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 5 * time.Millisecond}, {1, 10 * time.Millisecond}, {4, 80 * time.Millisecond}, {13, 40960 * time.Millisecond}, {14, time.Minute}, {1000, time.Minute}} {
		if got := backoff(tc.n); got != tc.want {
			t.Errorf("backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
