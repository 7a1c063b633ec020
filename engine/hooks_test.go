package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// noteHub holds one component, `note`, whose output says the status, the
// run and the number of outputs its hook was given.
type noteHub struct{}

func (noteHub) Component(_ context.Context, ref compiler.HubRef) (*specs.Component, error) {
	if ref.Name != "note" {
		return nil, fmt.Errorf("%w: %s", compiler.ErrComponentNotFound, ref)
	}
	files, err := specs.Parse("hub:note", []byte(`version: 1.1
kind: component
name: note
outputs: [{name: said, type: str}]
run:
  kind: job
  container:
    image: x
    command: [sh, -c, 'echo "{\"said\": \"{{ status }} {{ uuid }} {{ outputs | length }}\"}" > "$PLEXUS_OUTPUTS_PATH"']
`))
	if err != nil {
		return nil, err
	}
	return files[0].Component, nil
}

// hookSpec is a job that ends with the given exit code, and loss 0.5,
// with the given hooks.
func hookSpec(exit int, hooks string) string {
	return fmt.Sprintf(`version: 1.1
kind: operation
name: trained
hooks:
%s
component:
  outputs: [{name: loss, type: float}]
  run:
    kind: job
    container: {image: x, command: [sh, -c, 'echo "{\"loss\": 0.5}" > "$PLEXUS_OUTPUTS_PATH"; exit %d']}
`, hooks, exit)
}

// TestHooks: a run's hooks run after it ends, each as a run of its own,
// on the statuses their trigger names and when their conditions hold over
// the run's outputs, and not otherwise; a hook whose component is not
// found is a failed run that says so; the run's own status is unchanged.
func TestHooks(t *testing.T) {
	cli := storetest.Client(t)
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	e := runEngine(t, Config{Store: store.New(cli, storetest.Prefix(t), nil), Executor: ex, Resync: 200 * time.Millisecond,
		Sources: compiler.Sources{Hub: noteHub{}},
		RunInfo: func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.ContextPath = ex.ContextPath(r.UUID)
			return ri
		}})
	for _, tc := range []struct {
		name   string
		exit   int
		status store.Status
		hooks  string
		fires  map[int]store.Status // hook index → its run's status
	}{
		{"succeeded", 0, store.Succeeded, `  - {hubRef: note, trigger: succeeded}
  - {hubRef: note, trigger: failed}
  - {hubRef: note, trigger: done, conditions: "{{ outputs.loss < 1 }}"}
  - {hubRef: note, conditions: "{{ outputs.loss > 1 }}"}
  - {hubRef: missing}
  - {hubRef: note, conditions: "{{ outputs.loss }}"}`, map[int]store.Status{0: store.Succeeded, 2: store.Succeeded, 4: store.Failed, 5: store.Failed}},
		{"failed", 3, store.Failed, `  - {hubRef: note, trigger: failed}
  - {hubRef: note, trigger: succeeded}
  - {hubRef: note, trigger: stopped}`, map[int]store.Status{0: store.Succeeded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := e.Submit(t.Context(), Submission{Source: "trained.yaml", Spec: hookSpec(tc.exit, tc.hooks)})
			if err != nil {
				t.Fatal(err)
			}
			n := strings.Count(tc.hooks, "hubRef")
			if run.Hooks != n {
				t.Errorf("record counts %d hooks, want %d", run.Hooks, n)
			}
			final := waitFinal(t, e, run.UUID)
			if final.Status != tc.status {
				t.Fatalf("run %s, want %s", final.Status, tc.status)
			}
			for i := range n {
				uuid := childUUID(run.UUID, fmt.Sprintf("hooks[%d]", i), 1)
				want, fires := tc.fires[i]
				if !fires {
					time.Sleep(100 * time.Millisecond)
					if _, _, err := e.cfg.Store.Get(t.Context(), uuid); err == nil {
						t.Errorf("hooks[%d] ran on %s", i, tc.status)
					}
					continue
				}
				var h *store.Run
				waitUntil(t, 10*time.Second, func() (bool, string) {
					h, _, err = e.cfg.Store.Get(t.Context(), uuid)
					if err != nil {
						return false, err.Error()
					}
					return h.Status.Final(), string(h.Status)
				})
				if h.Status != want || h.HookOf != run.UUID {
					t.Errorf("hooks[%d]: %s (want %s), hook of %q: %v", i, h.Status, want, h.HookOf, h.Conditions)
				}
				if want == store.Succeeded && h.Outputs["said"] != fmt.Sprintf("%s %s %d", tc.status, run.UUID, len(final.Outputs)) {
					t.Errorf("hooks[%d] said %v", i, h.Outputs)
				}
				if msg := h.Conditions[len(h.Conditions)-1].Message; want == store.Failed && !strings.Contains(msg, "missing") && !strings.Contains(msg, "hooks[5].conditions") {
					t.Errorf("hooks[%d] failed with %v", i, h.Conditions)
				}
			}
			if again, _, _ := e.cfg.Store.Get(t.Context(), run.UUID); again.Status != tc.status {
				t.Errorf("the run is %s after its hooks", again.Status)
			}
			if pending, err := e.cfg.Store.PendingHooks(t.Context(), 10); err != nil || len(pending) != 0 {
				t.Errorf("pending hooks %v, %v", pending, err)
			}
		})
	}
}

