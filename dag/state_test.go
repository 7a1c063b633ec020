package dag

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// Statuses a run goes through before it ends; the final ones are the
// package's constants.
const (
	stQueued  Status = "queued"
	stRunning Status = "running"
)

// opt sets one field of an operation built by op.
type opt func(*specs.Operation)

// op is an operation of a test dag.
func op(name string, opts ...opt) specs.Operation {
	o := specs.Operation{Base: specs.Base{Name: name}}
	for _, f := range opts {
		f(&o)
	}
	return o
}

func deps(names ...string) opt {
	return func(o *specs.Operation) { o.Dependencies = append(o.Dependencies, names...) }
}

func trigger(t specs.Trigger) opt { return func(o *specs.Operation) { o.Trigger = t } }

func skipOnSkip(b bool) opt { return func(o *specs.Operation) { o.SkipOnUpstreamSkip = &b } }

// on draws an events edge from up: the operation may start once up went
// through one of the kinds.
func on(up string, kinds ...specs.EventKind) opt {
	return func(o *specs.Operation) {
		o.Events = append(o.Events, specs.Event{Ref: "ops." + up, Kinds: kinds})
	}
}

// newState builds the graph of ops and a state over it.
func newState(tb testing.TB, ops ...specs.Operation) (*State, *Graph, *specs.DAG) {
	tb.Helper()
	d := &specs.DAG{Kind: "dag", Operations: ops}
	g, err := Build(specs.Path("run"), d)
	if err != nil {
		tb.Fatal(err)
	}
	return NewState(g, d), g, d
}

// stateStep is one call on a State: Start when node is empty, else
// Observe(node, status, through...). want is the changes it must return,
// in any order; a wanted Reason is a text the returned reason must
// contain (a Ready must have no reason, a Skip or Unmet must have one).
type stateStep struct {
	node    string
	status  Status
	through []Status
	want    []Change
}

func start(want ...Change) stateStep { return stateStep{want: want} }

func observe(node string, st Status, through []Status, want ...Change) stateStep {
	return stateStep{node: node, status: st, through: through, want: want}
}

func ready(node string) Change { return Change{Node: node, Decision: Ready} }

func skip(node, reason string) Change { return Change{Node: node, Decision: Skip, Reason: reason} }

func unmet(node, reason string) Change { return Change{Node: node, Decision: Unmet, Reason: reason} }

