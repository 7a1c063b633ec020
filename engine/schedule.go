package engine

// The schedule's part of the parent loop: a schedule run is a parent,
// on_schedule from its start, whose children are its fires, each named by
// its nominal time. When the fires are is the triggers package's to say
// (triggers.Schedule.Plan); this file stores them, each created in the
// transaction that advances the schedule's state (store.Fire), and wakes
// the schedule at its next fire.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/triggers"
)

// schedule is the planner of a schedule run. Its nodes are its fires'
// nominal times (RFC 3339, UTC), oldest first.
type schedule struct {
	plan    *triggers.Schedule
	created time.Time
	// op and comp are what the schedule was submitted with: each fire is
	// compiled from them, without the schedule, with its nominal time as
	// globals.schedule_at.
	op   *specs.Operation
	comp *specs.Component

	state store.ScheduleState // as last stored
	done  bool                // no fire will come any more
	wake  time.Time           // when the term's timer looks at the schedule again
	timeline
}

// isSchedule says whether a compiled run is a schedule (its fires are
// compiled without it).
func isSchedule(c *compiler.Compiled) bool {
	return c.Operation != nil && c.Operation.Schedule != nil
}

// fireNode is the node of the fire at nominal time t.
func fireNode(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// newSchedule makes the planner of schedule run run from its stored
// state and its children (the fires created so far).
func (l *leading) newSchedule(ctx context.Context, run *store.Run, c *compiler.Compiled) (*schedule, error) {
	plan, err := triggers.NewSchedule("schedule", c.Operation.Schedule)
	if err != nil {
		return nil, err
	}
	var op specs.Operation
	comp, err := l.e.stored(ctx, run, &op)
	if err != nil {
		return nil, err
	}
	op.Schedule = nil
	st, err := l.st.Schedule(ctx, run.UUID)
	if err != nil {
		return nil, unavailable(err)
	}
	return &schedule{plan: plan, created: run.CreatedAt, op: &op, comp: comp, state: st, timeline: timeline{status: map[string]dag.Status{}}}, nil
}

// triggersState is the schedule's state as triggers reads it.
func (s *schedule) triggersState(running bool) triggers.State {
	return triggers.State{Created: s.created, Last: s.state.Last, Fired: s.state.Fired, Running: running}
}

// Done says the schedule will not fire again and its fires have ended.
func (s *schedule) Done() bool {
	if !s.done {
		return false
	}
	for _, st := range s.status {
		if !store.Status(st).Final() {
			return false
		}
	}
	return true
}

// timeline is the part of a planner whose children come with time (a
// schedule's fires, a subscription's runs): its nodes in order, each
// child's status, and the ending a stop or the planner's end gives. A
// schedule succeeds once it fired all it had to, whatever became of its
// fires.
type timeline struct {
	nodes  []string
	status map[string]dag.Status
}

func (t *timeline) Start() []dag.Change { return nil }

func (t *timeline) Observe(node string, st dag.Status, _ ...dag.Status) []dag.Change {
	if _, ok := t.status[node]; !ok {
		i, _ := slices.BinarySearch(t.nodes, node)
		t.nodes = slices.Insert(t.nodes, i, node)
	}
	t.status[node] = st
	return nil
}

func (t *timeline) Final(stopped bool) dag.Status {
	if stopped {
		return dag.Stopped
	}
	return dag.Succeeded
}

func (t *timeline) Len() int                      { return len(t.nodes) }
func (t *timeline) Names() []string               { return t.nodes }
func (t *timeline) Status(node string) dag.Status { return t.status[node] }

// fire creates the children of the schedule's due fires with its new
// state, in one transaction, and sets when to look at it again. A second
// writer (a deposed term) moving the state first makes this term read it
// again: nothing is created twice.
func (l *leading) fire(ctx context.Context, run *store.Run, p *pipeline) error {
	now := l.e.cfg.Now()
	s := p.sched
	p.mu.Lock()
	known := s.state
	d := s.plan.Plan(s.triggersState(len(p.live) > 0), now)
	p.mu.Unlock()
	more := len(d.Fire) > store.MaxFireBatch
	if more {
		d.Fire, d.Done, d.Wake = d.Fire[:store.MaxFireBatch], false, time.Time{}
	}
	adv := d.Advance(s.triggersState(false))
	next := known
	next.Last, next.Fired, next.Next = adv.Last, adv.Fired, d.Wake
	next.Skipped += d.Skipped.Count
	children := make([]*store.Run, 0, len(d.Fire))
	for _, t := range d.Fire {
		at := t.UTC()
		node := fireNode(at)
		children = append(children, &store.Run{UUID: childUUID(p.uuid, node, p.attempt), Name: fmt.Sprintf("%s-%s", run.Name, at.Format("20060102-150405")),
			Node: node, Project: p.project, User: p.user, Teams: p.teams, Parent: p.uuid, Root: p.root, ParentAttempt: p.attempt, FireAt: &at, CreatedAt: now.UTC()})
		if m := s.op.Matrix; m != nil {
			children[len(children)-1].Matrix = string(m.MatrixKind())
		}
		children[len(children)-1].Hooks = len(hooksOf(s.op, s.comp)) // each fire's, not the schedule's
	}
	if len(children) > 0 {
		next.LastChild = children[len(children)-1].UUID
	}
	if len(children) > 0 || next.Last != known.Last || next.Next != known.Next || next.Skipped != known.Skipped {
		hook("fire", p.uuid)
		err := l.st.Fire(ctx, p.uuid, known.Revision, &next, children)
		if err := l.made(p, children, err, func() { s.state = next }); err != nil {
			return err
		}
	}
	if d.Skipped.Count > 0 {
		if err := l.noteSkipped(ctx, run, d.Skipped, now, "dropped by the catch-up policy"); err != nil {
			return err
		}
	}
	p.mu.Lock()
	s.done = d.Done
	wake := !d.Wake.IsZero() && !d.Wake.Equal(s.wake)
	if wake {
		s.wake = d.Wake
	}
	p.mu.Unlock()
	switch {
	case more:
		l.queue.add(p.uuid)
	case wake:
		l.queue.wakeAt(p.uuid, d.Wake, l.e.cfg.Now) // from the clock now: the transaction took a while
	}
	return nil
}

// noteSkipped records on the schedule run the fires its catch-up policy
// dropped.
func (l *leading) noteSkipped(ctx context.Context, run *store.Run, sk triggers.Skipped, now time.Time, why string) error {
	n := fmt.Sprint(sk.Count)
	if sk.AtLeast {
		n = "at least " + n
	}
	msg := fmt.Sprintf("%s missed fires %s, from %s to %s", n, why, fireNode(sk.First), fireNode(sk.Last))
	status := run.Status
	_, err := l.update(ctx, run, func(r *store.Run) error {
		if r.Status != status {
			return errSkip
		}
		r.Conditions = append(r.Conditions, store.Condition{Type: status, Reason: "FiresSkipped", Message: msg, Time: now.UTC()})
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// compileFire compiles the child of one of a schedule's fires: the
// schedule's operation without its schedule, at its nominal time.
func (l *leading) compileFire(ctx context.Context, p *pipeline, r *store.Run) (*compiler.Compiled, error) {
	if r.FireAt == nil {
		return nil, fmt.Errorf("engine: run %s: a child of schedule %s without a fire time", r.UUID, r.Parent)
	}
	op := *p.sched.op
	ri := compiler.RunInfo{UUID: r.UUID, Name: r.Name, Project: r.Project, CreatedAt: r.CreatedAt, CompiledAt: l.e.cfg.Now(), ScheduleAt: *r.FireAt}
	if l.e.cfg.RunInfo != nil {
		ri = l.e.cfg.RunInfo(r, ri)
	}
	return l.e.compileSafely("", r.UUID, &op, p.sched.comp, compiler.Options{Run: ri, Connections: l.e.cfg.Connections, Policy: l.e.Policy(), Caller: callerOf(r),
		Refs: runRefs{ctx: ctx, st: l.st}, Joins: runJoins{ctx: ctx, st: l.st, self: r.UUID}})
}

// startSchedule takes a created (or resumed) schedule run to on_schedule;
// its fires are then the parent loop's.
func (l *leading) startSchedule(ctx context.Context, run *store.Run, c *compiler.Compiled, now time.Time) error {
	from := run.Status
	if from == store.Resuming {
		if err := l.skipWhileStopped(ctx, run, c, now); err != nil {
			return err
		}
	}
	r, err := l.update(ctx, run, func(r *store.Run) error {
		if r.Status != from {
			return errSkip
		}
		if r.Attempt == 0 {
			r.Attempt = 1
		}
		r.Inputs = inputValues(c)
		return Transition(r, store.OnSchedule, "OnSchedule", describeSchedule(c.Operation.Schedule), now)
	})
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.compiled[r.UUID] = c
	l.mu.Unlock()
	return l.drive(ctx, r)
}

// describeSchedule says in a few words when a schedule fires.
func describeSchedule(s specs.Schedule) string {
	switch s := s.(type) {
	case *specs.CronSchedule:
		return fmt.Sprintf("cron %q", s.Cron)
	case *specs.IntervalSchedule:
		if s.Frequency != nil {
			return fmt.Sprintf("every %d seconds", s.Frequency.Value)
		}
	case *specs.DateTimeSchedule:
		return "once at " + s.StartAt
	}
	return "a schedule"
}

// ScheduleInfo is what `plexus ops get` shows of a schedule run: when it
// fires, what it fired so far, and its next fires.
type ScheduleInfo struct {
	Kind string `json:"kind"`
	// Description says when it fires ("cron \"0 2 * * *\"").
	Description string              `json:"description"`
	State       store.ScheduleState `json:"state"`
	// Coming are the next nominal times it would fire (at most 5), while
	// it is on schedule.
	Coming []time.Time `json:"coming,omitempty"`
	// Pipeline says each fire is itself a dag or a matrix.
	Pipeline bool `json:"pipeline,omitempty"`
}

// comingFires is how many of its next fires a schedule's graph lists.
const comingFires = 5

// scheduleGraph is a schedule run's graph: its fires so far, oldest
// first, and when the next ones come.
func (e *Engine) scheduleGraph(ctx context.Context, run *store.Run) (*Graph, error) {
	c, err := e.compileStored(ctx, run)
	if err != nil {
		return nil, err
	}
	if !isSchedule(c) {
		return nil, fmt.Errorf("run %s: %w", run.UUID, ErrNotPipeline)
	}
	st, err := e.cfg.Store.Schedule(ctx, run.UUID)
	if err != nil {
		return nil, err
	}
	info := &ScheduleInfo{Kind: run.Schedule, Description: describeSchedule(c.Operation.Schedule), State: st, Pipeline: eachPipeline(c.Operation, c.Component)}
	if plan, err := triggers.NewSchedule("schedule", c.Operation.Schedule); err == nil && run.Status == store.OnSchedule {
		info.Coming = plan.NextN(triggers.State{Created: run.CreatedAt, Last: st.Last, Fired: st.Fired}, comingFires)
	}
	out := &Graph{Run: run, Schedule: info}
	out.Nodes, err = e.timelineNodes(ctx, run, info.Pipeline)
	return out, err
}

// eachPipeline says whether each child of a schedule or subscription of
// operation op over comp is itself a dag or a matrix.
func eachPipeline(op *specs.Operation, comp *specs.Component) bool {
	return isPipeline(&compiler.Compiled{Operation: &specs.Operation{Matrix: op.Matrix}, Component: comp})
}

// timelineNodes are the children of a schedule or subscription run in its
// current attempt, by node (their nominal time or event), oldest first.
func (e *Engine) timelineNodes(ctx context.Context, run *store.Run, pipeline bool) ([]GraphNode, error) {
	children, err := e.cfg.Store.ChildRuns(ctx, run.UUID)
	if err != nil && !errors.Is(err, store.ErrUnreadable) {
		return nil, err
	}
	var nodes []GraphNode
	for node, ch := range CurrentChildren(children, run.Attempt) {
		nodes = append(nodes, GraphNode{Name: node, Run: ch.UUID, Status: ch.Status, CacheOf: ch.CacheOf, Pipeline: pipeline})
	}
	slices.SortFunc(nodes, func(a, b GraphNode) int { return strings.Compare(a.Name, b.Name) })
	return nodes, nil
}

// skipWhileStopped drops the fires that came due while a resumed
// schedule was stopped: a stop stops them; the schedule goes on from now.
// They are counted as skipped, in its state and a condition.
func (l *leading) skipWhileStopped(ctx context.Context, run *store.Run, c *compiler.Compiled, now time.Time) error {
	plan, err := triggers.NewSchedule("schedule", c.Operation.Schedule)
	if err != nil {
		return err
	}
	st, err := l.st.Schedule(ctx, run.UUID)
	if err != nil {
		return unavailable(err)
	}
	ts := triggers.State{Created: run.CreatedAt, Last: st.Last, Fired: st.Fired}
	d := plan.Plan(ts, now)
	n := len(d.Fire) + d.Skipped.Count
	if n == 0 {
		return nil
	}
	first := d.Skipped.First
	if first.IsZero() && len(d.Fire) > 0 {
		first = d.Fire[0]
	}
	next := st
	next.Last, next.Skipped = d.Advance(ts).Last, st.Skipped+n
	if err := l.st.Fire(ctx, run.UUID, st.Revision, &next, nil); err != nil {
		return err
	}
	return l.noteSkipped(ctx, run, triggers.Skipped{Count: n, AtLeast: d.Skipped.AtLeast, First: first, Last: next.Last}, now,
		"came due while it was stopped and are dropped")
}

// made records what a schedule's fire or a subscription's delivery made,
// given how its transaction went (err): the planner's new state (set,
// under the pipeline's lock) and the children, which are then learnt and
// queued. A state another writer moved first makes the term read the
// pipeline again.
func (l *leading) made(p *pipeline, children []*store.Run, err error, set func()) error {
	if err != nil {
		if errors.Is(err, store.ErrScheduleMoved) {
			l.mu.Lock()
			delete(l.pipelines, p.uuid) // read again, its state and children
			l.mu.Unlock()
		}
		return err
	}
	p.mu.Lock()
	set()
	for _, r := range children {
		p.nodes[r.Node], p.byRun[r.UUID], p.live[r.UUID] = r.UUID, r.Node, true
		p.state.Observe(r.Node, dag.Status(r.Status))
	}
	p.mu.Unlock()
	for _, r := range children {
		l.learn(r)
		l.queue.addFirst(r.UUID)
	}
	return nil
}
