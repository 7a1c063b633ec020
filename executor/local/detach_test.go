package local

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/executor"
)

// waitStep waits until the attempt's record names step, and returns it.
func waitStep(t *testing.T, dir string, attempt int, step string) procRecord {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if rec, ok := readRecords(dir)[attempt]; ok && rec.Step == step {
			return rec
		}
	}
	t.Fatalf("attempt %d recorded no %s step", attempt, step)
	return procRecord{}
}

// TestDetachLeavesMainProcessesToTheNextExecutor: an executor that
// detaches (its server stopped) leaves main processes running; the next
// executor on the root adopts them and reports their real end, whether
// they still ran when it came or ended while no executor ran.
func TestDetachLeavesMainProcessesToTheNextExecutor(t *testing.T) {
	for name, tc := range map[string]struct {
		command string
		// waitEnd waits for the process to end before the next
		// executor starts.
		waitEnd bool
		status  executor.Status
		reason  string
		code    int
		outputs map[string]any
		log     string
	}{
		"running when the next executor comes": {
			command: `echo started; sleep 1; echo "{\"loss\": 0.5}" > "$PLEXUS_OUTPUTS_PATH"; echo ended`,
			status:  executor.Succeeded, reason: "Completed", outputs: map[string]any{"loss": 0.5}, log: "started\nended\n",
		},
		"failed while no executor ran": {
			command: `echo started; sleep 0.5; echo boom; exit 3`,
			waitEnd: true, status: executor.Failed, reason: "Error", code: 3, log: "started\nboom\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			cfg := Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond}
			first, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			updates, _ := first.Watch(t.Context())
			const uuid = "detach00000000000000000000000001"
			ref := executor.RunRef{UUID: uuid, Attempt: 1}
			c := compile(t, first, uuid, "run: {init: [{file: {content: x, filename: seed}}], container: {image: x, command: [sh, -c, '"+tc.command+"']}}\n", nil)
			if err := first.Dispatch(t.Context(), ref, c); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, updates, ref, executor.Running)
			rec := waitStep(t, filepath.Join(root, uuid), 1, mainStep)
			if err := first.Detach(); err != nil {
				t.Fatal(err)
			}
			for range updates { // closed by Detach
			}
			if !tc.waitEnd && !groupAlive(rec.PGID, rec.Start) {
				t.Fatal("the main process ended with its executor's detach")
			}
			if got := readRecords(filepath.Join(root, uuid))[1].Owner; got != (procID{}) {
				t.Errorf("the detached record's owner is %+v, want none", got)
			}
			if tc.waitEnd {
				for end := time.Now().Add(20 * time.Second); groupAlive(rec.PGID, rec.Start); time.Sleep(20 * time.Millisecond) {
					if time.Now().After(end) {
						t.Fatal("the process did not end")
					}
				}
			}

			next, updates, u := takeOver(t, cfg, ref, "Reattached")
			if !u.Status.Final() {
				u = waitFinal(t, updates, ref)
			}
			code := -1
			if u.ExitCode != nil {
				code = *u.ExitCode
			}
			if u.Status != tc.status || u.Reason != tc.reason || code != tc.code || !equalOutputs(u.Outputs, tc.outputs) {
				t.Fatalf("got %+v (exit code %d)", u, code)
			}
			r, err := next.Logs(t.Context(), ref, false)
			if err != nil {
				t.Fatal(err)
			}
			logs, _ := io.ReadAll(r)
			r.Close()
			// The init step's line, then the command's.
			if !strings.HasPrefix(string(logs), "wrote ") || !strings.HasSuffix(string(logs), "/seed (-rw-r--r--)\n"+tc.log) {
				t.Errorf("log %q, want the init step's line then %q", logs, tc.log)
			}
			_ = next.Close() // once the end is reported
			if _, err := os.Stat(recordPath(filepath.Join(root, uuid), 1)); !os.IsNotExist(err) {
				t.Errorf("the record is still there: %v", err)
			}
		})
	}
}

