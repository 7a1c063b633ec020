package dag

import (
	"fmt"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// State follows one run of a dag: the status each operation has reached,
// and for each operation not decided yet the counts of its upstreams'
// final statuses, so that an upstream's end decides its downstreams in
// time proportional to their number, whatever their fan-in. It does no
// I/O: the engine tells it what became of each operation and acts on the
// decisions it returns. It is not safe for concurrent use.
type State struct {
	names   []string // in the graph's order
	index   map[string]int
	ups     [][]int       // trigger upstreams: dependencies and param refs
	events  [][]eventEdge // event upstreams
	downs   [][]int       // every downstream, once
	rule    []specs.Trigger
	skipUp  []bool
	status  []Status // "" until the operation has a run
	reached []uint32 // statuses each operation went through, as bits
	cnt     []counts
	decided []bool
	final   int
}

type eventEdge struct {
	up    int
	kinds []specs.EventKind
}

// Change is a decision about an operation that had none: Ready to start
// it, Skip or Unmet to end it as skipped or upstream_failed without
// running it. State records the status of a skipped or upstream_failed
// operation itself, and decides what follows from it.
type Change struct {
	Node     string
	Decision Decision
	// Reason says why an operation is not run.
	Reason string
}

// NewState returns the state of a dag not started yet: g must have been
// built from d.
func NewState(g *Graph, d *specs.DAG) *State {
	n := g.Len()
	s := &State{names: g.Order(), index: make(map[string]int, n),
		ups: make([][]int, n), events: make([][]eventEdge, n), downs: make([][]int, n),
		rule: make([]specs.Trigger, n), skipUp: make([]bool, n), status: make([]Status, n),
		reached: make([]uint32, n), cnt: make([]counts, n), decided: make([]bool, n)}
	for i, name := range s.names {
		s.index[name] = i
	}
	for k := range d.Operations {
		op := &d.Operations[k]
		i, ok := s.index[op.Name]
		if !ok {
			continue
		}
		s.rule[i], s.skipUp[i] = op.Trigger, op.SkipOnUpstreamSkip != nil && *op.SkipOnUpstreamSkip
		kinds := map[string][]specs.EventKind{}
		for _, e := range op.Events {
			if up, ok := strings.CutPrefix(e.Ref, "ops."); ok {
				kinds[up] = append(kinds[up], e.Kinds...)
			}
		}
		for _, up := range g.Upstream(op.Name) {
			u := s.index[up]
			s.downs[u] = append(s.downs[u], i)
			if ks, ok := kinds[up]; ok {
				s.events[i] = append(s.events[i], eventEdge{up: u, kinds: ks})
			} else {
				s.ups[i] = append(s.ups[i], u)
			}
		}
	}
	return s
}

// Len is the number of operations.
func (s *State) Len() int { return len(s.names) }

// Names returns the operations in the graph's order.
func (s *State) Names() []string { return s.names }

// Status is the status an operation has reached ("" before it has a
// run).
func (s *State) Status(node string) Status {
	if i, ok := s.index[node]; ok {
		return s.status[i]
	}
	return ""
}

// Decided says whether an operation was decided (or has a run).
func (s *State) Decided(node string) bool {
	i, ok := s.index[node]
	return ok && s.decided[i]
}

// Done says whether every operation has a final status.
func (s *State) Done() bool { return s.final == len(s.names) }

// Start decides the operations without upstreams: they are ready.
func (s *State) Start() []Change {
	var out []Change
	for i := range s.names {
		if !s.decided[i] && len(s.ups[i]) == 0 && len(s.events[i]) == 0 {
			s.decided[i] = true
			out = append(out, Change{Node: s.names[i], Decision: Ready})
		}
	}
	return out
}

// Observe records the status an operation's run reached, and the
// statuses it went through on the way (what its events edges read), and
// returns what that decides downstream, skips and unmet triggers followed
// through. An unknown operation, or a status it had already, changes
// nothing.
func (s *State) Observe(node string, st Status, through ...Status) []Change {
	i, ok := s.index[node]
	if !ok || s.status[i] == st || s.status[i].Final() {
		return nil
	}
	for _, t := range through {
		s.reached[i] |= statusBit(t)
	}
	var out []Change
	s.set(i, st, &out)
	return out
}

// set records status st of operation i and decides its downstreams.
func (s *State) set(i int, st Status, out *[]Change) {
	s.decided[i] = true
	s.status[i] = st
	s.reached[i] |= statusBit(st)
	if st.Final() {
		s.final++
		for _, d := range s.downs[i] {
			if s.isTriggerUp(d, i) {
				s.cnt[d].add(st)
			}
		}
	}
	for _, d := range s.downs[i] {
		if s.decided[d] {
			continue
		}
		dec, why := s.evaluate(d)
		if dec == Wait {
			continue
		}
		s.decided[d] = true
		*out = append(*out, Change{Node: s.names[d], Decision: dec, Reason: why})
		switch dec {
		case Skip:
			s.set(d, Skipped, out)
		case Unmet:
			s.set(d, UpstreamFailed, out)
		}
	}
}

func (s *State) isTriggerUp(d, u int) bool {
	for _, e := range s.events[d] {
		if e.up == u {
			return false
		}
	}
	return true
}

// evaluate decides operation d from its upstreams now.
func (s *State) evaluate(d int) (Decision, string) {
	trig := Ready
	if len(s.ups[d]) > 0 {
		trig = decide(s.rule[d], s.skipUp[d], len(s.ups[d]), s.cnt[d])
	}
	switch trig {
	case Skip:
		return Skip, "an upstream operation was skipped (skipOnUpstreamSkip)"
	case Unmet:
		rule := s.rule[d]
		if rule == "" {
			rule = specs.TriggerAllSucceeded
		}
		c := s.cnt[d]
		return Unmet, fmt.Sprintf("trigger %s cannot be met: of %d upstream operations %d succeeded, %d failed, %d skipped, %d other (%s)",
			rule, len(s.ups[d]), c.succeeded, c.failed, c.skipped, c.done-c.succeeded-c.failed-c.skipped, s.upstreamSummary(d))
	}
	for _, e := range s.events[d] {
		switch eventMask(e.kinds, s.reached[e.up], s.status[e.up].Final()) {
		case Unmet:
			return Unmet, fmt.Sprintf("%s ended %s without reaching %s", s.names[e.up], s.status[e.up], kindList(e.kinds))
		case Wait:
			trig = Wait
		}
	}
	return trig, ""
}

// upstreamSummary names up to three upstreams that did not succeed.
func (s *State) upstreamSummary(d int) string {
	var parts []string
	for _, u := range s.ups[d] {
		if st := s.status[u]; st.Final() && st != Succeeded {
			if len(parts) == 3 {
				parts = append(parts, "...")
				break
			}
			parts = append(parts, s.names[u]+" "+string(st))
		}
	}
	if len(parts) == 0 {
		return "none ended otherwise"
	}
	return strings.Join(parts, ", ")
}

func kindList(kinds []specs.EventKind) string {
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = string(k)
	}
	return strings.Join(parts, " or ")
}

