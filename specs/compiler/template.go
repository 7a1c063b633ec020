package compiler

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"go.yaml.in/yaml/v3"

	"github.com/plexus-ml/plexus/specs"
)

// StageTemplates renders the templates of a run.
const StageTemplates Stage = "templates"

var (
	envOnce     sync.Once
	templateEnv *exec.Environment
	templateCfg *config.Config
)

// environment is Jinja as the reference runs it, with three differences:
// an undefined variable is an error (never an empty string), templates
// cannot include or import files, and there is no access to the process
// environment. The reference's map_format filter is added. Every filter
// is wrapped by the sandbox (guard.go); methods are wrapped per render.
func environment() (*exec.Environment, *config.Config) {
	envOnce.Do(func() {
		filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
		if err := filters.Register("map_format", filterMapFormat); err != nil {
			panic(err)
		}
		templateEnv = &exec.Environment{
			Context:           sandboxGlobals,
			Filters:           guardFilters(filters),
			Tests:             builtins.Tests,
			ControlStructures: builtins.ControlStructures,
			Methods:           builtins.Methods,
		}
		templateCfg = config.New()
		templateCfg.StrictUndefined = true
	})
	return templateEnv, templateCfg
}

// filterMapFormat is the reference's `map_format(value, pattern,
// variable_name=None)`: `pattern % value`, or with a variable name,
// `$name` substituted in the pattern.
func filterMapFormat(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if len(params.Args) < 1 {
		return exec.AsValue(errors.New("map_format needs a pattern"))
	}
	pattern := params.Args[0].String()
	value := in.String()
	if len(params.Args) > 1 && !params.Args[1].IsNil() {
		name := params.Args[1].String()
		out := strings.ReplaceAll(pattern, "${"+name+"}", value)
		return exec.AsValue(strings.ReplaceAll(out, "$"+name, value))
	}
	return exec.AsValue(strings.ReplaceAll(pattern, "%s", value))
}

// renderer renders the templates of one spec (or one stage of it) with one
// budget: the limits of TemplateLimits hold across all its renders.
type renderer struct {
	ctx     map[string]any
	b       *budget
	base    *exec.Context
	methods exec.Methods
}

func newRenderer(ctx map[string]any) *renderer {
	return &renderer{ctx: ctx, b: newBudget(CurrentTemplateLimits())}
}

var (
	undefinedRE = regexp.MustCompile(`Unable to evaluate (?:name "([^"]+)"|([^:]+): attribute '([^']+)' not found)`)
	lineRE      = regexp.MustCompile(`at line (\d+)`)
	noItemRE    = regexp.MustCompile(`unable to evaluate ([^:\[]+)\[[^:]*: item '([^']+)' not found`)
)

// parsed caches parsed and sandboxed templates by source: the same
// components compile again and again, and parsing is most of the cost of
// rendering.
var parsed struct {
	sync.Mutex
	m map[string]*exec.Template
}

// maxParsed bounds the cache; when full it starts again.
const maxParsed = 4096

func parseTemplate(src string) (*exec.Template, error) {
	parsed.Lock()
	tpl, ok := parsed.m[src]
	parsed.Unlock()
	if ok {
		return tpl, nil
	}
	env, cfg := environment()
	loader, err := loaders.NewShiftedLoader("template", strings.NewReader(src), loaders.MustNewMemoryLoader(map[string]string{}))
	if err != nil {
		return nil, err
	}
	tpl, err = exec.NewTemplate("template", cfg, loader, env)
	if err != nil {
		return nil, err
	}
	if err := sandboxTemplate(tpl.Root()); err != nil {
		return nil, err
	}
	parsed.Lock()
	if parsed.m == nil || len(parsed.m) >= maxParsed {
		parsed.m = make(map[string]*exec.Template)
	}
	parsed.m[src] = tpl
	parsed.Unlock()
	return tpl, nil
}

// clip shortens a template's source for an error message.
func clip(src string) string {
	if len(src) > 120 {
		return src[:100] + "..."
	}
	return src
}

