package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
)

// syncBuffer is a log a test reads while the engine writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// setPanicHook makes the engine panic as it starts handling run uuid at
// stage at, until the test ends.
func setPanicHook(t *testing.T, at, uuid string) {
	h := func(a, u string) {
		if a == at && u == uuid {
			panic("poisoned " + u)
		}
	}
	panicHook.Store(&h)
	t.Cleanup(func() { panicHook.Store(nil) })
}

// waitEnd waits for a run to end, through the times it does not exist
// yet or cannot be read.
func waitEnd(t *testing.T, st *store.Store, uuid string) *store.Run {
	t.Helper()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var r *store.Run
		if r, _, err = st.Get(t.Context(), uuid); err == nil && r.Status.Final() {
			return r
		}
	}
	t.Fatalf("run %s did not end (%v)", uuid, err)
	return nil
}

// lastCondition is a run's last condition.
func lastCondition(r *store.Run) store.Condition {
	if len(r.Conditions) == 0 {
		return store.Condition{}
	}
	return r.Conditions[len(r.Conditions)-1]
}

const (
	plainJob = "version: 1.1\nkind: component\nrun: {container: {image: x, command: ['true']}}\n"
	twoOps   = `version: 1.1
kind: component
run:
  kind: dag
  operations:
    - {name: a, dagRef: job}
    - {name: b, dagRef: job}
  components:
    - {name: job, run: {container: {image: x, command: ['true']}}}
`
)

