package compiler

import (
	"errors"
	"maps"

	"github.com/plexus-ml/plexus/specs"
)

// placeholderCandidates are tried in order for a value only a run knows:
// the first one its type accepts stands for it. Numbers are 1, not 0, so
// that a template dividing by a param is not refused at check time.
var placeholderCandidates = []any{
	1, 1.5, true, "placeholder", "gs://placeholder/path", "s3://placeholder/path",
	"wasbs://placeholder@account.blob.core.windows.net/path", "https://placeholder.example/path",
	"placeholder:latest", "/placeholder/path", "2026-01-01", "2026-01-01T00:00:00Z",
	"00000000-0000-4000-8000-000000000000", map[string]any{}, []any{},
}

// placeholder is a value of the input's type (its first option when it has
// options), or false when none fits.
func placeholder(io *specs.IO) (any, bool) {
	if len(io.Options) > 0 {
		return io.Options[0], true
	}
	for _, c := range placeholderCandidates {
		if _, err := specs.CoerceValue(io.Type, io.IsList, c); err == nil {
			if io.IsList {
				return []any{c}, true
			}
			return c, true
		}
	}
	return nil, false
}

// checkTemplates renders the templates of an operation on its component as
// compile would, with the params known at check time and a placeholder of
// its type for every value only a run knows (a required input without a
// value, a param that refers to another run's output), so that check
// refuses what compile refuses: an undefined variable, a template that
// fails, one past the sandbox's limits. Operations with joins are left to
// compile: what their queries select exists only on a server.
func checkTemplates(op *specs.Operation, comp *specs.Component, extra map[string]specs.Param) specs.ErrorList {
	if op == nil {
		op = &specs.Operation{}
	}
	if comp == nil || len(op.Joins) > 0 || len(op.Events) > 0 {
		// What joins select, or the event a subscription's run is for,
		// only a run knows.
		return nil
	}
	probe := *op
	probe.Params = maps.Clone(op.Params)
	for name, p := range probe.Params {
		if p.Ref == "" {
			continue
		}
		io := inputNamed(comp, name)
		if io == nil {
			return nil
		}
		v, ok := placeholder(io)
		if !ok {
			return nil
		}
		probe.Params[name] = specs.Param{Value: v, ContextOnly: p.ContextOnly, ToInit: p.ToInit, ToEnv: p.ToEnv}
	}
	params := maps.Clone(extra)
	if params == nil {
		params = map[string]specs.Param{}
	}
	for i := range comp.Inputs {
		io := &comp.Inputs[i]
		if _, given := params[io.Name]; given || io.Value != nil || io.IsOptional {
			continue
		}
		if _, given := probe.Params[io.Name]; given {
			continue
		}
		v, ok := placeholder(io)
		if !ok {
			return nil
		}
		params[io.Name] = specs.Param{Value: v}
	}
	ri := RunInfo{UUID: "00000000000040008000000000000000", Name: op.Name}
	if ri.Name == "" {
		ri.Name = comp.Name
	}
	_, err := Compile(&probe, comp, Options{Params: params, Run: ri})
	var ce *CompilationError
	if errors.As(err, &ce) && (ce.Stage == StageTemplates || ce.Stage == StageContext || ce.Stage == StageParams) {
		return ce.Errors
	}
	return nil
}

func inputNamed(c *specs.Component, name string) *specs.IO {
	for i := range c.Inputs {
		if c.Inputs[i].Name == name {
			return &c.Inputs[i]
		}
	}
	return nil
}
