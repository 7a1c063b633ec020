package compiler

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unsafe"

	"github.com/nikolalohinski/gonja/v2"
	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// The sandbox of the template library. A parsed template is rewritten
// once, before it is cached:
//   - every `{{ }}` output goes through outFn, which checks and counts
//     what it writes;
//   - the operators that build values or can fail (+, ~, *, %, //) go
//     through binopFn, which sizes the result before building it and
//     refuses a division by zero;
//   - a for loop's iterable goes through iterFn, which charges its length
//     times the text its body writes;
//   - every control structure is wrapped to charge its executions, and a
//     macro's definition to wrap the macro with a call-depth bound.
// Filters, methods and the global functions are wrapped to check their
// arguments and results (and, for those whose output can outgrow their
// input, the sizes they are asked for before they run). Every wrapper
// finds the render's budget in the render's context, under budgetKey; a
// template cannot name anything starting with reservedPrefix.

const (
	reservedPrefix = "__plexus"
	budgetKey      = reservedPrefix + "_budget"
	outFn          = reservedPrefix + "_out"
	binopFn        = reservedPrefix + "_binop"
	iterFn         = reservedPrefix + "_iter"
)

func budgetOf(ctx *exec.Context) *budget {
	v, _ := ctx.Get(budgetKey)
	b, _ := v.(*budget)
	return b
}

var errNoBudget = errors.New("template rendered outside its sandbox")

func errValue(err error) *exec.Value { return exec.AsValue(err) }

// --- the rewrite -----------------------------------------------------------

type rewriter struct {
	seen map[uintptr]bool
	bin  map[*nodes.BinaryExpression]*nodes.Call
	err  error
}

// sandboxTemplate rewrites a parsed template in place.
func sandboxTemplate(root *nodes.Template) error {
	w := &rewriter{seen: map[uintptr]bool{}, bin: map[*nodes.BinaryExpression]*nodes.Call{}}
	w.visit(reflect.ValueOf(root))
	return w.err
}

func nameNode(name string, at *tokens.Token) *nodes.Name {
	t := &tokens.Token{Type: tokens.Name, Val: name}
	if at != nil {
		t.Line, t.Col, t.Pos = at.Line, at.Col, at.Pos
	}
	return &nodes.Name{Name: t}
}

func call(fn string, at *tokens.Token, args ...nodes.Expression) *nodes.Call {
	return &nodes.Call{Location: at, Func: nameNode(fn, at), Args: args, Kwargs: map[string]nodes.Expression{}}
}

var sandboxedOps = map[tokens.Type]bool{
	tokens.Addition: true, tokens.Tilde: true, tokens.Multiply: true,
	tokens.Modulo: true, tokens.FloorDivision: true,
}

var (
	controlType = reflect.TypeFor[nodes.ControlStructure]()
	dataType    = reflect.TypeFor[*nodes.Data]()
	tokenType   = reflect.TypeFor[tokens.Token]()
)

// settable returns a settable v, unexported fields included: the library
// keeps some expressions (a set's value) in unexported fields.
func settable(v reflect.Value) reflect.Value {
	if v.CanSet() || !v.CanAddr() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

func (w *rewriter) visit(v reflect.Value) {
	if w.err != nil || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if r := w.replace(v.Type(), e); r.IsValid() && r.Type().AssignableTo(v.Type()) && v.CanSet() {
			v.Set(r)
			e = r
		}
		w.visit(e)
	case reflect.Pointer:
		if v.IsNil() || v.Type().Elem() == tokenType {
			return
		}
		if w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		w.node(v)
		w.visit(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			w.visit(settable(v.Field(i)))
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.visit(settable(v.Index(i)))
		}
	case reflect.Map:
		it := v.MapRange()
		type kv struct{ k, v reflect.Value }
		var changed []kv
		for it.Next() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(it.Value())
			before := val.Interface()
			w.visit(val)
			if val.Kind() == reflect.Interface && val.Interface() != before {
				changed = append(changed, kv{it.Key(), val})
			}
		}
		for _, c := range changed {
			v.SetMapIndex(c.k, c.v)
		}
	}
}