// TestDetachInAnInitStepLosesTheAttempt: an init step cannot go on
// without its executor: Detach ends it and the attempt fails as Lost, as
// the next executor on the root says; the main command never runs.
func TestDetachInAnInitStepLosesTheAttempt(t *testing.T) {
	root := t.TempDir()
	cfg := Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond}
	first, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "detach00000000000000000000000002"
	ref := executor.RunRef{UUID: uuid, Attempt: 1}
	ran := filepath.Join(t.TempDir(), "ran")
	c := compile(t, first, uuid, "run: {init: [{container: {image: x, command: [sleep, '60']}}], container: {image: x, command: [touch, "+ran+"]}}\n", nil)
	if err := first.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	rec := waitStep(t, filepath.Join(root, uuid), 1, "init[0]")
	if err := first.Detach(); err != nil {
		t.Fatal(err)
	}
	if groupAlive(rec.PGID, rec.Start) {
		t.Error("the init step still runs after the detach")
	}
	next, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.Close() })
	u, err := next.Status(t.Context(), ref)
	if err != nil || u.Status != executor.Failed || u.Reason != "Lost" {
		t.Fatalf("after the detach: %+v, %v", u, err)
	}
	if _, err := os.Stat(ran); !os.IsNotExist(err) {
		t.Errorf("the main command ran: %v", err)
	}
}

// TestCloseStopsWhatDetachWouldLeave: Close, for an executor that owns
// its runs (plexus run), ends them; one nobody asked to stop is lost.
func TestCloseStopsWhatDetachWouldLeave(t *testing.T) {
	root := t.TempDir()
	e, err := New(Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "close000000000000000000000000001"
	ref := executor.RunRef{UUID: uuid, Attempt: 1}
	c := compile(t, e, uuid, "run: {container: {image: x, command: [sleep, '60']}}\n", nil)
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	rec := waitStep(t, filepath.Join(root, uuid), 1, mainStep)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if groupAlive(rec.PGID, rec.Start) {
		t.Error("the main process still runs after Close")
	}
	// Nobody asked for the stop: the next engine retries the attempt.
	if u, err := e.Status(t.Context(), ref); err != nil || u.Status != executor.Failed || u.Reason != "Lost" {
		t.Errorf("after Close: %+v, %v", u, err)
	}
}

// TestAStoppedAttemptEndsThoughTheExecutorDetaches: Detach leaves
// running what nobody asked to stop, not an attempt being stopped.
func TestAStoppedAttemptEndsThoughTheExecutorDetaches(t *testing.T) {
	root := t.TempDir()
	e, err := New(Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "detach00000000000000000000000003"
	ref := executor.RunRef{UUID: uuid, Attempt: 1}
	c := compile(t, e, uuid, "run: {container: {image: x, command: [sh, -c, 'trap \"\" TERM; sleep 60 & wait']}}\n", nil)
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	rec := waitStep(t, filepath.Join(root, uuid), 1, mainStep)
	if err := e.Stop(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if err := e.Detach(); err != nil {
		t.Fatal(err)
	}
	if groupAlive(rec.PGID, rec.Start) {
		t.Error("the stopped attempt's processes outlive the detach")
	}
	if u, err := e.Status(t.Context(), ref); err != nil || u.Status != executor.Stopped {
		t.Errorf("after the detach: %+v, %v", u, err)
	}
}

// takeOver opens the next executor on cfg's root, as a restarted server
// does, and asks it about ref: an attempt it took over that has not ended
// must say reason. It returns the executor (closed by the test's end), its
// updates and that first answer.
func takeOver(t *testing.T, cfg Config, ref executor.RunRef, reason string) (*Executor, <-chan executor.StatusUpdate, executor.StatusUpdate) {
	t.Helper()
	next, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.Close() })
	updates, err := next.Watch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, err := next.Status(t.Context(), ref)
	if err != nil {
		t.Fatalf("after the detach: %v", err)
	}
	if !u.Status.Final() && u.Reason != reason {
		t.Fatalf("after the detach: %+v, want reason %s", u, reason)
	}
	return next, updates, u
}
