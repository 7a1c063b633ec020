package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// What can be rendered at submission is rendered at submission: an
// operation of a dag whose compilation needs nothing but the dag's params
// and globals is compiled by Submit, as the leader will compile it, and
// what fails then refuses the submission at the operation's path. An
// operation that reads an upstream's outputs (`ref: ops.X`) or selects
// runs with joins is compiled when it runs; if it fails then, it fails
// that operation, not the dag, nor the engine.

// errDeferred: an operation's compilation needs what only its dag's run
// gives (an upstream's outputs).
var errDeferred = errors.New("engine: it reads an upstream operation, compiled when it runs")

// maxNestedDags bounds how deep precompile follows dags inside dags.
const maxNestedDags = 32

// submitRefs resolves the refs of a dag's operation at submission:
// `dag` from the dag's compilation, `runs.<uuid>` from the store, and
// `ops.X` not yet (errDeferred).
type submitRefs struct {
	ctx context.Context
	st  *store.Store
	dag *compiler.Compiled
}

func (sr submitRefs) ResolveRef(ref, selector string) (any, error) {
	switch {
	case strings.HasPrefix(ref, "ops."):
		return nil, errDeferred
	case ref == "dag":
		return dagValue(sr.dag, selector)
	}
	return runRefs{ctx: sr.ctx, st: sr.st}.ResolveRef(ref, selector)
}

// precompile compiles the operations of dag run (compiled as c, at path
// at of the submitted file) that depend on nothing but the dag, and the
// operations of the dags among them; it returns what failed, each at the
// path of its operation. Operations that differ only by their name and
// place in the graph (a wide dag of one component) are compiled once: a
// template that fails for some names and not others (on `globals.name`)
// fails its operation when it runs.
func (e *Engine) precompile(ctx context.Context, run *store.Run, at specs.Path, c *compiler.Compiled, depth int) specs.ErrorList {
	d, ok := c.Component.Run.(*specs.DAG)
	if !ok || depth > maxNestedDags {
		return nil
	}
	defaults, err := dagDefaults(d)
	if err != nil {
		return specs.ErrorList{specs.Invalidf(at.Child("run"), nil, "the dag's environment, connections and volumes: %v", err)}
	}
	comps := map[string]*specs.Component{}
	for i := range d.Components {
		comps[d.Components[i].Name] = &d.Components[i]
	}
	var errs specs.ErrorList
	seen := map[string]bool{}
	for i := range d.Operations {
		op := &d.Operations[i]
		p := at.Child("run").Child("operations").Index(i)
		comp := op.Component
		if op.DagRef != "" {
			comp = comps[op.DagRef]
		}
		if comp == nil || len(op.Joins) > 0 {
			continue // refs checked at parse; joins read the run history when it runs
		}
		if key, ok := compileKey(op, comp); ok {
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		if defaults != nil {
			if comp, err = compiler.Merge(&specs.Operation{RunPatch: defaults, PatchStrategy: specs.PatchPreMerge}, comp); err != nil {
				errs = append(errs, specs.Invalidf(p, nil, "with the dag's environment, connections and volumes: %v", err))
				continue
			}
		}
		child := &store.Run{UUID: childUUID(run.UUID, op.Name, 1), Name: op.Name, Node: op.Name, Project: run.Project, User: run.User, Teams: run.Teams,
			Parent: run.UUID, Root: firstOf(run.Root, run.UUID), ParentAttempt: 1, CreatedAt: run.CreatedAt}
		ri := compiler.RunInfo{UUID: child.UUID, Name: child.Name, Project: child.Project, CreatedAt: child.CreatedAt, CompiledAt: e.cfg.Now()}
		if e.cfg.RunInfo != nil {
			ri = e.cfg.RunInfo(child, ri)
		}
		cc, err := e.compileSafely(p, child.UUID, op, comp, compiler.Options{Run: ri, Connections: e.cfg.Connections, Policy: e.Policy(), Caller: callerOf(child),
			Refs: submitRefs{ctx: ctx, st: e.cfg.Store, dag: c}})
		var ce *compiler.CompilationError
		switch {
		case err == nil:
		case errors.Is(err, errDeferred), errors.Is(err, errUnavailable):
			continue
		case errors.As(err, &ce):
			errs = append(errs, specs.Invalidf(p, nil, "operation %q does not compile: %v", op.Name, oneLine(ce)))
			continue
		default:
			errs = append(errs, specs.Invalidf(p, nil, "operation %q does not compile: %v", op.Name, err))
			continue
		}
		if bad := deepInputs(p, cc); len(bad) > 0 {
			errs = append(errs, bad...)
			continue
		}
		if cc.Operation.Matrix != nil {
			errs = append(errs, e.checkMatrix(ctx, child, p, cc)...)
			continue
		}
		if isPipeline(cc) {
			sub := p
			if op.DagRef != "" {
				sub = at.Child("run").Child("components").Index(indexOf(d.Components, op.DagRef))
			} else {
				sub = p.Child("component")
			}
			errs = append(errs, e.precompile(ctx, child, sub, cc, depth+1)...)
		}
	}
	return errs
}

// compileKey is what an operation's compilation depends on besides its
// name and its place in the graph: its component (by identity) and the
// rest of the operation.
func compileKey(op *specs.Operation, comp *specs.Component) (string, bool) {
	o := *op
	o.Name, o.Component, o.Dependencies, o.Trigger, o.Conditions, o.SkipOnUpstreamSkip = "", nil, nil, "", "", nil
	data, err := json.Marshal(&o)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%p\x00%s", comp, data), true
}

// oneLine is a compilation error's problems on one line.
func oneLine(ce *compiler.CompilationError) string {
	return strings.ReplaceAll(ce.Error(), "\n", "; ")
}

func indexOf(comps []specs.Component, name string) int {
	for i := range comps {
		if comps[i].Name == name {
			return i
		}
	}
	return 0
}

// deepInputs reports the compiled inputs of a run nested deeper than
// specs.MaxDepth (a string coerced to a dict, say), at path p of the
// operation compiled.
func deepInputs(p specs.Path, c *compiler.Compiled) specs.ErrorList {
	var errs specs.ErrorList
	for _, prm := range c.Params {
		if fe := specs.CheckDepth(p.Child("params").Key(prm.Name).Child("value"), prm.Value); fe != nil {
			errs = append(errs, fe)
		}
	}
	return errs
}

// readsBack checks that a run's record, as the store will write it,
// decodes into what the leader compiles it from: nothing unreadable is
// ever written.
func readsBack(run *store.Run) error {
	data, err := json.Marshal(run)
	if err != nil {
		return err
	}
	if err := store.CheckRecord(data); err != nil {
		return err
	}
	var back store.Run
	if err := json.Unmarshal(data, &back); err != nil {
		return err
	}
	// As stored() reads it, without keeping a copy of a large dag.
	var r resolved
	if err := json.Unmarshal(back.Compiled, &r); err != nil {
		return fmt.Errorf("engine: run %s: reading its operation: %w", run.UUID, err)
	}
	if err := specs.Check(r.Component, &specs.Component{}); err != nil {
		return fmt.Errorf("engine: run %s: %w", run.UUID, err)
	}
	if err := specs.Check(r.Operation, &specs.Operation{}); err != nil {
		return fmt.Errorf("engine: run %s: %w", run.UUID, err)
	}
	return nil
}
