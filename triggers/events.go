package triggers

import (
	"slices"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// Event is a run's status change, as a subscription's filter reads it.
type Event struct {
	Run, Component, Project string
	// Status is the run's new status (succeeded, running, ...).
	Status string
}

// Filter is what an operation submitted on its own with `events`
// listens to: each of its events names runs (`runs.<uuid>`, or
// `components.<name>`: every run of that component in the subscription's
// project) and the statuses (`run_status_<status>`; `run_status_done`:
// any final status) it starts a run on. It is immutable.
type Filter struct {
	project string
	entries []filterEntry
}

type filterEntry struct {
	run, component string
	statuses       []string
	done           bool
}

// NewFilter reads the events of an operation submitted on its own in
// project, at path at. A ref a subscription cannot follow (`ops.<name>`
// or `dag`, which only a dag's operations have) or a kind that is not a
// run's status is an error naming its path.
func NewFilter(at specs.Path, events []specs.Event, project string) (*Filter, specs.ErrorList) {
	f := &Filter{project: project}
	var errs specs.ErrorList
	for i, e := range events {
		p := at.Index(i)
		var en filterEntry
		switch {
		case strings.HasPrefix(e.Ref, "runs."):
			en.run = strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(e.Ref, "runs.")), "-", "")
		case strings.HasPrefix(e.Ref, "components.") && len(e.Ref) > len("components."):
			en.component = strings.TrimPrefix(e.Ref, "components.")
		case e.Ref == "dag" || strings.HasPrefix(e.Ref, "ops."):
			errs = append(errs, specs.Invalidf(p.Child("ref"), e.Ref, "%s refers to a dag; an operation submitted on its own subscribes to runs.<uuid> or components.<name>", e.Ref))
			continue
		default:
			errs = append(errs, specs.Invalidf(p.Child("ref"), e.Ref, "an operation submitted on its own subscribes to runs.<uuid> or components.<name>, got %q", e.Ref))
			continue
		}
		for j, k := range e.Kinds {
			status, ok := strings.CutPrefix(string(k), "run_status_")
			switch {
			case !ok:
				errs = append(errs, specs.Invalidf(p.Child("kinds").Index(j), k, "only a run's status events (run_status_*) start runs; %s is not delivered by this engine", k))
			case status == "done":
				en.done = true
			default:
				en.statuses = append(en.statuses, status)
			}
		}
		f.entries = append(f.entries, en)
	}
	return f, errs
}

// Runs are the run uuids the filter names.
func (f *Filter) Runs() []string {
	var out []string
	for _, e := range f.entries {
		if e.run != "" && !slices.Contains(out, e.run) {
			out = append(out, e.run)
		}
	}
	return out
}

// Components are the component names the filter names.
func (f *Filter) Components() []string {
	var out []string
	for _, e := range f.entries {
		if e.component != "" && !slices.Contains(out, e.component) {
			out = append(out, e.component)
		}
	}
	return out
}

// Match says whether the filter starts a run on ev.
func (f *Filter) Match(ev Event) bool {
	for _, e := range f.entries {
		if e.run != "" && e.run != ev.Run || e.component != "" && (e.component != ev.Component || ev.Project != f.project) {
			continue
		}
		if slices.Contains(e.statuses, ev.Status) || e.done && slices.Contains(finalStatuses, ev.Status) {
			return true
		}
	}
	return false
}
