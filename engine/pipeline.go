package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// pipeline is a dag run the leader drives: its operations, the state of
// its graph, and the child run of each operation that has one. Children
// are created as they become ready (or as they are decided skipped or
// upstream_failed), so a dag never holds more active runs than its
// `concurrency` allows, and what a term knows of it is rebuilt from its
// children alone.
type pipeline struct {
	uuid    string
	attempt int
	root    string
	project string
	// user and teams submitted the run; its children are theirs.
	user     string
	teams    []string
	compiled *compiler.Compiled
	ops      map[string]*specs.Operation
	comps    map[string]*specs.Component // the dag's components, for dagRef
	// defaults is the dag's own environment, connections and volumes, as
	// a runPatch its operations' components take under pre_merge (what
	// they set themselves wins); nil when the dag sets none.
	defaults map[string]any
	// concurrency caps the children running at once (0: no cap).
	concurrency int
	stopping    []specs.EarlyStopping
	// sweep is the planner of a matrix run (state is it too); nil for a
	// dag. pruning follows what its trials report while they run, for its
	// stopping policies (nil without any).
	sweep   *sweep
	pruning *pruning
	// sched is the planner of a schedule run (state is it too); nil for
	// a dag or a matrix. fireAt is the nominal time of the schedule's
	// fire this dag or matrix runs for, if it does: its children's
	// globals.schedule_at too.
	sched  *schedule
	fireAt *time.Time
	// subs is the planner of an event subscription (state is it too).
	subs *subscriber

	mu     sync.Mutex
	docs   map[*specs.Component]json.RawMessage // components as the cache keys them
	state  planner
	nodes  map[string]string // operation → its child run (this attempt)
	byRun  map[string]string // child run → operation
	live   map[string]bool   // children created and not ended
	ready  []string          // decided ready, no child yet
	gated  map[string][]gate // decided ready by the dag, waiting on other runs' events
	ends   []dag.Change      // decided skipped or upstream_failed, no child yet
	failed int               // children failed or upstream_failed
	early  string            // why early stopping stops the dag, once it does
}

// compiledByDag says a run is a dag's child that keeps no compilation of
// its own: it is compiled from its operation in the dag.
func compiledByDag(r *store.Run) bool {
	return r.Parent != "" && len(r.Compiled) == 0 && r.Blobs == 0
}

// isPipeline says whether a compiled run is a parent whose children the
// leader runs: a dag, or a matrix.
func isPipeline(c *compiler.Compiled) bool {
	if c.Operation != nil && (c.Operation.Matrix != nil || c.Operation.Schedule != nil) {
		return true
	}
	_, ok := c.Component.Run.(*specs.DAG)
	return ok
}

// op is the operation of node: a dag's operation, or a matrix's trial.
func (p *pipeline) op(node string) *specs.Operation {
	if p.sweep == nil {
		return p.ops[node]
	}
	if _, ok := TunerNode(node); ok && p.sweep.tuning != nil {
		return nil // a tuner's run: its operation is made from its params (tuning.op)
	}
	p.mu.Lock()
	i, ok := p.sweep.index(node)
	var params map[string]any
	if ok {
		params = p.sweep.results[i].Params
	}
	p.mu.Unlock()
	if !ok {
		return nil
	}
	return trialOp(p.compiled, params)
}

// childUUID names the run of operation node in attempt of dag parent:
// the same on every leader, so a child is never created twice.
func childUUID(parent, node string, attempt int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", parent, node, attempt))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return hex.EncodeToString(h[:16])
}

