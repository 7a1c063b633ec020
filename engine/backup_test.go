package engine

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
)

// TestBackupMidRunRestoresElsewhere: the store is backed up while a dag
// runs (one operation done, the next running, the last waiting) and a
// single run waits on its executor; the backup is restored into a new,
// empty etcd, and an engine there finishes every run: nothing is run
// again that had ended or was running, nothing is lost. A restore into
// a keyspace that is not empty, or of a backup cut short, writes nothing.
func TestBackupMidRunRestoresElsewhere(t *testing.T) {
	ex := newRecorder()
	prefix := storetest.Prefix(t)
	a, stopA, _ := startOn(t, prefix, "a", ex)
	dag, err := a.Submit(t.Context(), Submission{Source: "d.yaml", Spec: `version: 1.1
kind: operation
name: pipe
component:
  run:
    kind: dag
    operations:
      - {name: first, dagRef: job}
      - {name: second, dagRef: job, dependencies: [first]}
      - {name: third, dagRef: job, dependencies: [second]}
    components:
      - {name: job, cache: {disable: true}, run: {kind: job, container: {image: a, command: [x]}}}
`})
	if err != nil {
		t.Fatal(err)
	}
	single, err := a.Submit(t.Context(), Submission{Source: "s.yaml", Spec: "version: 1.1\nkind: component\nname: one\nrun: {kind: job, container: {image: a, command: [x]}}\n"})
	if err != nil {
		t.Fatal(err)
	}
	st := a.cfg.Store
	node := func(name string) *store.Run {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if ch := childrenOf(t, st, dag.UUID)[name]; ch != nil && ex.createdCount(executor.RunRef{UUID: ch.UUID, Attempt: 1}) > 0 {
				return ch
			}
		}
		t.Fatalf("%s was not dispatched", name)
		return nil
	}
	first := node("first")
	ex.finish(executor.RunRef{UUID: first.UUID, Attempt: 1}, executor.Succeeded)
	second := node("second")
	ex.report(executor.StatusUpdate{Run: executor.RunRef{UUID: second.UUID, Attempt: 1}, Status: executor.Running, Time: time.Now()})
	waitAll(t, st, []string{second.UUID}, store.Running)
	waitAll(t, st, []string{first.UUID}, store.Succeeded)

	var backup bytes.Buffer
	h, err := st.Backup(t.Context(), &backup)
	if err != nil {
		t.Fatal(err)
	}
	if h.Keys < 8 || !strings.Contains(backup.String(), `"end":true`) || strings.Contains(backup.String(), `"k":"leader/`) {
		t.Fatalf("backup of %d keys:\n%s", h.Keys, backup.String())
	}
	stopA()

	emb, err := store.StartEmbedded(t.TempDir(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	st2 := store.New(emb.Client(), "", nil)
	// Cut short: nothing written.
	cut := backup.String()[:backup.Len()-20]
	if _, err := st2.Restore(t.Context(), strings.NewReader(cut)); err == nil || !strings.Contains(err.Error(), "nothing was restored") {
		t.Fatalf("restoring a backup cut short: %v", err)
	}
	if page, err := st2.List(t.Context(), "", 10, nil); err != nil || len(page.Runs) != 0 {
		t.Fatalf("a failed restore left runs: %v", err)
	}
	if _, err := st2.Restore(t.Context(), bytes.NewReader(backup.Bytes())); err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Restore(t.Context(), bytes.NewReader(backup.Bytes())); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("restoring twice: %v", err)
	}

	runEngine(t, Config{ID: "b", Store: st2, Executor: ex, Resync: 200 * time.Millisecond, LeaseTTL: 1})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the restored runs did not end")
		}
		// What the cluster does: the running attempt and every new one end.
		for _, uuid := range []string{second.UUID, single.UUID} {
			ex.finish(executor.RunRef{UUID: uuid, Attempt: 1}, executor.Succeeded)
		}
		if third := childrenOf(t, st2, dag.UUID)["third"]; third != nil {
			ex.finish(executor.RunRef{UUID: third.UUID, Attempt: 1}, executor.Succeeded)
		}
		d, _, err1 := st2.Get(context.Background(), dag.UUID)
		s, _, err2 := st2.Get(context.Background(), single.UUID)
		if err1 == nil && err2 == nil && d.Status.Final() && s.Status.Final() {
			if d.Status != store.Succeeded || s.Status != store.Succeeded {
				t.Fatalf("dag %s, single run %s", d.Status, s.Status)
			}
			break
		}
	}
	for name, ch := range childrenOf(t, st2, dag.UUID) {
		if n := ex.createdCount(executor.RunRef{UUID: ch.UUID, Attempt: 1}); n != 1 || ch.Attempt != 1 || ch.Status != store.Succeeded {
			t.Errorf("%s: created %d times, attempt %d, %s", name, n, ch.Attempt, ch.Status)
		}
	}
	if n := ex.callCount(executor.RunRef{UUID: first.UUID, Attempt: 1}); n != 1 {
		t.Errorf("the operation that had ended was dispatched %d times", n)
	}
}
