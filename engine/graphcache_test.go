package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// graphStatuses is "name=status" for each node of run's graph, in order.
func graphStatuses(t *testing.T, e *Engine, uuid string) string {
	t.Helper()
	g, err := e.Graph(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, n := range g.Nodes {
		parts = append(parts, n.Name+"="+string(n.Status))
	}
	return strings.Join(parts, " ")
}

// TestGraphFollowsItsDag: a dag's graph, looked at while it runs, after
// it ends and after it is resumed, says each node's status then; its
// shape is built once (the cache holds it) and its statuses are not.
func TestGraphFollowsItsDag(t *testing.T) {
	e := startEngine(t)
	gate := filepath.Join(t.TempDir(), "gate")
	run, err := e.Submit(t.Context(), Submission{Source: "gated.yaml", Spec: fmt.Sprintf(`version: 1.1
kind: component
name: gated
run:
  kind: dag
  operations:
    - {name: a, dagRef: wait}
    - {name: b, dagRef: flaky, dependencies: [a]}
  components:
    - {name: wait, run: {kind: job, container: {image: x, command: [sh, -c, 'while [ ! -e %[1]s ]; do sleep 0.05; done']}}}
    - {name: flaky, run: {kind: job, container: {image: x, command: [sh, -c, 'test -e %[1]s.ok']}}}
`, gate)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for graphStatuses(t, e, run.UUID) != "a=running b=" {
		if time.Now().After(deadline) {
			t.Fatalf("graph while a runs: %s", graphStatuses(t, e, run.UUID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, run.UUID); r.Status != store.Failed {
		t.Fatalf("the dag %s", r.Status)
	}
	if got := graphStatuses(t, e, run.UUID); got != "a=succeeded b=failed" {
		t.Errorf("graph at the end: %s", got)
	}
	if err := os.WriteFile(gate+".ok", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Resume(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, run.UUID); r.Status != store.Succeeded {
		t.Fatalf("the dag resumed %s", r.Status)
	}
	// b's run of the resumed attempt, not the failed one.
	if got := graphStatuses(t, e, run.UUID); got != "a=succeeded b=succeeded" {
		t.Errorf("graph after the resume: %s", got)
	}
	e.graphs.mu.Lock()
	defer e.graphs.mu.Unlock()
	if len(e.graphs.entries) != 1 || e.graphs.nodes != 2 {
		t.Errorf("cache: %d graphs, %d nodes", len(e.graphs.entries), e.graphs.nodes)
	}
}

// TestGraphCacheBounded: the cache keeps at most graphCacheNodes nodes,
// dropping the dag looked at least recently.
func TestGraphCacheBounded(t *testing.T) {
	var gc graphCache
	shape := func(n int) func() ([]GraphNode, error) {
		return func() ([]GraphNode, error) { return make([]GraphNode, n), nil }
	}
	for _, uuid := range []string{"a", "b", "c"} {
		if _, err := gc.shape(&store.Run{UUID: uuid}, shape(graphCacheNodes/3)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gc.shape(&store.Run{UUID: "a"}, shape(1)); err != nil { // a looked at again
		t.Fatal(err)
	}
	if _, err := gc.shape(&store.Run{UUID: "d"}, shape(graphCacheNodes/3)); err != nil {
		t.Fatal(err)
	}
	_, a := gc.entries["a"]
	_, b := gc.entries["b"]
	if !a || b || len(gc.entries) != 3 || gc.nodes > graphCacheNodes {
		t.Errorf("after d: a kept %v, b kept %v, %d graphs, %d nodes", a, b, len(gc.entries), gc.nodes)
	}
	if c, err := gc.shape(&store.Run{UUID: "huge"}, shape(graphCacheNodes+1)); err != nil || len(c.shape) != graphCacheNodes+1 || gc.entries["huge"] != nil || len(gc.entries) != 3 {
		t.Errorf("a graph larger than the cache: served %v, cached %v", err, gc.entries["huge"] != nil)
	}
}
