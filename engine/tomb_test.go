package engine

import (
	"testing"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
)

// TestTombstones: a run that ended is kept as a tombstone, not as its
// record: the term still knows its status, revision and place, an older
// copy does not bring it back, a newer one (a restart) does, and two
// resyncs drop it.
func TestTombstones(t *testing.T) {
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	e, err := New(Config{Store: st, Executor: newRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	l := newLeading(e, st)
	running := &store.Run{UUID: "r1", Parent: "dag", Node: "a", ParentAttempt: 1, Attempt: 2, Status: store.Running, Revision: 5,
		Spec: "a large spec", Conditions: []store.Condition{{Type: store.Running}}}
	if !l.learn(running) {
		t.Fatal("a first copy was not newer")
	}
	ended := *running
	ended.Status, ended.Revision = store.Succeeded, 7
	if !l.learn(&ended) {
		t.Fatal("its end was not newer")
	}
	l.mu.Lock()
	_, kept := l.known["r1"]
	k := l.knownLocked("r1")
	l.mu.Unlock()
	if kept {
		t.Error("the ended run's record is still kept")
	}
	if k == nil || k.Status != store.Succeeded || k.Revision != 7 || k.Parent != "dag" || k.Node != "a" || k.ParentAttempt != 1 || k.Attempt != 2 || k.Spec != "" {
		t.Fatalf("tombstone reads as %+v", k)
	}
	if !l.knows("r1", 6, false) || !l.knows("r1", 7, false) || l.knows("r1", 8, false) {
		t.Error("knows does not follow the tombstone's revision")
	}
	if l.learn(running) {
		t.Error("an older copy brought the run back")
	}
	if cur, err := l.current(t.Context(), "r1"); err != nil || cur.Status != store.Succeeded {
		t.Errorf("current: %v %v", cur, err)
	}
	restarted := *running
	restarted.Revision = 9
	if !l.learn(&restarted) {
		t.Fatal("a newer copy was not learnt")
	}
	l.mu.Lock()
	_, tombed := l.tombs["r1"]
	l.mu.Unlock()
	if tombed || !l.knows("r1", 9, false) {
		t.Error("the restarted run is still a tombstone")
	}
	ended.Revision = 11
	l.learn(&ended)
	for range 3 {
		l.resync(t.Context())
	}
	l.mu.Lock()
	k = l.knownLocked("r1")
	l.mu.Unlock()
	if k != nil {
		t.Errorf("the tombstone outlived two resyncs: %+v", k)
	}
}
