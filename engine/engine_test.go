package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// startEngine runs an engine with the local executor on a fresh prefix.
func startEngine(t *testing.T) *Engine {
	t.Helper()
	cli := storetest.Client(t)
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	return runEngine(t, Config{Store: store.New(cli, storetest.Prefix(t), nil), Executor: ex, Resync: 200 * time.Millisecond, RetryBackoff: 20 * time.Millisecond,
		RunInfo: func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.ContextPath = ex.ContextPath(r.UUID)
			return ri
		}})
}

// runEngine builds an engine from cfg and runs it until the test ends.
func runEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// waitFinal polls the run until it ends.
func waitFinal(t *testing.T, e *Engine, uuid string) *store.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r, _, err := e.cfg.Store.Get(t.Context(), uuid)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Final() {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	r, _, _ := e.cfg.Store.Get(t.Context(), uuid)
	t.Fatalf("run %s did not finish: %s %+v", uuid, r.Status, r.Conditions)
	return nil
}

func statuses(r *store.Run) []store.Status {
	var out []store.Status
	for _, c := range r.Conditions {
		out = append(out, c.Type)
	}
	return out
}

func TestRunSucceeds(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "train.yaml", Spec: `version: 1.1
kind: component
name: train
inputs: [{name: lr, type: float}]
run:
  container:
    image: python
    command: [sh, -c, 'echo "{\"loss\": {{ lr }}}" > "$PLEXUS_OUTPUTS_PATH"']
`, Params: map[string]specs.Param{"lr": {Value: "0.5"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	if r.Status != store.Succeeded || r.Outputs["loss"] != 0.5 || r.Attempt != 1 || r.Name != "train" {
		t.Fatalf("got %s %v attempt %d: %v", r.Status, r.Outputs, r.Attempt, statuses(r))
	}
	want := []store.Status{store.Created, store.Compiled, store.Queued, store.Scheduled}
	got := statuses(r)
	if len(got) < len(want) || fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) {
		t.Errorf("conditions %v", got)
	}
}

func TestRetriesThenFails(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "flaky.yaml", Spec: `version: 1.1
kind: component
termination: {maxRetries: 2}
run: {container: {image: x, command: [sh, -c, 'echo attempt $PLEXUS_ATTEMPT; exit 4']}}
`})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	retries := 0
	for _, s := range statuses(r) {
		if s == store.Retrying {
			retries++
		}
	}
	if r.Status != store.Failed || r.Attempt != 3 || retries != 2 {
		t.Fatalf("got %s after attempt %d with %d retries: %v", r.Status, r.Attempt, retries, statuses(r))
	}
	// Each retry waits its back-off, doubled from 20ms.
	backoff := 20 * time.Millisecond
	for i, c := range r.Conditions {
		if c.Type != store.Retrying {
			continue
		}
		next := r.Conditions[i+1]
		if next.Type != store.Compiled || next.Time.Sub(c.Time) < backoff {
			t.Errorf("retry at %v followed by %s after %v, want compiled after %v", c.Time, next.Type, next.Time.Sub(c.Time), backoff)
		}
		backoff *= 2
	}
}

