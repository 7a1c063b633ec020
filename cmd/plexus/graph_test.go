package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

func TestPrintGraph(t *testing.T) {
	// prepare ─┬─ split ─┬─ inner (a dag) ── report
	//          │         └─ train
	//          └─ alert (one_failed), and join ← train, inner, prepare
	top := &engine.Graph{Run: &store.Run{UUID: "d0", Name: "pipe", Status: store.Failed, Attempt: 2}, Nodes: []engine.GraphNode{
		{Name: "prepare", Run: "r1", Status: store.Succeeded},
		{Name: "split", Upstream: []string{"prepare"}, Run: "r2", Status: store.Succeeded},
		{Name: "inner", Upstream: []string{"split"}, Run: "r3", Status: store.Failed, Pipeline: true},
		{Name: "train", Upstream: []string{"split"}, Run: "r4", Status: store.Running},
		{Name: "alert", Upstream: []string{"prepare"}, Trigger: "one_failed", Run: "r5", Status: store.Skipped},
		{Name: "report", Upstream: []string{"inner"}, Run: "r6", Status: store.UpstreamFailed},
		{Name: "join", Upstream: []string{"train", "inner", "prepare"}},
		{Name: "never", Pipeline: true},
	}}
	inner := &engine.Graph{Run: &store.Run{UUID: "r3"}, Nodes: []engine.GraphNode{
		{Name: "a", Run: "r7", Status: store.Succeeded},
		{Name: "b", Upstream: []string{"a"}, Run: "r8", Status: store.Failed},
		{Name: "c", Upstream: []string{"a", "b"}},
	}}
	graphOf := func(_ context.Context, uuid string) (*engine.Graph, error) {
		if uuid == "r3" {
			return inner, nil
		}
		return nil, errors.New("no graph of " + uuid)
	}
	var out bytes.Buffer
	if err := printGraph(t.Context(), &out, top, graphOf); err != nil {
		t.Fatal(err)
	}
	want := `dag pipe (d0): failed, attempt 2, 8 operations
NODE                 STATUS             RUN  UPSTREAM
prepare              ✓ succeeded        r1
├─ split             ✓ succeeded        r2
│  ├─ inner          ✗ failed           r3
│  │  │  inner/a     ✓ succeeded        r7
│  │  │  └─ inner/b  ✗ failed           r8
│  │  │  inner/c     - not run          -    ← inner/a, inner/b
│  │  └─ report      ✗ upstream_failed  r6
│  └─ train          ● running          r4
└─ alert             ○ skipped          r5   (trigger one_failed)
join                 - not run          -    ← train, inner, prepare
never                - not run          -
`
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	top.Nodes[2].Run = "r9" // a nested dag whose graph cannot be read
	if err := printGraph(t.Context(), &out, top, graphOf); err == nil || !strings.Contains(err.Error(), "reading the dag of operation inner: no graph of r9") {
		t.Errorf("got %v", err)
	}
}