// render renders one template string in the sandbox.
func (r *renderer) render(src string) (out string, err error) {
	b := r.b
	if b.err != nil {
		return "", fmt.Errorf("template %q not rendered: %w", clip(src), b.err)
	}
	if len(src) > b.lim.SourceBytes {
		return "", fmt.Errorf("template of %d bytes: %w", len(src), &LimitError{Limit: "source size", Max: byteSize(b.lim.SourceBytes)})
	}
	if strings.Contains(src, reservedPrefix) {
		return "", fmt.Errorf("template %q: names starting with %s are reserved", clip(src), reservedPrefix)
	}
	if n := specs.BracketNesting(src); n > b.lim.Nesting {
		return "", fmt.Errorf("template %q nests brackets %d deep: %w", clip(src), n, &LimitError{Limit: "nesting", Max: fmt.Sprintf("%d levels", b.lim.Nesting)})
	}
	b.begin()
	b.last = nil
	defer b.end()
	defer func() {
		if p := recover(); p != nil {
			out, err = "", fmt.Errorf("%w: %q: %v", ErrTemplatePanic, clip(src), p)
		}
	}()
	tpl, err := parseTemplate(src)
	if err != nil {
		return "", fmt.Errorf("template %q does not parse: %s", clip(src), cleanGonjaError(err))
	}
	env, cfg := environment()
	if r.base == nil {
		r.base = sandboxGlobals.Inherit().Update(exec.NewContext(r.ctx))
		r.base.Set(budgetKey, b)
		r.methods = guardAllMethods(b, env.Methods)
	}
	w := &fieldWriter{b: b, max: b.lim.FieldBytes}
	rr := exec.NewRenderer(&exec.Environment{
		Context:           r.base.Inherit(),
		Filters:           env.Filters,
		Tests:             env.Tests,
		ControlStructures: env.ControlStructures,
		Methods:           r.methods,
	}, w, cfg, nil, tpl)
	if err := rr.Execute(); err != nil {
		if w.err != nil {
			return "", fmt.Errorf("template %q: %w", clip(src), w.err)
		}
		if b.err != nil {
			return "", fmt.Errorf("template %q: %w", clip(src), b.err)
		}
		if b.last != nil {
			if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
				return "", fmt.Errorf("template %q, line %s: %w", clip(src), m[1], b.last)
			}
			return "", fmt.Errorf("template %q: %w", clip(src), b.last)
		}
		if m := undefinedRE.FindStringSubmatch(err.Error()); m != nil {
			if m[1] != "" {
				return "", fmt.Errorf("undefined variable %q in %q", m[1], src)
			}
			obj := strings.TrimSuffix(strings.TrimSpace(m[2]), "."+m[3])
			return "", fmt.Errorf("%s has no %q in %q", obj, m[3], src)
		}
		if m := noItemRE.FindStringSubmatch(err.Error()); m != nil {
			return "", fmt.Errorf("%s has no item for %s in %q", strings.TrimSpace(m[1]), m[2], src)
		}
		return "", fmt.Errorf("template %q: %s", clip(src), cleanGonjaError(err))
	}
	return string(w.buf), nil
}

func cleanGonjaError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "unable to execute template: ")
	s = strings.TrimPrefix(s, "failed to parse template: ")
	return s
}

func hasTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%")
}

// RenderRun renders every template of a run, in place: strings of the run
// and of its Kubernetes objects (command, args, env values, image, working
// dir, init, sidecars, environment fields, connections, map keys and
// values), and fields written as a template where a number or a list
// belongs, which get their type from what the template renders. Strings
// stay strings. Every failure is reported with its path and variable.
func RenderRun(run specs.Run, ctx map[string]any) error {
	r := newRenderer(ctx)
	w := &walker{r: r}
	w.walk(reflect.ValueOf(run).Elem(), "run")
	return stageError(StageTemplates, w.errs)
}