// TestLostAttemptIsRetried: an engine stops, its local processes with it;
// the next engine finds the running attempt unknown to its executor, fails
// it as lost, and retries it.
func TestLostAttemptIsRetried(t *testing.T) {
	prefix, root, marker := storetest.Prefix(t), t.TempDir(), filepath.Join(t.TempDir(), "first")
	start := func(id string) (*Engine, func()) {
		ex, err := local.New(local.Config{Root: root, BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		e, stop, _ := startOn(t, prefix, id, ex)
		return e, func() { stop(); _ = ex.Close() }
	}
	e1, stop1 := start("one")
	// The first attempt runs until it is killed; the second succeeds.
	run, err := e1.Submit(t.Context(), Submission{Source: "long.yaml", Spec: fmt.Sprintf(`version: 1.1
kind: component
termination: {maxRetries: 1}
run: {container: {image: x, command: [sh, -c, 'test -f %[1]s && exit 0; touch %[1]s; sleep 30 & wait']}}
`, marker)})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, e1.cfg.Store, []string{run.UUID}, store.Running)
	// Running says the process started; the marker, that its shell got
	// as far as the long sleep.
	waitUntil(t, 10*time.Second, func() (bool, string) {
		_, err := os.Stat(marker)
		return err == nil, "the first attempt never wrote its marker"
	})
	stop1()
	e2, stop2 := start("two")
	defer stop2()
	r := waitFinal(t, e2, run.UUID)
	if r.Status != store.Succeeded || r.Attempt != 2 {
		t.Fatalf("got %s at attempt %d: %+v", r.Status, r.Attempt, r.Conditions)
	}
	lost := false
	for _, c := range r.Conditions {
		lost = lost || c.Type == store.Retrying && c.Reason == "Lost"
	}
	if !lost {
		t.Fatalf("no retry for a lost attempt: %+v", r.Conditions)
	}
}

func TestStop(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "slow.yaml", Spec: `version: 1.1
kind: component
run: {container: {image: x, command: [sh, -c, 'sleep 30 & wait']}}
`})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, _, _ := e.cfg.Store.Get(t.Context(), run.UUID)
		if r.Status == store.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never running: %v", statuses(r))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.Stop(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	if r.Status != store.Stopped {
		t.Fatalf("got %s: %v", r.Status, statuses(r))
	}
	if _, err := e.Stop(t.Context(), run.UUID); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("stopping a stopped run: %v", err)
	}
}

func TestBadSubmissionStoresNothing(t *testing.T) {
	e := startEngine(t)
	_, err := e.Submit(t.Context(), Submission{Source: "bad.yaml", Spec: "version: 1.1\nkind: component\ninputs: [{name: lr, type: float}]\nrun: {container: {image: x, command: [a]}}\n",
		Params: map[string]specs.Param{"lr": {Value: "fast"}, "bogus": {Value: 1}}})
	var ce *compiler.CompilationError
	if !errors.As(err, &ce) || len(ce.Errors) != 2 {
		t.Fatalf("got %v, want both param errors", err)
	}
	page, err := e.cfg.Store.List(t.Context(), "", 10, nil)
	if err != nil || len(page.Runs) != 0 {
		t.Fatalf("stored %d runs, %v", len(page.Runs), err)
	}
}

func TestApproval(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "a.yaml", Spec: "version: 1.1\nkind: component\nisApproved: false\nrun: {container: {image: x, command: ['true']}}\n"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // several resyncs
	r, _, _ := e.cfg.Store.Get(t.Context(), run.UUID)
	if r.Status != store.Compiled {
		t.Fatalf("an unapproved run moved to %s", r.Status)
	}
	if _, err := e.Approve(t.Context(), run.UUID, "alice"); err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, run.UUID); r.Status != store.Succeeded || r.ApprovedBy != "alice" {
		t.Fatalf("got %s approved by %q", r.Status, r.ApprovedBy)
	}
}

func TestResumeAndRestart(t *testing.T) {
	e := startEngine(t)
	flag := t.TempDir() + "/ok"
	// Fails until the flag file exists.
	run, err := e.Submit(t.Context(), Submission{Source: "r.yaml", Spec: fmt.Sprintf(
		"version: 1.1\nkind: component\nrun: {container: {image: x, command: [sh, -c, 'test -e %s']}}\n", flag)})
	if err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, run.UUID); r.Status != store.Failed {
		t.Fatalf("first attempt: %s", r.Status)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	if r.Status != store.Succeeded || r.Attempt != 2 {
		t.Fatalf("resumed: %s at attempt %d: %v", r.Status, r.Attempt, statuses(r))
	}
	if _, err := e.Resume(t.Context(), run.UUID); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("resuming a succeeded run: %v", err)
	}
	again, err := e.Restart(t.Context(), run.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, again.UUID); r.Status != store.Succeeded || r.RestartOf != run.UUID || r.Attempt != 1 {
		t.Fatalf("restarted: %s, of %q, attempt %d", r.Status, r.RestartOf, r.Attempt)
	}
}