func TestState(t *testing.T) {
	const (
		running = "run_status_running"
		done    = "run_status_done"
	)
	for _, tc := range []struct {
		name  string
		ops   []specs.Operation
		steps []stateStep
		// final is every operation's status at the end ("" if it never
		// had a run), and dag the dag's own status, Final(false).
		final map[string]Status
		dag   Status
	}{
		{
			name: "diamond all succeed: d waits for both b and c",
			ops:  []specs.Operation{op("a"), op("b", deps("a")), op("c", deps("a")), op("d", deps("b", "c"))},
			steps: []stateStep{
				start(ready("a")),
				observe("a", stRunning, nil),
				observe("a", Succeeded, nil, ready("b"), ready("c")),
				observe("b", stRunning, nil),
				observe("b", Succeeded, nil),
				observe("c", Succeeded, []Status{stQueued, stRunning}, ready("d")),
				observe("d", Succeeded, nil),
			},
			final: map[string]Status{"a": Succeeded, "b": Succeeded, "c": Succeeded, "d": Succeeded},
			dag:   Succeeded,
		},
		{
			name: "a failure cascades upstream_failed down a chain",
			ops:  []specs.Operation{op("a"), op("b", deps("a")), op("c", deps("b"))},
			steps: []stateStep{
				start(ready("a")),
				observe("a", Failed, nil,
					unmet("b", "trigger all_succeeded cannot be met"), unmet("c", "trigger all_succeeded cannot be met")),
			},
			final: map[string]Status{"a": Failed, "b": UpstreamFailed, "c": UpstreamFailed},
			dag:   Failed,
		},
		{
			name: "upstream_failed reason names the upstreams that did not succeed",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("a", Succeeded, nil),
				observe("b", Stopped, nil, unmet("c", "b stopped")),
			},
			final: map[string]Status{"a": Succeeded, "b": Stopped, "c": UpstreamFailed},
			dag:   Succeeded,
		},
		{
			name: "all_succeeded waits for every upstream even after one failed",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("a", Failed, nil),
				observe("b", Succeeded, nil, unmet("c", "1 succeeded, 1 failed")),
			},
			final: map[string]Status{"a": Failed, "b": Succeeded, "c": UpstreamFailed},
			dag:   Failed,
		},
		{
			name: "one_failed alert branch fires when train fails",
			ops:  []specs.Operation{op("train"), op("alert", deps("train"), trigger(specs.TriggerOneFailed))},
			steps: []stateStep{
				start(ready("train")),
				observe("train", Failed, []Status{stRunning}, ready("alert")),
				observe("alert", Succeeded, nil),
			},
			final: map[string]Status{"train": Failed, "alert": Succeeded},
			dag:   Failed,
		},
		{
			name: "one_failed alert branch is upstream_failed when train succeeds, and the dag succeeds",
			ops:  []specs.Operation{op("train"), op("alert", deps("train"), trigger(specs.TriggerOneFailed))},
			steps: []stateStep{
				start(ready("train")),
				observe("train", Succeeded, []Status{stRunning}, unmet("alert", "trigger one_failed")),
			},
			final: map[string]Status{"train": Succeeded, "alert": UpstreamFailed},
			dag:   Succeeded,
		},
		{
			name: "all_done starts once every upstream ended, whatever the ending",
			ops:  []specs.Operation{op("a"), op("b"), op("c"), op("end", deps("a", "b", "c"), trigger(specs.TriggerAllDone))},
			steps: []stateStep{
				start(ready("a"), ready("b"), ready("c")),
				observe("a", Failed, nil),
				observe("b", Skipped, nil),
				observe("c", stRunning, nil),
				observe("c", Stopped, nil, ready("end")),
				observe("end", Succeeded, nil),
			},
			final: map[string]Status{"a": Failed, "b": Skipped, "c": Stopped, "end": Succeeded},
			dag:   Failed,
		},
		{
			name: "one_succeeded starts at the first success and ignores later failures",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"), trigger(specs.TriggerOneSucceeded))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("a", Succeeded, nil, ready("c")),
				observe("b", Failed, nil),
				observe("c", Succeeded, nil),
			},
			final: map[string]Status{"a": Succeeded, "b": Failed, "c": Succeeded},
			dag:   Failed,
		},
		{
			name: "one_succeeded is decided by the first upstream done: a failure first is unmet",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"), trigger(specs.TriggerOneSucceeded))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("a", Failed, nil, unmet("c", "trigger one_succeeded")),
				observe("b", Succeeded, nil),
			},
			final: map[string]Status{"a": Failed, "b": Succeeded, "c": UpstreamFailed},
			dag:   Failed,
		},
		{
			name: "one_done starts at the first upstream done",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"), trigger(specs.TriggerOneDone))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("a", Stopped, nil, ready("c")),
				observe("c", Succeeded, nil),
				observe("b", Succeeded, nil),
			},
			final: map[string]Status{"a": Stopped, "b": Succeeded, "c": Succeeded},
			dag:   Succeeded,
		},
		{
			name: "all_failed starts only when every upstream failed",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"), trigger(specs.TriggerAllFailed))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("a", Failed, nil),
				observe("b", Failed, nil, ready("c")),
				observe("c", Succeeded, nil),
			},
			final: map[string]Status{"a": Failed, "b": Failed, "c": Succeeded},
			dag:   Failed,
		},
		{
			name: "skipOnUpstreamSkip cascades skipped, and its first follower without it is upstream_failed",
			ops: []specs.Operation{op("a"), op("b", deps("a"), skipOnSkip(true)),
				op("c", deps("b"), skipOnSkip(true), trigger(specs.TriggerOneDone)), op("d", deps("c"))},
			steps: []stateStep{
				start(ready("a")),
				observe("a", Skipped, nil,
					skip("b", "skipOnUpstreamSkip"), skip("c", "skipOnUpstreamSkip"), unmet("d", "1 skipped")),
			},
			final: map[string]Status{"a": Skipped, "b": Skipped, "c": Skipped, "d": UpstreamFailed},
			dag:   Succeeded,
		},
		{
			name: "skipOnUpstreamSkip skips at once, without waiting for the other upstreams",
			ops:  []specs.Operation{op("a"), op("b"), op("c", deps("a", "b"), skipOnSkip(true))},
			steps: []stateStep{
				start(ready("a"), ready("b")),
				observe("b", Skipped, nil, skip("c", "skipped")),
				observe("a", Succeeded, nil),
			},
			final: map[string]Status{"a": Succeeded, "b": Skipped, "c": Skipped},
			dag:   Succeeded,
		},
		{
			name: "without skipOnUpstreamSkip a skipped upstream is not a success under all_succeeded",
			ops:  []specs.Operation{op("a"), op("b", deps("a")), op("c", deps("a"), skipOnSkip(false))},
			steps: []stateStep{
				start(ready("a")),
				observe("a", Skipped, nil,
					unmet("b", "trigger all_succeeded cannot be met"), unmet("c", "a skipped")),
			},
			final: map[string]Status{"a": Skipped, "b": UpstreamFailed, "c": UpstreamFailed},
			dag:   Succeeded,
		},
		{
			name: "events: a board starts when train is running, before it ends",
			ops:  []specs.Operation{op("train"), op("board", on("train", running))},
			steps: []stateStep{
				start(ready("train")),
				observe("train", stQueued, nil),
				observe("train", stRunning, nil, ready("board")),
				observe("board", stRunning, nil),
				observe("train", Succeeded, nil),
				observe("board", Stopped, nil),
			},
			final: map[string]Status{"train": Succeeded, "board": Stopped},
			dag:   Succeeded,
		},
		{
			name: "events: running passed on the way to the end still starts the board",
			ops:  []specs.Operation{op("train"), op("board", on("train", running))},
			steps: []stateStep{
				start(ready("train")),
				observe("train", Succeeded, []Status{stQueued, stRunning}, ready("board")),
				observe("board", Succeeded, nil),
			},
			final: map[string]Status{"train": Succeeded, "board": Succeeded},
			dag:   Succeeded,
		},
		{
			name: "events: train ending without ever running leaves the board unmet",
			ops:  []specs.Operation{op("train"), op("board", on("train", running)), op("after", deps("board"))},
			steps: []stateStep{
				start(ready("train")),
				observe("train", Failed, []Status{stQueued},
					unmet("board", "train ended failed without reaching run_status_running"),
					unmet("after", "trigger all_succeeded")),
			},
			final: map[string]Status{"train": Failed, "board": UpstreamFailed, "after": UpstreamFailed},
			dag:   Failed,
		},
		{
			name: "events: an event edge does not count for the trigger rule, and both must be met",
			ops: []specs.Operation{op("prep"), op("train"),
				op("board", deps("prep"), on("train", running))},
			steps: []stateStep{
				start(ready("prep"), ready("train")),
				observe("train", stRunning, nil), // the event is met, prep is not done
				observe("prep", Succeeded, nil, ready("board")),
				observe("train", Failed, nil),
				observe("board", Succeeded, nil),
			},
			final: map[string]Status{"prep": Succeeded, "train": Failed, "board": Succeeded},
			dag:   Failed,
		},
		{
			name: "events: run_status_done is met by any ending",
			ops:  []specs.Operation{op("a"), op("b", on("a", done))},
			steps: []stateStep{
				start(ready("a")),
				observe("a", stRunning, nil),
				observe("a", UpstreamFailed, nil, ready("b")),
				observe("b", Succeeded, nil),
			},
			final: map[string]Status{"a": UpstreamFailed, "b": Succeeded},
			dag:   Succeeded,
		},
		{
			name: "repeats, unknown operations and statuses after the end change nothing",
			ops:  []specs.Operation{op("a"), op("b", deps("a"))},
			steps: []stateStep{
				start(ready("a")),
				start(),
				observe("a", stRunning, nil),
				observe("a", stRunning, nil),
				observe("nope", Succeeded, nil),
				observe("a", Succeeded, nil, ready("b")),
				observe("a", Succeeded, nil),
				observe("a", Failed, nil), // a final status is never overwritten
				observe("b", Succeeded, nil),
				observe("b", stRunning, nil),
			},
			final: map[string]Status{"a": Succeeded, "b": Succeeded},
			dag:   Succeeded,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newState(t, tc.ops...)
			for k, step := range tc.steps {
				var got []Change
				call := "Start()"
				if step.node == "" {
					got = s.Start()
				} else {
					call = fmt.Sprintf("step %d: Observe(%s, %s, %v)", k, step.node, step.status, step.through)
					got = s.Observe(step.node, step.status, step.through...)
				}
				checkChanges(t, call, got, step.want)
				for _, c := range got {
					if !s.Decided(c.Node) {
						t.Errorf("%s: %s reported %s but Decided is false", call, c.Node, c.Decision)
					}
				}
				// Done is true exactly when every operation is final.
				all := true
				for _, n := range s.Names() {
					all = all && s.Status(n).Final()
				}
				if s.Done() != all {
					t.Errorf("%s: Done() = %v, want %v (%v)", call, s.Done(), all, s.Counts())
				}
			}
			tally := map[Status]int{}
			for _, n := range s.Names() {
				want := tc.final[n]
				tally[want]++
				if got := s.Status(n); got != want {
					t.Errorf("Status(%s) = %q, want %q", n, got, want)
				}
			}
			if got := s.Counts(); fmt.Sprint(got) != fmt.Sprint(tally) {
				t.Errorf("Counts() = %v, want %v", got, tally)
			}
			if !s.Done() {
				t.Errorf("Done() = false at the end, want true")
			}
			if got := s.Final(false); got != tc.dag {
				t.Errorf("Final(false) = %s, want %s", got, tc.dag)
			}
			if got := s.Final(true); got != Stopped {
				t.Errorf("Final(true) = %s, want %s", got, Stopped)
			}
		})
	}
}

