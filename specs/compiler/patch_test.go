package compiler

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/plexus-ml/plexus/specs"
)

var strategies = []specs.PatchStrategy{specs.PatchPostMerge, specs.PatchPreMerge, specs.PatchReplace, specs.PatchIsNull}

func quantities(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

var cmpQuantity = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

// TestPatchObservedTables reproduces the reference's observed results
// (§9 of the spec): op patched over component, under each strategy.
func TestPatchObservedTables(t *testing.T) {
	comp := &specs.Job{Kind: specs.RunJob, Replica: specs.Replica{
		Environment: &specs.Environment{NodeSelector: map[string]string{"a": "comp"}},
		Container: &corev1.Container{Image: "img", Resources: corev1.ResourceRequirements{
			Limits: quantities("cpu", "1", "memory", "1Gi")}},
	}}
	op := &specs.Job{Kind: specs.RunJob, Replica: specs.Replica{
		Environment: &specs.Environment{NodeSelector: map[string]string{"a": "op", "x": "op"}},
		Container:   &corev1.Container{Resources: corev1.ResourceRequirements{Limits: quantities("cpu", "2")}},
	}}
	want := map[specs.PatchStrategy]struct {
		nodeSelector map[string]string
		limits       corev1.ResourceList
	}{
		specs.PatchPostMerge: {map[string]string{"a": "op", "x": "op"}, quantities("cpu", "2", "memory", "1Gi")},
		specs.PatchPreMerge:  {map[string]string{"a": "comp", "x": "op"}, quantities("cpu", "1", "memory", "1Gi")},
		specs.PatchReplace:   {map[string]string{"a": "op", "x": "op"}, quantities("cpu", "2")},
		specs.PatchIsNull:    {map[string]string{"a": "comp"}, quantities("cpu", "1", "memory", "1Gi")},
	}
	for _, s := range strategies {
		t.Run(string(s), func(t *testing.T) {
			got := Patch(comp, op, s)
			if diff := cmp.Diff(want[s].nodeSelector, got.Environment.NodeSelector); diff != "" {
				t.Errorf("nodeSelector (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want[s].limits, got.Container.Resources.Limits, cmpQuantity); diff != "" {
				t.Errorf("resources.limits (-want +got):\n%s", diff)
			}
			if got.Container.Image != "img" {
				t.Errorf("image %q: an attribute the patch does not set is kept", got.Container.Image)
			}
		})
	}
	// Neither input changed.
	if comp.Environment.NodeSelector["a"] != "comp" || len(op.Environment.NodeSelector) != 2 {
		t.Fatal("Patch changed its inputs")
	}
}

func TestPatchLists(t *testing.T) {
	base := &specs.Component{Base: specs.Base{Tags: []string{"comp", "shared"}}}
	patch := &specs.Component{Base: specs.Base{Tags: []string{"op", "shared"}}}
	want := map[specs.PatchStrategy][]string{
		specs.PatchPostMerge: {"comp", "shared", "op"},
		specs.PatchPreMerge:  {"op", "shared", "comp"},
		specs.PatchReplace:   {"op", "shared"},
		specs.PatchIsNull:    {"comp", "shared"},
	}
	for _, s := range strategies {
		if diff := cmp.Diff(want[s], Patch(base, patch, s).Tags); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s, diff)
		}
	}
}

