package triggers

import "github.com/plexus-ml/plexus/specs"

// Check refuses, as submission does, what a file's own operation asks of
// triggers that cannot start: events a subscription does not follow (a
// ref to a dag, a kind that is not a run's status), and events together
// with a schedule. The paths are the file's.
func Check(f *specs.File) specs.ErrorList {
	op := f.Operation
	if op == nil || len(op.Events) == 0 {
		return nil
	}
	if op.Schedule != nil {
		return specs.ErrorList{specs.Invalidf("events", nil, "an operation with both a schedule and events is not run by this engine: submit one of each")}
	}
	_, errs := NewFilter("events", op.Events, "")
	return errs
}
