package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// planner is what the parent loop (pipeline.go) asks of a parent's kind:
// which children to create, and when the parent is done. A dag's is its
// graph's state (dag.State); a matrix's is a sweep. Nodes are the
// children's keys: a dag's operation names, a matrix's trial indices.
type planner interface {
	Start() []dag.Change
	Observe(node string, st dag.Status, through ...dag.Status) []dag.Change
	Done() bool
	Final(stopped bool) dag.Status
	Len() int
	Names() []string
	Status(node string) dag.Status
}

// sweep is the planner of a matrix run: its trials, suggested by the
// matrix's search as the results of earlier ones come in, are its nodes
// ("0", "1", ...). It keeps every trial suggested so far with what became
// of its run in the current attempt, and suggests ahead of what runs by at
// most sweepAhead trials, so a 100,000-point grid is never held as
// 100,000 decisions at once.
type sweep struct {
	search  matrix.Search
	metric  string
	results []matrix.Result
	status  []dag.Status
	final   int
	done    bool  // the search suggests nothing more
	err     error // why the search failed, once it did
	ahead   int
	// loaded is how many trials newSweep found, those Start may say ready.
	loaded int
	// tuning is a tuned sweep's tuner (tuner.go), nil for the built-in
	// searches; outputs are then its trials' outputs, which the tuner is
	// told of.
	tuning  *tuning
	outputs map[int]map[string]any
}

// sweepAhead is how many trials a sweep suggests beyond those that have
// ended, at least: the concurrency, if larger, is.
const sweepAhead = 1024

// newSweep makes the planner of a matrix run from its children so far
// (every attempt's: a trial keeps its params across attempts) and those
// of the current attempt (what became of each trial now). The trials that
// have a run are taken as they are: they are what the search suggested,
// and a resumed sweep runs again those that did not succeed with the same
// params rather than suggesting anew. A trial decided but never created
// (the last leader stopped in between) is suggested again, as the search
// is deterministic: no trial is lost or repeated.
func newSweep(search matrix.Search, metric string, concurrency int, all []*store.Run, current map[string]*store.Run, tn *tuning) (*sweep, error) {
	s := &sweep{search: search, metric: metric, ahead: max(sweepAhead, 2*concurrency)}
	if tn != nil {
		s.tuning, s.outputs = tn, map[int]map[string]any{}
		s.loadTuners(all, current)
	}
	params := map[int]map[string]any{}
	last := -1
	for _, ch := range all {
		if i, err := strconv.Atoi(ch.Node); err == nil && i >= 0 {
			params[i] = ch.Params
			last = max(last, i)
		}
	}
	for i := 0; i <= last; i++ {
		t := matrix.Trial{Index: i, Params: params[i]}
		if _, ok := params[i]; !ok {
			// A gap: what the search says of it now.
			trials, _, err := search.Next(s.results, 1)
			if err != nil {
				return nil, err
			}
			if len(trials) == 0 {
				break // it waits: the children after it are left out
			}
			t = trials[0]
		}
		s.results = append(s.results, matrix.Result{Trial: t})
		s.status = append(s.status, "")
		if ch := current[strconv.Itoa(i)]; ch != nil {
			s.record(i, dag.Status(ch.Status), ch.Outputs)
		}
	}
	s.loaded = len(s.results)
	return s, nil
}

// record sets what became of trial i.
func (s *sweep) record(i int, st dag.Status, outputs map[string]any) {
	if s.status[i].Final() {
		return
	}
	s.status[i] = st
	if !st.Final() {
		return
	}
	s.final++
	if s.outputs != nil {
		s.outputs[i] = outputs
	}
	r := &s.results[i]
	r.Done, r.Succeeded = true, st == dag.Succeeded
	if v, ok := matrix.Number(outputs[s.metric]); ok && r.Succeeded && s.metric != "" && !math.IsNaN(v) {
		r.Metric, r.HasMetric = v, true
	}
}

// Start is the first trials, and those of this attempt without a run.
// Of these, only those newSweep found are said here: a trial suggested
// since (the replay of the children's news suggests what follows the
// ended ones) was said ready then, and saying it twice would create its
// run twice in one batch.
func (s *sweep) Start() []dag.Change {
	var out []dag.Change
	for i, st := range s.status[:s.loaded] {
		if st == "" {
			out = append(out, dag.Change{Node: strconv.Itoa(i), Decision: dag.Ready})
		}
	}
	out = append(out, s.suggest()...)
	return append(out, s.askTuner()...)
}

