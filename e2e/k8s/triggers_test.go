package k8s

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestScheduleOnKubernetes: each fire of an interval schedule is a Job of
// its own, whose command holds the fire's nominal time; the schedule
// succeeds after maxRuns fires.
func TestScheduleOnKubernetes(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, `version: 1.1
kind: operation
name: nightly
schedule: {kind: interval, frequency: 1, maxRuns: 2}
component:
  run:
    kind: job
    container: {image: trainer, command: [train, "--at={{ globals.schedule_at }}"]}
`)
	r := final(t, n.st, uuid)
	if r.Status != store.Succeeded || !slices.ContainsFunc(r.Conditions, func(c store.Condition) bool { return c.Type == store.OnSchedule }) {
		t.Fatalf("schedule %s: %+v", r.Status, r.Conditions)
	}
	children, err := n.st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(children) != 2 {
		t.Fatalf("%d fires, want 2", len(children))
	}
	for _, ch := range children {
		if ch.Status != store.Succeeded || ch.FireAt == nil {
			t.Errorf("fire %s: %s", ch.Node, ch.Status)
			continue
		}
		j, err := c.Client().BatchV1().Jobs(ns).Get(t.Context(), compiler.ObjectName(ch.UUID, 1), metav1.GetOptions{})
		if err != nil {
			t.Errorf("fire %s: its Job: %v", ch.Node, err)
			continue
		}
		if cmd := j.Spec.Template.Spec.Containers[0].Command; len(cmd) != 2 || cmd[1] != "--at="+ch.FireAt.UTC().Format(time.RFC3339) {
			t.Errorf("fire %s: command %q", ch.Node, cmd)
		}
	}
}
