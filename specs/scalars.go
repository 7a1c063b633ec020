package specs

// How the decoder reads a scalar node as a string, a bool, an integer or
// a float, by YAML's rules, each failure an error at the node's path.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

func parseYAMLBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "y", "t", "1":
		return true, true
	case "false", "no", "off", "n", "f", "0":
		return false, true
	}
	return false, false
}

func parseYAMLFloat(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), true
	case "-.inf":
		return math.Inf(-1), true
	case ".nan":
		return math.NaN(), true
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	return f, err == nil
}

func (d *decoder) wantScalar(n *yaml.Node, p Path, what string) bool {
	if n.Kind != yaml.ScalarNode {
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: fmt.Sprintf("expected %s, got %s", what, nodeKindName(n))})
		return false
	}
	return true
}

func (d *decoder) scalarString(n *yaml.Node, p Path) (string, bool) {
	if !d.wantScalar(n, p, "a string") {
		return "", false
	}
	switch n.Tag {
	case "!!null":
		return "", true
	case "!!bool":
		b, _ := parseYAMLBool(n.Value)
		return strconv.FormatBool(b), true
	}
	return n.Value, true
}

func (d *decoder) scalarBool(n *yaml.Node, p Path) (bool, bool) {
	if !d.wantScalar(n, p, "a boolean") {
		return false, false
	}
	if n.Tag == "!!null" {
		return false, true
	}
	if b, ok := parseYAMLBool(n.Value); ok && n.Tag != "!!float" {
		return b, true
	}
	d.errorAt(n, &FieldError{Path: p, Type: ErrType, BadValue: n.Value, Detail: fmt.Sprintf("expected a boolean, got %q", n.Value)})
	return false, false
}

func (d *decoder) scalarInt(n *yaml.Node, p Path) (int64, bool) {
	if !d.wantScalar(n, p, "an integer") {
		return 0, false
	}
	s := strings.TrimSpace(strings.ReplaceAll(n.Value, "_", ""))
	if n.Tag != "!!bool" && n.Tag != "!!null" {
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i, true
		}
		if f, ok := parseYAMLFloat(s); ok && f == math.Trunc(f) && !math.IsInf(f, 0) && math.Abs(f) < 1<<53 {
			return int64(f), true
		}
	}
	detail := fmt.Sprintf("expected an integer, got %q", n.Value)
	if IsTemplate(n.Value) {
		detail = fmt.Sprintf("expected an integer, got the template %q (this field cannot be templated)", n.Value)
	}
	d.errorAt(n, &FieldError{Path: p, Type: ErrType, BadValue: n.Value, Detail: detail})
	return 0, false
}

func (d *decoder) scalarFloat(n *yaml.Node, p Path) (float64, bool) {
	if !d.wantScalar(n, p, "a number") {
		return 0, false
	}
	if n.Tag != "!!bool" && n.Tag != "!!null" {
		if f, ok := parseYAMLFloat(strings.TrimSpace(n.Value)); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	d.errorAt(n, &FieldError{Path: p, Type: ErrType, BadValue: n.Value, Detail: fmt.Sprintf("expected a number, got %q", n.Value)})
	return 0, false
}
