package engine

// How a parent's child is compiled: from its operation in the dag (or its
// trial of the matrix), with the refs of its pipeline resolved from its
// siblings and its parent, and its conditions evaluated over what it
// resolved to.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// compileChild compiles a dag's child from its operation in the dag, with
// the refs of its pipeline (`ops.X`, `dag`) resolved from its siblings and
// its parent.
func (l *leading) compileChild(ctx context.Context, r *store.Run) (*compiler.Compiled, error) {
	parent, err := l.current(ctx, r.Parent)
	if err != nil {
		return nil, fmt.Errorf("engine: run %s: its dag: %w", r.UUID, unavailable(err))
	}
	if parent.Status.Final() {
		// A tombstone: the dag ended; its record says how it was built.
		if parent, _, err = l.st.Get(ctx, r.Parent); err != nil {
			return nil, unavailable(err)
		}
	}
	p, err := l.pipelineOf(ctx, parent)
	if err != nil {
		return nil, err
	}
	if p.sched != nil {
		return l.compileFire(ctx, p, r)
	}
	if p.subs != nil {
		return l.compileEvent(ctx, p, r)
	}
	return l.compileNode(ctx, p, r)
}

// compileNode compiles the run of one of a pipeline's operations.
func (l *leading) compileNode(ctx context.Context, p *pipeline, r *store.Run) (*compiler.Compiled, error) {
	op := p.op(r.Node)
	if _, ok := TunerNode(r.Node); ok && p.sweep != nil && p.sweep.tuning != nil {
		op = p.sweep.tuning.op(r.Params)
	}
	if op == nil {
		return nil, fmt.Errorf("engine: run %s: its dag %s has no operation %q", r.UUID, r.Parent, r.Node)
	}
	comp := p.componentOf(op)
	if comp == nil {
		return nil, fmt.Errorf("engine: run %s: operation %q has no component", r.UUID, r.Node)
	}
	if len(op.Joins) > 0 && r.Inputs != nil {
		// Compiled before: its joins give what they gave then.
		pinned := *op
		pinned.Params = maps.Clone(op.Params)
		pinJoins(&pinned, func(name string) (any, bool) {
			v, ok := r.Inputs[name]
			return v, ok
		})
		op = &pinned
	}
	if p.defaults != nil {
		var err error
		if comp, err = compiler.Merge(&specs.Operation{RunPatch: p.defaults, PatchStrategy: specs.PatchPreMerge}, comp); err != nil {
			return nil, fmt.Errorf("the dag's environment, connections and volumes: %w", err)
		}
	}
	ri := compiler.RunInfo{UUID: r.UUID, Name: r.Name, Project: r.Project, CreatedAt: r.CreatedAt, CompiledAt: l.e.cfg.Now()}
	if r.FireAt != nil {
		ri.ScheduleAt = *r.FireAt // of the schedule's fire it runs in
	}
	if r.ResumeOf != "" {
		ri.CloningKind, ri.OriginalUUID = "copy", r.ResumeOf // a hyperband trial that continues an earlier one
	}
	if k, ok := p.iterationOf(r.Node); ok {
		ri.Iteration = &k // a tuned sweep's tuner or trial
	}
	if l.e.cfg.RunInfo != nil {
		ri = l.e.cfg.RunInfo(r, ri)
	}
	return l.e.compileSafely("", r.UUID, op, comp, compiler.Options{Run: ri, Connections: l.e.cfg.Connections, Policy: l.e.Policy(), Caller: callerOf(r),
		Refs: pipelineRefs{ctx: ctx, l: l, p: p}, Joins: runJoins{ctx: ctx, st: l.st, self: r.UUID}})
}

// componentOf is the component one of the dag's operations runs: its own,
// or the dag's it names by dagRef.
func (p *pipeline) componentOf(op *specs.Operation) *specs.Component {
	if op.DagRef != "" {
		return p.comps[op.DagRef]
	}
	return op.Component
}