// replace returns what an expression or control structure held in an
// interface becomes, or the zero Value to keep it.
func (w *rewriter) replace(slot reflect.Type, e reflect.Value) reflect.Value {
	switch n := e.Interface().(type) {
	case *nodes.BinaryExpression:
		if n.Operator == nil || n.Operator.Token == nil || !sandboxedOps[n.Operator.Token.Type] {
			return reflect.Value{}
		}
		c, ok := w.bin[n]
		if !ok {
			op := n.Operator.Token
			c = call(binopFn, op, &nodes.String{Location: op, Val: op.Val}, n.Left, n.Right)
			w.bin[n] = c
		}
		return reflect.ValueOf(c)
	case exec.ControlStructure:
		if slot != controlType {
			return reflect.Value{}
		}
		g := &guardedStructure{inner: n}
		switch cs := n.(type) {
		case *controlStructures.ForControlStructure:
			if cs.Recursive {
				w.err = fmt.Errorf("line %d: recursive for loops are not supported", cs.Position().Line)
				return reflect.Value{}
			}
			cs.ObjectEvaluator = call(iterFn, cs.Position(), cs.ObjectEvaluator,
				&nodes.Integer{Location: cs.Position(), Val: textBytes(reflect.ValueOf(cs.BodyWrapper), map[uintptr]bool{})})
		case *controlStructures.MacroControlStructure:
			g.macro = cs.Name
		}
		// The inner structure is rewritten through the wrapper.
		return reflect.ValueOf(g)
	}
	return reflect.Value{}
}

// node rewrites a node reached through a pointer, once.
func (w *rewriter) node(v reflect.Value) {
	if o, ok := v.Interface().(*nodes.Output); ok {
		if o.Expression != nil {
			o.Expression = call(outFn, o.Start, o.Expression)
		}
		if o.Alternative != nil {
			o.Alternative = call(outFn, o.Start, o.Alternative)
		}
	}
}

// textBytes is the text a body writes on its own (its Data nodes).
func textBytes(v reflect.Value, seen map[uintptr]bool) int {
	n := 0
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			n += textBytes(v.Elem(), seen)
		}
	case reflect.Pointer:
		if v.IsNil() || v.Type().Elem() == tokenType || seen[v.Pointer()] {
			return 0
		}
		seen[v.Pointer()] = true
		if v.Type() == dataType {
			if d := (*nodes.Data)(v.UnsafePointer()); d.Data != nil {
				return len(d.Data.Val)
			}
			return 0
		}
		n += textBytes(v.Elem(), seen)
	case reflect.Struct:
		for i := range v.NumField() {
			n += textBytes(v.Field(i), seen)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			n += textBytes(v.Index(i), seen)
		}
	}
	return n
}

// guardedStructure charges each execution of a control structure; for a
// macro definition, it wraps the macro it defines.
type guardedStructure struct {
	inner exec.ControlStructure
	macro string
}

func (g *guardedStructure) Position() *tokens.Token { return g.inner.Position() }
func (g *guardedStructure) String() string          { return g.inner.String() }

func (g *guardedStructure) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	b := budgetOf(r.Environment.Context)
	if b == nil {
		return errNoBudget
	}
	if err := b.charge(1); err != nil {
		return err
	}
	if err := g.inner.Execute(r, tag); err != nil {
		return err
	}
	if g.macro == "" {
		return nil
	}
	v, _ := r.Environment.Context.Get(g.macro)
	m, ok := v.(exec.Macro)
	if !ok {
		return nil
	}
	r.Environment.Context.Set(g.macro, exec.Macro(func(args *exec.VarArgs) *exec.Value {
		if b.depth >= b.lim.Depth {
			return b.refuse(b.limit("macro depth", fmt.Sprintf("%d calls", b.lim.Depth)))
		}
		if err := checkArgs(b, args); err != nil {
			return b.refuse(err)
		}
		b.depth++
		defer func() { b.depth-- }()
		out := m(args)
		if err := b.charge(size(out)); err != nil {
			return b.refuse(err)
		}
		if err := b.check(out); err != nil {
			return b.refuse(err)
		}
		return out
	}))
	return nil
}

