package compiler

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/plexus-ml/plexus/specs"
)

// Patch merges patch into base under strategy, field by field, exactly as
// the reference's patch does (§9 of the spec), and returns the result;
// neither argument is changed. base and patch must have the same type
// (a pointer to a spec struct, or a Run of one kind). An empty strategy
// means post_merge.
//
// Per field, with cur the base's value and new the patch's:
//   - new unset: keep cur. cur unset: take new, under every strategy.
//   - cur is a Plexus object (termination, environment, plugins, a run...):
//     recurse field by field under the same strategy, even for replace.
//     A schedule or matrix recurses only when both have the same kind;
//     otherwise post_merge and replace take new, pre_merge and isnull keep
//     cur.
//   - cur is a Kubernetes object (a container, an affinity...): per
//     attribute, isnull keeps, replace swaps the attribute, and the merges
//     deep-merge it.
//   - otherwise isnull keeps cur and replace takes new; post_merge updates
//     a mapping deeply with new winning, appends to a list the items of new
//     it lacks, and takes a new scalar; pre_merge does the same with cur
//     winning and the items of cur appended to new's.
func Patch[T any](base, patch T, strategy specs.PatchStrategy) T {
	if strategy == "" {
		strategy = specs.PatchPostMerge
	}
	out := deepCopy(reflect.ValueOf(&base).Elem())
	p := &patcher{strategy: strategy}
	p.merge(out, reflect.ValueOf(&patch).Elem())
	return out.Interface().(T)
}

type patcher struct {
	strategy specs.PatchStrategy
	// skip names fields of the outermost struct the caller merges itself.
	skip map[string]bool
}

// merge patches cur (settable) with new under the strategy.
func (p *patcher) merge(cur, nv reflect.Value) {
	if isUnset(nv) {
		return
	}
	if isUnset(cur) {
		cur.Set(deepCopy(nv))
		return
	}
	t := cur.Type()
	if atomic(t) {
		p.scalar(cur, nv)
		return
	}
	switch {
	case t == reflect.TypeFor[specs.SearchSpace]():
		p.mergeSpace(cur, nv)
		return
	case isListOrRef(t):
		p.mergeListOrRef(cur, nv)
		return
	case t.Kind() == reflect.Interface && isSameKindField(t):
		ce, ne := cur.Elem(), nv.Elem()
		if ce.Type() == ne.Type() {
			p.merge(ce, ne) // pointers to the same struct type: merged in place
			return
		}
		if p.strategy == specs.PatchPostMerge || p.strategy == specs.PatchReplace {
			cur.Set(deepCopy(nv))
		}
		return
	case t.Kind() == reflect.Interface && cur.Elem().Type() == nv.Elem().Type() && isPlexus(derefType(cur.Elem().Type())):
		p.merge(cur.Elem(), nv.Elem())
		return
	case t.Kind() == reflect.Pointer && isStruct(t.Elem()):
		p.merge(cur.Elem(), nv.Elem())
		return
	case isStruct(t) && isPlexus(t):
		p.mergeStruct(cur, nv)
		return
	case isStruct(t) && isK8s(t):
		p.mergeK8s(cur, nv)
		return
	}
	switch p.strategy {
	case specs.PatchIsNull:
	case specs.PatchReplace:
		cur.Set(deepCopy(nv))
	default:
		cur.Set(p.normalMerge(cur, nv))
	}
}

// scalar applies the strategy to a value merged as a whole.
func (p *patcher) scalar(cur, nv reflect.Value) {
	if p.strategy == specs.PatchPostMerge || p.strategy == specs.PatchReplace {
		cur.Set(deepCopy(nv))
	}
}

// atomic types hold one value in two forms (a literal or a template):
// they merge as scalars.
func atomic(t reflect.Type) bool {
	t = derefType(t)
	return t == reflect.TypeFor[specs.IntOrRef]() || t == reflect.TypeFor[specs.Version]()
}

func isListOrRef(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && isPlexus(t) && strings.HasPrefix(t.Name(), "ListOrRef[")
}

// mergeListOrRef merges two lists as lists, and a template as a scalar.
func (p *patcher) mergeListOrRef(cur, nv reflect.Value) {
	ct, nt := cur.FieldByName("Template").String(), nv.FieldByName("Template").String()
	if ct != "" || nt != "" || p.strategy == specs.PatchIsNull || p.strategy == specs.PatchReplace {
		p.scalar(cur, nv)
		return
	}
	items := cur.FieldByName("Items")
	items.Set(p.normalMerge(items, nv.FieldByName("Items")))
}