// RenderSections renders the templated fields of a component's own
// sections the reference renders before the run (termination, cache,
// plugins, queue, presets, isApproved), in place. name, description,
// tags, hooks and build are kept as written.
func RenderSections(c *specs.Component, ctx map[string]any) error {
	w := &walker{r: newRenderer(ctx)}
	b := reflect.ValueOf(&c.Base).Elem()
	for _, name := range []string{"Termination", "Cache", "Plugins", "Queue", "Presets"} {
		f, _ := b.Type().FieldByName(name)
		w.walk(b.FieldByName(name), specs.Path(jsonName(f)))
	}
	return stageError(StageTemplates, w.errs)
}

// RenderOperation renders the operation's own sections that the reference
// renders with globals and params before the run (§7.6: matrix, schedule,
// conditions, dependencies, trigger, skipOnUpstreamSkip), into a copy it
// returns; op is not changed.
func RenderOperation(op *specs.Operation, ctx map[string]any) (*specs.Operation, error) {
	out := *op
	w := &walker{r: newRenderer(ctx)}
	if op.Matrix != nil {
		m := deepCopy(reflect.ValueOf(&op.Matrix).Elem())
		w.walk(m, "matrix")
		out.Matrix = m.Interface().(specs.Matrix)
	}
	if op.Schedule != nil {
		s := deepCopy(reflect.ValueOf(&op.Schedule).Elem())
		w.walk(s, "schedule")
		out.Schedule = s.Interface().(specs.Schedule)
	}
	if hasTemplate(op.Conditions) {
		out.Conditions, _ = w.renderString("conditions", op.Conditions)
	}
	if hasTemplate(string(op.Trigger)) {
		t, _ := w.renderString("trigger", string(op.Trigger))
		out.Trigger = specs.Trigger(t)
	}
	if len(op.Dependencies) > 0 {
		out.Dependencies = append([]string(nil), op.Dependencies...)
		w.walk(reflect.ValueOf(out.Dependencies), "dependencies")
	}
	return &out, stageError(StageTemplates, w.errs)
}

// walker renders every template of a value in place. The path of what it
// is in is kept as a stack of steps and spelled out only for an error.
type walker struct {
	r    *renderer
	errs specs.ErrorList
	base specs.Path
	at   []step
}

// step is one step of the walker's path: a field, a map key or a list
// index (index >= 0).
type step struct {
	name  string
	index int
	key   bool
}

// path is where the walker is.
func (w *walker) path() specs.Path {
	p := w.base
	for _, s := range w.at {
		switch {
		case s.index >= 0:
			p = p.Index(s.index)
		case s.key:
			p = p.Key(s.name)
		default:
			p = p.Child(s.name)
		}
	}
	return p
}

func (w *walker) fail(p specs.Path, err error) {
	w.errs = append(w.errs, specs.Invalidf(p, nil, "%v", err))
}

// renderString renders s when it holds a template.
func (w *walker) renderString(p specs.Path, s string) (string, bool) {
	if !hasTemplate(s) {
		return s, true
	}
	out, err := w.r.render(s)
	if err != nil {
		w.fail(p, err)
		return s, false
	}
	return out, true
}

// renderHere renders s, where the walker is, when it holds a template.
func (w *walker) renderHere(s string) (string, bool) {
	if !hasTemplate(s) {
		return s, true
	}
	return w.renderString(w.path(), s)
}

// walk renders every template of v, whose path is p.
func (w *walker) walk(v reflect.Value, p specs.Path) {
	w.base, w.at = p, w.at[:0]
	w.visit(v)
}

func (w *walker) visit(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			if v.Kind() == reflect.Interface && v.Elem().Kind() == reflect.String {
				if s, ok := w.renderHere(v.Elem().String()); ok {
					v.Set(reflect.ValueOf(s))
				}
				return
			}
			w.visit(v.Elem())
		}
	case reflect.String:
		if s := v.String(); hasTemplate(s) {
			if out, ok := w.renderHere(s); ok {
				v.SetString(out)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			w.at = append(w.at, step{index: i})
			w.visit(v.Index(i))
			w.at = w.at[:len(w.at)-1]
		}
	case reflect.Map:
		w.visitMap(v)
	case reflect.Struct:
		w.visitStruct(v)
	}
}

