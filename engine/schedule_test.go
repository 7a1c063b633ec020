package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// scheduleSpec is an operation with the given schedule (YAML lines
// indented for the operation) over a job whose output `at` is its
// globals.schedule_at.
func scheduleSpec(schedule string) string {
	return `version: 1.1
kind: operation
name: nightly
schedule:
` + schedule + `component:
  outputs: [{name: at, type: str}]
  run:
    kind: job
    container:
      image: x
      command: [sh, -c, 'echo "{\"at\": \"{{ globals.schedule_at }}\"}" > "$PLEXUS_OUTPUTS_PATH"']
`
}

// fires returns a schedule's children by nominal time, oldest first.
func fires(t *testing.T, st *store.Store, uuid string) []*store.Run {
	t.Helper()
	runs, err := st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(runs, func(a, b *store.Run) int { return a.FireAt.Compare(*b.FireAt) })
	return runs
}

// TestScheduleInterval: an interval schedule creates one child per fire,
// each at its nominal time and with it as globals.schedule_at, never
// from the cache, and succeeds after maxRuns fires.
func TestScheduleInterval(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: scheduleSpec(`  kind: interval
  frequency: 1
  maxRuns: 3
`)})
	if err != nil {
		t.Fatal(err)
	}
	if run.Schedule != "interval" || run.Matrix != "" {
		t.Errorf("record says schedule %q, matrix %q", run.Schedule, run.Matrix)
	}
	final := waitFinal(t, e, run.UUID)
	if final.Status != store.Succeeded || !slices.Contains(statuses(final), store.OnSchedule) {
		t.Fatalf("schedule %s through %v", final.Status, statuses(final))
	}
	ch := fires(t, e.cfg.Store, run.UUID)
	if len(ch) != 3 {
		t.Fatalf("%d fires, want 3", len(ch))
	}
	start := run.CreatedAt.Truncate(time.Second)
	for i, r := range ch {
		want := start.Add(time.Duration(i) * time.Second)
		if r.Status != store.Succeeded || !r.FireAt.Equal(want) || r.Outputs["at"] != fireNode(want) || r.CacheOf != "" || r.CacheKey != "" {
			t.Errorf("fire %d: %s at %v (want %v), outputs %v, cache %q/%q", i, r.Status, r.FireAt, want, r.Outputs, r.CacheKey, r.CacheOf)
		}
		if late := r.CreatedAt.Sub(want); late < 0 || late > 2*time.Second {
			t.Errorf("fire %d created %v after its time", i, late)
		}
		if r.Name != "nightly-"+want.UTC().Format("20060102-150405") {
			t.Errorf("fire %d named %s", i, r.Name)
		}
	}
	st, err := e.cfg.Store.Schedule(t.Context(), run.UUID)
	if err != nil || st.Fired != 3 || !st.Last.Equal(*ch[2].FireAt) || st.LastChild != ch[2].UUID {
		t.Errorf("state %+v, %v", st, err)
	}
}

// TestScheduleCatchUp: with the engine down across three fire times, the
// next engine applies the catch-up policy exactly: all three fires
// (oldest first) by default, only the newest with `latest`, the older
// ones recorded as dropped.
func TestScheduleCatchUp(t *testing.T) {
	for _, tc := range []struct {
		policy  string
		fires   int
		skipped int
	}{{"", 3, 0}, {"latest", 1, 2}} {
		t.Run(fmt.Sprint("catchUp=", tc.policy), func(t *testing.T) {
			t.Parallel()
			cli := storetest.Client(t)
			ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ex.Close() })
			cfg := Config{Store: store.New(cli, storetest.Prefix(t), nil), Executor: ex, Resync: 200 * time.Millisecond,
				RunInfo: func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
					ri.ContextPath = ex.ContextPath(r.UUID)
					return ri
				}}
			down, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now().Truncate(time.Second).Add(2 * time.Second)
			policy := ""
			if tc.policy != "" {
				policy = "  catchUp: " + tc.policy + "\n"
			}
			// No engine runs: the submission is stored, nothing fires.
			run, err := down.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: scheduleSpec(fmt.Sprintf(`  kind: interval
  frequency: 1
  startAt: "%s"
  endAt: "%s"
%s`, start.UTC().Format(time.RFC3339), start.Add(3*time.Second).UTC().Format(time.RFC3339), policy))})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Until(start.Add(2500 * time.Millisecond)))
			back := time.Now()
			e := runEngine(t, cfg)
			final := waitFinal(t, e, run.UUID)
			if final.Status != store.Succeeded {
				t.Fatalf("schedule %s: %v", final.Status, final.Conditions)
			}
			ch := fires(t, e.cfg.Store, run.UUID)
			if len(ch) != tc.fires {
				t.Fatalf("%d fires, want %d", len(ch), tc.fires)
			}
			for i, r := range ch {
				want := start.Add(time.Duration(3-tc.fires+i) * time.Second)
				if !r.FireAt.Equal(want) || r.Status != store.Succeeded || r.Outputs["at"] != fireNode(want) || r.CreatedAt.Before(back) {
					t.Errorf("fire %d: at %v (want %v), %s, outputs %v, created %v (engine back at %v)", i, r.FireAt, want, r.Status, r.Outputs, r.CreatedAt, back)
				}
				if !r.CreatedAt.Equal(ch[0].CreatedAt) {
					t.Errorf("fire %d created at %v, fire 0 at %v: not in one look", i, r.CreatedAt, ch[0].CreatedAt)
				}
			}
			st, err := e.cfg.Store.Schedule(t.Context(), run.UUID)
			if err != nil || st.Fired != tc.fires || st.Skipped != tc.skipped {
				t.Errorf("state %+v, %v", st, err)
			}
			noted := false
			for _, c := range final.Conditions {
				noted = noted || c.Reason == "FiresSkipped" && strings.HasPrefix(c.Message, fmt.Sprint(tc.skipped, " missed"))
			}
			if noted != (tc.skipped > 0) {
				t.Errorf("skipped fires noted: %v; conditions %v", noted, final.Conditions)
			}
		})
	}
}

