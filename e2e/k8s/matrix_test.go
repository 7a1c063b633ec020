package k8s

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestMatrixOnKubernetes: each trial of a sweep is a Job of its own, with
// the trial's values in its command; the metric each reports in its
// pod's termination message is the trial's output, and the sweep
// succeeds once they all have.
func TestMatrixOnKubernetes(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, `version: 1.1
kind: operation
name: sweep
matrix:
  kind: grid
  concurrency: 2
  params:
    lr: {kind: choice, value: [1, 2, 3]}
component:
  inputs: [{name: lr, type: int}]
  outputs: [{name: loss, type: float}]
  run:
    kind: job
    environment: {annotations: {plexus.io/kwok-message: '{"loss": {{ lr }}.5}'}}
    container: {image: trainer, command: [train, "--lr={{ lr }}"]}
`)
	r := final(t, n.st, uuid)
	if r.Status != store.Succeeded {
		t.Fatalf("sweep %s: %+v", r.Status, r.Conditions)
	}
	children, err := n.st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	if len(children) != 3 {
		t.Fatalf("%d trials, want 3", len(children))
	}
	for _, ch := range children {
		lr := ch.Params["lr"]
		if ch.Status != store.Succeeded || fmt.Sprint(ch.Outputs["loss"]) != fmt.Sprintf("%v.5", lr) {
			t.Errorf("trial %s (lr=%v): %s, outputs %v", ch.Node, lr, ch.Status, ch.Outputs)
		}
		j, err := c.Client().BatchV1().Jobs(ns).Get(t.Context(), compiler.ObjectName(ch.UUID, 1), metav1.GetOptions{})
		if err != nil {
			t.Errorf("trial %s: its Job: %v", ch.Node, err)
			continue
		}
		if cmd := j.Spec.Template.Spec.Containers[0].Command; len(cmd) != 2 || cmd[1] != fmt.Sprintf("--lr=%v", lr) {
			t.Errorf("trial %s (lr=%v): command %q", ch.Node, lr, cmd)
		}
	}
}

// TestMatrixPruningOnKubernetes: the leader follows a running trial's log
// through the pod log API, and a median stopping policy stops the trial
// whose reported loss is far worse than the ended trials': its Job is
// stopped, and the sweep succeeds.
func TestMatrixPruningOnKubernetes(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, `version: 1.1
kind: operation
name: pruned
matrix:
  kind: mapping
  concurrency: 1
  values: [{q: 1, delay: 1s}, {q: 2, delay: 1s}, {q: 99, delay: 5m}]
  earlyStopping:
    - kind: metric_early_stopping
      metric: loss
      value: 0
      optimization: minimize
      policy: {kind: median, evaluationInterval: 1, minSamples: 2}
component:
  inputs: [{name: q, type: int}]
  run:
    kind: job
    environment: {annotations: {plexus.io/kwok-delay: '{{ delay }}', plexus.io/kwok-logs: "step=1 loss={{ q }}\n"}}
    container: {image: trainer, command: [train]}
`)
	r := final(t, n.st, uuid)
	if r.Status != store.Succeeded {
		t.Fatalf("sweep %s: %+v", r.Status, r.Conditions)
	}
	children, err := n.st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range children {
		want := store.Succeeded
		if ch.Node == "2" {
			want = store.Stopped
		}
		if ch.Status != want {
			t.Errorf("trial %s (%v): %s, want %s", ch.Node, ch.Params, ch.Status, want)
		}
	}
}
