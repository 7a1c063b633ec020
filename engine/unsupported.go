package engine

import (
	"fmt"
	"strings"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

// What the engine does not run yet is refused when it is submitted, at
// the field that asks for it, instead of being run as something else (a
// schedule as a single run): a schedule inside a dag (a dag's operation waits on its upstreams' events; a subscription's refs and
// kinds are checked by triggers.NewFilter at submission). The specs
// parse, validate and compile them; only running them is refused.
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
		if op.Schedule != nil && depth > 0 {
			refuse(at.Child("schedule"), "schedules of a dag's operations (a schedule runs at the top of a file)")
		}
		for i, ev := range op.Events {
			if depth == 0 || ev.Ref != "dag" {
				continue
			}
			for j, k := range ev.Kinds {
				if s, _ := strings.CutPrefix(string(k), "run_status_"); store.Status(s).Final() || s == "done" || s == "stopping" {
					errs = append(errs, &specs.FieldError{Path: at.Child("events").Index(i).Child("kinds").Index(j), Type: specs.ErrInvalid,
						Detail: fmt.Sprintf("an operation of a dag cannot wait for its dag to reach %s: the dag ends after its operations", k)})
				}
			}
		}

	}
	if op != nil || comp == nil || depth > maxNestedDags {
		return errs
	}
	d, ok := comp.Run.(*specs.DAG)
	if !ok {
		return errs
	}
	for i, es := range d.EarlyStopping {
		if ms, ok := es.(*specs.MetricEarlyStopping); ok && ms.Policy != nil {
			errs = append(errs, &specs.FieldError{Path: at.Child("run").Child("earlyStopping").Index(i).Child("policy"), Type: specs.ErrInvalid,
				Detail: fmt.Sprintf("the %s stopping policy applies to a matrix's trials, not to a dag's operations: the file is valid, but nothing was submitted", ms.Policy.PolicyKind())})
		}
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
