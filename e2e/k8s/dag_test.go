package k8s

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestDagOnKubernetes: each operation of a dag becomes a Job of its own;
// an output reported in a pod's termination message reaches the next
// operation's command, a failed Job marks what depends on it
// upstream_failed, and its alert branch runs.
func TestDagOnKubernetes(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, `version: 1.1
kind: operation
name: pipe
component:
  run:
    kind: dag
    operations:
      - name: train
        component:
          outputs: [{name: lr, type: float}]
          run:
            kind: job
            environment: {annotations: {plexus.io/kwok-message: '{"lr": 0.25}'}}
            container: {image: trainer, command: [train]}
      - name: eval
        params: {lr: {ref: ops.train, value: outputs.lr}}
        component:
          inputs: [{name: lr, type: float}]
          run: {kind: job, container: {image: trainer, command: [eval, "--lr={{ lr }}"]}}
      - name: broken
        dependencies: [train]
        component:
          run:
            kind: job
            environment: {annotations: {plexus.io/kwok-fail: "true", plexus.io/kwok-exit-code: "2"}}
            container: {image: trainer, command: [broken]}
      - {name: after, dependencies: [broken], component: {run: {kind: job, container: {image: trainer}}}}
      - {name: alert, dependencies: [broken], trigger: one_failed, component: {run: {kind: job, container: {image: trainer}}}}
`)
	r := final(t, n.st, uuid)
	if r.Status != store.Failed {
		t.Fatalf("dag %s: %+v", r.Status, r.Conditions)
	}
	children, err := n.st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*store.Run{}
	for _, ch := range children {
		got[ch.Node] = ch
	}
	want := map[string]store.Status{"train": store.Succeeded, "eval": store.Succeeded, "broken": store.Failed,
		"after": store.UpstreamFailed, "alert": store.Succeeded}
	for node, st := range want {
		if got[node] == nil || got[node].Status != st {
			t.Errorf("%s: %+v, want %s", node, got[node], st)
		}
	}
	jobs, err := c.Client().BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs.Items {
		names = append(names, j.Name)
	}
	// One Job per operation that ran; none for the upstream_failed one.
	for node, ran := range map[string]bool{"train": true, "eval": true, "broken": true, "alert": true, "after": false} {
		name := compiler.ObjectName(got[node].UUID, 1)
		if has := strings.Contains(strings.Join(names, " "), name); has != ran {
			t.Errorf("Job for %s: %v, want %v (Jobs %v)", node, has, ran, names)
		}
	}
	j, err := c.Client().BatchV1().Jobs(ns).Get(t.Context(), compiler.ObjectName(got["eval"].UUID, 1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cmd := j.Spec.Template.Spec.Containers[0].Command; len(cmd) != 2 || cmd[1] != "--lr=0.25" {
		t.Errorf("eval's command %q", cmd)
	}
}
