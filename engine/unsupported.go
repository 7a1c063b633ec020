package engine

import (
	"github.com/plexus-ml/plexus/specs"
)

// What the engine does not run yet is refused when it is submitted, at
// the field that asks for it, instead of being run as something else (a
// matrix as one plain job with its templates unrendered, a schedule as a
// single run): matrices and optimisers, schedules, a run's subscriptions
// to events (a dag's operations wait on events of their upstreams: that
// runs) and hooks. The specs parse, validate and compile them; only running them is
// refused.
//
// With op, at is the operation's path and comp is not looked at; with comp
// (op nil), at is the component's path.
func unsupported(at specs.Path, op *specs.Operation, comp *specs.Component, depth int) specs.ErrorList {
	var errs specs.ErrorList
	refuse := func(p specs.Path, what string) {
		errs = append(errs, &specs.FieldError{Path: p, Type: specs.ErrInvalid,
			Detail: what + " are not run by this engine yet: the file is valid, but nothing was submitted"})
	}
	if op != nil {
		if op.Matrix != nil {
			refuse(at.Child("matrix"), "matrices and optimisations")
		}
		if op.Schedule != nil {
			refuse(at.Child("schedule"), "schedules")
		}
		if len(op.Events) > 0 && depth == 0 {
			refuse(at.Child("events"), "event subscriptions")
		}
		if len(op.Hooks) > 0 {
			refuse(at.Child("hooks"), "hooks")
		}
	}
	if op != nil || comp == nil || depth > maxNestedDags {
		return errs
	}
	if len(comp.Hooks) > 0 {
		refuse(at.Child("hooks"), "hooks")
	}
	d, ok := comp.Run.(*specs.DAG)
	if !ok {
		return errs
	}
	for i := range d.Operations {
		child := &d.Operations[i]
		p := at.Child("run").Child("operations").Index(i)
		errs = append(errs, unsupported(p, child, nil, depth+1)...)
		if child.Component != nil {
			errs = append(errs, unsupported(p.Child("component"), nil, child.Component, depth+1)...)
		}
	}
	for i := range d.Components {
		errs = append(errs, unsupported(at.Child("run").Child("components").Index(i), nil, &d.Components[i], depth+1)...)
	}
	return errs
}
