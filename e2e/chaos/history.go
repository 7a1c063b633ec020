package chaos

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
)

// History is what a chaos run left: every run in the store and every
// create of a Job the API server answered.
type History struct {
	Runs    map[string]*store.Run
	Creates []cluster.AuditEvent
	// Jobs are the names of the Jobs in the namespace at the end (those of
	// ended runs are kept a day).
	Jobs map[string]bool
}

// Findings are what the history check found; a run is good when every
// list is empty.
type Findings struct {
	Runs, Jobs int
	// NotFinal are runs that had not ended when the run was over (lost).
	NotFinal []string
	// Missing are submitted runs the store does not hold (lost).
	Missing []string
	// Duplicates are Jobs created more than once for one (run, attempt).
	Duplicates []string
	// Unrecorded are attempts a run records with no Job ever created for
	// them (a dispatch lost).
	Unrecorded []string
	// Late are Jobs created after their run had ended, or for an attempt
	// past the run's last.
	Late []string
	// Orphans are Jobs of runs the store does not hold.
	Orphans []string
	// AuditGaps are Jobs that exist with no successful create in the
	// audit log, and what the log says of them: the harness's blind spot,
	// not a loss (the attempt's Job is there), but a duplicate could hide
	// in it.
	AuditGaps []string
	// Fires says what is wrong with the schedule's fires, Events with the
	// subscriptions' runs.
	Fires, Events []string
}

// Lost counts the runs and dispatches lost.
func (f Findings) Lost() int { return len(f.NotFinal) + len(f.Missing) + len(f.Unrecorded) }

// Bad counts everything found wrong.
func (f Findings) Bad() int {
	return f.Lost() + len(f.Duplicates) + len(f.Late) + len(f.Orphans) + len(f.Fires) + len(f.Events)
}

var jobName = regexp.MustCompile(`^plexus-([0-9a-f]{32})-([0-9]+)$`)

// expectations are the workload's runs by role, as submitted.
type expectations struct {
	submitted         []string
	singles           []string
	schedule          string
	fires             int
	every             time.Duration
	singlesSub        string
	scheduleSub       string
	pipeline, sweep   string
	pipelineN, sweepN int
}

