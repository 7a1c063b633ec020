package specs

// What the decoder says of a key a section does not have: where it
// belongs, if it is a known misplacement, or the nearest known field.

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fieldHinter is implemented by spec types that know where a key users
// often put on them really belongs.
type fieldHinter interface {
	misplacedField(key string) string
}

func (d *decoder) unknownField(key *yaml.Node, p Path, k string, si *structInfo, k8s bool, t reflect.Type) {
	e := &FieldError{Path: p.Key(k), Type: ErrUnknownField, BadValue: k}
	var hint string
	if h, ok := reflect.New(t).Interface().(fieldHinter); ok {
		hint = h.misplacedField(k)
	}
	if i, ok := si.byFold[foldKey(k)]; ok && strings.Contains(k, "_") {
		e.Detail = fmt.Sprintf("unknown field %q: Polyaxonfile v1.1 keys are camelCase, did you mean %q?", k, si.fields[i].name)
	} else if hint != "" {
		e.Detail = fmt.Sprintf("unknown field %q: %s", k, hint)
	} else if s := nearest(k, si); s != "" {
		e.Detail = fmt.Sprintf("unknown field %q, did you mean %q?", k, s)
	} else {
		e.Detail = fmt.Sprintf("unknown field %q; valid fields are %s", k, fieldList(si))
	}
	if k8s && d.k8sDepth > 1 {
		// Nested Kubernetes values are not checked by the reference; keep
		// the file valid but say what will be ignored.
		e.Detail += " (ignored)"
		d.warnAt(key, e)
		return
	}
	d.errorAt(key, e)
}

func fieldList(si *structInfo) string {
	names := make([]string, len(si.fields))
	for i, f := range si.fields {
		names[i] = f.name
	}
	sort.Strings(names)
	if len(names) > 12 {
		names = append(names[:12], "...")
	}
	return strings.Join(names, ", ")
}

// nearest returns the valid field name closest to k, if any is close enough
// to be a likely typo.
func nearest(k string, si *structInfo) string {
	best, bestD := "", math.MaxInt
	lk := strings.ToLower(k)
	for _, f := range si.fields {
		dist := levenshtein(lk, strings.ToLower(f.name))
		if dist < bestD {
			best, bestD = f.name, dist
		}
	}
	limit := max(2, len(k)/3)
	if bestD <= limit {
		return best
	}
	return ""
}

// levenshtein is the edit distance between a and b, counting a swap of
// two adjacent letters as one edit (optimal string alignment).
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // a transposition
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
