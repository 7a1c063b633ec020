package engine

// Hooks: when a run submitted with `hooks` ends, each hook whose trigger
// matches its final status (and whose conditions hold over what the run
// resolved to, its outputs included) runs its hub component as a run of
// its own, with the run's context as default params. The store puts the
// ended run under `hooks/` in the transaction that ends it; the leader
// creates the hook runs (each named from the run, its attempt and the
// hook, so never twice) and then takes it off. Which hook fires and with
// what params is the triggers package's to say.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/triggers"
)

// hooksOf are a run's hooks: its operation's, or else its component's.
func hooksOf(op *specs.Operation, comp *specs.Component) []specs.Hook {
	if op != nil && len(op.Hooks) > 0 {
		return op.Hooks
	}
	if comp != nil {
		return comp.Hooks
	}
	return nil
}

// pendingHooks is how many ended runs a look at the pending hooks takes.
const pendingHooks = 256

// runPendingHooks creates the hook runs of the ended runs that still wait
// for them.
func (l *leading) runPendingHooks(ctx context.Context) {
	uuids, err := l.st.PendingHooks(ctx, pendingHooks)
	if err != nil {
		if ctx.Err() == nil {
			l.e.cfg.Log.Warn("reading pending hooks", "err", err)
		}
		return
	}
	for _, uuid := range uuids {
		if err := l.guard("running the hooks of", uuid, func() error { return l.runHooks(ctx, uuid) }); err != nil && ctx.Err() == nil {
			l.e.cfg.Log.Warn("hooks", "run", uuid, "err", err)
		}
	}
}

// runHooks creates the hook runs of run uuid, which ended.
func (l *leading) runHooks(ctx context.Context, uuid string) error {
	hook("hooks", uuid)
	r, _, err := l.st.Get(ctx, uuid)
	if errors.Is(err, store.ErrNotFound) {
		return l.st.HooksDone(ctx, uuid)
	}
	if err != nil {
		return err
	}
	if !r.Status.Final() {
		return nil // resumed: its next end brings it back
	}
	op, comp, err := l.hooksSource(ctx, r)
	if err != nil {
		return err
	}
	hr := hookRun(r, comp)
	for i, h := range hooksOf(op, comp) {
		if !triggers.HookFires(h.Trigger, string(r.Status)) {
			continue
		}
		params := triggers.HookParams(h, hr)
		at := specs.Path("hooks").Index(i)
		if h.Conditions != "" {
			ok, err := dag.Condition(h.Conditions, hookContext(r, params))
			if err != nil {
				// Seen as a failed hook run, not dropped without a trace.
				if err := l.failHook(ctx, r, at, h, "", fmt.Errorf("%s.conditions: %w", at, err)); err != nil {
					return err
				}
				continue
			}
			if !ok {
				continue
			}
		}
		if err := l.submitHook(ctx, r, at, h, params); err != nil {
			return err
		}
	}
	return l.st.HooksDone(ctx, uuid)
}

// hooksSource is the operation and component whose hooks run r has: its
// own submission's; or, for a child compiled from its parent, its
// operation in the dag, or the schedule's or subscription's operation.
func (l *leading) hooksSource(ctx context.Context, r *store.Run) (*specs.Operation, *specs.Component, error) {
	if !compiledByDag(r) {
		var op specs.Operation
		comp, err := l.e.stored(ctx, r, &op)
		return &op, comp, err
	}
	parent, _, err := l.st.Get(ctx, r.Parent)
	if err != nil {
		return nil, nil, ofRecord(r.Parent, err)
	}
	p, err := l.pipelineOf(ctx, parent)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case p.sched != nil:
		return p.sched.op, p.sched.comp, nil
	case p.subs != nil:
		return p.subs.op, p.subs.comp, nil
	}
	op := p.op(r.Node)
	if op == nil {
		return nil, nil, fmt.Errorf("engine: run %s: its dag %s has no operation %q", r.UUID, r.Parent, r.Node)
	}
	return op, p.componentOf(op), nil
}