// TestScheduleLeaderKilledAtFire: the leader goes just before a fire's
// transaction, or just after it (while it compiles the fire's run);
// the next leader fires every nominal time once, and each fire's run is
// dispatched once.
func TestScheduleLeaderKilledAtFire(t *testing.T) {
	for _, stage := range []string{"before", "after"} {
		for _, how := range killModes {
			t.Run(stage+"/"+how, func(t *testing.T) {
				prefix := storetest.Prefix(t)
				ex := newRecorder()
				gate := newGate()
				a := startNode(t, prefix, "a", ex, foOpts{gate: gate})
				waitLeader(t, a.cli, prefix, a)
				b := startNode(t, prefix, "b", ex, foOpts{})
				run, err := a.e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: scheduleSpec(`  kind: interval
  frequency: 1
  maxRuns: 4
`)})
				if err != nil {
					t.Fatal(err)
				}
				// Held at the schedule's second fire.
				var once sync.Once
				held, release := make(chan struct{}), make(chan struct{})
				if stage == "before" {
					var n int
					var mu sync.Mutex
					h := func(at, uuid string) {
						if at != "fire" || uuid != run.UUID {
							return
						}
						mu.Lock()
						n++
						second := n == 2
						mu.Unlock()
						if second {
							once.Do(func() { close(held) })
							select {
							case <-release:
							case <-time.After(5 * time.Second):
							}
						}
					}
					panicHook.Store(&h)
					t.Cleanup(func() { panicHook.Store(nil) })
				} else {
					var n int
					var mu sync.Mutex
					gate.arm(func(r *store.Run) bool {
						if r.Parent != run.UUID {
							return false
						}
						mu.Lock()
						defer mu.Unlock()
						n++
						if n == 2 {
							once.Do(func() { close(held) })
							return true
						}
						return false
					})
				}
				select {
				case <-held:
				case <-time.After(10 * time.Second):
					t.Fatal("the leader never came to the second fire")
				}
				killed := make(chan struct{})
				go func() { defer close(killed); a.kill(how) }()
				time.Sleep(100 * time.Millisecond)
				close(release)
				<-killed
				waitLeader(t, b.cli, prefix, b)
				waitUntil(t, 20*time.Second, func() (bool, string) {
					for ref, n := range ex.createdRefs() {
						if n > 0 {
							ex.report(executor.StatusUpdate{Run: ref, Status: executor.Succeeded})
						}
					}
					r, _, err := b.e.cfg.Store.Get(context.Background(), run.UUID)
					if err != nil {
						return false, err.Error()
					}
					return r.Status == store.Succeeded, fmt.Sprintf("%s %v", r.Status, statuses(r))
				})
				ch := fires(t, b.e.cfg.Store, run.UUID)
				if len(ch) != 4 {
					t.Fatalf("%d fires, want 4", len(ch))
				}
				start := run.CreatedAt.Truncate(time.Second)
				created := ex.createdRefs()
				for i, r := range ch {
					if !r.FireAt.Equal(start.Add(time.Duration(i)*time.Second)) || r.Status != store.Succeeded {
						t.Errorf("fire %d: at %v, %s", i, r.FireAt, r.Status)
					}
					if n := created[executor.RunRef{UUID: r.UUID, Attempt: 1}]; n != 1 || r.Attempt != 1 {
						t.Errorf("fire %d: attempt %d, dispatched %d times", i, r.Attempt, n)
					}
				}
				if len(created) != 4 {
					t.Errorf("%d attempts dispatched, want 4", len(created))
				}
				st, err := b.e.cfg.Store.Schedule(t.Context(), run.UUID)
				if err != nil || st.Fired != 4 {
					t.Errorf("state %+v, %v", st, err)
				}
			})
		}
	}
}