// pipelineOf returns the pipeline of a dag run for its current attempt,
// building it from the store when this term has none.
func (l *leading) pipelineOf(ctx context.Context, run *store.Run) (*pipeline, error) {
	l.mu.Lock()
	p := l.pipelines[run.UUID]
	l.mu.Unlock()
	if p != nil && p.attempt == run.Attempt {
		return p, nil
	}
	l.loading.Lock()
	defer l.loading.Unlock()
	l.mu.Lock()
	p = l.pipelines[run.UUID]
	l.mu.Unlock()
	if p != nil && p.attempt == run.Attempt {
		return p, nil
	}
	c, err := l.compiledOf(run)
	if err != nil {
		return nil, err
	}
	p = &pipeline{uuid: run.UUID, attempt: run.Attempt, root: firstOf(run.Root, run.UUID), project: run.Project, user: run.User, teams: run.Teams,
		compiled: c, ops: map[string]*specs.Operation{}, comps: map[string]*specs.Component{}, docs: map[*specs.Component]json.RawMessage{},
		nodes: map[string]string{}, byRun: map[string]string{}, live: map[string]bool{}, gated: map[string][]gate{}, fireAt: run.FireAt}
	var search matrix.Search
	var tn *tuning
	if run.Events {
		if p.subs, err = l.newSubscriber(ctx, run); err != nil {
			return nil, fmt.Errorf("engine: subscription %s: %w", run.UUID, err)
		}
		p.state = p.subs
		l.mu.Lock()
		l.subscribers[run.UUID] = true
		l.mu.Unlock()
	} else if isSchedule(c) {
		if p.sched, err = l.newSchedule(ctx, run, c); err != nil {
			return nil, fmt.Errorf("engine: schedule %s: %w", run.UUID, err)
		}
		p.state = p.sched
	} else if m := c.Operation.Matrix; m != nil {
		common := matrixCommon(m)
		p.stopping = common.EarlyStopping
		if common.Concurrency != nil && !common.Concurrency.IsTemplate() {
			p.concurrency = common.Concurrency.Value
		}
		if matrix.IsTuned(m) {
			if tn, err = l.e.newTuning(ctx, run, "", m); err != nil {
				return nil, fmt.Errorf("engine: matrix %s: %w", run.UUID, err)
			}
			search = tn.search
		} else if search, err = matrix.New("matrix", m, sweepSeed(run.UUID)); err != nil {
			return nil, fmt.Errorf("engine: matrix %s: %w", run.UUID, err)
		}
		if policies := matrix.Policies(common.EarlyStopping); len(policies) > 0 {
			p.pruning = newPruning(policies)
		}
	} else {
		d, ok := c.Component.Run.(*specs.DAG)
		if !ok {
			return nil, fmt.Errorf("engine: run %s is neither a dag nor a matrix", run.UUID)
		}
		g, err := dag.Build(specs.Path("run"), d)
		if err != nil {
			return nil, fmt.Errorf("engine: dag %s: %w", run.UUID, err)
		}
		p.stopping, p.state = d.EarlyStopping, dag.NewState(g, d)
		for i := range d.Operations {
			p.ops[d.Operations[i].Name] = &d.Operations[i]
		}
		for i := range d.Components {
			p.comps[d.Components[i].Name] = &d.Components[i]
		}
		if d.Concurrency != nil && !d.Concurrency.IsTemplate() {
			p.concurrency = d.Concurrency.Value
		}
		if p.defaults, err = dagDefaults(d); err != nil {
			return nil, fmt.Errorf("engine: dag %s: %w", run.UUID, err)
		}
	}
	children, err := l.st.ChildRuns(ctx, run.UUID)
	if bad := (store.Unreadable)(nil); errors.As(err, &bad) {
		// Each is failed by its own handling, readable then; the dag is
		// built once they are.
		for _, b := range bad {
			u, _, _ := strings.Cut(b, ": ")
			l.queue.add(u)
		}
		return nil, fmt.Errorf("engine: dag %s: %d of its children cannot be read yet: %w", run.UUID, len(bad), errUnavailable)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	newest := CurrentChildren(children, run.Attempt)
	if search != nil {
		if p.sweep, err = newSweep(search, matrixMetric(c.Operation.Matrix), p.concurrency, children, newest, tn); err != nil {
			return nil, fmt.Errorf("engine: matrix %s: %w", run.UUID, err)
		}
		p.state = p.sweep
	}
	kept := make([]*store.Run, 0, len(newest))
	for _, ch := range newest {
		kept = append(kept, ch)
	}
	// Replayed in the order they changed last, so decisions are made in
	// the order the last term made them.
	slices.SortFunc(kept, func(a, b *store.Run) int { return compareLast(a, b) })
	var changes []dag.Change
	p.mu.Lock()
	for _, ch := range kept {
		p.nodes[ch.Node], p.byRun[ch.UUID] = ch.UUID, ch.Node
		if !ch.Status.Final() {
			p.live[ch.UUID] = true
		}
		changes = append(changes, p.observeLocked(ch)...)
	}
	changes = append(changes, p.state.Start()...)
	p.decideLocked(changes)
	p.mu.Unlock()
	// What changed while it was read is in the term's copies.
	l.mu.Lock()
	l.pipelines[run.UUID] = p
	var since []*store.Run
	for uuid := range p.byRun {
		if k := l.knownLocked(uuid); k != nil {
			since = append(since, k)
		}
	}
	l.mu.Unlock()
	for _, k := range since {
		p.observe(k)
	}
	return p, nil
}

// CurrentChildren picks the run of each operation in attempt of a dag:
// the newest child, where one of an earlier attempt counts only if it
// succeeded (a resume runs the others again). Whoever shows a dag's
// operations chooses them this way.
func CurrentChildren(children []*store.Run, attempt int) map[string]*store.Run {
	return currentOf(children, attempt, func(r *store.Run) childKey { return childKey{r.Node, r.ParentAttempt, r.Status} })
}

// childKey is what choosing a dag's current children reads of each.
type childKey struct {
	node          string
	parentAttempt int
	status        store.Status
}

// currentOf is CurrentChildren for children of any type, read by key.
func currentOf[C any](children []C, attempt int, key func(C) childKey) map[string]C {
	out := map[string]C{}
	best := map[string]int{}
	for _, ch := range children {
		k := key(ch)
		if k.node == "" || k.parentAttempt > attempt {
			continue
		}
		if k.parentAttempt < attempt && k.status != store.Succeeded {
			continue
		}
		if b, seen := best[k.node]; !seen || k.parentAttempt > b {
			out[k.node], best[k.node] = ch, k.parentAttempt
		}
	}
	return out
}

// dagDefaults is what a dag passes down to its operations: its
// environment, connections and volumes, as a runPatch.
func dagDefaults(d *specs.DAG) (map[string]any, error) {
	if d.Environment == nil && len(d.Connections) == 0 && len(d.Volumes) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(struct {
		Environment *specs.Environment `json:"environment,omitempty"`
		Connections []string           `json:"connections,omitempty"`
		Volumes     []corev1.Volume    `json:"volumes,omitempty"`
	}{d.Environment, d.Connections, d.Volumes})
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(data, &out)
	return out, err
}

// compareLast orders runs by the time of their last condition.
func compareLast(a, b *store.Run) int {
	return lastTime(a).Compare(lastTime(b))
}

func lastTime(r *store.Run) time.Time {
	if len(r.Conditions) == 0 {
		return r.UpdatedAt
	}
	return r.Conditions[len(r.Conditions)-1].Time
}

// locked calls f holding p.mu, released however f returns: a panic in
// the dag's code, recovered up the stack, leaves the pipeline usable.
func (p *pipeline) locked(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
}

// observe records what became of one of the pipeline's children.
func (p *pipeline) observe(r *store.Run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.byRun[r.UUID]; !ok {
		return // not (or no longer) one of this attempt's children
	}
	p.decideLocked(p.observeLocked(r))
}

func (p *pipeline) observeLocked(r *store.Run) []dag.Change {
	node := p.byRun[r.UUID]
	if r.Status.Final() {
		delete(p.live, r.UUID)
		if r.Status == store.Failed || r.Status == store.UpstreamFailed {
			if p.state.Status(node) != dag.Status(r.Status) {
				p.failed++
			}
		}
		if r.Status == store.Succeeded && p.early == "" {
			p.early = matrix.MetricStop(p.stopping, p.what(node), r.Outputs)
		}
	}
	status := dag.Status(r.Status)
	if p.pruning != nil {
		status = p.pruning.observeLocked(node, r)
	}
	if r.Status.Final() && p.sweep != nil {
		p.sweep.observeOutputs(node, status, r.Outputs)
	}
	through := make([]dag.Status, len(r.Conditions))
	for i, c := range r.Conditions {
		through[i] = dag.Status(c.Type)
	}
	return p.state.Observe(node, status, through...)
}

// decideLocked queues what decisions ask for: a run for each ready
// operation, a final record for each skipped or upstream_failed one.
func (p *pipeline) decideLocked(changes []dag.Change) {
	for _, c := range changes {
		if _, has := p.nodes[c.Node]; has {
			continue
		}
		if c.Decision == dag.Ready {
			if gates := p.gatesOf(c.Node); len(gates) > 0 {
				p.gated[c.Node] = gates // it waits on other runs too (gates.go)
				continue
			}
			p.ready = append(p.ready, c.Node)
		} else {
			p.ends = append(p.ends, c)
			if c.Decision == dag.Unmet {
				p.failed++
			}
		}
	}
}

// failureStopLocked says why the failed children stop the dag early, or
// "".
func (p *pipeline) failureStopLocked() string {
	what := "operations"
	if p.sweep != nil {
		what = "trials"
	}
	return matrix.FailureStop(p.stopping, p.failed, p.state.Len(), what)
}

// what names a child for people: "trial 3" of a matrix, an operation of a
// dag by its name.
func (p *pipeline) what(node string) string {
	if p.sweep != nil {
		return "trial " + node
	}
	return node
}

// drive moves a dag run on: it starts, creates the runs of the
// operations that are ready (no more running than its concurrency), ends
// those decided skipped or upstream_failed, stops early when a policy
// says so, stops its children when it is stopped, and ends when every
// operation has.
func (l *leading) drive(ctx context.Context, run *store.Run) error {
	p, err := l.pipelineOf(ctx, run)
	if err != nil {
		return err
	}
	now := l.e.cfg.Now()
	if run.Status == store.OnSchedule && p.sched != nil {
		if err := l.fire(ctx, run, p); err != nil {
			return err
		}
	}
	if run.Status == store.OnSchedule && p.subs != nil {
		if err := l.deliver(ctx, run, p); err != nil {
			return err
		}
	}
	if run.Status == store.Scheduled {
		if run, err = l.update(ctx, run, func(r *store.Run) error {
			if r.Status != store.Scheduled {
				return errSkip
			}
			return Transition(r, store.Running, "Started", p.startMessage(), now)
		}); err != nil {
			return err
		}
	}
	var why string
	p.locked(func() {
		why = p.early
		if why == "" {
			why = p.failureStopLocked()
		}
		if p.state.Done() {
			why = "" // nothing left to stop
		}
	})
	if why != "" && run.Status != store.Stopping {
		_, err := l.update(ctx, run, func(r *store.Run) error {
			if r.Status.Final() || r.Status == store.Stopping {
				return errSkip
			}
			return Transition(r, store.Stopping, "EarlyStopping", why, now)
		})
		return err // its news brings it back
	}
	if run.Status == store.Stopping {
		if p.subs != nil {
			// Nothing more is delivered; the log stops keeping what it
			// listened to.
			if err := l.st.Unsubscribe(ctx, run.UUID); err != nil {
				return err
			}
		}
		return l.stopChildren(ctx, run, p)
	}
	if p.pruning != nil {
		l.follow(ctx, p)
	}
	if err := l.openGates(ctx, p); err != nil {
		return err
	}
	if err := l.createChildren(ctx, run, p); err != nil {
		return err
	}
	var done bool
	var final dag.Status
	var summary string
	p.locked(func() {
		if done = p.state.Done(); done {
			final, summary = p.state.Final(false), p.summaryLocked()
		}
	})
	if !done {
		return nil
	}
	_, err = l.update(ctx, run, func(r *store.Run) error {
		if r.Status.Final() || r.Attempt != p.attempt {
			return errSkip
		}
		reason := "Succeeded"
		if final == dag.Failed {
			reason = "Failed"
		}
		return Transition(r, store.Status(final), reason, summary, now)
	})
	return err
}

// startMessage says what a parent starts: a dag of so many operations, a
// matrix of so many trials at most.
func (p *pipeline) startMessage() string {
	if p.subs != nil {
		return describeEvents(p.subs.op.Events)
	}
	if p.sched != nil {
		return describeSchedule(p.compiled.Operation.Schedule)
	}
	if p.sweep == nil {
		return fmt.Sprintf("a dag of %d operations", p.state.Len())
	}
	kind := p.compiled.Operation.Matrix.MatrixKind()
	if t := p.sweep.tuning; t != nil {
		return fmt.Sprintf("%s %s matrix: up to %d iterations of its tuner %s", article(string(kind)), kind, t.search.Iterations, t.spec.HubRef)
	}
	return fmt.Sprintf("%s %s matrix of up to %d trials", article(string(kind)), kind, p.sweep.search.Total())
}

// article is "an" before a vowel, "a" otherwise.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// summaryLocked sums up a dag's operations by the status of their runs,
// e.g. "3 succeeded, 1 failed, 2 not run"; an operation decided but
// whose run was never made (the dag stopped first) is not run.
func (p *pipeline) summaryLocked() string {
	c := map[dag.Status]int{}
	tuners := 0
	for _, node := range p.state.Names() {
		if _, ok := TunerNode(node); ok && p.sweep != nil {
			tuners++
			continue
		}
		if _, has := p.nodes[node]; has {
			c[p.state.Status(node)]++
		} else {
			c[""]++
		}
	}
	var parts []string
	for _, st := range []dag.Status{dag.Succeeded, dag.Failed, dag.UpstreamFailed, dag.Skipped, dag.Stopped, ""} {
		if n := c[st]; n > 0 {
			name := string(st)
			if st == "" {
				name = "not run"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	out := strings.Join(parts, ", ")
	if tuners > 0 {
		out += fmt.Sprintf("; its tuner ran %d times", tuners)
	}
	if p.sweep != nil && p.sweep.err != nil {
		out += "; " + p.sweep.err.Error()
	}
	return out
}

// stopChildren stops every child of a stopping dag that still runs; the
// dag is stopped once none does. Operations without a run never get one.
func (l *leading) stopChildren(ctx context.Context, run *store.Run, p *pipeline) error {
	p.mu.Lock()
	p.ready, p.ends = nil, nil
	clear(p.gated)
	live := make([]string, 0, len(p.live))
	for uuid := range p.live {
		live = append(live, uuid)
	}
	p.mu.Unlock()
	now := l.e.cfg.Now()
	for _, uuid := range live {
		ch, err := l.current(ctx, uuid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if _, ok := StopTarget(ch.Status); !ok || ch.Status == store.Stopping {
			continue
		}
		if _, err := l.update(ctx, ch, func(r *store.Run) error {
			to, ok := StopTarget(r.Status)
			if !ok || r.Status == store.Stopping {
				return errSkip
			}
			return Transition(r, to, "StopRequested", "its dag "+p.uuid+" is stopping", now)
		}); err != nil && !errors.Is(err, errSkip) {
			return err
		}
	}
	p.mu.Lock()
	left := len(p.live)
	p.mu.Unlock()
	if left > 0 {
		return nil // each child's end brings the dag back
	}
	var summary string
	p.locked(func() { summary = p.summaryLocked() })
	_, err := l.update(ctx, run, func(r *store.Run) error {
		if r.Status != store.Stopping {
			return errSkip
		}
		return Transition(r, store.Stopped, "Stopped", summary, now)
	})
	return err
}