// suggest asks the search for what follows, as far ahead as the sweep
// looks.
func (s *sweep) suggest() []dag.Change {
	var out []dag.Change
	for !s.done && s.err == nil {
		room := s.ahead - (len(s.results) - s.final)
		if room <= 0 {
			break
		}
		trials, done, err := s.search.Next(s.results, room)
		if err != nil {
			s.err = err
			break
		}
		s.done = done
		for _, t := range trials {
			s.results = append(s.results, matrix.Result{Trial: t})
			s.status = append(s.status, "")
			out = append(out, dag.Change{Node: strconv.Itoa(t.Index), Decision: dag.Ready})
		}
		if len(trials) == 0 {
			break
		}
	}
	return out
}

// observeOutputs records a trial's outputs with its final status, before
// Observe: its metric is a result.
func (s *sweep) observeOutputs(node string, st dag.Status, outputs map[string]any) {
	if k, ok := TunerNode(node); ok && s.tuning != nil {
		s.tunerEnded(k, st, outputs)
		return
	}
	if i, ok := s.index(node); ok && st.Final() {
		s.record(i, st, outputs)
	}
}

func (s *sweep) Observe(node string, st dag.Status, _ ...dag.Status) []dag.Change {
	if k, ok := TunerNode(node); ok && s.tuning != nil {
		if !s.tuning.observe(k, st) {
			return nil
		}
		return append(s.suggest(), s.askTuner()...)
	}
	i, ok := s.index(node)
	if !ok {
		return nil
	}
	if !s.status[i].Final() {
		s.record(i, st, nil)
	}
	if !st.Final() {
		return nil
	}
	return append(s.suggest(), s.askTuner()...)
}

func (s *sweep) index(node string) (int, bool) {
	i, err := strconv.Atoi(node)
	return i, err == nil && i >= 0 && i < len(s.status)
}

// Done says whether every trial has ended and the search suggests no more
// (or failed).
func (s *sweep) Done() bool {
	return (s.done || s.err != nil) && s.final == len(s.results) && (s.tuning == nil || s.tuning.idle())
}

// Final is the sweep's status once done: failed when a trial failed or
// the search did, as a dag's.
func (s *sweep) Final(stopped bool) dag.Status {
	if s.err != nil {
		return dag.Failed
	}
	return dag.Final(stopped, s.status)
}

func (s *sweep) Len() int { return len(s.results) }

func (s *sweep) Names() []string {
	out := make([]string, len(s.results))
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	if s.tuning != nil {
		out = append(out, s.tuning.names()...)
	}
	return out
}

func (s *sweep) Status(node string) dag.Status {
	if i, ok := s.index(node); ok {
		return s.status[i]
	}
	if k, ok := TunerNode(node); ok && s.tuning != nil && k < len(s.tuning.status) {
		return dag.Status(s.tuning.status[k])
	}
	return ""
}

// trialOp is the operation the run of trial i runs (spec §5.1): the
// matrix's operation without matrix, conditions, schedule, events,
// dependencies, trigger, build, isApproved and skipOnUpstreamSkip; its
// presets and runPatch already applied to comp, and its joins and refs
// resolved, as the matrix's compilation gave them; and the trial's values
// as params: a key that is an input or output is a param, any other key a
// context-only one.
func trialOp(c *compiler.Compiled, trial map[string]any) *specs.Operation {
	op := *c.Operation
	op.Matrix, op.Schedule, op.Events, op.Dependencies, op.Trigger, op.Conditions = nil, nil, nil, nil, "", ""
	op.Build, op.IsApproved, op.SkipOnUpstreamSkip = nil, nil, nil
	op.Presets, op.RunPatch, op.Joins = specs.ListOrRef[string]{}, nil, nil
	op.HubRef, op.DagRef, op.URLRef, op.PathRef = "", "", "", ""
	op.Component = c.Component
	op.Params = make(map[string]specs.Param, len(c.Params)+len(trial))
	for _, p := range c.Params {
		if p.Value == nil {
			continue
		}
		op.Params[p.Name] = specs.Param{Value: p.Value, ContextOnly: p.ContextOnly, Connection: p.Connection, ToInit: p.ToInit, ToEnv: p.ToEnv}
	}
	for name, v := range trial {
		_, isIO := ioNamed(c.Component, name)
		prev := op.Params[name]
		op.Params[name] = specs.Param{Value: v, ContextOnly: !isIO, Connection: prev.Connection, ToInit: prev.ToInit, ToEnv: prev.ToEnv}
	}
	return &op
}

// ioNamed reports whether the component has an input or output called
// name.
func ioNamed(c *specs.Component, name string) (*specs.IO, bool) {
	for i := range c.Inputs {
		if c.Inputs[i].Name == name {
			return &c.Inputs[i], true
		}
	}
	for i := range c.Outputs {
		if c.Outputs[i].Name == name {
			return &c.Outputs[i], true
		}
	}
	return nil, false
}

