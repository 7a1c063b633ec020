package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// sighting is what the watch saw of a child: its key in children/.
type sighting struct {
	parent string
	// seen is when the watch delivered the child's creation (this
	// process's clock).
	seen time.Time
	// creations counts the times its key was created (more than once: a
	// child deleted and created again).
	creations int
}

// watcher follows, with a watch of the benchmark's own, the index of a
// parent's children, `children/{parent}/{uuid}`: the store puts the key in
// the transaction that creates the child, and its events carry no value,
// so that the watch costs etcd and the benchmark little in a tick's burst
// of writes. It is safe for concurrent use.
type watcher struct {
	mu       sync.Mutex
	children map[string]*sighting // by the child's uuid
	err      error                // why the watch ended early
	done     chan struct{}
}

// watchFires watches the store's children/ under prefix from revision rev
// on; it returns once etcd has the watch, so that nothing after is seen
// late.
func watchFires(ctx context.Context, cli *clientv3.Client, prefix string, rev int64) (*watcher, error) {
	w := &watcher{children: map[string]*sighting{}, done: make(chan struct{})}
	prefix += "children/"
	wch, err := open(ctx, cli, prefix, rev)
	if err != nil {
		return nil, err
	}
	go func() {
		defer close(w.done)
		w.follow(wch, prefix, func(key string, ev *clientv3.Event, now time.Time) {
			parent, uuid, ok := strings.Cut(key, "/")
			if !ok || ev.Type != clientv3.EventTypePut || !ev.IsCreate() {
				return
			}
			s := w.children[uuid]
			if s == nil {
				s = &sighting{parent: parent, seen: now}
				w.children[uuid] = s
			}
			s.creations++
		})
	}()
	return w, nil
}

// open starts a watch of prefix from rev and waits until etcd has it.
func open(ctx context.Context, cli *clientv3.Client, prefix string, rev int64) (clientv3.WatchChan, error) {
	wch := cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithCreatedNotify())
	select {
	case resp, ok := <-wch:
		if !ok {
			return nil, fmt.Errorf("watching %s: the watch closed as it opened", prefix)
		}
		if err := resp.Err(); err != nil {
			return nil, fmt.Errorf("watching %s: %w", prefix, err)
		}
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("watching %s: not created within 10s", prefix)
	}
	return wch, nil
}

// follow hands each event of wch to seen, under the watcher's lock, with
// its key less prefix and the time its response was delivered.
func (w *watcher) follow(wch clientv3.WatchChan, prefix string, seen func(key string, ev *clientv3.Event, now time.Time)) {
	for resp := range wch {
		now := time.Now()
		w.mu.Lock()
		if err := resp.Err(); err != nil {
			w.err = fmt.Errorf("watching %s: %w", prefix, err)
			w.mu.Unlock()
			return
		}
		for _, ev := range resp.Events {
			seen(strings.TrimPrefix(string(ev.Kv.Key), prefix), ev, now)
		}
		w.mu.Unlock()
	}
}

// failed is why a watch ended early, if one did.
func (w *watcher) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// sighting returns what the watch saw of child uuid.
func (w *watcher) sighting(uuid string) (sighting, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.children[uuid]
	if !ok {
		return sighting{}, false
	}
	return *s, true
}

// count is how many children the watch saw created.
func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.children)
}
