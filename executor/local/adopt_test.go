package local

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/executor"
)

// The crash helper is this test binary run as an engine that dispatches
// one attempt and is then killed with SIGKILL, leaving its process
// group to the next executor on the same root.
const (
	helperRoot      = "PLEXUS_TEST_CRASH_ROOT"
	helperUUID      = "PLEXUS_TEST_CRASH_UUID"
	helperComponent = "PLEXUS_TEST_CRASH_COMPONENT"
)

// TestCrashHelper is not a test: crashedEngine runs it in a process of its
// own.
func TestCrashHelper(t *testing.T) {
	root := os.Getenv(helperRoot)
	if root == "" {
		t.Skip("run by crashedEngine")
	}
	e, err := New(Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	uuid := os.Getenv(helperUUID)
	c := compile(t, e, uuid, os.Getenv(helperComponent), nil)
	if err := e.Dispatch(t.Context(), executor.RunRef{UUID: uuid, Attempt: 1}, c); err != nil {
		t.Fatal(err)
	}
	select {} // until killed
}

// crashedEngine dispatches attempt 1 of the run uuid, a component, in
// an executor in another process, waits until the executor has recorded
// the step's process group, and kills that process with SIGKILL: the
// group lives on. It returns the group's record.
func crashedEngine(t *testing.T, root, uuid, component, step string) procRecord {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperRoot+"="+root, helperUUID+"="+uuid, helperComponent+"="+component)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	path := recordPath(filepath.Join(root, uuid), 1)
	deadline := time.After(60 * time.Second)
	for {
		if rec, ok := readRecords(filepath.Join(root, uuid))[1]; ok && rec.Step == step {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-exited
			if !groupAlive(rec.PGID, rec.Start) {
				t.Fatalf("the attempt's processes died with their executor: nothing to test")
			}
			return rec
		}
		select {
		case err := <-exited:
			t.Fatalf("the helper ended before recording %s (%v): %s", path, err, out.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("the helper recorded no %s step in a minute: %s", step, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// groupWatch samples /proc until stopped, for the process groups of one
// run: those of the processes whose environment names it.
type groupWatch struct {
	uuid string
	stop chan struct{}
	done chan struct{}

	mu sync.Mutex
	// most is the largest number of the run's groups alive at once.
	most int
	// seen maps each group seen to the attempt its processes said.
	seen map[int]string
	// samples counts the looks at /proc.
	samples int
}

// watchGroups looks at /proc once, then keeps looking until the test
// ends or finish is called.
func watchGroups(t *testing.T, uuid string) *groupWatch {
	t.Helper()
	w := &groupWatch{uuid: uuid, stop: make(chan struct{}), done: make(chan struct{}), seen: map[int]string{}}
	look := func() {
		groups := w.sample()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.samples++
		w.most = max(w.most, len(groups))
		for g, attempt := range groups {
			w.seen[g] = attempt
		}
	}
	look()
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			look()
		}
	}()
	t.Cleanup(w.finish)
	return w
}

// sample returns the run's live process groups, with their attempt.
func (w *groupWatch) sample() map[int]string {
	groups := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + d.Name() + "/environ")
		if err != nil || !bytes.Contains(env, []byte("\x00PLEXUS_RUN_UUID="+w.uuid+"\x00")) {
			continue
		}
		_, pgrp, state, err := procStat(pid)
		if err != nil || dead(state) {
			continue
		}
		attempt := ""
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("PLEXUS_ATTEMPT=")); ok {
				attempt = string(v)
			}
		}
		groups[pgrp] = attempt
	}
	return groups
}