// hookEngine runs an engine with the local executor and noteHub.
func hookEngine(t *testing.T) *Engine {
	t.Helper()
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	return runEngine(t, Config{Store: store.New(storetest.Client(t), storetest.Prefix(t), nil), Executor: ex, Resync: 200 * time.Millisecond,
		Sources: compiler.Sources{Hub: noteHub{}},
		RunInfo: func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.ContextPath = ex.ContextPath(r.UUID)
			return ri
		}})
}

// waitHook waits for the hook run of hooks[i] of run r, and returns it
// once it ended.
func waitHook(t *testing.T, e *Engine, r *store.Run, i int) *store.Run {
	t.Helper()
	uuid := childUUID(r.UUID, fmt.Sprintf("hooks[%d]", i), r.Attempt)
	var h *store.Run
	waitUntil(t, 10*time.Second, func() (bool, string) {
		var err error
		if h, _, err = e.cfg.Store.Get(t.Context(), uuid); err != nil {
			return false, fmt.Sprintf("hooks[%d] of %s (%s): %v", i, r.Name, r.Status, err)
		}
		return h.Status.Final(), string(h.Status)
	})
	return h
}

// TestHooksOfDagOperationsAndFires: a dag's operations have their own
// hooks, each run on its operation's status; a schedule's hooks are each
// fire's.
func TestHooksOfDagOperationsAndFires(t *testing.T) {
	e := hookEngine(t)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - name: bad
        hooks: [{hubRef: note, trigger: failed}]
        component: {run: {kind: job, container: {image: x, command: [sh, -c, 'exit 1']}}}
      - name: good
        hooks: [{hubRef: note, trigger: failed}, {hubRef: note, trigger: succeeded}]
        dagRef: ok
      - name: after
        dependencies: [bad]
        hooks: [{hubRef: note, trigger: upstream_failed}]
        dagRef: ok
`, ""))
	if dagRun.Status != store.Failed || dagRun.Hooks != 0 {
		t.Fatalf("dag %s with %d hooks: %s", dagRun.Status, dagRun.Hooks, nodeStatuses(ch))
	}
	for _, c := range []struct {
		node string
		hook int
	}{{"bad", 0}, {"good", 1}, {"after", 0}} {
		r := ch[c.node]
		if h := waitHook(t, e, r, c.hook); h.Status != store.Succeeded || h.Outputs["said"] != fmt.Sprintf("%s %s %d", r.Status, r.UUID, len(r.Outputs)) {
			t.Errorf("%s: hooks[%d] %s, said %v", c.node, c.hook, h.Status, h.Outputs)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if _, _, err := e.cfg.Store.Get(t.Context(), childUUID(ch["good"].UUID, "hooks[0]", 1)); err == nil {
		t.Errorf("good's failed hook ran")
	}

	sched, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: strings.Replace(scheduleSpec("  kind: interval\n  frequency: 1\n  maxRuns: 2\n"),
		"component:", "hooks: [{hubRef: note, trigger: succeeded}]\ncomponent:", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if sched.Hooks != 0 {
		t.Errorf("the schedule counts %d hooks of its own", sched.Hooks)
	}
	waitFinal(t, e, sched.UUID)
	for _, f := range fires(t, e.cfg.Store, sched.UUID) {
		if f.Hooks != 1 {
			t.Errorf("fire %v counts %d hooks", f.FireAt, f.Hooks)
		}
		if h := waitHook(t, e, f, 0); h.Status != store.Succeeded || h.HookOf != f.UUID {
			t.Errorf("fire %v: its hook %s, of %s", f.FireAt, h.Status, h.HookOf)
		}
	}
}

// TestHooksLeaderKilled: the leader goes after a run ended and before it
// made its hook runs; the next leader makes them, once.
func TestHooksLeaderKilled(t *testing.T) {
	for _, how := range killModes {
		t.Run(how, func(t *testing.T) {
			prefix := storetest.Prefix(t)
			ex := newRecorder()
			a := startNode(t, prefix, "a", ex, foOpts{})
			waitLeader(t, a.cli, prefix, a)
			b := startNode(t, prefix, "b", ex, foOpts{})
			run, err := a.e.Submit(t.Context(), Submission{Source: "trained.yaml", Spec: hookSpec(0, "  - {hubRef: note}\n  - {hubRef: note, trigger: failed}")})
			if err != nil {
				t.Fatal(err)
			}
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			h := func(at, uuid string) {
				if at == "hooks" && uuid == run.UUID && a.leading() {
					once.Do(func() { close(held) })
					select {
					case <-release:
					case <-time.After(5 * time.Second):
					}
				}
			}
			panicHook.Store(&h)
			t.Cleanup(func() { panicHook.Store(nil) })
			ref := executor.RunRef{UUID: run.UUID, Attempt: 1}
			waitCreated(t, ex, ref)
			ex.report(executor.StatusUpdate{Run: ref, Status: executor.Succeeded})
			select {
			case <-held:
			case <-time.After(10 * time.Second):
				t.Fatal("the leader never came to the run's hooks")
			}
			killed := make(chan struct{})
			go func() { defer close(killed); a.kill(how) }()
			time.Sleep(100 * time.Millisecond)
			close(release)
			<-killed
			waitLeader(t, b.cli, prefix, b)
			uuid := childUUID(run.UUID, "hooks[0]", 1)
			waitUntil(t, 20*time.Second, func() (bool, string) {
				pending, err := b.e.cfg.Store.HooksPending(t.Context(), run.UUID)
				if err != nil {
					return false, err.Error()
				}
				_, _, err = b.e.cfg.Store.Get(t.Context(), uuid)
				return !pending && err == nil, fmt.Sprintf("pending %v, hook run: %v", pending, err)
			})
			// This engine has no hub: the hook run says so, failed, rather
			// than being lost.
			hr, _, _ := b.e.cfg.Store.Get(t.Context(), uuid)
			if hr.HookOf != run.UUID || hr.Status != store.Failed {
				t.Errorf("hook run %s of %q", hr.Status, hr.HookOf)
			}
			if _, _, err := b.e.cfg.Store.Get(t.Context(), childUUID(run.UUID, "hooks[1]", 1)); err == nil {
				t.Errorf("the failed-trigger hook ran")
			}
			page, err := b.e.cfg.Store.List(t.Context(), "", 100, func(r *store.Run) bool { return r.HookOf == run.UUID })
			if err != nil || len(page.Runs) != 1 {
				t.Errorf("%d hook runs of the run, %v", len(page.Runs), err)
			}
		})
	}
}
