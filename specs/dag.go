package specs

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// DAG is a pipeline: operations wired by dependencies, param refs and
// events. Components named in `components` are the targets of dagRef.
type DAG struct {
	Kind          RunKind         `json:"kind"`
	Operations    []Operation     `json:"operations,omitempty"`
	Components    []Component     `json:"components,omitempty"`
	Concurrency   *IntOrRef       `json:"concurrency,omitempty"`
	EarlyStopping []EarlyStopping `json:"earlyStopping,omitempty"`
	Environment   *Environment    `json:"environment,omitempty"`
	Connections   []string        `json:"connections,omitempty"`
	Volumes       []corev1.Volume `json:"volumes,omitempty"`
}

// RunKind returns dag.
func (g *DAG) RunKind() RunKind { return g.Kind }

// Upstream returns the names an operation waits for: its dependencies,
// the operations its params refer to (`ref: ops.x`) and those its events
// refer to, each once, in that order.
func (o *Operation) Upstream() []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for _, d := range o.Dependencies {
		add(d)
	}
	for _, name := range sortedKeys(o.Params) {
		if r := o.Params[name].Ref; strings.HasPrefix(r, "ops.") {
			add(strings.TrimPrefix(r, "ops."))
		}
	}
	for _, e := range o.Events {
		if strings.HasPrefix(e.Ref, "ops.") {
			add(strings.TrimPrefix(e.Ref, "ops."))
		}
	}
	return out
}

func (g *DAG) validate(p Path, c vctx) ErrorList {
	var errs ErrorList
	scope := &dagScope{ops: map[string]*Operation{}, components: map[string]*Component{}, componentPaths: map[string]Path{}}
	opsPath := p.Child("operations")
	if len(g.Operations) == 0 {
		errs = append(errs, Required(opsPath, "a dag needs at least one operation"))
	}
	index := map[string]int{}
	for i := range g.Operations {
		op := &g.Operations[i]
		np := opsPath.Index(i).Child("name")
		switch {
		case op.Name == "":
			errs = append(errs, Required(np, "every operation of a dag needs a name"))
		case scope.ops[op.Name] != nil:
			errs = append(errs, Duplicate(np, op.Name, fmt.Sprintf("operations[%d] has the same name", index[op.Name])))
		default:
			scope.ops[op.Name] = op
			index[op.Name] = i
		}
	}
	for i := range g.Components {
		comp := &g.Components[i]
		cp := p.Child("components").Index(i)
		switch {
		case comp.Name == "":
			errs = append(errs, Required(cp.Child("name"), "a dag component needs a name, which dagRef uses"))
		case scope.components[comp.Name] != nil:
			errs = append(errs, Duplicate(cp.Child("name"), comp.Name, "the dag has two components with this name"))
		default:
			scope.components[comp.Name] = comp
			scope.componentPaths[comp.Name] = cp
		}
		errs = append(errs, comp.validate(cp, false, c)...)
	}
	for i := range g.Operations {
		op := &g.Operations[i]
		errs = append(errs, op.validate(opsPath.Index(i), false, scope)...)
	}
	errs = append(errs, g.validateRefs(opsPath, scope)...)
	if cyc := g.findCycle(scope); cyc != nil {
		errs = append(errs, Invalidf(opsPath.Index(index[cyc[0]]), nil, "the dag has a cycle: %s", strings.Join(cyc, " -> ")))
	}
	errs = append(errs, atLeastOne(p.Child("concurrency"), g.Concurrency)...)
	for i, es := range g.EarlyStopping {
		errs = append(errs, validateEarlyStopping(p.Child("earlyStopping").Index(i), es)...)
	}
	errs = append(errs, g.Environment.validate(p.Child("environment"))...)
	return errs
}