// sweepSeed is the seed of a matrix that sets none: derived from the run,
// so that every leader draws the same trials.
func sweepSeed(uuid string) int64 {
	h := fnv.New64a()
	h.Write([]byte(uuid))
	return int64(h.Sum64() & math.MaxInt64)
}

// matrixMetric is the name of the output a matrix optimises, if it has one.
func matrixMetric(m specs.Matrix) string {
	if metric := optimised(m); metric != nil {
		return metric.Name
	}
	return ""
}

// optimised is the metric an optimiser (hyperband, bayes, hyperopt)
// optimises, nil for other kinds.
func optimised(m specs.Matrix) *specs.OptimizationMetric {
	switch m := m.(type) {
	case *specs.HyperbandMatrix:
		return m.Metric
	case *specs.BayesMatrix:
		return m.Metric
	case *specs.HyperoptMatrix:
		return m.Metric
	}
	return nil
}

// watched is the metric people sort a sweep's trials by: the one it
// optimises, else the first its early stopping watches; "" if none.
func watched(m specs.Matrix) (name string, maximize bool) {
	if metric := optimised(m); metric != nil {
		return metric.Name, matrix.Maximize(metric.Optimization)
	}
	for _, es := range matrixCommon(m).EarlyStopping {
		if ms, ok := es.(*specs.MetricEarlyStopping); ok && ms.Metric != "" {
			return ms.Metric, matrix.Maximize(ms.Optimization)
		}
	}
	return "", false
}

// matrixCommon is a matrix's concurrency and early stopping.
func matrixCommon(m specs.Matrix) specs.MatrixCommon {
	switch m := m.(type) {
	case *specs.GridMatrix:
		return m.MatrixCommon
	case *specs.RandomMatrix:
		return m.MatrixCommon
	case *specs.MappingMatrix:
		return m.MatrixCommon
	case *specs.HyperbandMatrix:
		return m.MatrixCommon
	case *specs.BayesMatrix:
		return m.MatrixCommon
	case *specs.HyperoptMatrix:
		return m.MatrixCommon
	case *specs.IterativeMatrix:
		return m.MatrixCommon
	}
	return specs.MatrixCommon{}
}

// trialName is the name of the run of trial i: the matrix's name and the
// trial's index.
func (p *pipeline) trialName(i int) string {
	return firstOf(p.compiled.Run.Name, "trial") + "-" + strconv.Itoa(i)
}

// checkMatrix refuses at submission a matrix run (compiled as c, at path
// at of the submitted file) that could not run: its search does not start
// (a space that does not parse, a grid over a distribution, ...), or its
// first trial does not compile.
func (e *Engine) checkMatrix(ctx context.Context, run *store.Run, at specs.Path, c *compiler.Compiled) specs.ErrorList {
	mat := at.Child("matrix")
	if m := c.Operation.Matrix; matrix.IsTuned(m) {
		// Its trials come from the tuner: the tuner is checked.
		if _, err := e.newTuning(ctx, run, at, m); err != nil {
			return specs.ErrorList{matrix.FieldError(mat, err)}
		}
		return nil
	}
	search, err := matrix.New(mat, c.Operation.Matrix, sweepSeed(run.UUID))
	if err != nil {
		return specs.ErrorList{matrix.FieldError(mat, err)}
	}
	trials, _, err := search.Next(nil, 1)
	if err != nil {
		return specs.ErrorList{matrix.FieldError(mat, err)}
	}
	if len(trials) == 0 {
		return nil
	}
	child := &store.Run{UUID: childUUID(run.UUID, "0", 1), Node: "0", Project: run.Project, User: run.User, Teams: run.Teams,
		Parent: run.UUID, Root: firstOf(run.Root, run.UUID), ParentAttempt: 1, CreatedAt: run.CreatedAt}
	child.Name = firstOf(c.Run.Name, "trial") + "-0"
	ri := compiler.RunInfo{UUID: child.UUID, Name: child.Name, Project: child.Project, CreatedAt: child.CreatedAt, CompiledAt: e.cfg.Now()}
	if e.cfg.RunInfo != nil {
		ri = e.cfg.RunInfo(child, ri)
	}
	cc, err := e.compileSafely(mat, child.UUID, trialOp(c, trials[0].Params), c.Component, compiler.Options{Run: ri,
		Connections: e.cfg.Connections, Policy: e.Policy(), Caller: callerOf(child), Refs: submitRefs{ctx: ctx, st: e.cfg.Store}})
	var ce *compiler.CompilationError
	switch {
	case err == nil:
	case errors.Is(err, errDeferred), errors.Is(err, errUnavailable):
		return nil
	case errors.As(err, &ce):
		return specs.ErrorList{specs.Invalidf(mat, nil, "its first trial %s does not compile: %v", describeTrial(trials[0].Params), oneLine(ce))}
	default:
		return specs.ErrorList{specs.Invalidf(mat, nil, "its first trial %s does not compile: %v", describeTrial(trials[0].Params), err)}
	}
	return deepInputs(mat, cc)
}