// checkArgs charges and checks the arguments of a call.
func checkArgs(b *budget, args *exec.VarArgs) error {
	if args == nil {
		return b.charge(1)
	}
	n := 1
	for _, a := range args.Args {
		n += size(a)
	}
	for _, a := range args.KwArgs {
		n += size(a)
	}
	if err := b.charge(n); err != nil {
		return err
	}
	for _, a := range args.Args {
		if err := b.check(a); err != nil {
			return err
		}
	}
	for _, a := range args.KwArgs {
		if err := b.check(a); err != nil {
			return err
		}
	}
	return nil
}

// --- the functions the rewrite calls ---------------------------------------

func sandboxOut(e *exec.Evaluator, args *exec.VarArgs) *exec.Value {
	b := budgetOf(e.Environment.Context)
	if b == nil {
		return errValue(errNoBudget)
	}
	v := args.Args[0]
	if v.IsError() {
		return v
	}
	if err := b.charge(size(v)); err != nil {
		return b.refuse(err)
	}
	if err := b.check(v); err != nil {
		return b.refuse(err)
	}
	return v
}

func sandboxIter(e *exec.Evaluator, args *exec.VarArgs) *exec.Value {
	b := budgetOf(e.Environment.Context)
	if b == nil {
		return errValue(errNoBudget)
	}
	v, body := args.Args[0], args.Args[1].Integer()
	if v.IsError() {
		return v
	}
	n := v.Len()
	if v.IsString() {
		n = len(v.String())
	}
	if err := b.check(v); err != nil {
		return b.refuse(err)
	}
	if n > 0 && body+1 > (b.lim.Steps-b.steps)/n {
		return b.refuse(b.limit("steps", b.lim.Steps))
	}
	if err := b.charge(n * (body + 1)); err != nil {
		return b.refuse(err)
	}
	return v
}

// sandboxBinop is the library's arithmetic for the operators that build
// values or can fail, with the result sized before it is built.
func sandboxBinop(e *exec.Evaluator, args *exec.VarArgs) *exec.Value {
	b := budgetOf(e.Environment.Context)
	if b == nil {
		return errValue(errNoBudget)
	}
	op, l, r := args.Args[0].String(), args.Args[1], args.Args[2]
	if err := b.charge(1); err != nil {
		return b.refuse(err)
	}
	switch op {
	case "+":
		if l.IsList() {
			if !r.IsList() {
				return b.refuse(fmt.Errorf("cannot concatenate a list and %s", r.String()))
			}
			if l.Len()+r.Len() > b.lim.Items {
				return b.refuse(b.limit("items", b.lim.Items))
			}
			out := make([]any, 0, l.Len()+r.Len())
			for _, x := range []*exec.Value{l, r} {
				x.Iterate(func(_, _ int, k, _ *exec.Value) bool {
					out = append(out, k.Interface())
					return true
				}, func() {})
			}
			return exec.AsValue(out)
		}
		if l.IsFloat() || r.IsFloat() {
			return exec.AsValue(l.Float() + r.Float())
		}
		if l.IsString() || r.IsString() {
			return concat(b, l.String(), r.String())
		}
		return exec.AsValue(l.Integer() + r.Integer())
	case "~":
		return concat(b, l.String(), r.String())
	case "*":
		if l.IsFloat() || r.IsFloat() {
			return exec.AsValue(l.Float() * r.Float())
		}
		if l.IsString() {
			s, n := l.String(), r.Integer()
			if n <= 0 || s == "" {
				return exec.AsValue("")
			}
			if n > b.lim.ValueBytes/len(s) {
				return b.refuse(b.limit("value size", byteSize(b.lim.ValueBytes)))
			}
			if err := b.charge(len(s) * n); err != nil {
				return b.refuse(err)
			}
			return exec.AsValue(strings.Repeat(s, n))
		}
		return exec.AsValue(l.Integer() * r.Integer())
	case "%":
		d := r.Integer()
		if d == 0 {
			return b.refuse(errors.New("integer modulo by zero"))
		}
		return exec.AsValue(l.Integer() % d)
	case "//":
		d := r.Float()
		if d == 0 {
			return b.refuse(errors.New("integer division by zero"))
		}
		q := l.Float() / d
		if math.IsNaN(q) || q > math.MaxInt64 || q < math.MinInt64 {
			return b.refuse(fmt.Errorf("%s // %s is out of the integer range", l.String(), r.String()))
		}
		return exec.AsValue(int(q))
	}
	return b.refuse(fmt.Errorf("unknown operator %q", op))
}