func (w *walker) visitMap(v reflect.Value) {
	if v.IsNil() || v.Type().Key().Kind() != reflect.String {
		return
	}
	keys := v.MapKeys()
	for _, k := range keys {
		w.at = append(w.at, step{name: k.String(), index: -1, key: true})
		val := reflect.New(v.Type().Elem()).Elem()
		val.Set(v.MapIndex(k))
		w.visit(val)
		key := k
		if hasTemplate(k.String()) {
			if s, ok := w.renderHere(k.String()); ok {
				key = reflect.ValueOf(s).Convert(k.Type())
				v.SetMapIndex(k, reflect.Value{})
			}
		}
		v.SetMapIndex(key, val)
		w.at = w.at[:len(w.at)-1]
	}
}

func (w *walker) visitStruct(v reflect.Value) {
	switch x := v.Addr().Interface().(type) {
	case *specs.IntOrRef:
		if x.Template != "" {
			if s, ok := w.renderHere(x.Template); ok {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					w.fail(w.path(), fmt.Errorf("%q renders %q, not an integer", x.Template, s))
					return
				}
				*x = specs.IntOrRef{Value: n}
			}
		}
		return
	}
	if isListOrRef(v.Type()) {
		tmpl := v.FieldByName("Template")
		items := v.FieldByName("Items")
		if t := tmpl.String(); t != "" {
			if s, ok := w.renderHere(t); ok {
				if err := readList(s, items); err != nil {
					w.fail(w.path(), fmt.Errorf("%q renders %q, not a list: %v", t, s, err))
					return
				}
				tmpl.SetString("")
			}
		}
		w.visit(items)
		return
	}
	for _, f := range walkedFields(v.Type()) {
		if f.name != "" {
			w.at = append(w.at, step{name: f.name, index: -1})
		}
		w.visit(v.Field(f.index))
		if f.name != "" {
			w.at = w.at[:len(w.at)-1]
		}
	}
}

// walkedField is a field of a struct the walker looks into: its index,
// and its name in paths ("" for an embedded struct, whose fields are its
// parent's).
type walkedField struct {
	index int
	name  string
}

// walkedFields caches, by struct type, the fields the walker looks into.
var walkedFieldsOf sync.Map // reflect.Type -> []walkedField

func walkedFields(t reflect.Type) []walkedField {
	if v, ok := walkedFieldsOf.Load(t); ok {
		return v.([]walkedField)
	}
	var fs []walkedField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || (isK8s(t) && isQuantityLike(f.Type)) || !mayHoldText(f.Type, map[reflect.Type]bool{}) {
			continue
		}
		name := ""
		if !f.Anonymous {
			name = fieldJSONName(t, i)
		}
		fs = append(fs, walkedField{index: i, name: name})
	}
	walkedFieldsOf.Store(t, fs)
	return fs
}

// mayHoldText says whether a value of type t may hold a string (or an
// interface, which may): numbers and booleans hold no template.
func mayHoldText(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return mayHoldText(t.Elem(), seen)
	case reflect.Map:
		return t.Key().Kind() == reflect.String || mayHoldText(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return true // recursive: assume so
		}
		seen[t] = true
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && mayHoldText(f.Type, seen) {
				return true
			}
		}
		return false
	}
	return false
}

// isQuantityLike skips Kubernetes value types that hold no text to render.
func isQuantityLike(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() > 0 && !t.Field(0).IsExported()
}

// readList reads a rendered list — Jinja writes `['a', 'b']`, which YAML
// reads — into items.
func readList(s string, items reflect.Value) error {
	var raw any
	if err := yaml.Unmarshal([]byte(s), &raw); err != nil {
		return err
	}
	if _, ok := raw.([]any); !ok {
		raw = []any{raw}
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	out := reflect.New(items.Type())
	if err := json.Unmarshal(b, out.Interface()); err != nil {
		return err
	}
	items.Set(out.Elem())
	return nil
}
