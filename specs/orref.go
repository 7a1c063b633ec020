package specs

import (
	"encoding/json"
	"fmt"
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

// UnmarshalJSON reads a number, a numeric string or a template string.
func (v *IntOrRef) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return v.set(s)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || f != float64(int(f)) {
		return fmt.Errorf("expected an integer or a template, got %s", b)
	}
	*v = IntOrRef{Value: int(f)}
	return nil
}

func (v *IntOrRef) set(s string) error {
	if IsTemplate(s) {
		*v = IntOrRef{Template: s}
		return nil
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("expected an integer or a \"{{ }}\" template, got %q", s)
	}
	*v = IntOrRef{Value: i}
	return nil
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

// UnmarshalJSON reads a list or a template string.
func (l *ListOrRef[T]) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil && IsTemplate(s) {
		*l = ListOrRef[T]{Template: s}
		return nil
	}
	*l = ListOrRef[T]{}
	return json.Unmarshal(b, &l.Items)
}

func (l *ListOrRef[T]) decodeNode(d *decoder, n *yaml.Node, p Path) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && IsTemplate(n.Value) {
		*l = ListOrRef[T]{Template: n.Value}
		return
	}
	*l = ListOrRef[T]{}
	d.decode(n, reflect.ValueOf(&l.Items).Elem(), p)
}