// TestScheduleStop: stopping a schedule stops the fire that runs and
// fires nothing more.
func TestScheduleStop(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: strings.Replace(scheduleSpec("  kind: interval\n  frequency: 1\n"), "echo", "sleep 30; echo", 1)})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, func() (bool, string) {
		ch := fires(t, e.cfg.Store, run.UUID)
		return len(ch) > 0 && ch[0].Status == store.Running, fmt.Sprintf("%d fires", len(ch))
	})
	if _, err := e.Stop(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	final := waitFinal(t, e, run.UUID)
	if final.Status != store.Stopped {
		t.Fatalf("schedule %s: %v", final.Status, statuses(final))
	}
	n := len(fires(t, e.cfg.Store, run.UUID))
	time.Sleep(1500 * time.Millisecond)
	ch := fires(t, e.cfg.Store, run.UUID)
	if len(ch) != n {
		t.Errorf("%d fires after the stop, %d at it", len(ch), n)
	}
	for _, r := range ch {
		if r.Status != store.Stopped {
			t.Errorf("fire %v: %s", r.FireAt, r.Status)
		}
	}
}

// TestScheduleDependsOnPast: with dependsOnPast, a fire waits until the
// previous one has ended.
func TestScheduleDependsOnPast(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: strings.Replace(scheduleSpec(`  kind: interval
  frequency: 1
  maxRuns: 3
  dependsOnPast: true
`), "echo", "sleep 1.5; echo", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if final := waitFinal(t, e, run.UUID); final.Status != store.Succeeded {
		t.Fatalf("schedule %s: %v", final.Status, final.Conditions)
	}
	ch := fires(t, e.cfg.Store, run.UUID)
	if len(ch) != 3 {
		t.Fatalf("%d fires, want 3", len(ch))
	}
	for i := 1; i < len(ch); i++ {
		if ch[i].CreatedAt.Before(ended(ch[i-1])) {
			t.Errorf("fire %d created at %v, before fire %d ended at %v", i, ch[i].CreatedAt, i-1, ended(ch[i-1]))
		}
	}
}

// TestScheduleMatrix: each fire of a schedule with a matrix is a sweep,
// whose trials see the fire's schedule_at.
func TestScheduleMatrix(t *testing.T) {
	e := startEngine(t)
	spec := strings.Replace(scheduleSpec("  kind: interval\n  frequency: 1\n  maxRuns: 2\n"), "component:", `matrix:
  kind: grid
  params:
    x: {kind: choice, value: [1, 2]}
component:
  inputs: [{name: x, type: int}]`, 1)
	run, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if final := waitFinal(t, e, run.UUID); final.Status != store.Succeeded {
		t.Fatalf("schedule %s: %v", final.Status, final.Conditions)
	}
	ch := fires(t, e.cfg.Store, run.UUID)
	if len(ch) != 2 {
		t.Fatalf("%d fires, want 2", len(ch))
	}
	for _, f := range ch {
		trials := childrenOf(t, e.cfg.Store, f.UUID)
		if f.Status != store.Succeeded || f.Matrix != "grid" || len(trials) != 2 {
			t.Fatalf("fire %v: %s, matrix %q, %d trials", f.FireAt, f.Status, f.Matrix, len(trials))
		}
		for _, tr := range trials {
			if tr.Status != store.Succeeded || tr.Outputs["at"] != fireNode(*f.FireAt) {
				t.Errorf("fire %v, trial %s: %s, outputs %v", f.FireAt, tr.Node, tr.Status, tr.Outputs)
			}
		}
	}
	g, err := e.Graph(t.Context(), run.UUID)
	if err != nil || g.Schedule == nil || len(g.Nodes) != 2 || !g.Schedule.Pipeline || g.Schedule.State.Fired != 2 || len(g.Schedule.Coming) != 0 {
		t.Fatalf("graph %+v, %v", g, err)
	}
	if g, err := e.Graph(t.Context(), ch[0].UUID); err != nil || g.Matrix == nil || len(g.Nodes) != 2 {
		t.Errorf("a fire's graph %+v, %v", g, err)
	}
}

// TestScheduleComing: a schedule that has not fired yet waits on
// schedule, and its graph lists its next fires; a dag's operation with a
// schedule is refused at its field.
func TestScheduleComing(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: scheduleSpec(`  kind: cron
  cron: "30 2 * * *"
  timezone: Europe/Paris
  startAt: "2099-03-25 00:00"
`)})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e.cfg.Store, run.UUID, store.OnSchedule, nil)
	g, err := e.Graph(t.Context(), run.UUID)
	if err != nil || g.Schedule == nil {
		t.Fatalf("graph %+v, %v", g, err)
	}
	var got []string
	for _, c := range g.Schedule.Coming {
		got = append(got, fireNode(c))
	}
	// 2099-03-29 is the spring-forward day in Paris: its 02:30 does not exist.
	want := []string{"2099-03-25T01:30:00Z", "2099-03-26T01:30:00Z", "2099-03-27T01:30:00Z", "2099-03-28T01:30:00Z", "2099-03-30T00:30:00Z"}
	if !slices.Equal(got, want) || len(g.Nodes) != 0 || g.Schedule.Description != `cron "30 2 * * *"` {
		t.Errorf("coming %v, want %v; %d fires; %q", got, want, len(g.Nodes), g.Schedule.Description)
	}
	if _, err := e.Stop(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	if final := waitFinal(t, e, run.UUID); final.Status != store.Stopped {
		t.Errorf("schedule %s", final.Status)
	}

	_, err = e.Submit(t.Context(), Submission{Source: "pipe.yaml", Spec: dagSpec("", "      - {name: a, dagRef: ok, schedule: {kind: interval, frequency: 60}}\n", "")})
	if err == nil || !strings.Contains(err.Error(), "run.operations[0].schedule") {
		t.Errorf("a schedule in a dag: %v", err)
	}
}