// CheckRefs checks the `ref: ops.x` + `value: outputs.y` params of the
// dag's operations against the components they run, once references
// to other files have been resolved into inline components (validation
// can check only inline and dagRef components). p is the dag's path (a
// component's `run`).
func (g *DAG) CheckRefs(p Path) ErrorList {
	scope := &dagScope{ops: map[string]*Operation{}, components: map[string]*Component{}, componentPaths: map[string]Path{}}
	for i := range g.Operations {
		if scope.ops[g.Operations[i].Name] == nil {
			scope.ops[g.Operations[i].Name] = &g.Operations[i]
		}
	}
	for i := range g.Components {
		scope.components[g.Components[i].Name] = &g.Components[i]
		scope.componentPaths[g.Components[i].Name] = p.Child("components").Index(i)
	}
	return g.validateRefs(p.Child("operations"), scope)
}

// validateRefs checks that `ref: ops.x` + `value: outputs.y` names an
// output x's component declares, with a compatible type.
func (g *DAG) validateRefs(opsPath Path, scope *dagScope) ErrorList {
	var errs ErrorList
	for i := range g.Operations {
		op := &g.Operations[i]
		down := op.resolvedComponent(scope)
		for _, name := range sortedKeys(op.Params) {
			prm := op.Params[name]
			if !strings.HasPrefix(prm.Ref, "ops.") {
				continue
			}
			up := scope.ops[strings.TrimPrefix(prm.Ref, "ops.")]
			sel, ok := prm.Value.(string)
			if up == nil || !ok {
				continue
			}
			upComp := up.resolvedComponent(scope)
			section, key, _ := strings.Cut(stripBraces(sel), ".")
			if upComp == nil || key == "" || strings.Contains(key, ".") {
				continue
			}
			var decl []IO
			switch section {
			case "outputs":
				decl = upComp.Outputs
			case "inputs":
				decl = upComp.Inputs
			default:
				continue
			}
			vp := opsPath.Index(i).Child("params").Key(name).Child("value")
			from := findIO(decl, key)
			if from == nil {
				errs = append(errs, Invalidf(vp, sel, "operation %q has no %s named %q", up.Name, strings.TrimSuffix(section, "s"), key))
				continue
			}
			if down == nil {
				continue
			}
			to := findIO(down.Inputs, name)
			if to == nil {
				to = findIO(down.Outputs, name)
			}
			if to == nil || prm.ContextOnly {
				continue
			}
			if !CompatibleTypes(from.Type, to.Type) || from.IsList != to.IsList {
				errs = append(errs, Invalidf(vp, sel, "%s.%s of operation %q is %s, which cannot feed %q (%s)",
					section, key, up.Name, describeIOType(from), name, describeIOType(to)))
			}
		}
	}
	return errs
}

func describeIOType(io *IO) string {
	t := string(io.Type)
	if t == "" {
		t = "untyped"
	}
	if io.IsList {
		t = "a list of " + t
	}
	return t
}

func findIO(ios []IO, name string) *IO {
	for i := range ios {
		if ios[i].Name == name {
			return &ios[i]
		}
	}
	return nil
}

// findCycle returns a cycle of operation names (first == last) or nil. The
// search follows operations in declaration order, so the answer is stable.
func (g *DAG) findCycle(scope *dagScope) []string {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string) []string
	visit = func(name string) []string {
		state[name] = onStack
		stack = append(stack, name)
		for _, up := range scope.ops[name].Upstream() {
			if scope.ops[up] == nil || up == name {
				continue // reported as unknown or as depending on itself
			}
			switch state[up] {
			case onStack:
				for i, s := range stack {
					if s == up {
						cyc := append([]string(nil), stack[i:]...)
						return append(cyc, up)
					}
				}
			case unvisited:
				if c := visit(up); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		return nil
	}
	for i := range g.Operations {
		name := g.Operations[i].Name
		if scope.ops[name] != &g.Operations[i] || state[name] != unvisited {
			continue
		}
		if c := visit(name); c != nil {
			// Report in the direction work flows: upstream first.
			for l, r := 0, len(c)-1; l < r; l, r = l+1, r-1 {
				c[l], c[r] = c[r], c[l]
			}
			return c
		}
	}
	return nil
}
