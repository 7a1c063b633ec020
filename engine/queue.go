package engine

import (
	"context"
	"sync"
	"time"
)

// queue holds the runs to reconcile, each once however often it is added
// (as controllers' work queues do): reconciling reads the current state,
// so one pass covers every event that queued it. Several workers take
// from it, and a run is never handed to two at once: one added while a
// worker has it is handed out again when that worker is done.
type queue struct {
	mu    sync.Mutex
	items []string
	// first is handed out before items: runs whose work unblocks other
	// runs (a dag that heard from a child, a child just scheduled). A run
	// may sit in both lanes; the second copy is passed over.
	first      []string
	urgent     map[string]bool // in first, or to be put there again when done
	queued     map[string]bool // waiting, or to be handed out again when done
	processing map[string]bool // with a worker
	failures   map[string]int  // errors in a row, by run: its back-off
	wake       chan struct{}
}

func newQueue() *queue {
	return &queue{queued: map[string]bool{}, urgent: map[string]bool{}, processing: map[string]bool{}, failures: map[string]int{}, wake: make(chan struct{}, 1)}
}

// add queues uuid unless it is queued already.
func (q *queue) add(uuid string) { q.put(uuid, false) }

// addFirst queues a run ahead of those queued with add.
func (q *queue) addFirst(uuid string) { q.put(uuid, true) }

func (q *queue) put(uuid string, first bool) {
	q.mu.Lock()
	if q.queued[uuid] && (!first || q.urgent[uuid]) {
		q.mu.Unlock()
		return
	}
	q.queued[uuid] = true
	if first {
		q.urgent[uuid] = true
	}
	if q.processing[uuid] {
		q.mu.Unlock() // done hands it out again
		return
	}
	if first {
		q.first = append(q.first, uuid)
	} else {
		q.items = append(q.items, uuid)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// addAfter queues uuid after d (a back-off after an error, a retry's
// delay).
func (q *queue) addAfter(uuid string, d time.Duration) {
	time.AfterFunc(d, func() { q.add(uuid) })
}

// wakeAt queues uuid at time t (by the clock now reads), ahead of the
// others: a schedule whose next fire comes then, which is not to wait
// behind the runs its last fire made.
func (q *queue) wakeAt(uuid string, t time.Time, now func() time.Time) {
	time.AfterFunc(t.Sub(now()), func() { q.addFirst(uuid) })
}

// Back-off of a run whose reconciling fails: from 5ms, doubling with each
// error in a row, up to a minute (as client-go's rate-limited queues do).
const (
	backoffBase = 5 * time.Millisecond
	backoffMax  = time.Minute
)

// retry queues uuid again after its back-off, which grows with each
// error in a row until forget.
func (q *queue) retry(uuid string) {
	q.mu.Lock()
	n := q.failures[uuid]
	q.failures[uuid] = n + 1
	q.mu.Unlock()
	q.addAfter(uuid, backoff(n))
}

// backoff is the wait after n+1 errors in a row.
func backoff(n int) time.Duration {
	d := backoffBase
	for ; n > 0 && d < backoffMax; n-- {
		d *= 2
	}
	return min(d, backoffMax)
}

// forget resets uuid's back-off after it was reconciled without error.
func (q *queue) forget(uuid string) {
	q.mu.Lock()
	delete(q.failures, uuid)
	q.mu.Unlock()
}

// next returns the next run to reconcile, blocking until there is one or
// ctx ends. The caller calls done with it when it is through.
func (q *queue) next(ctx context.Context) (string, bool) {
	for {
		q.mu.Lock()
		for len(q.first)+len(q.items) > 0 {
			var uuid string
			if len(q.first) > 0 {
				uuid = q.first[0]
				q.first[0] = ""
				q.first = q.first[1:]
			} else {
				uuid = q.items[0]
				q.items[0] = ""
				q.items = q.items[1:]
			}
			if !q.queued[uuid] || q.processing[uuid] {
				continue // the copy in the other lane was handed out
			}
			delete(q.queued, uuid)
			delete(q.urgent, uuid)
			q.processing[uuid] = true
			more := len(q.first)+len(q.items) > 0
			q.mu.Unlock()
			if more {
				q.signal() // another worker may take the next
			}
			return uuid, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", false
		case <-q.wake:
		}
	}
}

// done releases uuid from its worker, queueing it again if it was added
// in the meantime.
func (q *queue) done(uuid string) {
	q.mu.Lock()
	delete(q.processing, uuid)
	again := q.queued[uuid]
	switch {
	case again && q.urgent[uuid]:
		q.first = append(q.first, uuid)
	case again:
		q.items = append(q.items, uuid)
	}
	q.mu.Unlock()
	if again {
		q.signal()
	}
}

// len is how many runs wait.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queued)
}
