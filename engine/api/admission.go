package api

import (
	"container/list"
	"context"
	"sync"
)

// admission is a weighted semaphore on the bytes of submissions being
// handled at once: a submission takes its body's size before the body is
// read and gives it back once it is stored (or refused). Waiters are
// served in the order they came, so a large submission is not starved by
// small ones arriving after it. It is safe for concurrent use.
//
// It is golang.org/x/sync/semaphore's Weighted, written here with the
// figures the API reports (bytes held, and the most ever held), and
// without a new requirement in go.mod.
type admission struct {
	capacity int64

	mu      sync.Mutex
	held    int64
	peak    int64
	refused int       // acquires that ended with their context
	waiters list.List // of *waiter, in arrival order
}

type waiter struct {
	n     int64
	ready chan struct{} // closed once n is taken for the waiter
}

func newAdmission(capacity int64) *admission { return &admission{capacity: capacity} }

// acquire takes n bytes, waiting until they are free or ctx is done (its
// error is returned then, and nothing is taken). n must not be larger than
// the capacity: such a waiter would wait forever.
func (a *admission) acquire(ctx context.Context, n int64) error {
	a.mu.Lock()
	if a.waiters.Len() == 0 && a.held+n <= a.capacity {
		a.take(n)
		a.mu.Unlock()
		return nil
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	elem := a.waiters.PushBack(w)
	a.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		a.mu.Lock()
		select {
		case <-w.ready:
			// Granted as ctx ended: give it back.
			a.held -= n
		default:
			a.waiters.Remove(elem)
		}
		// The waiter gone may have been the one holding the others
		// back.
		a.grant()
		a.refused++
		a.mu.Unlock()
		return ctx.Err()
	}
}

// release gives back n bytes taken by acquire.
func (a *admission) release(n int64) {
	a.mu.Lock()
	a.held -= n
	if a.held < 0 {
		a.mu.Unlock()
		panic("api: admission released more than was taken")
	}
	a.grant()
	a.mu.Unlock()
}

// grant serves the waiters in order while the first one fits.
func (a *admission) grant() {
	for e := a.waiters.Front(); e != nil; e = a.waiters.Front() {
		w := e.Value.(*waiter)
		if a.held+w.n > a.capacity {
			return
		}
		a.take(w.n)
		a.waiters.Remove(e)
		close(w.ready)
	}
}

func (a *admission) take(n int64) {
	a.held += n
	a.peak = max(a.peak, a.held)
}

// admissionStats are an admission's figures at one time.
type admissionStats struct {
	// Held is the bytes taken now, Peak the most ever taken at once.
	Held, Peak int64
	// Waiting is the acquires waiting now, Refused those that ended
	// with their context.
	Waiting, Refused int
}

func (a *admission) stats() admissionStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return admissionStats{Held: a.held, Peak: a.peak, Waiting: a.waiters.Len(), Refused: a.refused}
}