// hookRun is what a hook's default params say of the run that ended.
func hookRun(r *store.Run, comp *specs.Component) triggers.HookRun {
	hr := triggers.HookRun{Name: r.Name, UUID: r.UUID, Project: r.Project, Status: string(r.Status), Inputs: r.Inputs,
		Outputs: r.Outputs, CreatedAt: r.CreatedAt}
	if comp != nil && comp.Run != nil {
		hr.Kind = string(comp.Run.RunKind())
	}
	for _, c := range r.Conditions {
		if c.Type == store.Running && hr.StartedAt.IsZero() {
			hr.StartedAt = c.Time
		}
	}
	if n := len(r.Conditions); n > 0 {
		hr.Condition, hr.FinishedAt = r.Conditions[n-1].Message, r.Conditions[n-1].Time
	}
	return hr
}

// hookContext is what a hook's conditions read: the run's inputs by name,
// and the hook's params (its defaults: status, outputs, ...).
func hookContext(r *store.Run, params map[string]specs.Param) map[string]any {
	out := map[string]any{}
	for k, v := range r.Inputs {
		out[k] = v
	}
	for k, p := range params {
		out[k] = p.Value
	}
	return out
}

// submitHook submits hook h (at path at) of run r as a run of its own.
// A hook that cannot be submitted (its component is not found, its
// params do not fit) is recorded as a failed run that says why, so it is
// seen rather than lost.
func (l *leading) submitHook(ctx context.Context, r *store.Run, at specs.Path, h specs.Hook, params map[string]specs.Param) error {
	name := hookName(r, h)
	op := map[string]any{"version": 1.1, "kind": "operation", "name": name, "hubRef": h.HubRef, "params": params}
	if h.Queue != "" {
		op["queue"] = h.Queue
	}
	if len(h.Presets) > 0 {
		op["presets"] = h.Presets
	}
	if h.Connection != "" {
		op["runPatch"] = map[string]any{"connections": []string{h.Connection}}
	}
	spec, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("engine: run %s: %s: %w", r.UUID, at, err)
	}
	uuid := childUUID(r.UUID, string(at), r.Attempt)
	_, err = l.e.Submit(ctx, Submission{Spec: string(spec), Source: fmt.Sprintf("run %s %s", r.UUID, at), Project: r.Project, uuid: uuid, hookOf: r.UUID,
		Caller: compiler.Caller{User: r.User, Teams: r.Teams}})
	var list specs.ErrorList
	var ce *compiler.CompilationError
	switch {
	case err == nil, errors.Is(err, store.ErrExists):
		return nil
	case errors.As(err, &list), errors.As(err, &ce):
		return l.failHook(ctx, r, at, h, string(spec), err)
	}
	return err
}

// hookName names the run of hook h of run r.
func hookName(r *store.Run, h specs.Hook) string {
	return fmt.Sprintf("%s-hook-%s", r.Name, strings.NewReplacer("/", "-", ":", "-").Replace(h.HubRef))
}

// failHook records hook h (at path at) of run r as a failed run that says
// why it could not run (why).
func (l *leading) failHook(ctx context.Context, r *store.Run, at specs.Path, h specs.Hook, spec string, why error) error {
	now := l.e.cfg.Now().UTC()
	failed := &store.Run{UUID: childUUID(r.UUID, string(at), r.Attempt), Name: hookName(r, h), Project: r.Project, User: r.User, Teams: r.Teams, Spec: spec, HookOf: r.UUID,
		Status: store.Failed, CreatedAt: now, Conditions: []store.Condition{{Type: store.Created, Time: now},
			{Type: store.Failed, Reason: "HookInvalid", Message: why.Error(), Time: now}}}
	if err := l.st.Create(ctx, failed); err != nil && !errors.Is(err, store.ErrExists) {
		return err
	}
	return nil
}

// HooksOf returns the hook runs of run r made so far, and whether more
// may come (its hook runs are not all created yet).
func (e *Engine) HooksOf(ctx context.Context, r *store.Run) ([]*store.Run, bool, error) {
	if r.Hooks == 0 {
		return nil, false, nil
	}
	pending, err := e.cfg.Store.HooksPending(ctx, r.UUID)
	if err != nil {
		return nil, false, err
	}
	uuids := make([]string, r.Hooks)
	for i := range uuids {
		uuids[i] = childUUID(r.UUID, string(specs.Path("hooks").Index(i)), r.Attempt)
	}
	runs, err := e.cfg.Store.GetMany(ctx, uuids)
	return runs, pending || !r.Status.Final(), err
}
