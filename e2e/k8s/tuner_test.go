package k8s

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

// tunerComponent is a tuner whose pod (kwok's) reports, as its
// termination message, the suggestions lr = 10k+1 and 10k+2 in
// iteration k.
const tunerComponent = `version: 1.1
kind: component
name: tuner
inputs: [{name: iteration, type: int}, {name: observations, type: list}]
outputs: [{name: suggestions, type: list}]
run:
  kind: job
  environment: {annotations: {plexus.io/kwok-message: '{"suggestions": [{"lr": {{ iteration * 10 + 1 }}}, {"lr": {{ iteration * 10 + 2 }}}]}'}}
  container: {image: tuner, command: [tune, "--seen={{ observations | length }}"]}
`

// TestTunerOnKubernetes: a tuned sweep's tuner and trials are each a Job;
// the suggestions the tuner's pod reports become the next trials.
func TestTunerOnKubernetes(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "acme", "tuner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme", "tuner", "latest.yaml"), []byte(tunerComponent), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startWith(t, c, k8s.Config{Namespace: ns}, storetest.Prefix(t), "a", func(cfg *engine.Config) {
		cfg.Sources = compiler.Sources{Hub: hub.New(hub.Dir(dir))}
	})
	e, st := n.e, n.st
	uuid := submit(t, e, `version: 1.1
kind: operation
name: tuned
matrix:
  kind: iterative
  maxIterations: 2
  params: {lr: {kind: range, value: [0, 100, 1]}}
  tuner: {hubRef: acme/tuner}
component:
  inputs: [{name: lr, type: int}]
  outputs: [{name: loss, type: float}]
  run:
    kind: job
    environment: {annotations: {plexus.io/kwok-message: '{"loss": {{ lr }}.5}'}}
    container: {image: trainer, command: [train, "--lr={{ lr }}"]}
`)
	r := final(t, st, uuid)
	if r.Status != store.Succeeded {
		t.Fatalf("sweep %s: %+v", r.Status, r.Conditions)
	}
	children, err := st.ChildRuns(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"0": "--lr=1", "1": "--lr=2", "2": "--lr=11", "3": "--lr=12", "tuner-0": "--seen=0", "tuner-1": "--seen=2"}
	if len(children) != len(want) {
		t.Fatalf("%d children, want %d", len(children), len(want))
	}
	for _, ch := range children {
		j, err := c.Client().BatchV1().Jobs(ns).Get(t.Context(), compiler.ObjectName(ch.UUID, 1), metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s: its Job: %v", ch.Node, err)
			continue
		}
		if cmd := j.Spec.Template.Spec.Containers[0].Command; ch.Status != store.Succeeded || len(cmd) != 2 || cmd[1] != want[ch.Node] {
			t.Errorf("%s: %s, command %q, want %s", ch.Node, ch.Status, cmd, want[ch.Node])
		}
		if _, tuner := engine.TunerNode(ch.Node); !tuner && fmt.Sprint(ch.Outputs["loss"]) != fmt.Sprintf("%v.5", ch.Params["lr"]) {
			t.Errorf("%s: outputs %v", ch.Node, ch.Outputs)
		}
	}
}
