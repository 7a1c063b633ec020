package engine

import (
	"context"
	"strings"
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

// TestQueueFirst: a run added with addFirst is handed out before those
// added with add, once even when it is in both lanes, and comes back
// first when it was added first while a worker had it.
func TestQueueFirst(t *testing.T) {
	q := newQueue()
	q.add("a")
	q.add("b")
	q.add("c")
	q.addFirst("c") // in both lanes now
	q.addFirst("p")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var got []string
	for range 4 {
		u, _ := q.next(ctx)
		got = append(got, u)
		if u != "p" {
			q.done(u)
		}
	}
	if want := "c p a b"; strings.Join(got, " ") != want {
		t.Fatalf("handed out %v, want %s", got, want)
	}
	q.add("x")
	q.addFirst("p") // while a worker has it
	q.done("p")
	if u, _ := q.next(ctx); u != "p" {
		t.Fatalf("after done: %q, want p before x", u)
	}
	q.done("p")
	if u, _ := q.next(ctx); u != "x" {
		t.Fatalf("then %q, want x", u)
	}
	q.done("x")
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if u, ok := q.next(short); ok {
		t.Fatalf("a copy left in a lane was handed out again: %q", u)
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
