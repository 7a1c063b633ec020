package engine

import (
	"context"
	"sync"
	"time"
)

// queue holds the runs to reconcile, each once however often it is added
// (as controllers' work queues do): reconciling reads the current state,
// so one pass covers every event that queued it.
type queue struct {
	mu     sync.Mutex
	items  []string
	queued map[string]bool
	wake   chan struct{}
}

func newQueue() *queue {
	return &queue{queued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// add queues uuid unless it is queued already.
func (q *queue) add(uuid string) {
	q.mu.Lock()
	if !q.queued[uuid] {
		q.queued[uuid] = true
		q.items = append(q.items, uuid)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// addAfter queues uuid after d (a back-off after an error).
func (q *queue) addAfter(uuid string, d time.Duration) {
	time.AfterFunc(d, func() { q.add(uuid) })
}

// next returns the next run to reconcile, blocking until there is one or
// ctx ends.
func (q *queue) next(ctx context.Context) (string, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			uuid := q.items[0]
			q.items = q.items[1:]
			delete(q.queued, uuid)
			q.mu.Unlock()
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

// len is how many runs wait.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
