package local

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/executor"
)

// TestSupervisorHelper is not a test: a detaching executor runs it in a
// process of its own, as plexus local-attempt, with a plan's path last.
func TestSupervisorHelper(t *testing.T) {
	plan := os.Args[len(os.Args)-1]
	if !strings.HasSuffix(plan, ".plan.json") {
		t.Skip("run by a detaching executor")
	}
	if err := Supervise(plan); err != nil {
		t.Fatal(err)
	}
}

// TestDetachInAnInitStepHandsTheAttemptOver: an executor that detaches
// while an attempt is in an init step hands what is left to a
// supervisor: the interrupted step runs again from its start, then the
// built-in step and the main process; the next executor on the root
// follows the supervisor and reports the attempt's end.
func TestDetachInAnInitStepHandsTheAttemptOver(t *testing.T) {
	root, marks := t.TempDir(), filepath.Join(t.TempDir(), "init-ran")
	cfg := Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond,
		Supervisor: []string{os.Args[0], "-test.run=^TestSupervisorHelper$", "-test.count=1"}}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "supervise000000000000000000000001"
	ref := executor.RunRef{UUID: uuid, Attempt: 1}
	c := compile(t, first, uuid, `run:
  init:
    - container: {image: x, command: [sh, -c, 'echo ran >> `+marks+`; sleep 1']}
    - file: {content: seeded, filename: seed.txt}
  container: {image: x, command: [sh, -c, 'cat "$PLEXUS_CONTEXT_PATH/artifacts/seed.txt"; echo; echo main ran; echo "{\"x\": 1}" > "$PLEXUS_OUTPUTS_PATH"']}
`, nil)
	if err := first.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	waitStep(t, filepath.Join(root, uuid), 1, "init[0]")
	if err := first.Detach(); err != nil {
		t.Fatal(err)
	}

	_, updates, u := takeOver(t, cfg, ref, "Supervised")
	if !u.Status.Final() {
		u = waitFinal(t, updates, ref)
	}
	if u.Status != executor.Succeeded || u.Outputs["x"] != 1.0 {
		t.Fatalf("got %+v", u)
	}
	if data, _ := os.ReadFile(marks); string(data) != "ran\nran\n" {
		t.Errorf("the interrupted init step ran %q, want twice", data)
	}
	logs, _ := os.ReadFile(filepath.Join(root, uuid, "attempt-1.log"))
	if !strings.Contains(string(logs), "seeded\nmain ran\n") {
		t.Errorf("log %q", logs)
	}
	for _, f := range []string{"attempt-1.proc", "attempt-1.supervisor", "attempt-1.plan.json"} {
		if _, err := os.Stat(filepath.Join(root, uuid, f)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", f, err)
		}
	}
}

// TestASupervisedAttemptStops: Stop of an attempt a supervisor runs asks
// the supervisor, which ends its step and keeps the attempt's end.
func TestASupervisedAttemptStops(t *testing.T) {
	root := t.TempDir()
	cfg := Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond,
		Supervisor: []string{os.Args[0], "-test.run=^TestSupervisorHelper$", "-test.count=1"}}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "supervise000000000000000000000002"
	ref := executor.RunRef{UUID: uuid, Attempt: 1}
	c := compile(t, first, uuid, "run: {init: [{container: {image: x, command: [sleep, '60']}}], container: {image: x, command: ['true']}}\n", nil)
	if err := first.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, uuid)
	waitStep(t, dir, 1, "init[0]")
	if err := first.Detach(); err != nil {
		t.Fatal(err)
	}
	next, updates, u := takeOver(t, cfg, ref, "Supervised")
	if u.Status.Final() {
		t.Fatalf("after the detach: %+v, want the supervisor's attempt running", u)
	}
	// The supervisor's own run of the step.
	var rec procRecord
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if r, ok := readRecords(dir)[1]; ok && r.Step == "init[0]" && r.Owner != (procID{}) && r.Owner != next.self {
			rec = r
			break
		}
		if time.Now().After(end) {
			t.Fatal("the supervisor recorded no init step")
		}
	}
	if err := next.Stop(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if u := waitFinal(t, updates, ref); u.Status != executor.Stopped {
		t.Fatalf("got %+v", u)
	}
	if groupAlive(rec.PGID, rec.Start) {
		t.Error("the init step still runs")
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, ok := supervised(dir, 1); !ok {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the supervisor still runs")
		}
	}
}
