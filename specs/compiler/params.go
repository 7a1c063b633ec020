package compiler

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// StageParams checks and resolves params.
const StageParams Stage = "params"

// Param is what one input, output or context-only param resolves to.
type Param struct {
	Name string
	// Value is the param coerced to its IO's type, the IO's default when
	// no param was given (kept as written, as the reference does), or nil.
	Value       any
	Type        specs.IOType
	IsList      bool
	IsFlag      bool
	ArgFormat   string
	Connection  string
	ContextOnly bool
	IsOutput    bool
	ToEnv       string
	ToInit      bool
}

// Params are a run's resolved params: inputs in declaration order, then
// outputs, then context-only params by name.
type Params []Param

// Get returns the param called name.
func (ps Params) Get(name string) (Param, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// RefResolver gives the value a `ref` param selects: `ref` is `ops.<name>`,
// `runs.<uuid>` or `dag`, and selector is the param's value (such as
// `outputs.loss`). The engine implements it from the runs it knows.
type RefResolver interface {
	ResolveRef(ref, selector string) (any, error)
}

// ErrNoRuns is what a RefResolver that knows no runs returns.
var ErrNoRuns = errors.New("compiler: no runs to take the value from")

// ResolveParams checks the operation's params (with extra, the command
// line's, on top) against the component's inputs and outputs and resolves
// each to its value: literals are coerced to the IO's type (§2.3 of the
// spec); refs are read through refs; missing optional IOs take their
// defaults. Every problem is reported, at the param's path. Joins are
// refused: their params need the run history, which Compile searches
// through Options.Joins.
func ResolveParams(op *specs.Operation, comp *specs.Component, extra map[string]specs.Param, refs RefResolver) (Params, error) {
	params, _, err := resolveParams(op, comp, extra, refs, false)
	return params, err
}

// resolveParams is ResolveParams; with joins, the operation's joins are
// allowed, and it also returns the params they give, still at their
// defaults, for resolveJoins.
func resolveParams(op *specs.Operation, comp *specs.Component, extra map[string]specs.Param, refs RefResolver, joins bool) (Params, []joinParam, error) {
	given := map[string]specs.Param{}
	for k, v := range op.Params {
		given[k] = v
	}
	for k, v := range extra {
		given[k] = v
	}
	errs := comp.CheckParams(specs.ParamsCheck{Params: given, Joins: op.Joins, Matrix: op.Matrix})
	if len(op.Joins) > 0 && !joins {
		errs = append(errs, specs.Forbidden("joins", "joins select runs from the run history, which the engine resolves when it schedules the run"))
	}
	var out Params
	var causes []error // what refs returned: a store that did not answer is no fault of the spec
	seen := map[string]bool{}
	add := func(io *specs.IO, output bool) {
		if seen[io.Name] {
			return // an output sharing an input's name: one entry
		}
		seen[io.Name] = true
		p := Param{Name: io.Name, Type: io.Type, IsList: io.IsList, IsFlag: io.IsFlag, ArgFormat: io.ArgFormat,
			Connection: io.Connection, IsOutput: output, ToEnv: io.ToEnv, ToInit: io.ToInit, Value: io.Value}
		if g, ok := given[io.Name]; ok && !g.ContextOnly {
			pp := specs.Path("params").Key(io.Name)
			v, err, cause := paramValue(pp, io, g, refs)
			if err != nil {
				errs = append(errs, err)
				if cause != nil {
					causes = append(causes, cause)
				}
			} else if v != nil || !io.IsOptional {
				p.Value = v
			}
			if g.Connection != "" {
				p.Connection = g.Connection
			}
			if g.ToEnv != "" {
				p.ToEnv = g.ToEnv
			}
			p.ToInit = p.ToInit || g.ToInit
		}
		out = append(out, p)
	}
	for i := range comp.Inputs {
		add(&comp.Inputs[i], false)
	}
	for i := range comp.Outputs {
		add(&comp.Outputs[i], true)
	}
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if g := given[name]; g.ContextOnly && !seen[name] {
			out = append(out, Param{Name: name, Value: g.Value, ContextOnly: true, Connection: g.Connection})
		}
	}
	if len(errs) > 0 {
		err := stageError(StageParams, dedupePaths(errs))
		if len(causes) > 0 {
			return nil, nil, &resolverError{CompilationError: err.(*CompilationError), causes: causes}
		}
		return nil, nil, err
	}
	return out, joinParams(op.Joins, given), nil
}

// paramValue resolves one given param for io; when refs failed to read
// the value, cause is what it returned.
func paramValue(p specs.Path, io *specs.IO, g specs.Param, refs RefResolver) (_ any, _ *specs.FieldError, cause error) {
	v := g.Value
	if g.Ref != "" {
		sel, _ := v.(string)
		if refs == nil {
			return nil, specs.Invalidf(p.Child("ref"), g.Ref, "%s needs the run it refers to: compile it inside its pipeline, or give the value with -P %s=VALUE", g.Ref, io.Name), nil
		}
		got, err := refs.ResolveRef(g.Ref, strings.TrimSpace(stripBraces(sel)))
		if err != nil {
			return nil, specs.Invalidf(p.Child("ref"), g.Ref, "cannot read %s of %s: %v", sel, g.Ref, err), err
		}
		v = got
	}
	if v == nil || io.Type == "" || specs.IsTemplateValue(v) {
		return v, nil, nil // templates are rendered with the context
	}
	c, err := specs.CoerceValue(io.Type, io.IsList, v)
	if err != nil {
		return nil, specs.Invalidf(p.Child("value"), v, "%q is %s: %v", io.Name, io.Type, err), nil
	}
	return c, nil, nil
}

func stripBraces(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		return s[2 : len(s)-2]
	}
	return s
}

// dedupePaths keeps the first error of each path: CheckParams and the
// resolution may both find a bad value.
func dedupePaths(errs specs.ErrorList) specs.ErrorList {
	seen := map[specs.Path]bool{}
	var out specs.ErrorList
	for _, e := range errs {
		if !seen[e.Path] {
			seen[e.Path] = true
			out = append(out, e)
		}
	}
	return out
}

// Display is the value a template sees for the param's name: `--name` or
// "" for a flag, else the value.
func (p Param) Display() any {
	if p.IsFlag {
		if truthy(p.Value) {
			return "--" + p.Name
		}
		return ""
	}
	return p.Value
}

// AsStr is the value as a string: JSON (as Python writes it) for numbers,
// booleans, lists and mappings; the string itself otherwise; "" for none.
func (p Param) AsStr() string {
	switch v := p.Value.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	s, err := specs.PyJSON(p.Value)
	if err != nil {
		return fmt.Sprint(p.Value)
	}
	return s
}

// AsArg is the param as a command-line argument: argFormat rendered with
// the value, `--name` (or "") for a flag, else `--name=<as_str>`, or "" when
// there is no value.
func (p Param) AsArg(render func(tmpl string, vars map[string]any) (string, error)) (string, error) {
	switch {
	case p.ArgFormat != "":
		v := p.Value
		if v == nil {
			v = ""
		}
		return render(p.ArgFormat, map[string]any{p.Name: v})
	case p.IsFlag:
		return p.Display().(string), nil
	case p.Value == nil:
		return "", nil
	}
	return "--" + p.Name + "=" + p.AsStr(), nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		b, err := specs.CoerceValue(specs.IOTypeBool, false, x)
		return err == nil && b.(bool)
	case int:
		return x != 0
	case float64:
		return x != 0
	}
	return true
}