// TestScheduleResumeAndRestart: a stopped schedule resumed goes on from
// its state (no nominal time fires twice); restarted, it is a schedule of
// its own again.
func TestScheduleResumeAndRestart(t *testing.T) {
	e := startEngine(t)
	run, err := e.Submit(t.Context(), Submission{Source: "nightly.yaml", Spec: scheduleSpec("  kind: interval\n  frequency: 1\n")})
	if err != nil {
		t.Fatal(err)
	}
	atLeast := func(uuid string, n int) {
		t.Helper()
		waitUntil(t, 10*time.Second, func() (bool, string) {
			got := len(fires(t, e.cfg.Store, uuid))
			return got >= n, fmt.Sprintf("%d fires", got)
		})
	}
	stop := func(uuid string) {
		t.Helper()
		if _, err := e.Stop(t.Context(), uuid); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, e.cfg.Store, uuid, store.Stopped, nil)
	}
	atLeast(run.UUID, 1)
	stop(run.UUID)
	before := len(fires(t, e.cfg.Store, run.UUID))
	time.Sleep(2500 * time.Millisecond) // fires come due while it is stopped
	resumed := time.Now()
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, e.cfg.Store, run.UUID, store.OnSchedule, nil)
	dropped := false
	for _, c := range r.Conditions {
		dropped = dropped || c.Reason == "FiresSkipped" && strings.Contains(c.Message, "came due while it was stopped")
	}
	if !dropped {
		t.Errorf("no fires said dropped on resume: %v", r.Conditions)
	}
	atLeast(run.UUID, before+1)
	stop(run.UUID)
	for _, r := range fires(t, e.cfg.Store, run.UUID)[before:] {
		if r.FireAt.Before(resumed.Add(-time.Second)) {
			t.Errorf("fire %v came due while the schedule was stopped (resumed at %v)", r.FireAt, resumed)
		}
	}
	seen := map[string]bool{}
	for _, r := range fires(t, e.cfg.Store, run.UUID) {
		if seen[r.Node] {
			t.Errorf("%s fired twice", r.Node)
		}
		seen[r.Node] = true
	}
	again, err := e.Restart(t.Context(), run.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Schedule != "interval" {
		t.Errorf("the restart's record says schedule %q", again.Schedule)
	}
	atLeast(again.UUID, 1)
	if g, err := e.Graph(t.Context(), again.UUID); err != nil || g.Schedule == nil {
		t.Errorf("the restart's graph %+v, %v", g, err)
	}
	stop(again.UUID)
}
