package specs

import (
	"encoding/json"
	"reflect"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// IntOrRef is an integer field that may instead hold a "{{ }}" template,
// which the compiler renders (`maxRetries: "{{ retries }}"`).
type IntOrRef struct {
	Value    int
	Template string
}

// Int returns an IntOrRef holding v, for building specs in Go.
func Int(v int) *IntOrRef { return &IntOrRef{Value: v} }

// Ref returns an IntOrRef holding a template.
func Ref(tmpl string) *IntOrRef { return &IntOrRef{Template: tmpl} }

// IsTemplate reports whether the value is a template still to render.
func (v *IntOrRef) IsTemplate() bool { return v != nil && v.Template != "" }

func (v *IntOrRef) String() string {
	if v.Template != "" {
		return v.Template
	}
	return strconv.Itoa(v.Value)
}

// MarshalJSON writes the number, or the template as a string.
func (v IntOrRef) MarshalJSON() ([]byte, error) {
	if v.Template != "" {
		return json.Marshal(v.Template)
	}
	return json.Marshal(v.Value)
}

func (v *IntOrRef) decodeNode(d *decoder, n *yaml.Node, p Path) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && IsTemplate(n.Value) {
		*v = IntOrRef{Template: n.Value}
		return
	}
	if i, ok := d.scalarInt(n, p); ok {
		*v = IntOrRef{Value: int(i)}
	}
}

// ListOrRef is a list field that may instead hold one "{{ }}" template
// rendering to the whole list (`ports: "{{ ports }}"`).
type ListOrRef[T any] struct {
	Items    []T
	Template string
}

// List returns a ListOrRef holding items.
func List[T any](items ...T) ListOrRef[T] { return ListOrRef[T]{Items: items} }

// IsZero reports whether nothing is set (for omitempty-like behaviour).
func (l ListOrRef[T]) IsZero() bool { return l.Items == nil && l.Template == "" }

// MarshalJSON writes the list, or the template as a string.
func (l ListOrRef[T]) MarshalJSON() ([]byte, error) {
	if l.Template != "" {
		return json.Marshal(l.Template)
	}
	if l.Items == nil {
		return []byte("null"), nil
	}
	return json.Marshal(l.Items)
}

func (l *ListOrRef[T]) decodeNode(d *decoder, n *yaml.Node, p Path) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && IsTemplate(n.Value) {
		*l = ListOrRef[T]{Template: n.Value}
		return
	}
	*l = ListOrRef[T]{}
	d.decode(n, reflect.ValueOf(&l.Items).Elem(), p)
}
