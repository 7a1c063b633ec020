package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// compile compiles a component (YAML) for a run as the engine would for
// this executor: its context path is the run's directory.
func compile(t *testing.T, e *Executor, uuid, component string, params map[string]specs.Param) *compiler.Compiled {
	t.Helper()
	files, err := specs.Parse("c.yaml", []byte("version: 1.1\nkind: component\n"+component))
	if err != nil {
		t.Fatal(err)
	}
	c, err := compiler.Compile(&specs.Operation{}, files[0].Component, compiler.Options{
		Params: params,
		Run:    compiler.RunInfo{UUID: uuid, Name: "test", ContextPath: e.ContextPath(uuid)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newExecutor(t *testing.T) *Executor {
	t.Helper()
	e, err := New(Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// waitFinal returns the final update of ref.
func waitFinal(t *testing.T, updates <-chan executor.StatusUpdate, ref executor.RunRef) executor.StatusUpdate {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Run == ref && u.Status.Final() {
				return u
			}
		case <-timeout:
			t.Fatalf("%v did not finish", ref)
		}
	}
}

func TestSucceedsWithOutputsEnvAndInit(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	c := compile(t, e, "aaaa", `inputs:
  - {name: lr, type: float, toEnv: LEARNING_RATE}
run:
  init:
    - file: {content: "from-init", filename: seed.txt}
  container:
    image: ignored-locally
    command: [sh, -c]
    args:
      - 'cat "$PLEXUS_CONTEXT_PATH/artifacts/seed.txt"; echo " lr=$LEARNING_RATE run=$PLEXUS_RUN_UUID"; echo "{\"loss\": {{ lr }}}" > "$PLEXUS_OUTPUTS_PATH"'
`, map[string]specs.Param{"lr": {Value: "0.25"}})
	ref := executor.RunRef{UUID: "aaaa", Attempt: 1}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	u := waitFinal(t, updates, ref)
	if u.Status != executor.Succeeded || u.Outputs["loss"] != 0.25 || *u.ExitCode != 0 {
		t.Fatalf("got %+v", u)
	}
	logs, err := e.Logs(t.Context(), ref, false)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(logs)
	logs.Close()
	if !strings.Contains(string(data), "from-init lr=0.25 run=aaaa") {
		t.Errorf("log %q", data)
	}
}

func TestFailsWithExitCodeAndLog(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	c := compile(t, e, "bbbb", "run: {container: {image: x, command: [sh, -c, 'echo boom; exit 3']}}\n", nil)
	ref := executor.RunRef{UUID: "bbbb", Attempt: 2}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	u := waitFinal(t, updates, ref)
	if u.Status != executor.Failed || u.Reason != "Error" || *u.ExitCode != 3 || !strings.Contains(u.Message, "boom") {
		t.Fatalf("got %+v", u)
	}
}

func TestTimeoutAndStopKillTheProcessGroup(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	// The child sleeps too: killing only the shell would leave it.
	slow := "run: {container: {image: x, command: [sh, -c, 'sleep 30 & wait']}}\n"
	timed := compile(t, e, "cccc", "termination: {timeout: 1}\n"+slow, nil)
	stopped := compile(t, e, "dddd", slow, nil)
	t1, t2 := executor.RunRef{UUID: "cccc", Attempt: 1}, executor.RunRef{UUID: "dddd", Attempt: 1}
	start := time.Now()
	if err := e.Dispatch(t.Context(), t1, timed); err != nil {
		t.Fatal(err)
	}
	if err := e.Dispatch(t.Context(), t2, stopped); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := e.Stop(t.Context(), t2); err != nil {
		t.Fatal(err)
	}
	got := map[string]executor.StatusUpdate{}
	for len(got) < 2 {
		select {
		case u := <-updates:
			if u.Status.Final() {
				got[u.Run.UUID] = u
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("only %v finished", got)
		}
	}
	if u := got["cccc"]; u.Status != executor.Failed || u.Reason != "DeadlineExceeded" {
		t.Errorf("timed out run: %+v", u)
	}
	if u := got["dddd"]; u.Status != executor.Stopped {
		t.Errorf("stopped run: %+v", u)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v: the sleeping children were not killed", d)
	}
}

func TestDispatchIsIdempotent(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	dir := t.TempDir()
	c := compile(t, e, "eeee", "run: {container: {image: x, command: [sh, -c, 'echo x >> "+filepath.Join(dir, "count")+"']}}\n", nil)
	ref := executor.RunRef{UUID: "eeee", Attempt: 1}
	for range 3 {
		if err := e.Dispatch(t.Context(), ref, c); err != nil {
			t.Fatal(err)
		}
	}
	waitFinal(t, updates, ref)
	data, _ := os.ReadFile(filepath.Join(dir, "count"))
	if string(data) != "x\n" {
		t.Fatalf("the command ran %d times", strings.Count(string(data), "x"))
	}
	// A new attempt is a new process.
	if err := e.Dispatch(t.Context(), executor.RunRef{UUID: "eeee", Attempt: 2}, c); err != nil {
		t.Fatal(err)
	}
	waitFinal(t, updates, executor.RunRef{UUID: "eeee", Attempt: 2})
	data, _ = os.ReadFile(filepath.Join(dir, "count"))
	if string(data) != "x\nx\n" {
		t.Fatalf("after a second attempt: %q", data)
	}
}

func TestFollowLogs(t *testing.T) {
	e := newExecutor(t)
	c := compile(t, e, "ffff", "run: {container: {image: x, command: [sh, -c, 'echo one; sleep 0.3; echo two']}}\n", nil)
	ref := executor.RunRef{UUID: "ffff", Attempt: 1}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	r, err := e.Logs(t.Context(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r) // ends when the run does
	if err != nil || string(data) != "one\ntwo\n" {
		t.Fatalf("followed %q, %v", data, err)
	}
}

func TestWatchReplaysAndUnknownRuns(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	c := compile(t, e, "gggg", "run: {container: {image: x, command: ['true']}}\n", nil)
	ref := executor.RunRef{UUID: "gggg", Attempt: 1}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	waitFinal(t, updates, ref)
	// A watcher that comes later is not told of an ended attempt the
	// watchers got (forgotten), but Status still says how it ended.
	if u, err := e.Status(t.Context(), ref); err != nil || u.Status != executor.Succeeded {
		t.Fatalf("status of an ended attempt: %+v, %v", u, err)
	}
	// One still running is replayed.
	running := executor.RunRef{UUID: "gggg", Attempt: 2}
	if err := e.Dispatch(t.Context(), running, compile(t, e, "gggg", "run: {container: {image: x, command: [sleep, '60']}}\n", nil)); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, updates, running, executor.Running)
	ctx, cancel := context.WithCancel(t.Context())
	later, _ := e.Watch(ctx)
	if u := <-later; u.Run != running || u.Status != executor.Running {
		t.Fatalf("replayed %+v", u)
	}
	cancel()
	if err := e.Stop(t.Context(), executor.RunRef{UUID: "nope", Attempt: 1}); !errors.Is(err, executor.ErrUnknownRun) {
		t.Errorf("stop unknown: %v", err)
	}
	if _, err := e.Logs(t.Context(), executor.RunRef{UUID: "nope", Attempt: 1}, false); !errors.Is(err, executor.ErrUnknownRun) {
		t.Errorf("logs unknown: %v", err)
	}
}

func TestRefusesWhatCannotRunLocally(t *testing.T) {
	e := newExecutor(t)
	for name, comp := range map[string]string{
		"no command":  "run: {container: {image: x}}\n",
		"distributed": "run: {kind: pytorchjob, master: {container: {image: x, command: [a]}}}\n",
	} {
		c := compile(t, e, "hhhh", comp, nil)
		if err := e.Dispatch(t.Context(), executor.RunRef{UUID: "hhhh", Attempt: 1}, c); err == nil {
			t.Errorf("%s: dispatched", name)
		}
	}
}
