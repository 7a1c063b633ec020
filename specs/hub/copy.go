package hub

import (
	"reflect"
	"sync"

	"github.com/plexus-ml/plexus/specs"
)

// copyComponent returns a copy of c sharing nothing mutable with it, so
// that what a lookup returns can be changed without touching the hub's
// parsed file.
func copyComponent(c *specs.Component) *specs.Component {
	return deepCopy(reflect.ValueOf(c)).Interface().(*specs.Component)
}

// deepCopy copies v through pointers, interfaces, slices, maps and the
// exported fields of structs. Unexported fields are copied as values: in
// specs they hold what validation derived (compiled expressions), which
// nothing changes afterwards, and in Kubernetes quantities a cached form.
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
		out.Set(v)
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
// share memory.
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