// TestPatchNestedObjectsRecurseEvenForReplace: a Plexus object merges field
// by field under every strategy, so what the patch leaves unset survives.
func TestPatchNestedObjectsRecurseEvenForReplace(t *testing.T) {
	base := &specs.Component{Base: specs.Base{Termination: &specs.Termination{MaxRetries: specs.Int(1), Timeout: specs.Int(10)}}}
	patch := &specs.Component{Base: specs.Base{Termination: &specs.Termination{MaxRetries: specs.Int(5), TTL: specs.Ref("{{ ttl }}")}}}
	want := map[specs.PatchStrategy]specs.Termination{
		specs.PatchPostMerge: {MaxRetries: specs.Int(5), Timeout: specs.Int(10), TTL: specs.Ref("{{ ttl }}")},
		specs.PatchPreMerge:  {MaxRetries: specs.Int(1), Timeout: specs.Int(10), TTL: specs.Ref("{{ ttl }}")},
		specs.PatchReplace:   {MaxRetries: specs.Int(5), Timeout: specs.Int(10), TTL: specs.Ref("{{ ttl }}")},
		specs.PatchIsNull:    {MaxRetries: specs.Int(1), Timeout: specs.Int(10), TTL: specs.Ref("{{ ttl }}")},
	}
	for _, s := range strategies {
		if diff := cmp.Diff(want[s], *Patch(base, patch, s).Termination); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s, diff)
		}
	}
}

// TestPatchSameKind: schedules and matrices merge only with their own kind.
func TestPatchSameKind(t *testing.T) {
	cron := &specs.CronSchedule{Kind: "cron", Cron: "0 0 * * *", MaxRuns: specs.Int(3)}
	cron2 := &specs.CronSchedule{Kind: "cron", Cron: "0 2 * * *"}
	interval := &specs.IntervalSchedule{Kind: "interval", Frequency: specs.Int(60)}
	op := func(s specs.Schedule) *specs.Operation { return &specs.Operation{Schedule: s} }

	got := Patch(op(cron), op(cron2), specs.PatchPostMerge).Schedule.(*specs.CronSchedule)
	if got.Cron != "0 2 * * *" || got.MaxRuns.Value != 3 {
		t.Errorf("same kind, post_merge: %+v", got)
	}
	if _, ok := Patch(op(cron), op(interval), specs.PatchPostMerge).Schedule.(*specs.IntervalSchedule); !ok {
		t.Error("another kind under post_merge: the patch's schedule wins")
	}
	if _, ok := Patch(op(cron), op(interval), specs.PatchPreMerge).Schedule.(*specs.CronSchedule); !ok {
		t.Error("another kind under pre_merge: the base's schedule stays")
	}
	if _, ok := Patch(op(cron), op(interval), specs.PatchIsNull).Schedule.(*specs.CronSchedule); !ok {
		t.Error("another kind under isnull: the base's schedule stays")
	}

	grid := func(names ...string) *specs.Operation {
		var space specs.SearchSpace
		for i, n := range names {
			space = append(space, specs.NamedHyperParam{Name: n, HyperParam: specs.HyperParam{Kind: specs.HPChoice, Value: []any{i}}})
		}
		return &specs.Operation{Matrix: &specs.GridMatrix{Kind: specs.MatrixGrid, Params: space}}
	}
	m := Patch(grid("lr", "batch"), grid("batch", "dropout"), specs.PatchPostMerge).Matrix.SearchSpace()
	var names []string
	for _, np := range m {
		names = append(names, np.Name)
	}
	if diff := cmp.Diff([]string{"lr", "batch", "dropout"}, names); diff != "" {
		t.Errorf("grid params merge by name (-want +got):\n%s", diff)
	}
	if b, _ := m.Get("batch"); b.Value.([]any)[0] != 0 {
		t.Errorf("post_merge: the patch's batch wins, got %v", b.Value)
	}
}

// TestPatchUnsetBase: a field the base lacks is taken from the patch under
// every strategy, isnull included.
func TestPatchUnsetBase(t *testing.T) {
	base := &specs.Component{}
	patch := &specs.Component{Base: specs.Base{Queue: "gpu", Plugins: &specs.Plugins{LogLevel: "INFO"}}}
	for _, s := range strategies {
		got := Patch(base, patch, s)
		if got.Queue != "gpu" || got.Plugins == nil || got.Plugins.LogLevel != "INFO" {
			t.Errorf("%s: got queue %q plugins %+v", s, got.Queue, got.Plugins)
		}
		if got.Plugins == patch.Plugins {
			t.Errorf("%s: the result shares the patch's plugins", s)
		}
	}
}
