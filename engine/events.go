package engine

// The event subscription's part of the parent loop: an operation
// submitted on its own with `events` is a parent, on_schedule while it
// listens, whose children are the runs its events started, one per
// matching event of the store's event log, each created in the
// transaction that advances the subscription's cursor (store.Deliver).
// What matches is the triggers package's to say (triggers.Match).

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/triggers"
)

// subscriber is the planner of an event subscription. Its nodes are the
// keys of the events that started a run.
type subscriber struct {
	sub    store.Subscription
	filter *triggers.Filter
	// op and comp are what the subscription was submitted with: each run
	// is compiled from them, without events, with its event as the
	// context-only param `event`.
	op   *specs.Operation
	comp *specs.Component

	cursor store.Cursor
	timeline
}

// eventsBatch is how many events of the log one look at a subscription
// reads.
const eventsBatch = 500

// subscriptionOf reads an operation's events, at path at, as what the
// store logs for it and the filter that matches them.
func subscriptionOf(at specs.Path, events []specs.Event, project string) (store.Subscription, *triggers.Filter, specs.ErrorList) {
	f, errs := triggers.NewFilter(at, events, project)
	if len(errs) > 0 {
		return store.Subscription{}, nil, errs
	}
	return store.Subscription{Runs: f.Runs(), Components: f.Components(), Project: project}, f, nil
}

// newSubscriber makes the planner of subscription run run from its
// cursor and the runs its events started so far.
func (l *leading) newSubscriber(ctx context.Context, run *store.Run) (*subscriber, error) {
	var op specs.Operation
	comp, err := l.e.stored(ctx, run, &op)
	if err != nil {
		return nil, err
	}
	sub, f, errs := subscriptionOf("events", op.Events, run.Project)
	if len(errs) > 0 {
		return nil, errs
	}
	op.Events = nil
	cur, err := l.st.Cursor(ctx, run.UUID)
	if err != nil {
		return nil, unavailable(err)
	}
	return &subscriber{sub: sub, filter: f, op: &op, comp: comp, cursor: cur, timeline: timeline{status: map[string]dag.Status{}}}, nil
}

// Done: a subscription listens until it is stopped.
func (s *subscriber) Done() bool { return false }

// startSubscription registers a created (or resumed) subscription with
// the store, so the changes it listens to are logged from now on, and
// takes it to on_schedule.
func (l *leading) startSubscription(ctx context.Context, run *store.Run, now time.Time) error {
	var op specs.Operation
	if _, err := l.e.stored(ctx, run, &op); err != nil {
		return err
	}
	sub, _, errs := subscriptionOf("events", op.Events, run.Project)
	if len(errs) > 0 {
		_, err := l.update(ctx, run, func(r *store.Run) error {
			return Transition(r, store.Failed, "CompilationFailed", errs.Error(), now)
		})
		return err
	}
	if err := l.st.Subscribe(ctx, run.UUID, sub); err != nil {
		return err
	}
	from := run.Status
	r, err := l.update(ctx, run, func(r *store.Run) error {
		if r.Status != from {
			return errSkip
		}
		if r.Attempt == 0 {
			r.Attempt = 1
		}
		return Transition(r, store.OnSchedule, "Subscribed", describeEvents(op.Events), now)
	})
	if err != nil {
		return err
	}
	return l.drive(ctx, r)
}

// describeEvents says in a few words what a subscription listens to.
func describeEvents(events []specs.Event) string {
	parts := make([]string, 0, len(events))
	for _, e := range events {
		kinds := make([]string, len(e.Kinds))
		for i, k := range e.Kinds {
			kinds[i] = strings.TrimPrefix(string(k), "run_status_")
		}
		parts = append(parts, fmt.Sprintf("%s of %s", strings.Join(kinds, "/"), e.Ref))
	}
	return "listening to " + strings.Join(parts, "; ")
}