// check reads the history against the invariants of DESIGN §4.
func (h *History) check(x expectations) Findings {
	f := Findings{Runs: len(h.Runs)}
	children := map[string][]*store.Run{}
	for _, r := range h.Runs {
		if !r.Status.Final() {
			f.NotFinal = append(f.NotFinal, fmt.Sprintf("%s (%s, %s)", r.UUID, r.Name, r.Status))
		}
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r)
		}
	}
	for _, uuid := range x.submitted {
		if h.Runs[uuid] == nil {
			f.Missing = append(f.Missing, uuid)
		}
	}

	// Jobs: one create per (run, attempt), none after the run ended.
	created := map[string]int{}
	for _, e := range h.Creates {
		if e.ObjectRef.Resource != "jobs" || e.Verb != "create" || !e.Succeeded() {
			continue
		}
		f.Jobs++
		name := e.ObjectRef.Name
		created[name]++
		if created[name] == 2 {
			f.Duplicates = append(f.Duplicates, name)
		}
		m := jobName.FindStringSubmatch(name)
		if m == nil {
			f.Orphans = append(f.Orphans, name+" (not a run's Job name)")
			continue
		}
		r := h.Runs[m[1]]
		attempt, _ := strconv.Atoi(m[2])
		switch {
		case r == nil:
			f.Orphans = append(f.Orphans, name)
		case attempt > r.Attempt:
			f.Late = append(f.Late, fmt.Sprintf("%s: attempt %d of a run whose last is %d", name, attempt, r.Attempt))
		case r.Status.Final() && e.RequestReceived.After(r.UpdatedAt):
			f.Late = append(f.Late, fmt.Sprintf("%s: created at %s, its run ended %s at %s", name, e.RequestReceived.Format(time.RFC3339Nano), r.Status, r.UpdatedAt.Format(time.RFC3339Nano)))
		}
	}
	for _, r := range h.Runs {
		if len(children[r.UUID]) > 0 || r.Status != store.Succeeded && r.Status != store.Failed {
			continue // a parent, or a run that never ran
		}
		for a := 1; a <= r.Attempt; a++ {
			name := fmt.Sprintf("plexus-%s-%d", r.UUID, a)
			switch {
			case created[name] > 0:
			case h.Jobs[name]:
				f.AuditGaps = append(f.AuditGaps, fmt.Sprintf("%s (%s): %s", name, r.Name, h.audited(name)))
			default:
				f.Unrecorded = append(f.Unrecorded, fmt.Sprintf("%s attempt %d (%s, %s: %s; audit: %s)", r.UUID, a, r.Name, r.Status, lastCondition(r), h.audited(name)))
			}
		}
	}

	// The schedule: one fire per nominal time, each interval from the
	// first, none missing.
	var at []time.Time
	for _, c := range children[x.schedule] {
		if c.FireAt != nil {
			at = append(at, *c.FireAt)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	if len(at) != x.fires {
		f.Fires = append(f.Fires, fmt.Sprintf("%d fires, want %d", len(at), x.fires))
	}
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d != x.every {
			f.Fires = append(f.Fires, fmt.Sprintf("fire %d at %s, %v after the one before (want %v)", i, at[i].Format(time.RFC3339), d, x.every))
		}
	}

	// The subscriptions: one run per event, each event delivered once.
	f.Events = append(f.Events, delivered("the singles' subscription", children[x.singlesSub], x.singles)...)
	f.Events = append(f.Events, delivered("the schedule's subscription", children[x.scheduleSub], []string{x.schedule})...)

	if n := len(children[x.pipeline]); n != x.pipelineN {
		f.Missing = append(f.Missing, fmt.Sprintf("the pipeline has %d operations' runs, want %d", n, x.pipelineN))
	}
	if n := len(children[x.sweep]); n != x.sweepN {
		f.Missing = append(f.Missing, fmt.Sprintf("the sweep has %d trials, want %d", n, x.sweepN))
	}
	sort.Strings(f.NotFinal)
	return f
}

// delivered checks that a subscription's runs are one for each run of
// sources, each a final status of it.
func delivered(what string, runs []*store.Run, sources []string) []string {
	var bad []string
	seen := map[string]int{}
	for _, r := range runs {
		ev, _ := r.Params["event"].(map[string]any)
		uuid, _ := ev["uuid"].(string)
		seen[uuid]++
		if seen[uuid] == 2 {
			bad = append(bad, fmt.Sprintf("%s: the event of %s started two runs", what, uuid))
		}
	}
	for _, s := range sources {
		if seen[s] == 0 {
			bad = append(bad, fmt.Sprintf("%s: no run for the end of %s", what, s))
		}
	}
	if len(runs) != len(sources) {
		bad = append(bad, fmt.Sprintf("%s: %d runs, want %d", what, len(runs), len(sources)))
	}
	return bad
}

// lastCondition says why a run is where it is.
func lastCondition(r *store.Run) string {
	if len(r.Conditions) == 0 {
		return "no condition"
	}
	c := r.Conditions[len(r.Conditions)-1]
	return fmt.Sprintf("%s %s: %s", c.Type, c.Reason, c.Message)
}

// audited says what the audit log holds of an object name.
func (h *History) audited(name string) string {
	var said []string
	for _, e := range h.Creates {
		if e.ObjectRef.Name == name {
			said = append(said, fmt.Sprintf("%s %s %d at %s", e.Verb, e.ObjectRef.Resource, e.ResponseStatus.Code, e.RequestReceived.Format("15:04:05.000")))
		}
	}
	if len(said) == 0 {
		return "nothing"
	}
	return strings.Join(said, ", ")
}