// TestPanicFailsOnlyThatRun: a panic while the leader handles a run — in
// a worker, in the watch, in a dag observing a child, compiling a child,
// dispatching the runs it created, or in the sweep — fails that run, with
// a condition naming the panic, logged with its stack at error level;
// the other runs go on to succeed, and the leader keeps its term.
func TestPanicFailsOnlyThatRun(t *testing.T) {
	type setup struct {
		e  *Engine
		ex *cluster
		st *store.Store
	}
	submit := func(t *testing.T, e *Engine, spec string) string {
		t.Helper()
		r, err := e.Submit(t.Context(), Submission{Source: "s.yaml", Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		return r.UUID
	}
	// Each case submits before the engine leads, arms the hook, and says
	// which run must fail, how, and which must still succeed (a job,
	// which the test finishes).
	cases := map[string]struct {
		spec string
		// arm sets the hook once the run (uuid) is submitted, or after the
		// engine leads when late is set; it returns the run that fails.
		arm    func(t *testing.T, s setup, uuid string) (failing string)
		late   bool
		reason string
		// stopped are the runs the executor must be asked to stop.
		stopped func(uuid string) []executor.RunRef
	}{
		"worker": {spec: plainJob, reason: reasonPanic, arm: func(t *testing.T, _ setup, uuid string) string {
			setPanicHook(t, "reconcile", uuid)
			return uuid
		}},
		"compiling a dag's operation": {spec: twoOps, reason: "CompilationFailed", arm: func(t *testing.T, _ setup, uuid string) string {
			a := childUUID(uuid, "a", 1)
			setPanicHook(t, "compile", a)
			return a
		}},
		"a dag observing its child": {spec: twoOps, reason: reasonPanic, arm: func(t *testing.T, _ setup, uuid string) string {
			setPanicHook(t, "observe", uuid)
			return uuid
		}, stopped: func(uuid string) []executor.RunRef {
			return []executor.RunRef{{UUID: childUUID(uuid, "a", 1), Attempt: 1}, {UUID: childUUID(uuid, "b", 1), Attempt: 1}}
		}},
		"a dag dispatching what it created": {spec: twoOps, reason: reasonPanic, arm: func(t *testing.T, _ setup, uuid string) string {
			a := childUUID(uuid, "a", 1)
			setPanicHook(t, "send", a)
			return a
		}},
		"the sweep": {spec: plainJob, reason: reasonPanic, arm: func(t *testing.T, s setup, uuid string) string {
			waitAll(t, s.st, []string{uuid}, store.Scheduled)
			setPanicHook(t, "sweep", uuid)
			return uuid
		}, late: true, stopped: func(uuid string) []executor.RunRef { return []executor.RunRef{{UUID: uuid, Attempt: 1}} }},
		"the watch": {spec: "version: 1.1\nkind: component\nisApproved: false\nrun: {container: {image: x, command: ['true']}}\n", reason: reasonPanic,
			late: true, arm: func(t *testing.T, s setup, uuid string) string {
				waitAll(t, s.st, []string{uuid}, store.Compiled)
				setPanicHook(t, "watch", uuid)
				if _, err := s.e.Approve(t.Context(), uuid, "tester"); err != nil { // a write the term did not make: the watch brings it
					t.Fatal(err)
				}
				return uuid
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
			ex := &cluster{recorder: newRecorder(), stopped: map[executor.RunRef]bool{}}
			e, err := New(Config{Store: st, Executor: ex, Resync: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond,
				Log: slog.New(slog.NewJSONHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			s := setup{e: e, ex: ex, st: st}
			poisoned := submit(t, e, tc.spec)
			other := submit(t, e, plainJob)
			var failing string
			if !tc.late {
				failing = tc.arm(t, s, poisoned)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); _ = e.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			for deadline := time.Now().Add(10 * time.Second); !e.Leading(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the engine does not lead")
				}
			}
			term := e.current.Load()
			if tc.late {
				failing = tc.arm(t, s, poisoned)
			}

			r := waitEnd(t, st, failing)
			c := lastCondition(r)
			if r.Status != store.Failed || c.Reason != tc.reason || !strings.Contains(c.Message, "poisoned "+failing) {
				t.Fatalf("the poisoned run is %s, last condition %+v; want failed, %s, naming the panic", r.Status, c, tc.reason)
			}
			if failing != poisoned {
				// A dag whose operation failed fails when its other ends.
				waitAll(t, st, []string{childUUID(poisoned, "b", 1)}, store.Scheduled)
				ex.finish(executor.RunRef{UUID: childUUID(poisoned, "b", 1), Attempt: 1}, executor.Succeeded)
				if d := waitEnd(t, st, poisoned); d.Status != store.Failed {
					t.Errorf("the dag is %s, want failed", d.Status)
				}
			}
			if tc.stopped != nil {
				for _, ref := range tc.stopped(poisoned) {
					for deadline := time.Now().Add(10 * time.Second); !ex.isStopped(ref); time.Sleep(20 * time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatalf("attempt %v of the failed run was not stopped", ref)
						}
					}
				}
			}

			// The others go on: the one submitted with it, and a new one.
			waitAll(t, st, []string{other}, store.Scheduled)
			ex.finish(executor.RunRef{UUID: other, Attempt: 1}, executor.Succeeded)
			fresh := submit(t, e, plainJob)
			waitAll(t, st, []string{fresh}, store.Scheduled)
			ex.finish(executor.RunRef{UUID: fresh, Attempt: 1}, executor.Succeeded)
			waitAll(t, st, []string{other, fresh}, store.Succeeded)
			if e.current.Load() != term {
				t.Error("the leader's term ended: a run's panic stopped it")
			}
			if n := testutil.ToFloat64(e.metrics.panics); n < 1 {
				t.Errorf("recovered panics %v, want at least 1", n)
			}
			var logged bool
			for line := range strings.Lines(logs.String()) {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) != nil {
					continue
				}
				// The stack reaches where it panicked: the hook, in this file.
				if stack, _ := rec["stack"].(string); rec["level"] == "ERROR" && rec["run"] == failing && strings.Contains(stack, "recover_test.go") {
					logged = true
				}
			}
			if !logged {
				t.Errorf("no error-level log with the panic's stack for %s:\n%s", failing, logs.String())
			}
		})
	}
}

// deepOutputs is a record of a running run with an output nested past
// what encoding/json reads back: written by hand, or by an older version.
func deepOutputs(uuid string) string {
	return `{"uuid":"` + uuid + `","name":"poison","status":"running","attempt":1,"spec":"",` +
		`"conditions":[{"type":"created","time":"2025-01-01T00:00:00Z"}],"outputs":{"x":` +
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `},"createdAt":"2025-01-01T00:00:00Z"}`
}

// TestUnreadableRecordFails: a run whose record cannot be read is failed
// once (reason UnreadableRecord), keeping what could be read of it, and
// leaves the active index: it is not retried for ever, and the other
// runs go on.
func TestUnreadableRecordFails(t *testing.T) {
	prefix := storetest.Prefix(t)
	cli := storetest.Client(t)
	st := store.New(cli, prefix, nil)
	const bad = "0badbadbadbadbadbadbadbadbadbad0"
	if _, err := cli.Put(t.Context(), prefix+"runs/"+bad, deepOutputs(bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(t.Context(), prefix+"active/"+bad, ""); err != nil {
		t.Fatal(err)
	}
	ex := &cluster{recorder: newRecorder(), stopped: map[executor.RunRef]bool{}}
	e := runEngine(t, Config{Store: st, Executor: ex, Resync: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond})
	good, err := e.Submit(t.Context(), Submission{Source: "s.yaml", Spec: plainJob})
	if err != nil {
		t.Fatal(err)
	}

	r := waitEnd(t, st, bad)
	c := lastCondition(r)
	if r.Status != store.Failed || c.Reason != reasonUnreadable || !strings.Contains(c.Message, "exceeded max depth") || r.Name != "poison" || r.Outputs != nil {
		t.Fatalf("the unreadable run: %s %+v, name %q, outputs %v", r.Status, c, r.Name, r.Outputs)
	}
	for deadline := time.Now().Add(10 * time.Second); !ex.isStopped(executor.RunRef{UUID: bad, Attempt: 1}); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("its attempt, which was running, was not stopped")
		}
	}
	waitAll(t, st, []string{good.UUID}, store.Scheduled)
	ex.finish(executor.RunRef{UUID: good.UUID, Attempt: 1}, executor.Succeeded)
	waitAll(t, st, []string{good.UUID}, store.Succeeded)

	// Handled once: several resyncs later, nothing more was written.
	time.Sleep(300 * time.Millisecond)
	again, rev, err := st.Get(t.Context(), bad)
	if err != nil || rev != r.Revision || len(again.Conditions) != 2 {
		t.Errorf("the failed record changed again: revision %d then %d, %d conditions, %v", r.Revision, rev, len(again.Conditions), err)
	}
	if active, _ := st.Active(t.Context()); len(active) != 0 {
		t.Errorf("still active: %v", active)
	}
	if page, err := st.List(t.Context(), "", 10, nil); err != nil || len(page.Runs) != 2 || len(page.Unreadable) != 0 {
		t.Errorf("listing after: %d runs, unreadable %v, %v", len(page.Runs), page.Unreadable, err)
	}
}

// TestUnreadableChildFailsThatOperation: a dag one of whose children's
// record cannot be read (written by an older version) waits for that
// child to be failed, then goes on with its other operations and fails.
func TestUnreadableChildFailsThatOperation(t *testing.T) {
	prefix := storetest.Prefix(t)
	cli := storetest.Client(t)
	st := store.New(cli, prefix, nil)
	ex := &cluster{recorder: newRecorder(), stopped: map[executor.RunRef]bool{}}
	e, err := New(Config{Store: st, Executor: ex, Resync: 50 * time.Millisecond, RetryBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.Submit(t.Context(), Submission{Source: "s.yaml", Spec: twoOps})
	if err != nil {
		t.Fatal(err)
	}
	b := childUUID(d.UUID, "b", 1)
	rec := strings.Replace(deepOutputs(b), `"name":"poison"`, `"name":"b","node":"b","parent":"`+d.UUID+`","parentAttempt":1`, 1)
	for k, v := range map[string]string{"runs/" + b: rec, "active/" + b: "", "children/" + d.UUID + "/" + b: ""} {
		if _, err := cli.Put(t.Context(), prefix+k, v); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	rb := waitEnd(t, st, b)
	if rb.Status != store.Failed || lastCondition(rb).Reason != reasonUnreadable || rb.Parent != d.UUID || rb.Node != "b" {
		t.Fatalf("the unreadable child: %s %+v, parent %q node %q", rb.Status, lastCondition(rb), rb.Parent, rb.Node)
	}
	a := childUUID(d.UUID, "a", 1)
	waitAll(t, st, []string{a}, store.Scheduled)
	ex.finish(executor.RunRef{UUID: a, Attempt: 1}, executor.Succeeded)
	if rd := waitEnd(t, st, d.UUID); rd.Status != store.Failed {
		t.Errorf("the dag is %s, want failed (its operation b failed)", rd.Status)
	}
	waitAll(t, st, []string{a}, store.Succeeded)
}