// mergeSpace merges search spaces as the mappings they are written as:
// a param of new replaces (post_merge) or loses to (pre_merge) cur's.
func (p *patcher) mergeSpace(cur, nv reflect.Value) {
	switch p.strategy {
	case specs.PatchIsNull:
		return
	case specs.PatchReplace:
		cur.Set(deepCopy(nv))
		return
	}
	base, over := cur.Interface().(specs.SearchSpace), nv.Interface().(specs.SearchSpace)
	if p.strategy == specs.PatchPreMerge {
		base, over = over, base
	}
	out := deepCopy(reflect.ValueOf(base)).Interface().(specs.SearchSpace)
	for _, np := range over {
		np = deepCopy(reflect.ValueOf(np)).Interface().(specs.NamedHyperParam)
		replaced := false
		for i := range out {
			if out[i].Name == np.Name {
				out[i] = np
				replaced = true
			}
		}
		if !replaced {
			out = append(out, np)
		}
	}
	cur.Set(reflect.ValueOf(out))
}

// mergeStruct patches every field of a Plexus struct.
func (p *patcher) mergeStruct(cur, nv reflect.Value) {
	skip := p.skip
	p.skip = nil // only the outermost struct skips fields
	t := cur.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || skip != nil && skip[fieldJSONName(t, i)] {
			continue
		}
		if f.Anonymous && isStruct(f.Type) && isPlexus(f.Type) {
			// Embedded (inline) structs hold fields of this one.
			p.skip = skip
			p.mergeStruct(cur.Field(i), nv.Field(i))
			p.skip = nil
			continue
		}
		p.merge(cur.Field(i), nv.Field(i))
	}
}

// mergeK8s patches a Kubernetes object attribute by attribute.
func (p *patcher) mergeK8s(cur, nv reflect.Value) {
	t := cur.Type()
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			continue
		}
		c, n := cur.Field(i), nv.Field(i)
		switch {
		case isUnset(n):
		case isUnset(c):
			c.Set(deepCopy(n))
		case p.strategy == specs.PatchIsNull:
		case p.strategy == specs.PatchReplace:
			c.Set(deepCopy(n))
		default:
			c.Set(p.normalMerge(c, n))
		}
	}
}

// normalMerge merges two set values under post_merge or pre_merge.
func (p *patcher) normalMerge(cur, nv reflect.Value) reflect.Value {
	post := p.strategy != specs.PatchPreMerge
	t := cur.Type()
	switch {
	case t.Kind() == reflect.Map:
		if post {
			return deepUpdate(cur, nv)
		}
		return deepUpdate(nv, cur)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		if post {
			return appendMissing(cur, nv)
		}
		return appendMissing(nv, cur)
	case derefType(t).Kind() == reflect.Struct && !isPlexus(derefType(t)):
		// A nested Kubernetes object: a deep update of its mapping form.
		if post {
			return viaMaps(cur, nv)
		}
		return viaMaps(nv, cur)
	case t.Kind() == reflect.Interface && t.NumMethod() == 0:
		// Free-form values merge by what they hold.
		ce, ne := cur.Elem(), nv.Elem()
		if ce.Kind() == ne.Kind() && (ce.Kind() == reflect.Map || ce.Kind() == reflect.Slice) {
			out := reflect.New(t).Elem()
			out.Set(p.normalMerge(ce, ne))
			return out
		}
	}
	if post {
		return deepCopy(nv)
	}
	return deepCopy(cur)
}

// deepUpdate returns base updated with over: mappings merge recursively,
// anything else in over replaces what base holds.
func deepUpdate(base, over reflect.Value) reflect.Value {
	out := deepCopy(base)
	if out.IsNil() {
		out = reflect.MakeMap(base.Type())
	}
	iter := over.MapRange()
	for iter.Next() {
		k, v := iter.Key(), iter.Value()
		if old := out.MapIndex(k); old.IsValid() {
			om, nm := asMapValue(old), asMapValue(v)
			if om.IsValid() && nm.IsValid() {
				merged := deepUpdate(om, nm)
				if old.Kind() == reflect.Interface {
					w := reflect.New(old.Type()).Elem()
					w.Set(merged)
					merged = w
				}
				out.SetMapIndex(k, merged)
				continue
			}
		}
		out.SetMapIndex(k, deepCopy(v))
	}
	return out
}

