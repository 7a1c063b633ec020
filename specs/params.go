package specs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ParamsCheck is what CheckParams checks params against.
type ParamsCheck struct {
	Params map[string]Param
	Joins  []Join
	Matrix Matrix
	// Path is the operation the params belong to, such as "" (the file's
	// root) or `run.operations[2]`.
	Path Path
	// Component is where the component is declared in the same file, when
	// it is (`component`, `run.components[1]`), to locate its inputs.
	Component Path
}

// CheckParams checks params against the component's inputs and outputs as
// the reference's check does (§2.4): unknown params, missing required
// inputs, values of the wrong type (coerced as §2.3 says), options, and
// matrix params against input types. Params that are refs or templates are
// checked later, when their value is known.
func (c *Component) CheckParams(pc ParamsCheck) ErrorList {
	var errs ErrorList
	p := pc.Path.Child("params")
	joined := map[string]bool{}
	for i, j := range pc.Joins {
		for _, name := range sortedKeys(j.Params) {
			prm := j.Params[name]
			if _, own := pc.Params[name]; own || prm.ContextOnly {
				continue
			}
			joined[name] = true
			jp := pc.Path.Child("joins").Index(i).Child("params").Key(name)
			switch io := c.findIO(name); {
			case io == nil:
				errs = append(errs, Invalidf(jp, nil, "unexpected join param %q: the component has no input or output with this name%s", name, suggestName(name, c.ioNames())))
			case !io.IsList && io.Type != IOTypeArtifacts:
				errs = append(errs, Invalidf(jp, nil, "a join gives a list (one value per matched run), so %q needs isList: true", name))
			}
		}
	}
	var fromMatrix map[string]HyperParamKind
	mappingTemplate := false
	if pc.Matrix != nil {
		fromMatrix = matrixParamNames(pc.Matrix)
		if mm, ok := pc.Matrix.(*MappingMatrix); ok && mm.Values.Template != "" {
			mappingTemplate = true
		}
	}
	noIO := len(c.Inputs) == 0 && len(c.Outputs) == 0
	for _, name := range sortedKeys(pc.Params) {
		prm := pc.Params[name]
		if prm.ContextOnly {
			continue
		}
		if c.findIO(name) == nil {
			detail := fmt.Sprintf("unexpected param %q: the component has no input or output with this name", name)
			if noIO {
				detail = fmt.Sprintf("unexpected param %q: the component declares no inputs or outputs", name)
			} else if s := suggestName(name, c.ioNames()); s != "" {
				detail += s
			}
			errs = append(errs, Invalid(p.Key(name), nil, detail+"; use contextOnly: true to pass it to templates only"))
		}
	}
	check := func(ios []IO, input bool) {
		section := Path("inputs")
		if !input {
			section = "outputs"
		}
		if pc.Component != "" {
			section = pc.Component.Child(string(section))
		}
		for i := range ios {
			io := &ios[i]
			prm, ok := pc.Params[io.Name]
			if ok && prm.ContextOnly {
				ok = false
			}
			switch {
			case ok:
				for _, e := range checkParamValue(p.Key(io.Name), io, prm) {
					e.at = section.Index(i)
					errs = append(errs, e)
				}
			case joined[io.Name]:
			case fromMatrix != nil && fromMatrix[io.Name] != "":
				kind := fromMatrix[io.Name]
				if accepted := kind.AcceptedIOTypes(); accepted != nil && io.Type != "" && io.Type != IOTypeAny && !slices.Contains(accepted, string(io.Type)) {
					errs = append(errs, Invalidf(pc.Path.Child("matrix").Child("params").Key(io.Name).Child("kind"), kind,
						"%s gives %s values, but %q is %s", kind, strings.Join(accepted, " or "), io.Name, io.Type))
				}
			case input && mappingTemplate:
				// The mapping's values are known once rendered: each
				// trial is checked as it is compiled.
			case input && io.Required(true):
				e := Required(p.Key(io.Name), fmt.Sprintf("input %q is required: pass a value (with -P %s=VALUE or params.%s)", io.Name, io.Name, io.Name))
				e.at = section.Index(i)
				errs = append(errs, e)
			case !input && io.DelayValidation != nil && !*io.DelayValidation && !io.IsOptional:
				e := Required(p.Key(io.Name), fmt.Sprintf("output %q has delayValidation: false and needs a value", io.Name))
				e.at = section.Index(i)
				errs = append(errs, e)
			}
		}
	}
	check(c.Inputs, true)
	check(c.Outputs, false)
	return errs
}