// describeTrial writes a trial's params for people, by name.
func describeTrial(params map[string]any) string {
	names := slices.Sorted(maps.Keys(params))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%v", n, params[n])
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// MatrixInfo describes a matrix run for people: its kind, the most trials
// it runs (0 when that is only known once it runs), and the metric its
// trials are sorted by (the one it optimises, else the one its early
// stopping watches), if any.
type MatrixInfo struct {
	Kind     string `json:"kind"`
	Total    int    `json:"total,omitempty"`
	Metric   string `json:"metric,omitempty"`
	Maximize bool   `json:"maximize,omitempty"`
}

// matrixOf is the matrix of a run's operation, nil when it has none.
func (e *Engine) matrixOf(ctx context.Context, run *store.Run) (specs.Matrix, error) {
	if !compiledByDag(run) {
		var op specs.Operation
		if _, err := e.stored(ctx, run, &op); err != nil {
			return nil, err
		}
		return op.Matrix, nil
	}
	parent, _, err := e.cfg.Store.Get(ctx, run.Parent)
	if err != nil {
		return nil, err
	}
	if parent.Schedule != "" || parent.Events {
		return e.matrixOf(ctx, parent) // a fire (an event's run) runs its parent's matrix
	}
	d, err := e.dagOf(ctx, parent, 1)
	if errors.Is(err, ErrNotPipeline) {
		return nil, nil // a matrix's trial
	}
	if err != nil {
		return nil, err
	}
	for i := range d.Operations {
		if d.Operations[i].Name == run.Node {
			return d.Operations[i].Matrix, nil
		}
	}
	return nil, nil
}

// matrixGraph is a matrix run's graph: its trials so far, by index, each
// with its run in the current attempt.
func (e *Engine) matrixGraph(ctx context.Context, run *store.Run, m specs.Matrix) (*Graph, error) {
	info := &MatrixInfo{Kind: string(m.MatrixKind())}
	info.Metric, info.Maximize = watched(m)
	if matrix.IsTuned(m) {
		// As many trials as its tuners suggest: not known ahead.
	} else if s, err := matrix.New("matrix", m, sweepSeed(run.UUID)); err == nil {
		info.Total = s.Total()
	} else if !compiledByDag(run) {
		// Its templates rendered (numRuns: "{{ n }}").
		if c, err := e.compileStored(ctx, run); err == nil && c.Operation.Matrix != nil {
			if s, err := matrix.New("matrix", c.Operation.Matrix, sweepSeed(run.UUID)); err == nil {
				info.Total = s.Total()
			}
		}
	}
	// Read a page at a time, keeping of each child what the graph shows:
	// a sweep of 100,000 trials is never held whole.
	var children []*store.Run
	for after := ""; ; {
		page, more, err := e.cfg.Store.ChildrenAfter(ctx, run.UUID, after, 1000)
		if err != nil {
			return nil, err
		}
		runs, err := e.cfg.Store.GetMany(ctx, page)
		if err != nil && !errors.Is(err, store.ErrUnreadable) { // an unreadable trial shows as not run yet
			return nil, err
		}
		for _, ch := range runs {
			children = append(children, &store.Run{UUID: ch.UUID, Node: ch.Node, Status: ch.Status,
				ParentAttempt: ch.ParentAttempt, CacheOf: ch.CacheOf})
		}
		if !more || len(page) == 0 {
			break
		}
		after = page[len(page)-1]
	}
	newest := CurrentChildren(children, run.Attempt)
	out := &Graph{Run: run, Matrix: info}
	for node, ch := range newest {
		out.Nodes = append(out.Nodes, GraphNode{Name: node, Run: ch.UUID, Status: ch.Status, CacheOf: ch.CacheOf})
	}
	slices.SortFunc(out.Nodes, func(a, b GraphNode) int { return trialIndex(a.Name) - trialIndex(b.Name) })
	return out, nil
}

// trialIndex is the index of a matrix's trial by its node.
func trialIndex(node string) int {
	i, err := strconv.Atoi(node)
	if err != nil {
		return -1
	}
	return i
}
