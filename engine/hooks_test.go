package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
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
