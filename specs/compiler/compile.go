package compiler

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/plexus-ml/plexus/specs"
)

// Options are the inputs of a compilation besides the operation and its
// component.
type Options struct {
	// Presets apply to the operation in order (the `-f` files after the
	// first).
	Presets []*specs.Operation
	// Params override the operation's (the command line's -P).
	Params map[string]specs.Param
	// Run describes the run compiled for.
	Run RunInfo
	// Refs resolves `ref` params; nil makes them errors.
	Refs RefResolver
	// Joins finds the runs the operation's joins select; nil refuses
	// operations with joins.
	Joins JoinResolver
	// Connections is the catalogue: what `connections[...]` and
	// `init[...]` show, and what the run's connections mount.
	Connections Catalogue
	// Policy says what Caller may use; nil allows everything.
	Policy *Policy
	Caller Caller
	// Deferred says the run is a parent whose children are compiled when
	// they come, though the operation alone does not say so (an event
	// subscription: each event's run has its `event`): its run section is
	// not rendered.
	Deferred bool
}

// Compiled is an operation compiled for one run.
type Compiled struct {
	// Operation is the operation after its presets, its own sections
	// (matrix, schedule, conditions, ...) rendered.
	Operation *specs.Operation
	// Component is the component merged with the operation, every template
	// of its run rendered — unless the run is a pipeline (a dag, a matrix
	// or a schedule), whose children are compiled when they run.
	Component *specs.Component
	// Params are the resolved params, Globals the run's `globals.*`.
	Params  Params
	Globals map[string]any
	// Connections is the catalogue the run was compiled with.
	Connections Catalogue
	// Run is what was known of the run when it was compiled: what Lower
	// names and labels its objects with.
	Run RunInfo
}

// Compile runs the stages that follow resolution on an operation and the
// component it resolved to: presets, the merge of the operation onto the
// component (runPatch and patchStrategy), params (then the params of the
// operation's joins, through opts.Joins), context, templates and access
// control.
// The first stage that fails stops the compilation; its error lists every
// problem it found.
func Compile(op *specs.Operation, comp *specs.Component, opts Options) (*Compiled, error) {
	op, err := ApplyPresets(op, comp, opts.Presets)
	if err != nil {
		return nil, err
	}
	merged, err := Merge(op, comp)
	if err != nil {
		return nil, err
	}
	params, joined, err := resolveParams(op, merged, opts.Params, opts.Refs, opts.Joins != nil)
	if err != nil {
		return nil, err
	}
	globals := Globals(opts.Run, merged)
	if err := renderParamTemplates(params, globals); err != nil {
		return nil, err
	}
	// Joins resolve after the plain params, which their queries may use.
	if params, err = resolveJoins(op.Joins, merged, joined, params, globals, opts.Joins); err != nil {
		return nil, err
	}
	if err := addParamInits(merged, params); err != nil {
		return nil, err
	}
	conns, inits := requestedConnections(merged, opts.Connections)
	ctx, err := Context(globals, params, conns, inits)
	if err != nil {
		return nil, err
	}
	if svc, ok := merged.Run.(*specs.Service); ok && svc.Ports.Template != "" {
		// Templates see globals.ports: render the ports first.
		w := &walker{r: newRenderer(ctx)}
		w.walk(reflect.ValueOf(&svc.Ports).Elem(), "run.ports")
		if err := stageError(StageTemplates, w.errs); err != nil {
			return nil, err
		}
		globals = Globals(opts.Run, merged)
		ctx["globals"] = globals
	}
	if svc, ok := merged.Run.(*specs.Service); ok && opts.Run.Ports != nil {
		if err := assignPorts(svc, opts.Run.Ports); err != nil {
			return nil, err
		}
		globals = Globals(opts.Run, merged)
		ctx["globals"] = globals
	}
	if err := RenderSections(merged, ctx); err != nil {
		return nil, err
	}
	if d, ok := merged.Run.(*specs.DAG); ok && d.Concurrency.IsTemplate() {
		// The dag's own concurrency; its operations render as they run.
		w := &walker{r: newRenderer(ctx)}
		w.walk(reflect.ValueOf(&d.Concurrency).Elem(), "run.concurrency")
		if err := stageError(StageTemplates, w.errs); err != nil {
			return nil, err
		}
	}
	if op, err = RenderOperation(op, ctx); err != nil {
		return nil, err
	}
	if !opts.Deferred && !isPipeline(op, merged) {
		if err := RenderRun(merged.Run, ctx); err != nil {
			return nil, err
		}
	}
	c := &Compiled{Operation: op, Component: merged, Params: params, Globals: globals, Connections: opts.Connections, Run: opts.Run.withDefaults()}
	if err := CheckAccess(opts.Policy, opts.Caller, opts.Run, c); err != nil {
		return nil, err
	}
	return c, nil
}

// isPipeline says whether the run is a parent whose children are compiled
// when they run (a dag, a matrix or a schedule): its own run section is not
// rendered, as in the reference.
func isPipeline(op *specs.Operation, c *specs.Component) bool {
	_, isDAG := c.Run.(*specs.DAG)
	return isDAG || c.Run == nil || op.Matrix != nil || op.Schedule != nil
}

// renderParamTemplates renders param values written as templates (`value:
// "{{ globals.uuid }}"`) with the globals, then coerces them to their type.
func renderParamTemplates(params Params, globals map[string]any) error {
	r := newRenderer(map[string]any{"globals": globals})
	var errs specs.ErrorList
	for i := range params {
		p := &params[i]
		s, ok := p.Value.(string)
		if !ok || !hasTemplate(s) {
			continue
		}
		pp := specs.Path("params").Key(p.Name).Child("value")
		out, err := r.render(s)
		if err != nil {
			errs = append(errs, specs.Invalidf(pp, s, "%v", err))
			continue
		}
		if p.Type == "" {
			p.Value = out
			continue
		}
		v, err := specs.CoerceValue(p.Type, p.IsList, out)
		if err != nil {
			errs = append(errs, specs.Invalidf(pp, s, "%q renders %q: %v", p.Name, out, err))
			continue
		}
		p.Value = v
	}
	return stageError(StageParams, errs)
}

// requestedConnections returns what `connections[...]` and `init[...]`
// show: the schema of every connection of the catalogue. The access
// control stage decides which of them a run may use.
func requestedConnections(_ *specs.Component, catalogue Catalogue) (conns, inits map[string]Connection) {
	return catalogue.schemas(), catalogue.schemas()
}

// addParamInits puts the init entries of toInit params first in each of
// the run's pods, as the reference prepends them.
func addParamInits(c *specs.Component, params Params) error {
	inits, errs := initsFromParams(params)
	if len(errs) > 0 || len(inits) == 0 {
		return stageError(StageConnections, errs)
	}
	for _, rp := range replicasOf(c.Run) {
		rp.r.Init = append(append([]specs.Init(nil), inits...), rp.r.Init...)
	}
	return nil
}

// assignPorts puts the ports a service listens at in place of those it
// declares (RunInfo.Ports).
func assignPorts(svc *specs.Service, assign func([]int) ([]int, error)) error {
	ports, err := assign(slices.Clone(svc.Ports.Items))
	if err == nil && len(ports) != len(svc.Ports.Items) {
		err = fmt.Errorf("%d ports were assigned for the %d declared", len(ports), len(svc.Ports.Items))
	}
	if err != nil {
		return stageError(StageTemplates, specs.ErrorList{specs.Invalidf("run.ports", svc.Ports.Items, "assigning the service's ports: %v", err)})
	}
	svc.Ports.Items = ports
	return nil
}
