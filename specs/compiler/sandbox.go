package compiler

import (
	"errors"
	"fmt"
	"reflect"
	syncatomic "sync/atomic"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// TemplateLimits bound what rendering the templates of one spec may cost.
// Every render goes through one sandbox (see guard.go): a panic inside the
// template library becomes an error naming the field; the output of a
// field and of a spec, the evaluation steps, the wall time, the depth of
// macro calls, the size of every value a template builds and the nesting
// of what it reads or builds are bounded, and checked before the Go stack
// or the heap can be exhausted. The defaults are far above what a real
// Polyaxonfile renders; a server raises them with the flags named in
// LimitError.
type TemplateLimits struct {
	// Steps bounds the evaluation steps of one spec: an output, a filter,
	// function, method or macro call, a control structure and each
	// iteration of a loop (weighted by the text its body writes) count.
	Steps int
	// FieldBytes bounds the rendered output of one field.
	FieldBytes int
	// SpecBytes bounds the rendered output of all the fields of one spec.
	SpecBytes int
	// ValueBytes bounds one string a template builds or reads.
	ValueBytes int
	// Items bounds the length of one list or mapping a template builds or
	// reads, and of range().
	Items int
	// Depth bounds nested macro calls (recursion).
	Depth int
	// Nesting bounds the nesting of brackets in a template's source and of
	// the values it builds or reads (a value that contains itself is
	// infinitely nested).
	Nesting int
	// SourceBytes bounds the source of one template.
	SourceBytes int
	// Time bounds the wall time of rendering one spec.
	Time time.Duration
}

// DefaultTemplateLimits are the limits unless a server sets others.
var DefaultTemplateLimits = TemplateLimits{
	Steps:       300_000,
	FieldBytes:  1 << 20,
	SpecBytes:   8 << 20,
	ValueBytes:  1 << 20,
	Items:       100_000,
	Depth:       64,
	Nesting:     100,
	SourceBytes: 256 << 10,
	Time:        5 * time.Second,
}

var templateLimits syncatomic.Pointer[TemplateLimits]

// SetTemplateLimits sets the limits of every render from now on; zero
// fields keep their default. Safe for concurrent use.
func SetTemplateLimits(l TemplateLimits) {
	d := DefaultTemplateLimits
	for _, f := range []struct{ to, from *int }{
		{&d.Steps, &l.Steps}, {&d.FieldBytes, &l.FieldBytes}, {&d.SpecBytes, &l.SpecBytes},
		{&d.ValueBytes, &l.ValueBytes}, {&d.Items, &l.Items}, {&d.Depth, &l.Depth},
		{&d.Nesting, &l.Nesting}, {&d.SourceBytes, &l.SourceBytes},
	} {
		if *f.from > 0 {
			*f.to = *f.from
		}
	}
	if l.Time > 0 {
		d.Time = l.Time
	}
	templateLimits.Store(&d)
}

// CurrentTemplateLimits returns the limits renders use now.
func CurrentTemplateLimits() TemplateLimits {
	if l := templateLimits.Load(); l != nil {
		return *l
	}
	return DefaultTemplateLimits
}

// TemplateLimitFlags names, for each limit, the `plexus server` flag that
// raises it.
var TemplateLimitFlags = map[string]string{
	"steps":        "template-max-steps",
	"field output": "template-max-field-bytes",
	"spec output":  "template-max-spec-bytes",
	"value size":   "template-max-value-bytes",
	"items":        "template-max-items",
	"macro depth":  "template-max-depth",
	"nesting":      "template-max-nesting",
	"source size":  "template-max-source-bytes",
	"time":         "template-timeout",
}

// LimitError is a render stopped by one of its limits.
type LimitError struct {
	Limit string // a key of TemplateLimitFlags
	Max   string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("template exceeds the %s limit (%s); a server raises it with --%s", e.Limit, e.Max, TemplateLimitFlags[e.Limit])
}

// ErrTemplatePanic marks a template the template library could not render
// without panicking.
var ErrTemplatePanic = errors.New("compiler: template rendering failed")

// budget is what the renders of one spec may still spend. Renders of one
// spec run one after the other: a budget is not safe for concurrent use.
type budget struct {
	lim   TemplateLimits
	steps int
	out   int
	depth int
	spent time.Duration // in renders before the current one
	start time.Time     // of the current render
	ticks int
	err   error // the first limit reached; every later check fails with it
	last  error // the last refusal of the sandbox, for the message
}

// refuse records why the sandbox refused an operation and returns it as
// the library's error value.
func (b *budget) refuse(err error) *exec.Value {
	b.last = err
	return exec.AsValue(err)
}

func newBudget(l TemplateLimits) *budget {
	return &budget{lim: l, start: time.Now()}
}

// begin and end bracket one render: the time limit counts render time.
func (b *budget) begin() { b.start = time.Now() }
func (b *budget) end()   { b.spent += time.Since(b.start) }

func (b *budget) limit(name string, max any) error {
	if b.err == nil {
		b.err = &LimitError{Limit: name, Max: fmt.Sprint(max)}
	}
	return b.err
}

// charge spends n steps.
func (b *budget) charge(n int) error {
	if b.err != nil {
		return b.err
	}
	if n < 0 || n > b.lim.Steps-b.steps {
		return b.limit("steps", b.lim.Steps)
	}
	b.steps += n
	b.ticks++
	if b.ticks%64 == 0 && b.spent+time.Since(b.start) > b.lim.Time {
		return b.limit("time", b.lim.Time)
	}
	return nil
}

// write counts n bytes of a spec's output.
func (b *budget) write(n int) error {
	if b.err != nil {
		return b.err
	}
	if n > b.lim.SpecBytes-b.out {
		return b.limit("spec output", byteSize(b.lim.SpecBytes))
	}
	b.out += n
	return b.charge(n/64 + 1)
}

// check walks a value a template reads or built: every string within
// ValueBytes, every collection within Items, nesting within Nesting (which
// also stops a value that contains itself). The walk is charged.
func (b *budget) check(v *exec.Value) error {
	if v == nil || b.err != nil {
		return b.err
	}
	return b.walk(v.Val, 0)
}

var valuePtr = reflect.TypeFor[*exec.Value]()

func (b *budget) walk(x reflect.Value, depth int) error {
	if depth > b.lim.Nesting {
		return b.limit("nesting", fmt.Sprintf("%d levels; a value that contains itself is nested without end", b.lim.Nesting))
	}
	switch x.Kind() {
	case reflect.Interface, reflect.Pointer:
		if x.IsNil() {
			return nil
		}
		if x.Type() == valuePtr && x.CanInterface() {
			return b.walk(x.Interface().(*exec.Value).Val, depth)
		}
		return b.walk(x.Elem(), depth+1)
	case reflect.String:
		if x.Len() > b.lim.ValueBytes {
			return b.limit("value size", byteSize(b.lim.ValueBytes))
		}
	case reflect.Slice, reflect.Array:
		if x.Kind() == reflect.Slice && x.Type().Elem().Kind() == reflect.Uint8 {
			if x.Len() > b.lim.ValueBytes {
				return b.limit("value size", byteSize(b.lim.ValueBytes))
			}
			return nil
		}
		if x.Len() > b.lim.Items {
			return b.limit("items", b.lim.Items)
		}
		if err := b.charge(x.Len()); err != nil {
			return err
		}
		for i := range x.Len() {
			if err := b.walk(x.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		if x.Len() > b.lim.Items {
			return b.limit("items", b.lim.Items)
		}
		if err := b.charge(x.Len()); err != nil {
			return err
		}
		it := x.MapRange()
		for it.Next() {
			if err := b.walk(it.Key(), depth+1); err != nil {
				return err
			}
			if err := b.walk(it.Value(), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// size is the shallow size of a value: the bytes of a string, the items of
// a collection, else 1.
func size(v *exec.Value) int {
	if v == nil || !v.Val.IsValid() {
		return 1
	}
	x := v.Val
	for x.Kind() == reflect.Interface || x.Kind() == reflect.Pointer {
		if x.IsNil() {
			return 1
		}
		if x.Type() == valuePtr && x.CanInterface() {
			return size(x.Interface().(*exec.Value))
		}
		x = x.Elem()
	}
	switch x.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		return x.Len() + 1
	}
	return 1
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// fieldWriter is the output of one field's render.
type fieldWriter struct {
	b   *budget
	max int
	buf []byte
	err error
}

func (w *fieldWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(p) > w.max-len(w.buf) {
		w.err = &LimitError{Limit: "field output", Max: byteSize(w.max)}
		return 0, w.err
	}
	if err := w.b.write(len(p)); err != nil {
		w.err = err
		return 0, err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *fieldWriter) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}