func concat(b *budget, l, r string) *exec.Value {
	if len(l)+len(r) > b.lim.ValueBytes {
		return b.refuse(b.limit("value size", byteSize(b.lim.ValueBytes)))
	}
	if err := b.charge((len(l)+len(r))/64 + 1); err != nil {
		return b.refuse(err)
	}
	return exec.AsValue(l + r)
}

// --- globals -----------------------------------------------------------------

// sandboxRange is range() returning a list, within Items (the library's
// produces from a goroutine that outlives a loop left early).
func sandboxRange(e *exec.Evaluator, args *exec.VarArgs) *exec.Value {
	b := budgetOf(e.Environment.Context)
	if b == nil {
		return errValue(errNoBudget)
	}
	start, stop, step := 0, 0, 1
	for _, a := range args.Args {
		if !a.IsInteger() {
			return b.refuse(errors.New("range expects [start, ]stop[, step] as integers"))
		}
	}
	switch len(args.Args) {
	case 1:
		stop = args.Args[0].Integer()
	case 2:
		start, stop = args.Args[0].Integer(), args.Args[1].Integer()
	case 3:
		start, stop, step = args.Args[0].Integer(), args.Args[1].Integer(), args.Args[2].Integer()
	default:
		return b.refuse(errors.New("range expects [start, ]stop[, step] as integers"))
	}
	if step == 0 {
		return b.refuse(errors.New("range step cannot be 0"))
	}
	var n float64
	if step > 0 && stop > start {
		n = math.Ceil((float64(stop) - float64(start)) / float64(step))
	} else if step < 0 && stop < start {
		n = math.Ceil((float64(start) - float64(stop)) / -float64(step))
	}
	if n > float64(b.lim.Items) {
		return b.refuse(b.limit("items", b.lim.Items))
	}
	if err := b.charge(int(n) + 1); err != nil {
		return b.refuse(err)
	}
	out := make([]any, 0, int(n))
	for i, v := 0, start; i < int(n); i, v = i+1, v+step {
		out = append(out, v)
	}
	return exec.AsValue(out)
}

// sandboxGlobals are the library's global functions with range and lipsum
// bounded.
var sandboxGlobals = func() *exec.Context {
	ctx := gonja.DefaultContext.Inherit()
	ctx.Set("range", sandboxRange)
	lipsum, _ := gonja.DefaultContext.Get("lipsum")
	inner := reflect.ValueOf(lipsum)
	ctx.Set("lipsum", func(e *exec.Evaluator, args *exec.VarArgs) *exec.Value {
		b := budgetOf(e.Environment.Context)
		if b == nil {
			return errValue(errNoBudget)
		}
		if err := checkArgs(b, args); err != nil {
			return b.refuse(err)
		}
		for i, name := range []string{"n", "html", "min", "max"} {
			var v *exec.Value
			if i < len(args.Args) {
				v = args.Args[i]
			} else if kw, ok := args.KwArgs[name]; ok {
				v = kw
			}
			if v != nil && name != "html" && v.IsInteger() && (v.Integer() > 1000 || v.Integer() < 0) {
				return b.refuse(fmt.Errorf("lipsum %s=%d: at most 1000", name, v.Integer()))
			}
		}
		if !inner.IsValid() {
			return b.refuse(errors.New("lipsum is not available"))
		}
		out := inner.Call([]reflect.Value{reflect.ValueOf(e), reflect.ValueOf(args)})
		if len(out) == 0 {
			return exec.AsValue(nil)
		}
		if len(out) > 1 && !out[1].IsNil() {
			return b.refuse(out[1].Interface().(error))
		}
		v := exec.AsValue(out[0].Interface())
		if err := b.check(v); err != nil {
			return b.refuse(err)
		}
		return v
	})
	ctx.Set(outFn, sandboxOut)
	ctx.Set(binopFn, sandboxBinop)
	ctx.Set(iterFn, sandboxIter)
	return ctx
}()

