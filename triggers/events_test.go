package triggers

import (
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func TestFilter(t *testing.T) {
	const run = "0123456789abcdef0123456789abcdef"
	f, errs := NewFilter("events", []specs.Event{
		{Kinds: []specs.EventKind{"run_status_succeeded"}, Ref: "components.train"},
		{Kinds: []specs.EventKind{"run_status_running", "run_status_done"}, Ref: "runs." + run},
	}, "proj")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := f.Runs(); len(got) != 1 || got[0] != run {
		t.Errorf("runs %v", got)
	}
	if got := f.Components(); len(got) != 1 || got[0] != "train" {
		t.Errorf("components %v", got)
	}
	for _, c := range []struct {
		ev   Event
		want bool
	}{
		{Event{Run: "x", Component: "train", Project: "proj", Status: "succeeded"}, true},
		{Event{Run: "x", Component: "train", Project: "proj", Status: "failed"}, false},
		{Event{Run: "x", Component: "train", Project: "other", Status: "succeeded"}, false},
		{Event{Run: "x", Component: "eval", Project: "proj", Status: "succeeded"}, false},
		{Event{Run: run, Project: "any", Status: "running"}, true},
		{Event{Run: run, Status: "upstream_failed"}, true},
		{Event{Run: run, Status: "stopping"}, false},
		{Event{Run: run, Status: "succeeded"}, true},
	} {
		if got := f.Match(c.ev); got != c.want {
			t.Errorf("%+v: %v, want %v", c.ev, got, c.want)
		}
	}
}

func TestFilterRefused(t *testing.T) {
	_, errs := NewFilter("events", []specs.Event{
		{Kinds: []specs.EventKind{"run_status_succeeded"}, Ref: "ops.train"},
		{Kinds: []specs.EventKind{"alert_info"}, Ref: "components.train"},
		{Kinds: []specs.EventKind{"run_status_succeeded"}, Ref: "dag"},
	}, "proj")
	got := errs.Error()
	for _, want := range []string{"events[0].ref", "events[1].kinds[0]", "events[2].ref"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q does not name %s", got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	files, err := specs.Parse("sub.yaml", []byte(`version: 1.1
kind: operation
events:
  - {kinds: [run_status_succeeded], ref: components.train}
  - {kinds: [alert_info], ref: components.train}
component: {run: {kind: job, container: {image: x}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	errs := files[0].Locate(Check(files[0]))
	if len(errs) != 1 || !strings.Contains(errs.Error(), "events[1].kinds[0]") || !strings.Contains(errs.Error(), "line 5") {
		t.Errorf("got %v", errs)
	}
}
