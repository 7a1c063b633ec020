package matrix

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func space(params ...any) specs.SearchSpace {
	var s specs.SearchSpace
	for i := 0; i < len(params); i += 3 {
		s = append(s, specs.NamedHyperParam{Name: params[i].(string),
			HyperParam: specs.HyperParam{Kind: specs.HyperParamKind(params[i+1].(string)), Value: params[i+2]}})
	}
	return s
}

// TestSampleEveryKind: every kind, in each of its value syntaxes, samples
// within its space with the reference's semantics.
func TestSampleEveryKind(t *testing.T) {
	inSet := func(set ...any) func(any) bool {
		return func(v any) bool { return slices.Contains(set, v) }
	}
	within := func(lo, hi, q float64) func(any) bool {
		return func(v any) bool {
			f, ok := v.(float64)
			if !ok || f < lo || f > hi {
				return false
			}
			return q == 0 || math.Abs(f/q-math.Round(f/q)) < 1e-9
		}
	}
	anyFloat := func(v any) bool { _, ok := v.(float64); return ok }
	for _, tc := range []struct {
		kind  string
		value any
		ok    func(any) bool
	}{
		{"choice", []any{"adam", "sgd", 3}, inSet("adam", "sgd", 3)},
		{"pchoice", []any{[]any{"a", 0.3}, []any{"b", 0.7}}, inSet("a", "b")},
		{"range", []any{1, 10, 3}, inSet(1, 4, 7)},
		{"range", map[string]any{"start": 1, "stop": 10, "step": 3}, inSet(1, 4, 7)},
		{"range", "1:10:3", inSet(1, 4, 7)},
		{"range", []any{0, 1, 0.5}, inSet(0.0, 0.5)},
		{"linspace", []any{0, 1, 5}, inSet(0.0, 0.25, 0.5, 0.75, 1.0)},
		{"linspace", "0:1:5", inSet(0.0, 0.25, 0.5, 0.75, 1.0)},
		{"logspace", []any{0, 2, 3}, inSet(1.0, 10.0, 100.0)},
		{"logspace", map[string]any{"start": 0, "stop": 3, "num": 4, "base": 2}, inSet(1.0, 2.0, 4.0, 8.0)},
		{"logspace", "0:2:3", inSet(1.0, 10.0, 100.0)},
		{"geomspace", []any{1, 1000, 4}, func(v any) bool {
			f, _ := v.(float64)
			return slices.ContainsFunc([]float64{1, 10, 100, 1000}, func(x float64) bool { return math.Abs(f-x) < 1e-9 })
		}},
		{"uniform", []any{-1, 1}, within(-1, 1, 0)},
		{"uniform", map[string]any{"low": 2, "high": 3}, within(2, 3, 0)},
		{"uniform", "0:1", within(0, 1, 0)},
		{"quniform", []any{0, 10, 2}, within(0, 10, 2)},
		{"loguniform", []any{0, 2}, within(1, math.Exp(2), 0)},
		{"qloguniform", []any{0, 3, 1}, within(0, math.Exp(3), 1)},
		{"normal", []any{5, 1}, anyFloat},
		{"qnormal", []any{5, 1, 0.5}, within(-100, 100, 0.5)},
		{"lognormal", []any{0, 1}, within(0, math.Inf(1), 0)},
		{"qlognormal", []any{0, 1, 0.25}, within(0, math.Inf(1), 0.25)},
		{"daterange", []any{"2024-01-01", "2024-01-04", 1}, inSet("2024-01-01", "2024-01-02", "2024-01-03")},
		{"daterange", map[string]any{"start": "2024-01-01", "stop": "2024-01-10", "step": 7}, inSet("2024-01-01", "2024-01-08")},
		{"datetimerange", []any{"2024-01-01T00:00:00Z", "2024-01-01T00:00:03Z", 2}, inSet("2024-01-01T00:00:00Z", "2024-01-01T00:00:02Z")},
	} {
		name := fmt.Sprintf("%s %v", tc.kind, tc.value)
		dims, err := Dims("matrix.params", space("p", tc.kind, tc.value))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		r := newRand(1, 0)
		seen := map[string]bool{}
		for range 500 {
			v := dims[0].Sample(r)
			if !tc.ok(v) {
				t.Errorf("%s: sampled %v (%T)", name, v, v)
				break
			}
			seen[fmt.Sprint(v)] = true
		}
		if len(seen) < 2 {
			t.Errorf("%s: 500 samples gave %d distinct values", name, len(seen))
		}
	}
}

// TestSampleDistributions: draws follow their distribution (mean within a
// few standard errors) and pchoice its weights; a size gives a list.
func TestSampleDistributions(t *testing.T) {
	mean := func(kind string, value any) float64 {
		dims, err := Dims("p", space("x", kind, value))
		if err != nil {
			t.Fatal(err)
		}
		r, sum := newRand(3, 0), 0.0
		for range 20000 {
			sum += dims[0].Sample(r).(float64)
		}
		return sum / 20000
	}
	for _, tc := range []struct {
		kind      string
		value     any
		want, tol float64
	}{
		{"uniform", []any{0, 10}, 5, 0.1},
		{"normal", []any{3, 2}, 3, 0.05},
		{"loguniform", []any{0, 1}, math.E - 1, 0.03},
		{"lognormal", []any{0, 0.5}, math.Exp(0.125), 0.02},
		{"quniform", []any{0, 10, 1}, 4.5, 0.1}, // floor: 0..9, each as likely
	} {
		if got := mean(tc.kind, tc.value); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s %v: mean %.4f, want %.4f ± %v", tc.kind, tc.value, got, tc.want, tc.tol)
		}
	}
	dims, _ := Dims("p", space("x", "pchoice", []any{[]any{"a", 0.1}, []any{"b", 0.9}}))
	r, a := newRand(4, 0), 0
	for range 10000 {
		if dims[0].Sample(r) == "a" {
			a++
		}
	}
	if a < 850 || a > 1150 {
		t.Errorf("pchoice a 0.1: %d of 10000", a)
	}
	dims, _ = Dims("p", space("x", "uniform", map[string]any{"low": 0, "high": 1, "size": 3}))
	if l, ok := dims[0].Sample(r).([]any); !ok || len(l) != 3 {
		t.Errorf("uniform with size 3 sampled %v", l)
	}
}

// TestDimsErrors: a bad value is refused with the param's path.
func TestDimsErrors(t *testing.T) {
	_, err := Dims("matrix.params", space("lr", "linspace", []any{1, 0, 5}))
	if err == nil || !strings.HasPrefix(err.Error(), "matrix.params.lr: ") {
		t.Errorf("linspace 1:0:5: %v", err)
	}
}

func key(p map[string]any) string {
	b, _ := json.Marshal(p)
	return string(b)
}