// --- filters -------------------------------------------------------------------

var formatWidthRE = regexp.MustCompile(`%[-#+ 0]*(\d+|\*)?(?:\.(\d+|\*))?`)

// estimate is, for the filters and methods whose output can outgrow their
// input, the size of what they are asked for, computed before they run.
func estimate(name string, in *exec.Value, args *exec.VarArgs) (int, error) {
	arg := func(i int, kw string) *exec.Value {
		if i < len(args.Args) {
			return args.Args[i]
		}
		if v, ok := args.KwArgs[kw]; ok {
			return v
		}
		return nil
	}
	intArg := func(i int, kw string) int {
		if v := arg(i, kw); v != nil && (v.IsInteger() || v.IsFloat()) {
			f := v.Float()
			if f > math.MaxInt32 {
				return math.MaxInt32
			}
			if f < math.MinInt32 {
				return math.MinInt32
			}
			return int(f)
		}
		return 0
	}
	s := in.String
	switch name {
	case "center", "ljust", "rjust", "zfill":
		return max(len(s()), intArg(0, "width")), nil
	case "indent":
		w := intArg(0, "width")
		if v := arg(0, "width"); v != nil && v.IsString() {
			w = len(v.String())
		}
		return len(s()) + (strings.Count(s(), "\n")+1)*max(w, 0), nil
	case "expandtabs":
		return len(s()) + strings.Count(s(), "\t")*max(intArg(0, "tabsize"), 8), nil
	case "wordwrap":
		wrap := 1
		if v := arg(3, "wrapstring"); v != nil {
			wrap = len(v.String())
		}
		return len(s()) * (1 + wrap), nil
	case "replace":
		old, repl := arg(0, "old"), arg(1, "new")
		if old == nil || repl == nil {
			return 0, nil
		}
		count := strings.Count(s(), old.String())
		if c := arg(2, "count"); c != nil && c.IsInteger() && c.Integer() >= 0 && c.Integer() < count {
			count = c.Integer()
		}
		return len(s()) + count*len(repl.String()), nil
	case "join":
		sep := 0
		if v := arg(0, "d"); v != nil {
			sep = len(v.String())
		}
		n, total := 0, 0
		in.Iterate(func(_, _ int, k, _ *exec.Value) bool {
			n++
			if k.IsString() {
				total += len(k.String())
			}
			return true
		}, func() {})
		if in.IsString() {
			n, total = len(s()), len(s())
		}
		return total + n*sep, nil
	case "format":
		total := len(s())
		for _, a := range args.Args {
			total += len(a.String())
		}
		for _, m := range formatWidthRE.FindAllStringSubmatch(s(), -1) {
			for _, w := range m[1:] {
				if w == "*" {
					return 0, errors.New("format: a width or precision from an argument (*) is not supported")
				}
				if n, err := strconv.Atoi(w); err == nil {
					total += n
				} else if w != "" {
					return math.MaxInt32, nil
				}
			}
		}
		return total, nil
	case "batch", "slice":
		return intArg(0, "linecount") + in.Len(), nil
	case "round":
		if p := intArg(0, "precision"); p > 100 || p < 0 {
			return 0, fmt.Errorf("round: precision %d is not within 0..100", p)
		}
	case "tojson":
		if i := intArg(0, "indent"); i > 64 || i < 0 {
			return 0, fmt.Errorf("tojson: indent %d is not within 0..64", i)
		}
	case "int":
		if v := arg(1, "base"); v != nil {
			if base := v.Integer(); base != 0 && (base < 2 || base > 36) {
				return 0, fmt.Errorf("int: base %d is not 0 or within 2..36", base)
			}
		}
	case "map_format":
		pattern := arg(0, "pattern")
		if pattern == nil {
			return 0, nil
		}
		p := pattern.String()
		return len(p) + (strings.Count(p, "$")+strings.Count(p, "%s"))*len(s()), nil
	case "truncate", "filesizeformat", "pprint", "urlize":
		return 0, nil
	}
	return 0, nil
}