// cacheDoc is what a cache key reads of an operation of the dag: its
// component as resolved (with the dag's environment, connections and
// volumes it takes), and its runPatch.
func (p *pipeline) cacheDoc(node string) (component, runPatch json.RawMessage, strategy string, err error) {
	op := p.op(node)
	if op == nil {
		return nil, nil, "", fmt.Errorf("engine: dag %s has no operation %q", p.uuid, node)
	}
	comp := op.Component
	if op.DagRef != "" {
		comp = p.comps[op.DagRef]
	}
	p.mu.Lock()
	component = p.docs[comp]
	p.mu.Unlock()
	if component == nil {
		if component, err = json.Marshal(struct {
			Component *specs.Component `json:"component"`
			Defaults  map[string]any   `json:"dagDefaults,omitempty"`
		}{comp, p.defaults}); err != nil {
			return nil, nil, "", err
		}
		p.mu.Lock()
		p.docs[comp] = component
		p.mu.Unlock()
	}
	if len(op.RunPatch) > 0 {
		if runPatch, err = json.Marshal(op.RunPatch); err != nil {
			return nil, nil, "", err
		}
	}
	return component, runPatch, string(op.PatchStrategy), nil
}

// pipelineRefs resolves the refs of a dag's child: `ops.X` from the run
// of operation X in the same dag, `dag` from the dag's own params and
// globals, `runs.<uuid>` from the store.
type pipelineRefs struct {
	ctx context.Context
	l   *leading
	p   *pipeline
}

func (pr pipelineRefs) ResolveRef(ref, selector string) (any, error) {
	switch {
	case strings.HasPrefix(ref, "ops."):
		node := strings.TrimPrefix(ref, "ops.")
		pr.p.mu.Lock()
		uuid, ok := pr.p.nodes[node]
		pr.p.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("operation %q has not run", node)
		}
		return runRefs{ctx: pr.ctx, st: pr.l.st}.ResolveRef("runs."+uuid, selector)
	case ref == "dag":
		return dagValue(pr.p.compiled, selector)
	}
	return runRefs{ctx: pr.ctx, st: pr.l.st}.ResolveRef(ref, selector)
}

// dagValue reads selector (`inputs.X`, `io.X`, `globals.X`) off a dag's
// compilation: what a `dag` ref of its operations reads.
func dagValue(c *compiler.Compiled, selector string) (any, error) {
	kind, name, _ := strings.Cut(selector, ".")
	var from map[string]any
	switch kind {
	case "inputs", "io":
		from = map[string]any{}
		for _, prm := range c.Params {
			from[prm.Name] = prm.Value
		}
	case "globals":
		from = c.Globals
	default:
		return nil, fmt.Errorf("selector %q of the dag: want inputs.NAME or globals.NAME", selector)
	}
	if name == "" {
		return from, nil
	}
	v, ok := from[name]
	if !ok {
		return nil, fmt.Errorf("the dag has no %s %q", strings.TrimSuffix(kind, "s"), name)
	}
	return v, nil
}

// conditionsHold evaluates a dag child's `conditions` over its resolved
// params; false (or an error) says why it is skipped.
func (l *leading) conditionsHold(ctx context.Context, r *store.Run, c *compiler.Compiled) (bool, string) {
	if r.Parent == "" || r.Node == "" {
		return true, ""
	}
	parent, err := l.current(ctx, r.Parent)
	if err != nil {
		return true, ""
	}
	p, err := l.pipelineOf(ctx, parent)
	if err != nil {
		return true, ""
	}
	return p.conditionsHold(r.Node, c)
}

// conditionsHold evaluates the `conditions` of operation node over its
// compiled params.
func (p *pipeline) conditionsHold(node string, c *compiler.Compiled) (bool, string) {
	op := p.op(node)
	if op == nil || op.Conditions == "" {
		return true, ""
	}
	params := make(map[string]any, len(c.Params)+1)
	for _, prm := range c.Params {
		params[prm.Name] = prm.Value
	}
	params["globals"] = c.Globals
	ok, err := dag.Condition(op.Conditions, params)
	if err != nil {
		return false, err.Error()
	}
	if !ok {
		return false, "conditions " + op.Conditions + " are false"
	}
	return true, ""
}