// Counts returns how many operations are in each status ("" for those
// without a run).
func (s *State) Counts() map[Status]int {
	out := map[Status]int{}
	for _, st := range s.status {
		out[st]++
	}
	return out
}

// Final is the dag's own status once it ended (see the package function
// Final).
func (s *State) Final(stopped bool) Status { return Final(stopped, s.status) }

// statuses are the run statuses an event kind can name, each with a bit.
var statuses = []Status{"created", "resuming", "on_schedule", "compiled", "queued", "scheduled", "starting",
	"running", "processing", "stopping", "failed", "stopped", "succeeded", "skipped", "warning", "unschedulable",
	"upstream_failed", "retrying", "unknown"}

func statusBit(s Status) uint32 {
	for i, v := range statuses {
		if v == s {
			return 1 << i
		}
	}
	return 0
}

// eventMask is Event over the set of statuses an upstream went through.
func eventMask(kinds []specs.EventKind, reached uint32, ended bool) Decision {
	for _, k := range kinds {
		want, ok := strings.CutPrefix(string(k), "run_status_")
		if !ok {
			continue // not a run status event: never met by a status
		}
		if want == "done" && ended || reached&statusBit(Status(want)) != 0 {
			return Ready
		}
	}
	if ended {
		return Unmet
	}
	return Wait
}