func guardEstimate(b *budget, name string, in *exec.Value, args *exec.VarArgs) error {
	n, err := estimate(name, in, args)
	if err != nil {
		return err
	}
	if n > b.lim.ValueBytes {
		return b.limit("value size", byteSize(b.lim.ValueBytes))
	}
	if name == "batch" || name == "slice" {
		if n > b.lim.Items {
			return b.limit("items", b.lim.Items)
		}
	}
	return b.charge(n/64 + 1)
}

func guardFilter(name string, f exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		b := budgetOf(e.Environment.Context)
		if b == nil {
			return errValue(errNoBudget)
		}
		if in.IsError() {
			return in
		}
		if params == nil {
			params = &exec.VarArgs{KwArgs: map[string]*exec.Value{}}
		}
		if err := b.charge(size(in)); err != nil {
			return b.refuse(err)
		}
		if err := b.check(in); err != nil {
			return b.refuse(err)
		}
		if err := checkArgs(b, params); err != nil {
			return b.refuse(err)
		}
		if err := guardEstimate(b, name, in, params); err != nil {
			return b.refuse(fmt.Errorf("filter %s: %w", name, err))
		}
		out := f(e, in, params)
		if err := b.charge(size(out)); err != nil {
			return b.refuse(err)
		}
		if err := b.check(out); err != nil {
			return b.refuse(err)
		}
		return out
	}
}

// guardFilters wraps every filter of set.
func guardFilters(set *exec.FilterSet) *exec.FilterSet {
	out := exec.NewFilterSet(map[string]exec.FilterFunction{})
	for _, name := range setNames(set) {
		f, _ := set.Get(name)
		if err := out.Register(name, guardFilter(name, f)); err != nil {
			panic(err)
		}
	}
	return out
}

// setNames lists the names of one of the library's sets (filters,
// methods), which it keeps in an unexported map.
func setNames(set any) []string {
	v := reflect.ValueOf(set).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Map && f.Type().Key().Kind() == reflect.String {
			var names []string
			for _, k := range f.MapKeys() {
				names = append(names, k.String())
			}
			return names
		}
	}
	return nil
}

// --- methods -------------------------------------------------------------------

// guardMethods wraps every method of set for one render's budget: the
// library gives a method no context to find it in.
func guardMethods[I any](b *budget, set *exec.MethodSet[I]) *exec.MethodSet[I] {
	if set == nil {
		return nil
	}
	m := map[string]exec.Method[I]{}
	for _, name := range setNames(set) {
		inner, _ := set.Get(name)
		m[name] = func(self I, sv *exec.Value, args *exec.VarArgs) (any, error) {
			if args == nil {
				args = &exec.VarArgs{KwArgs: map[string]*exec.Value{}}
			}
			if err := b.charge(size(sv)); err != nil {
				return nil, err
			}
			if err := checkArgs(b, args); err != nil {
				return nil, err
			}
			if err := guardEstimate(b, name, sv, args); err != nil {
				return nil, fmt.Errorf("%s(): %w", name, err)
			}
			out, err := inner(self, sv, args)
			if err != nil {
				return nil, err
			}
			// A method can grow its receiver (append, extend, update) or
			// make it contain itself.
			if err := b.check(sv); err != nil {
				return nil, err
			}
			if err := b.check(exec.AsValue(out)); err != nil {
				return nil, err
			}
			return out, nil
		}
	}
	return exec.NewMethodSet(m)
}

func guardAllMethods(b *budget, all exec.Methods) exec.Methods {
	return exec.Methods{
		Bool:  guardMethods(b, all.Bool),
		Int:   guardMethods(b, all.Int),
		Float: guardMethods(b, all.Float),
		Str:   guardMethods(b, all.Str),
		Dict:  guardMethods(b, all.Dict),
		List:  guardMethods(b, all.List),
	}
}