func checkParamValue(p Path, io *IO, prm Param) ErrorList {
	if prm.Ref != "" || IsTemplateValue(prm.Value) {
		return nil
	}
	if prm.Value == nil {
		if io.Required(true) && !io.IsOptional {
			return ErrorList{Required(p.Child("value"), fmt.Sprintf("%q is not optional and its param is null", io.Name))}
		}
		return nil
	}
	if io.Type == "" {
		return nil
	}
	v, err := CoerceValue(io.Type, io.IsList, prm.Value)
	if err != nil {
		return ErrorList{Invalidf(p.Child("value"), prm.Value, "%q is %s: %v", io.Name, describeIOType(io), err)}
	}
	if len(io.Options) > 0 && !inOptionsIO(io, v) {
		return ErrorList{Invalidf(p.Child("value"), prm.Value, "%s is not one of the options of %q: %s", renderValue(v), io.Name, renderValue(io.Options))}
	}
	return nil
}

func (c *Component) findIO(name string) *IO {
	if io := findIO(c.Inputs, name); io != nil {
		return io
	}
	return findIO(c.Outputs, name)
}

func (c *Component) ioNames() map[string]bool {
	m := map[string]bool{}
	for _, io := range c.Inputs {
		m[io.Name] = true
	}
	for _, io := range c.Outputs {
		m[io.Name] = true
	}
	return m
}

// CheckParams checks the operation's params, each overridden by extra (the
// command line's -P), against its component when the operation holds it
// (inline). It returns nil when the component is resolved elsewhere
// (hubRef, urlRef, pathRef): the compiler checks those.
func (o *Operation) CheckParams(extra map[string]Param) ErrorList {
	comp := o.resolvedComponent(nil)
	if comp == nil || o.IsPreset {
		return nil
	}
	params := withExtra(o.Params, extra)
	return comp.CheckParams(ParamsCheck{Params: params, Joins: o.Joins, Matrix: o.Matrix, Component: "component"})
}

// CheckParams checks the document's params, with extra from the command
// line, as the reference's check does: a component is wrapped in an
// operation with extra as its params. Errors carry their source lines.
func (f *File) CheckParams(extra map[string]Param) ErrorList {
	var errs ErrorList
	if f.Component != nil {
		errs = f.Component.CheckParams(ParamsCheck{Params: extra, Component: Path("")})
	} else if f.Operation != nil {
		errs = f.Operation.CheckParams(extra)
	}
	return f.Locate(errs)
}

// CheckAgainst checks the operation at p against a component resolved
// from elsewhere (a pathRef, urlRef or hubRef): its runPatch must fit the
// component's run kind, and its params, each overridden by extra, must fit
// the component's inputs and outputs.
func (o *Operation) CheckAgainst(p Path, comp *Component, extra map[string]Param) ErrorList {
	if o.IsPreset || comp == nil {
		return nil
	}
	params := withExtra(o.Params, extra)
	errs := validateRunPatch(p.Child("runPatch"), o.RunPatch, comp)
	return append(errs, comp.CheckParams(ParamsCheck{Params: params, Joins: o.Joins, Matrix: o.Matrix, Path: p})...)
}

// withExtra returns params with extra's entries replacing theirs.
func withExtra(params, extra map[string]Param) map[string]Param {
	if len(extra) == 0 {
		return params
	}
	out := make(map[string]Param, len(params)+len(extra))
	maps.Copy(out, params)
	maps.Copy(out, extra)
	return out
}