// deliver starts a run for each event of the log after the
// subscription's cursor that it matches, and moves the cursor past the
// events it read, in one transaction. The events of one store revision
// are delivered together: the cursor never stops inside one.
func (l *leading) deliver(ctx context.Context, run *store.Run, p *pipeline) error {
	s := p.subs
	p.mu.Lock()
	known := s.cursor
	p.mu.Unlock()
	events, more, err := l.st.EventsAfter(ctx, known.After, known.Since, eventsBatch)
	if err != nil {
		return unavailable(err)
	}
	next := known
	var children []*store.Run
	for i := 0; i < len(events); {
		j := i // events[i:j] are those of one revision
		var group []*store.Run
		var last *store.RunEvent
		for ; j < len(events) && events[j].Revision == events[i].Revision; j++ {
			ev := events[j]
			if !s.filter.Match(triggers.Event{Run: ev.Run, Component: ev.Component, Project: ev.Project, Status: string(ev.Status)}) {
				continue
			}
			group = append(group, eventChild(run, p, &ev))
			last = &events[j]
		}
		if len(children)+len(group) > store.MaxFireBatch && len(children) > 0 {
			more = true
			break
		}
		if j == len(events) && more {
			break // the rest of this revision may be in the next read
		}
		children = append(children, group...)
		next.After = events[i].Revision
		for _, ev := range events[i:j] {
			if ev.Time.After(next.Since) {
				next.Since = ev.Time
			}
		}
		if last != nil {
			next.Delivered += len(group)
			next.Last, next.LastKey = last, last.Key
		}
		i = j
	}
	if next.After == known.After {
		if more && len(events) > 0 {
			// One revision larger than a read: read it whole.
			return fmt.Errorf("engine: subscription %s: more than %d events in one store revision", run.UUID, eventsBatch)
		}
		return nil
	}
	err = l.st.Deliver(ctx, p.uuid, known.Revision, &next, children)
	if err := l.made(p, children, err, func() { s.cursor = next }); err != nil {
		return err
	}
	if more {
		l.queue.add(p.uuid)
	}
	return nil
}

// eventChild is the run a subscription starts for event ev: named from
// the subscription and the event, with the event as its param `event`.
func eventChild(run *store.Run, p *pipeline, ev *store.RunEvent) *store.Run {
	short := ev.Run
	if len(short) > 8 {
		short = short[:8]
	}
	ctx := map[string]any{"uuid": ev.Run, "name": ev.Name, "project": ev.Project, "status": string(ev.Status),
		"kind": "run_status_" + string(ev.Status), "time": ev.Time.UTC().Format(time.RFC3339Nano), "attempt": ev.Attempt}
	if ev.Component != "" {
		ctx["component"] = ev.Component
	}
	if len(ev.Outputs) > 0 {
		ctx["outputs"] = maps.Clone(ev.Outputs)
	}
	r := &store.Run{UUID: childUUID(p.uuid, ev.Key, p.attempt), Name: fmt.Sprintf("%s-%s-%s", run.Name, short, ev.Status),
		Node: ev.Key, Project: p.project, User: p.user, Teams: p.teams, Parent: p.uuid, Root: p.root, ParentAttempt: p.attempt, Params: map[string]any{"event": ctx}}
	if m := p.subs.op.Matrix; m != nil {
		r.Matrix = string(m.MatrixKind())
	}
	r.Hooks = len(hooksOf(p.subs.op, p.subs.comp)) // each run's, not the subscription's
	return r
}

// compileEvent compiles a run a subscription's event started: the
// subscription's operation without its events, with the event as the
// context-only param `event` (`{{ event.uuid }}`, `{{ event.outputs.loss }}`).
func (l *leading) compileEvent(ctx context.Context, p *pipeline, r *store.Run) (*compiler.Compiled, error) {
	op := *p.subs.op
	op.Params = maps.Clone(op.Params)
	if op.Params == nil {
		op.Params = map[string]specs.Param{}
	}
	op.Params["event"] = specs.Param{Value: r.Params["event"], ContextOnly: true}
	ri := compiler.RunInfo{UUID: r.UUID, Name: r.Name, Project: r.Project, CreatedAt: r.CreatedAt, CompiledAt: l.e.cfg.Now()}
	if l.e.cfg.RunInfo != nil {
		ri = l.e.cfg.RunInfo(r, ri)
	}
	return l.e.compileSafely("", r.UUID, &op, p.subs.comp, compiler.Options{Run: ri, Connections: l.e.cfg.Connections, Policy: l.e.Policy(), Caller: callerOf(r),
		Refs: runRefs{ctx: ctx, st: l.st}, Joins: runJoins{ctx: ctx, st: l.st, self: r.UUID}})
}

// SubscriptionInfo is what `plexus ops get` shows of an event
// subscription: what it listens to, and what it delivered.
type SubscriptionInfo struct {
	Listening string       `json:"listening"`
	Cursor    store.Cursor `json:"cursor"`
	// Pipeline says each run it starts is itself a dag or a matrix.
	Pipeline bool `json:"pipeline,omitempty"`
}

// subscriptionGraph is a subscription run's graph: the runs its events
// started, oldest first.
func (e *Engine) subscriptionGraph(ctx context.Context, run *store.Run) (*Graph, error) {
	var op specs.Operation
	comp, err := e.stored(ctx, run, &op)
	if err != nil {
		return nil, err
	}
	cur, err := e.cfg.Store.Cursor(ctx, run.UUID)
	if err != nil {
		return nil, err
	}
	info := &SubscriptionInfo{Listening: describeEvents(op.Events), Cursor: cur, Pipeline: eachPipeline(&op, comp)}
	out := &Graph{Run: run, Subscription: info}
	out.Nodes, err = e.timelineNodes(ctx, run, info.Pipeline)
	return out, err
}
