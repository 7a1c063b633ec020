package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

func TestCurrentRuns(t *testing.T) {
	children := []*store.Run{
		{UUID: "prep1", Node: "prepare", ParentAttempt: 1, Status: store.Succeeded},
		{UUID: "train1", Node: "train", ParentAttempt: 1, Status: store.Failed},
		{UUID: "eval1", Node: "evaluate", ParentAttempt: 1, Status: store.UpstreamFailed},
		{UUID: "train2", Node: "train", ParentAttempt: 2, Status: store.Running},
		{UUID: "skip1", Node: "alert", ParentAttempt: 1, Status: store.Skipped},
		{UUID: "late3", Node: "train", ParentAttempt: 3, Status: store.Created},
		{UUID: "other", Status: store.Succeeded}, // not a dag's operation
	}
	for attempt, want := range map[int]map[string]string{
		1: {"prepare": "prep1", "train": "train1", "evaluate": "eval1", "alert": "skip1"},
		// A resume keeps what succeeded; the rest has no run until it runs again.
		2: {"prepare": "prep1", "train": "train2"},
	} {
		got := engine.CurrentChildren(children, attempt)
		if len(got) != len(want) {
			t.Errorf("attempt %d: %d runs, want %d", attempt, len(got), len(want))
		}
		for node, uuid := range want {
			if got[node] == nil || got[node].UUID != uuid {
				t.Errorf("attempt %d: %s has %+v, want %s", attempt, node, got[node], uuid)
			}
		}
	}
}

func TestProgress(t *testing.T) {
	g := &engine.Graph{Nodes: []engine.GraphNode{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "e"}}}
	v := &dagView{graph: g, run: &store.Run{Name: "pipe", Status: store.Running}, nodes: map[string]*store.Run{
		"a": {Status: store.Succeeded}, "b": {Status: store.Running}, "c": {Status: store.Succeeded}, "d": {Status: store.Failed},
	}}
	if got, want := progress(v), "dag pipe: 3/5 done (2 succeeded, 1 failed, 1 running, 1 waiting)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	v.run.Status, v.nodes["b"] = store.Stopped, &store.Run{Status: store.Stopped}
	v.path = "outer/inner"
	if got, want := progress(v), "dag outer/inner: 4/5 done (2 succeeded, 1 failed, 1 stopped, 1 not run)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRunDuration(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s store.Status, d time.Duration) store.Condition {
		return store.Condition{Type: s, Time: t0.Add(d)}
	}
	for name, tc := range map[string]struct {
		conds []store.Condition
		want  string
	}{
		"short":     {[]store.Condition{at(store.Created, 0), at(store.Scheduled, time.Second), at(store.Running, 2*time.Second), at(store.Succeeded, 2345*time.Millisecond)}, "1.35s"},
		"long":      {[]store.Condition{at(store.Running, 0), at(store.Failed, 95*time.Second+400*time.Millisecond)}, "1m35s"},
		"never ran": {[]store.Condition{at(store.Created, 0), at(store.UpstreamFailed, time.Second)}, "-"},
		"running":   {[]store.Condition{at(store.Running, 0)}, "-"},
	} {
		if got := runDuration(&store.Run{Conditions: tc.conds}); got != tc.want {
			t.Errorf("%s: got %s, want %s", name, got, tc.want)
		}
	}
}

func TestCopyLines(t *testing.T) {
	var logs bytes.Buffer
	c := &console{logs: &logs}
	if err := c.copyLines("train", strings.NewReader("epoch 1\nepoch 2\nno newline")); err != nil {
		t.Fatal(err)
	}
	if err := c.copyLines("", strings.NewReader("as it is\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := logs.String(), "[train] epoch 1\n[train] epoch 2\n[train] no newline\nas it is\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSummaryOfALargeDag(t *testing.T) {
	g := &engine.Graph{}
	v := &dagView{graph: g, run: &store.Run{UUID: "d0", Status: store.Failed}, nodes: map[string]*store.Run{}}
	for i := range 150 {
		name := fmt.Sprintf("op-%03d", i)
		g.Nodes = append(g.Nodes, engine.GraphNode{Name: name})
		switch {
		case i == 7:
			v.nodes[name] = &store.Run{UUID: "r7", Status: store.Failed}
		case i < 140:
			v.nodes[name] = &store.Run{UUID: "r", Status: store.Succeeded}
		}
	}
	var out bytes.Buffer
	if err := printSummary(&out, v); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 13 || lines[1] != "op-007  failed   -         r7" || lines[2] != "op-140  not run  -         -" {
		t.Fatalf("the summary lists what did not succeed:\n%s", out.String())
	}
	if want := "139 more operations not listed, 139 of them succeeded: plexus ops ls --parent d0 lists their runs"; lines[12] != want {
		t.Errorf("last line %q, want %q", lines[12], want)
	}
}
