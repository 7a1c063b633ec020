package engine

// What a term knows of runs: the newest copy of each (from the store's
// news and its own writes), tombstones of those that ended, and what a
// newer copy sets off (its dag hears of it, waiters and hooks are woken).

import (
	"context"
	"maps"
	"slices"

	"github.com/plexus-ml/plexus/engine/store"
)

// learn records a newer copy of a run; it reports whether it was newer.
// The dag a newer child belongs to hears of it, and is looked at again.
func (l *leading) learn(r *store.Run) bool {
	newer, p := l.remember(r)
	if p != nil {
		l.observeChild(p, r)
		l.queue.addFirst(r.Parent)
	}
	if newer {
		l.mu.Lock()
		waiting := l.waiters[r.UUID]
		if r.Status.Final() {
			delete(l.waiters, r.UUID) // what it reached is all it will
		}
		l.mu.Unlock()
		for parent := range waiting {
			l.queue.add(parent) // its gates may open (gates.go)
		}
	}
	if newer && r.Status.Final() && r.Hooks > 0 {
		select {
		case l.hooks <- r.UUID:
		default: // the next resync finds it under hooks/
		}
	}
	if newer && l.st.Logged(r) {
		// Its change may be an event the subscriptions wait for.
		l.mu.Lock()
		subs := slices.Collect(maps.Keys(l.subscribers))
		l.mu.Unlock()
		for _, s := range subs {
			l.queue.add(s)
		}
	}
	return newer
}

// observeChild tells a dag what became of one of its children. A panic
// there is the dag's: it is failed, not the child, nor whoever learnt of
// the child.
func (l *leading) observeChild(p *pipeline, r *store.Run) {
	defer func() {
		if v := recover(); v != nil {
			l.poison(p.uuid, l.e.recovered("observing a child of", p.uuid, v))
		}
	}()
	hook("observe", p.uuid)
	p.observe(r)
}

// remember keeps a newer copy of a run; it returns whether it was newer
// and, if so, the pipeline of the dag the run belongs to, when this term
// drives it.
func (l *leading) remember(r *store.Run) (bool, *pipeline) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.knownLocked(r.UUID)
	if k != nil && k.Revision >= r.Revision {
		return false, nil
	}
	l.countLocked(k, r)
	p := l.pipelines[r.Parent]
	if r.Status.Final() {
		delete(l.known, r.UUID)
		l.tombs[r.UUID] = tomb{status: r.Status, revision: r.Revision, parent: r.Parent, node: r.Node,
			parentAttempt: r.ParentAttempt, attempt: r.Attempt, generation: l.generation}
		l.endLocked(r.UUID)
		return true, p
	}
	l.known[r.UUID] = r
	delete(l.tombs, r.UUID)
	return true, p
}

// tomb is what a term keeps of a run that ended: a few words, not its
// record (a dag of 100,000 operations leaves as many).
type tomb struct {
	status        store.Status
	revision      int64
	parent, node  string
	parentAttempt int
	attempt       int
	generation    int // the resync generation it was made in
}

// knownLocked is the newest copy of a run the term has: its record, or
// for a run that ended, a copy made from its tombstone. It is shared (or
// new): it is not to be changed.
func (l *leading) knownLocked(uuid string) *store.Run {
	if r := l.known[uuid]; r != nil {
		return r
	}
	t, ok := l.tombs[uuid]
	if !ok {
		return nil
	}
	return &store.Run{UUID: uuid, Status: t.status, Revision: t.revision, Parent: t.parent, Node: t.node,
		ParentAttempt: t.parentAttempt, Attempt: t.attempt}
}

// knows says whether the term has a run's copy of revision rev, or a
// newer one.
func (l *leading) knows(uuid string, rev int64, created bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if created && l.creating[uuid] {
		return true // its batch learns it (createChildren)
	}
	if t, ok := l.tombs[uuid]; ok {
		return t.revision >= rev
	}
	k := l.known[uuid]
	return k != nil && k.Revision >= rev
}

// countLocked counts in the metrics the transitions a newer copy r of a
// run shows since the copy k the term had; of a run it did not follow,
// only the last.
func (l *leading) countLocked(k, r *store.Run) {
	n := len(r.Conditions) - 1
	if k != nil && len(k.Conditions) > 0 && len(k.Conditions) <= len(r.Conditions) {
		n = len(k.Conditions)
	}
	for _, c := range r.Conditions[max(n, 0):] {
		l.e.metrics.transitions.WithLabelValues(string(c.Type)).Inc()
	}
}

// endLocked drops what the term keeps for a run that ended, and gives its
// queue place to a run that waits for one.
func (l *leading) endLocked(uuid string) {
	delete(l.subscribers, uuid)
	delete(l.compiled, uuid)
	delete(l.traits, uuid)
	delete(l.pipelines, uuid)
	delete(l.dispatched, uuid)
	if q, ok := l.slots[uuid]; ok {
		delete(l.slots, uuid)
		l.count[q]--
		for w := range l.waiting[q] {
			l.queue.add(w)
		}
		delete(l.waiting, q)
	}
}

// current is the newest copy of a run this term knows, read from the
// store when it knows none. The copy is shared: it is not to be changed.
func (l *leading) current(ctx context.Context, uuid string) (*store.Run, error) {
	l.mu.Lock()
	r := l.knownLocked(uuid)
	l.mu.Unlock()
	if r != nil {
		return r, nil
	}
	r, _, err := l.st.Get(ctx, uuid)
	if err != nil {
		return nil, ofRecord(uuid, err)
	}
	l.learn(r)
	return r, nil
}

// update changes a run from the newest copy known, and learns the result.
func (l *leading) update(ctx context.Context, known *store.Run, change func(*store.Run) error) (*store.Run, error) {
	r, err := l.st.UpdateFrom(ctx, known.UUID, known, change)
	if err != nil {
		return nil, ofRecord(known.UUID, err)
	}
	l.learn(r)
	return r, nil
}