func (w *groupWatch) finish() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// TestNoSecondAttemptWhileACrashedEnginesAttemptRuns is the tester's
// scenario: the engine is killed with SIGKILL while a local job runs, a new
// one starts on the same directory and dispatches attempt 2. Attempt 1's
// group, still running, is ended before attempt 2 starts: at no moment do
// two groups of the run live.
func TestNoSecondAttemptWhileACrashedEnginesAttemptRuns(t *testing.T) {
	root := t.TempDir()
	const uuid = "crash0000000000000000000000000001"
	// The shell's child sleeps too: the whole group must end.
	first := crashedEngine(t, root, uuid, "run: {container: {image: x, command: [sh, -c, 'sleep 60 & wait']}}\n", mainStep)
	w := watchGroups(t, uuid)

	e, err := New(Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	updates, _ := e.Watch(t.Context())
	second := executor.RunRef{UUID: uuid, Attempt: 2}
	c := compile(t, e, uuid, `run: {container: {image: x, command: [sh, -c, 'sleep 0.5; echo "{\"attempt\": $PLEXUS_ATTEMPT}" > "$PLEXUS_OUTPUTS_PATH"']}}`+"\n", nil)
	if err := e.Dispatch(t.Context(), second, c); err != nil {
		t.Fatal(err)
	}
	u := waitFinal(t, updates, second)
	if u.Status != executor.Succeeded || u.Outputs["attempt"] != 2.0 {
		t.Fatalf("attempt 2: %+v", u)
	}
	w.finish()

	if groupAlive(first.PGID, first.Start) {
		t.Errorf("attempt 1's group %d is still alive", first.PGID)
	}
	// The executor adopted attempt 1 and ended it for attempt 2.
	if s, err := e.Status(t.Context(), executor.RunRef{UUID: uuid, Attempt: 1}); err != nil || s.Status != executor.Stopped || s.Reason != "Superseded" {
		t.Errorf("attempt 1: %+v, %v", s, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.most != 1 {
		t.Errorf("%d process groups of the run were alive at once (groups seen: %v)", w.most, w.seen)
	}
	if w.seen[first.PGID] != "1" || len(w.seen) != 2 {
		t.Errorf("the watch saw groups %v in %d samples, want attempt 1's (%d) and attempt 2's", w.seen, w.samples, first.PGID)
	}
	if _, err := os.Stat(recordPath(filepath.Join(root, uuid), 1)); !os.IsNotExist(err) {
		t.Errorf("attempt 1's record is still there: %v", err)
	}
}

// TestACrashedEnginesAttemptIsAdopted: a new executor takes over what the
// crashed one left: a process still running is watched to its end, one
// that ended meanwhile is reported from its exit code, an init step is
// ended and its attempt lost.
func TestACrashedEnginesAttemptIsAdopted(t *testing.T) {
	for name, tc := range map[string]struct {
		component string
		step      string
		// waitEnd waits for the group to end before the new executor
		// starts.
		waitEnd    bool
		status     executor.Status
		reason     string
		code       int
		outputs    map[string]any
		logSays    string
		stopBefore bool
	}{
		"running, then succeeds": {
			component: `run: {container: {image: x, command: [sh, -c, 'echo started; sleep 1; echo "{\"loss\": 0.5}" > "$PLEXUS_OUTPUTS_PATH"; echo ended']}}` + "\n",
			step:      mainStep, status: executor.Succeeded, reason: "Completed", outputs: map[string]any{"loss": 0.5},
			logSays: "started\nended\n",
		},
		"ended with no executor, exit 3": {
			component: "run: {container: {image: x, command: [sh, -c, 'sleep 1; echo boom; exit 3']}}\n",
			step:      mainStep, waitEnd: true, status: executor.Failed, reason: "Error", code: 3, logSays: "boom\n",
		},
		"running, then stopped": {
			component: "run: {container: {image: x, command: [sh, -c, 'sleep 60 & wait']}}\n",
			step:      mainStep, stopBefore: true, status: executor.Stopped, reason: "Stopped", code: -1,
		},
		"in an init container": {
			component: "run: {init: [{container: {image: x, command: [sleep, '60']}}], container: {image: x, command: ['true']}}\n",
			step:      "init[0]", status: executor.Failed, reason: "Lost", code: -1,
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			const uuid = "adopt000000000000000000000000001"
			rec := crashedEngine(t, root, uuid, tc.component, tc.step)
			if tc.waitEnd {
				for end := time.Now().Add(20 * time.Second); groupAlive(rec.PGID, rec.Start); time.Sleep(20 * time.Millisecond) {
					if time.Now().After(end) {
						t.Fatal("the process did not end")
					}
				}
			}
			e, err := New(Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close() })
			updates, _ := e.Watch(t.Context())
			ref := executor.RunRef{UUID: uuid, Attempt: 1}
			s, err := e.Status(t.Context(), ref)
			if err != nil {
				t.Fatalf("status after the crash: %v", err)
			}
			if s.Reason != "Reattached" && !tc.waitEnd {
				t.Errorf("status after the crash: %+v", s)
			}
			var logs []byte
			if tc.logSays != "" && !tc.waitEnd {
				r, err := e.Logs(t.Context(), ref, true)
				if err != nil {
					t.Fatal(err)
				}
				logs, err = io.ReadAll(r) // until the attempt ends
				r.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.stopBefore {
				if err := e.Stop(t.Context(), ref); err != nil {
					t.Fatal(err)
				}
			}
			u, err := e.Status(t.Context(), ref)
			if err != nil || !u.Status.Final() {
				u = waitFinal(t, updates, ref)
			}
			code := -1
			if u.ExitCode != nil {
				code = *u.ExitCode
			}
			if u.Status != tc.status || u.Reason != tc.reason || code != tc.code || !equalOutputs(u.Outputs, tc.outputs) {
				t.Fatalf("got %+v (exit code %d)", u, code)
			}
			if tc.logSays != "" {
				if logs == nil {
					logs, _ = os.ReadFile(filepath.Join(root, uuid, "attempt-1.log"))
				}
				if string(logs) != tc.logSays {
					t.Errorf("log %q, want %q", logs, tc.logSays)
				}
			}
			if groupAlive(rec.PGID, rec.Start) {
				t.Errorf("the group %d is still alive", rec.PGID)
			}
		})
	}
}

func equalOutputs(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestLeftoversEndWithTheMainProcess: what the command left running in
// its group when it exited is ended, as a container's processes end with
// it, so that no process of an ended attempt lives beside the next.
func TestLeftoversEndWithTheMainProcess(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	pidFile := filepath.Join(t.TempDir(), "pid")
	c := compile(t, e, "leftover", "run: {container: {image: x, command: [sh, -c, 'sleep 60 & echo $! > "+pidFile+"; exit 0']}}\n", nil)
	ref := executor.RunRef{UUID: "leftover", Attempt: 1}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	if u := waitFinal(t, updates, ref); u.Status != executor.Succeeded {
		t.Fatalf("got %+v", u)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	// A zombie nobody reaped yet has ended.
	if _, _, state, err := procStat(pid); err == nil && !dead(state) {
		t.Errorf("the background sleep %d still runs after its attempt ended", pid)
	}
}