// asMapValue returns v as a map value when it is one (directly or inside an
// interface).
func asMapValue(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.IsValid() && v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String {
		return v
	}
	return reflect.Value{}
}

// appendMissing returns first followed by the items of second that first
// lacks.
func appendMissing(first, second reflect.Value) reflect.Value {
	out := deepCopy(first)
	for i := range second.Len() {
		item := second.Index(i)
		found := false
		for j := range first.Len() {
			if reflect.DeepEqual(first.Index(j).Interface(), item.Interface()) {
				found = true
				break
			}
		}
		if !found {
			out = reflect.Append(out, deepCopy(item))
		}
	}
	return out
}

// viaMaps deep-updates the JSON mapping of base with over's and reads the
// result back into base's type, as the reference merges a nested
// Kubernetes object through its dict form.
func viaMaps(base, over reflect.Value) reflect.Value {
	toMap := func(v reflect.Value) map[string]any {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			panic(fmt.Sprintf("compiler: a %s does not marshal: %v", v.Type(), err))
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	merged := deepUpdate(reflect.ValueOf(toMap(base)), reflect.ValueOf(toMap(over)))
	b, _ := json.Marshal(merged.Interface())
	out := reflect.New(base.Type())
	if err := json.Unmarshal(b, out.Interface()); err != nil {
		panic(fmt.Sprintf("compiler: merged %s does not read back: %v", base.Type(), err))
	}
	return out.Elem()
}

// isUnset says whether a field holds nothing (the reference's None): a nil
// pointer, interface, map or slice, or a zero scalar.
func isUnset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return v.IsNil()
	case reflect.Struct:
		if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
			return z.IsZero()
		}
		return false
	}
	return v.IsZero()
}

// isSameKindField: schedules and matrices merge only with their own kind.
func isSameKindField(t reflect.Type) bool {
	return t == reflect.TypeFor[specs.Schedule]() || t == reflect.TypeFor[specs.Matrix]()
}

func isStruct(t reflect.Type) bool { return t.Kind() == reflect.Struct }

func isPlexus(t reflect.Type) bool {
	return strings.HasPrefix(t.PkgPath(), "github.com/plexus-ml/plexus/")
}

func isK8s(t reflect.Type) bool { return strings.HasPrefix(t.PkgPath(), "k8s.io/") }

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// CopyComponent returns a copy of c sharing nothing mutable with it: what
// a hub hands out of a component it keeps.
func CopyComponent(c *specs.Component) *specs.Component {
	return deepCopy(reflect.ValueOf(c)).Interface().(*specs.Component)
}

// deepCopy returns a copy of v sharing nothing mutable with it.
func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(deepCopy(v.Elem()))
			out.Set(p)
		}
	case reflect.Interface:
		if !v.IsNil() {
			out.Set(deepCopy(v.Elem()))
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(deepCopy(v.Index(i)))
			}
			out.Set(s)
		}
	case reflect.Map:
		if !v.IsNil() {
			m := reflect.MakeMapWithSize(v.Type(), v.Len())
			iter := v.MapRange()
			for iter.Next() {
				m.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
			}
			out.Set(m)
		}
	case reflect.Struct:
		out.Set(v) // scalars copied; unexported fields (quantities) are immutable values
		for _, i := range deepFields(v.Type()) {
			if f := v.Field(i); !f.IsZero() {
				out.Field(i).Set(deepCopy(f))
			}
		}
	default:
		out.Set(v)
	}
	return out
}

// deepFieldsCache holds, per struct type, the exported fields that may
// share memory (pointers, slices, maps, interfaces, structs).
var deepFieldsCache sync.Map // reflect.Type → []int

func deepFields(t reflect.Type) []int {
	if v, ok := deepFieldsCache.Load(t); ok {
		return v.([]int)
	}
	var out []int
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map, reflect.Struct:
			out = append(out, i)
		}
	}
	deepFieldsCache.Store(t, out)
	return out
}

// jsonNames caches the JSON names of a struct's fields.
var jsonNames sync.Map // reflect.Type → []string

func fieldJSONName(t reflect.Type, i int) string {
	if v, ok := jsonNames.Load(t); ok {
		return v.([]string)[i]
	}
	names := make([]string, t.NumField())
	for j := range names {
		names[j] = jsonName(t.Field(j))
	}
	jsonNames.Store(t, names)
	return names[i]
}