// checkChanges compares the changes a call returned with those wanted, in
// any order: a wanted reason is a text the returned one must contain.
func checkChanges(t *testing.T, call string, got, want []Change) {
	t.Helper()
	byNode := func(a, b Change) int { return strings.Compare(a.Node, b.Node) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortStableFunc(got, byNode)
	slices.SortStableFunc(want, byNode)
	if len(got) != len(want) {
		t.Errorf("%s = %v, want %v", call, got, want)
		return
	}
	for i := range got {
		g, w := got[i], want[i]
		switch {
		case g.Node != w.Node || g.Decision != w.Decision:
			t.Errorf("%s = %v, want %v", call, got, want)
			return
		case g.Decision == Ready && g.Reason != "":
			t.Errorf("%s: %s is ready with reason %q, want none", call, g.Node, g.Reason)
		case g.Decision != Ready && !strings.Contains(g.Reason, w.Reason):
			t.Errorf("%s: %s reason %q, want one containing %q", call, g.Node, g.Reason, w.Reason)
		case g.Decision != Ready && g.Reason == "":
			t.Errorf("%s: %s is %s without a reason", call, g.Node, g.Decision)
		}
	}
}

// TestStateDone: Done turns true only once every operation is final,
// whether it ran or State ended it.
func TestStateDone(t *testing.T) {
	s, _, _ := newState(t, op("a"), op("b", deps("a")), op("c", deps("a"), trigger(specs.TriggerOneFailed)))
	for _, step := range []struct {
		call func() []Change
		name string
		want bool
	}{
		{s.Start, "Start", false},
		{func() []Change { return s.Observe("a", stRunning) }, "a running", false},
		{func() []Change { return s.Observe("a", Succeeded) }, "a succeeded (c upstream_failed)", false},
		{func() []Change { return s.Observe("b", stRunning) }, "b running", false},
		{func() []Change { return s.Observe("b", Succeeded) }, "b succeeded", true},
	} {
		step.call()
		if got := s.Done(); got != step.want {
			t.Errorf("after %s: Done() = %v, want %v", step.name, got, step.want)
		}
	}
	// A cascade that ends everything makes the state done at once.
	s, _, _ = newState(t, op("a"), op("b", deps("a")), op("c", deps("b")))
	s.Start()
	if s.Done() {
		t.Errorf("Done() = true before anything ended")
	}
	s.Observe("a", Failed)
	if !s.Done() {
		t.Errorf("Done() = false after a failed and b, c became upstream_failed; counts %v", s.Counts())
	}
}

// simOp is what the property test knows of one operation, independently
// of State: its rule, and which upstreams are trigger or event edges.
type simOp struct {
	rule   specs.Trigger
	skip   bool
	trig   []string
	events map[string][]specs.EventKind
}

// oracle decides an operation from its upstreams' statuses and histories:
// the trigger rule over the trigger upstreams (Decide), then every event
// edge (Event) must be met; a skip or an unmet edge ends it.
func oracle(o simOp, status map[string]Status, history map[string][]Status) Decision {
	var ups []Status
	for _, u := range o.trig {
		ups = append(ups, status[u])
	}
	dec := Decide(o.rule, o.skip, ups)
	if dec == Skip || dec == Unmet {
		return dec
	}
	for u, kinds := range o.events {
		switch Event(kinds, history[u]) {
		case Unmet:
			return Unmet
		case Wait:
			dec = Wait
		}
	}
	return dec
}

// TestStateProperty runs random dags through a simulated engine and checks
// every decision State makes against Decide and Event computed from the
// statuses of the graph's upstreams at that moment.
func TestStateProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	rules := append([]specs.Trigger{""}, specs.Triggers...)
	eventKinds := []specs.EventKind{"run_status_running", "run_status_succeeded", "run_status_failed",
		"run_status_done", "run_status_skipped", "run_status_upstream_failed", "run_status_queued"}
	for trial := range 300 {
		n := 1 + r.IntN(40)
		density := 1 + r.IntN(6) // an edge from each earlier operation with chance 1/density
		ops := make([]specs.Operation, n)
		for i := range n {
			o := op(fmt.Sprintf("o%d", i), trigger(rules[r.IntN(len(rules))]))
			if c := r.IntN(3); c > 0 {
				skipOnSkip(c == 2)(&o)
			}
			for j := range i {
				if r.IntN(density) != 0 {
					continue
				}
				up := fmt.Sprintf("o%d", j)
				if r.IntN(6) == 0 {
					kinds := []specs.EventKind{eventKinds[r.IntN(len(eventKinds))]}
					if r.IntN(3) == 0 {
						kinds = append(kinds, eventKinds[r.IntN(len(eventKinds))])
					}
					on(up, kinds...)(&o)
				} else {
					deps(up)(&o)
				}
			}
			ops[i] = o
		}
		r.Shuffle(n, func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		s, g, d := newState(t, ops...)
		if fail := runSim(r, s, g, d); fail != "" {
			t.Fatalf("trial %d (%d operations): %s", trial, n, fail)
		}
	}
}

// simEnds are the statuses the simulated engine ends a run with, success
// the likeliest.
var simEnds = []Status{Succeeded, Succeeded, Succeeded, Failed, Skipped, Stopped}

// runSim plays an engine over s until nothing is left to run, and returns
// the first broken invariant ("" if none).
func runSim(r *rand.Rand, s *State, g *Graph, d *specs.DAG) string {
	sims := map[string]simOp{}
	for _, o := range d.Operations {
		so := simOp{rule: o.Trigger, skip: o.SkipOnUpstreamSkip != nil && *o.SkipOnUpstreamSkip, events: map[string][]specs.EventKind{}}
		for _, e := range o.Events {
			up := strings.TrimPrefix(e.Ref, "ops.")
			so.events[up] = append(so.events[up], e.Kinds...)
		}
		for _, up := range g.Upstream(o.Name) {
			if _, ev := so.events[up]; !ev {
				so.trig = append(so.trig, up)
			}
		}
		sims[o.Name] = so
	}
	names := g.Order()
	status := map[string]Status{}
	history := map[string][]Status{}
	decided := map[string]Decision{}
	var seq int                            // counts what happened, in order
	startAt := map[string]int{}            // when each operation was made ready
	endAt := map[string]int{}              // when each operation ended
	reachAt := map[string]map[Status]int{} // when each operation first went through a status
	reach := func(n string, st Status) {
		seq++
		history[n] = append(history[n], st)
		status[n] = st
		if reachAt[n] == nil {
			reachAt[n] = map[Status]int{}
		}
		if _, ok := reachAt[n][st]; !ok {
			reachAt[n][st] = seq
		}
		if st.Final() {
			endAt[n] = seq
		}
	}
	var active []string // ready, not ended
	running := map[string]bool{}

	// apply checks the changes of one call, in the order State made
	// them, against the oracle over the statuses known at that point.
	apply := func(call string, changes []Change) string {
		for _, c := range changes {
			o, known := sims[c.Node]
			if !known {
				return fmt.Sprintf("%s: change for unknown operation %q", call, c.Node)
			}
			if prev, ok := decided[c.Node]; ok {
				return fmt.Sprintf("%s: %s decided %s, was %s already", call, c.Node, c.Decision, prev)
			}
			if want := oracle(o, status, history); c.Decision != want {
				return fmt.Sprintf("%s: %s decided %s, want %s (rule %q skip %v, upstreams %s)",
					call, c.Node, c.Decision, want, o.rule, o.skip, describeUps(o, status, history))
			}
			decided[c.Node] = c.Decision
			switch c.Decision {
			case Ready:
				if c.Reason != "" {
					return fmt.Sprintf("%s: %s ready with reason %q", call, c.Node, c.Reason)
				}
				done := 0
				for _, u := range o.trig {
					if status[u].Final() {
						done++
					}
				}
				if len(o.trig) > 0 && done == 0 {
					return fmt.Sprintf("%s: %s ready before any upstream ended", call, c.Node)
				}
				if strings.HasPrefix(string(o.rule), "all_") || o.rule == "" {
					if done < len(o.trig) {
						return fmt.Sprintf("%s: %s (%q) ready with %d of %d upstreams ended", call, c.Node, o.rule, done, len(o.trig))
					}
				}
				seq++
				startAt[c.Node] = seq
				active = append(active, c.Node)
			case Skip, Unmet:
				if c.Reason == "" {
					return fmt.Sprintf("%s: %s %s without a reason", call, c.Node, c.Decision)
				}
				want := Skipped
				if c.Decision == Unmet {
					want = UpstreamFailed
				}
				if got := s.Status(c.Node); got != want {
					return fmt.Sprintf("%s: %s decided %s has status %q, want %q", call, c.Node, c.Decision, got, want)
				}
				reach(c.Node, want)
			default:
				return fmt.Sprintf("%s: %s decided %s", call, c.Node, c.Decision)
			}
		}
		// Nothing State left undecided could have been decided.
		for _, n := range names {
			if _, ok := decided[n]; ok {
				continue
			}
			if want := oracle(sims[n], status, history); want != Wait {
				return fmt.Sprintf("%s: %s left undecided, want %s (upstreams %s)", call, n, want, describeUps(sims[n], status, history))
			}
		}
		all := true
		for _, n := range names {
			if got := s.Status(n); got != status[n] {
				return fmt.Sprintf("%s: Status(%s) = %q, want %q", call, n, got, status[n])
			}
			all = all && status[n].Final()
		}
		if s.Done() != all {
			return fmt.Sprintf("%s: Done() = %v, want %v", call, s.Done(), all)
		}
		return ""
	}

	if fail := apply("Start", s.Start()); fail != "" {
		return fail
	}
	for len(active) > 0 {
		k := r.IntN(len(active))
		n := active[k]
		if !running[n] && r.IntN(3) == 0 {
			// The operation starts running and goes on.
			running[n] = true
			reach(n, stRunning)
			if fail := apply("Observe("+n+", running)", s.Observe(n, stRunning)); fail != "" {
				return fail
			}
			continue
		}
		active = slices.Delete(active, k, k+1)
		var through []Status
		if !running[n] {
			switch r.IntN(3) {
			case 0:
				through = []Status{stQueued, stRunning}
			case 1:
				through = []Status{stQueued}
			}
		}
		end := simEnds[r.IntN(len(simEnds))]
		for _, st := range through {
			reach(n, st)
		}
		reach(n, end)
		call := fmt.Sprintf("Observe(%s, %s, %v)", n, end, through)
		if fail := apply(call, s.Observe(n, end, through...)); fail != "" {
			return fail
		}
	}

	if !s.Done() {
		return fmt.Sprintf("not done when nothing is left to run: %v", s.Counts())
	}
	tally := map[Status]int{}
	for _, n := range names {
		if _, ok := decided[n]; !ok {
			return fmt.Sprintf("%s never decided", n)
		}
		tally[status[n]]++
	}
	if got := s.Counts(); fmt.Sprint(got) != fmt.Sprint(tally) {
		return fmt.Sprintf("Counts() = %v, want %v", got, tally)
	}
	// Every edge is respected in the order operations were started: a
	// started operation's all_ rule came after every upstream ended, its
	// one_ rule after at least one did, and each of its events edges
	// after the upstream went through one of the kinds.
	for n, at := range startAt {
		o := sims[n]
		before := 0
		for _, u := range o.trig {
			if e, ok := endAt[u]; ok && e < at {
				before++
			}
		}
		all := o.rule == "" || strings.HasPrefix(string(o.rule), "all_")
		if len(o.trig) > 0 && (before == 0 || all && before < len(o.trig)) {
			return fmt.Sprintf("%s (%q) started at %d with %d of %d upstreams ended before", n, o.rule, at, before, len(o.trig))
		}
		for u, kinds := range o.events {
			met := false
			for _, k := range kinds {
				want := Status(strings.TrimPrefix(string(k), "run_status_"))
				if e, ok := reachAt[u][want]; ok && e < at || want == "done" && endAt[u] != 0 && endAt[u] < at {
					met = true
				}
			}
			if !met {
				return fmt.Sprintf("%s started at %d before its event upstream %s reached %v (history %v)", n, at, u, kinds, history[u])
			}
		}
		if e, ok := endAt[n]; !ok || e < at {
			return fmt.Sprintf("%s started at %d, ended at %d", n, at, e)
		}
	}
	return ""
}

func describeUps(o simOp, status map[string]Status, history map[string][]Status) string {
	var parts []string
	for _, u := range o.trig {
		parts = append(parts, fmt.Sprintf("%s=%q", u, status[u]))
	}
	for u, kinds := range o.events {
		parts = append(parts, fmt.Sprintf("%s events %v history %v", u, kinds, history[u]))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// BenchmarkStateFanIn runs a whole fan-out/fan-in: root, then n middle
// operations that wait for it, then a sink that waits for them all. Each
// upstream's end costs time proportional to its downstreams, so the run
// is linear in n: ns/node stays flat from 10,000 to 100,000.
func BenchmarkStateFanIn(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ops := make([]specs.Operation, 0, n+2)
			ops = append(ops, op("root"))
			middle := make([]string, n)
			for i := range n {
				middle[i] = fmt.Sprintf("m%d", i)
				ops = append(ops, op(middle[i], deps("root")))
			}
			ops = append(ops, op("sink", deps(middle...)))
			_, g, d := newState(b, ops...)
			b.ResetTimer()
			for b.Loop() {
				s := NewState(g, d)
				if c := s.Start(); len(c) != 1 {
					b.Fatalf("Start() = %d changes, want 1", len(c))
				}
				if c := s.Observe("root", Succeeded); len(c) != n {
					b.Fatalf("root succeeded: %d changes, want %d", len(c), n)
				}
				for i, m := range middle {
					c := s.Observe(m, Succeeded)
					if i < n-1 && len(c) != 0 || i == n-1 && (len(c) != 1 || c[0] != ready("sink")) {
						b.Fatalf("%s succeeded: %v", m, c)
					}
				}
				s.Observe("sink", Succeeded)
				if !s.Done() {
					b.Fatal("not done")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}
