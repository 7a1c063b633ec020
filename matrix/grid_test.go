package matrix

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// TestGrid: the product in declaration order, the last param fastest,
// complete and unique, cut to numRuns.
func TestGrid(t *testing.T) {
	m := &specs.GridMatrix{Params: space("lr", "choice", []any{0.1, 0.01}, "opt", "choice", []any{"a", "b", "c"})}
	s, err := New("matrix", m, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, s, 4, func(Trial) (float64, bool) { return 0, true })
	var order []string
	for _, r := range got {
		order = append(order, fmt.Sprintf("%v %v", r.Params["lr"], r.Params["opt"]))
	}
	if want := "0.1 a,0.1 b,0.1 c,0.01 a,0.01 b,0.01 c"; strings.Join(order, ",") != want {
		t.Errorf("grid order %s, want %s", strings.Join(order, ","), want)
	}
	m.NumRuns = specs.Int(4)
	s, _ = New("matrix", m, 0)
	if got := run(t, s, 100, func(Trial) (float64, bool) { return 0, true }); len(got) != 4 || s.Total() != 4 {
		t.Errorf("numRuns 4: %d trials, Total %d", len(got), s.Total())
	}
}

// TestGridProperty: over spaces of several shapes, every point of the
// product is suggested exactly once, whatever the limit.
func TestGridProperty(t *testing.T) {
	for _, shape := range [][]int{{1}, {5}, {2, 3}, {3, 1, 4}, {2, 2, 2, 2, 2}} {
		var sp []any
		size := 1
		for i, n := range shape {
			sp = append(sp, fmt.Sprintf("p%d", i), "range", []any{0, n, 1})
			size *= n
		}
		for _, limit := range []int{1, 3, 1000} {
			s, err := New("m", &specs.GridMatrix{Params: space(sp...)}, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, s, limit, func(Trial) (float64, bool) { return 0, true })
			seen := map[string]bool{}
			for _, r := range got {
				seen[key(r.Params)] = true
			}
			if len(got) != size || len(seen) != size {
				t.Errorf("shape %v limit %d: %d trials, %d distinct, want %d", shape, limit, len(got), len(seen), size)
			}
		}
	}
}

// TestGridRefusesDistributions: as the reference, with the param's path.
func TestGridRefusesDistributions(t *testing.T) {
	for _, kind := range specs.HyperParamKinds {
		if !kind.IsDistribution() {
			continue
		}
		_, err := New("matrix", &specs.GridMatrix{Params: space("lr", string(kind), []any{0, 1, 1})}, 0)
		want := "matrix.params.lr.kind: " + string(kind) + " defines a distribution, and it cannot be used with grid search"
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", kind, err, want)
		}
	}
}

// TestRandom: numRuns distinct suggestions within the space; the same
// seed gives the same ones whatever the limit, another seed others; an
// all-discrete space caps numRuns at its size.
func TestRandom(t *testing.T) {
	sp := space("lr", "uniform", []any{0, 1}, "opt", "choice", []any{"a", "b"}, "n", "range", []any{1, 5, 1})
	trials := func(seed int64, limit int) []Result {
		s, err := New("m", &specs.RandomMatrix{Params: sp, NumRuns: specs.Int(50)}, seed)
		if err != nil {
			t.Fatal(err)
		}
		return run(t, s, limit, func(Trial) (float64, bool) { return 0, true })
	}
	a, b, c := trials(1, 1), trials(1, 7), trials(2, 50)
	if len(a) != 50 {
		t.Fatalf("%d trials, want 50", len(a))
	}
	seen := map[string]bool{}
	for i := range a {
		if key(a[i].Params) != key(b[i].Params) {
			t.Fatalf("trial %d: %v with limit 1, %v with limit 7", i, a[i].Params, b[i].Params)
		}
		seen[key(a[i].Params)] = true
		lr := a[i].Params["lr"].(float64)
		if lr < 0 || lr > 1 || (a[i].Params["opt"] != "a" && a[i].Params["opt"] != "b") {
			t.Errorf("trial %d out of the space: %v", i, a[i].Params)
		}
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct of 50", len(seen))
	}
	if key(a[0].Params) == key(c[0].Params) {
		t.Errorf("seeds 1 and 2 both start with %v", a[0].Params)
	}
	// Seeded in the matrix: the derived seed is not used.
	seed := 9
	x, _ := New("m", &specs.RandomMatrix{Params: sp, NumRuns: specs.Int(3), Seed: &seed}, 1)
	y, _ := New("m", &specs.RandomMatrix{Params: sp, NumRuns: specs.Int(3), Seed: &seed}, 2)
	xt, _, _ := x.Next(nil, 3)
	yt, _, _ := y.Next(nil, 3)
	if fmt.Sprint(xt) != fmt.Sprint(yt) {
		t.Errorf("the matrix's seed: %v and %v", xt, yt)
	}
	for _, tc := range []struct {
		sp      specs.SearchSpace
		numRuns int
		want    int
	}{
		{space("a", "choice", []any{1, 2, 3}, "b", "range", "0:4:1"), 100, 12},
		{space("a", "pchoice", []any{[]any{1, 0.5}, []any{2, 0.5}}), 10, 2},
		{space("a", "choice", []any{1, 2, 3}, "b", "range", "0:4:1"), 12, 12},
	} {
		s, _ := New("m", &specs.RandomMatrix{Params: tc.sp, NumRuns: specs.Int(tc.numRuns)}, 5)
		got := run(t, s, 5, func(Trial) (float64, bool) { return 0, true })
		seen := map[string]bool{}
		for _, r := range got {
			seen[key(r.Params)] = true
		}
		if len(got) != tc.want || len(seen) != tc.want {
			t.Errorf("%v numRuns %d: %d trials (%d distinct), want %d", tc.sp, tc.numRuns, len(got), len(seen), tc.want)
		}
	}
}

// TestRandomLargeSpace: sampling a space of 10^12 points without
// replacement stays cheap.
func TestRandomLargeSpace(t *testing.T) {
	sp := space("a", "range", []any{0, 1000000, 1}, "b", "range", []any{0, 1000000, 1})
	s, err := New("m", &specs.RandomMatrix{Params: sp, NumRuns: specs.Int(math.MaxInt32)}, 5)
	if err != nil {
		t.Fatal(err)
	}
	trials, done, err := s.Next(nil, 10000)
	if err != nil || done || len(trials) != 10000 {
		t.Fatalf("%d trials, done %v, %v", len(trials), done, err)
	}
}

// TestMapping: the values as given, in order.
func TestMapping(t *testing.T) {
	vals := []map[string]any{{"lr": 0.1, "opt": "a"}, {"lr": 0.2, "opt": "b"}, {"lr": 0.3}}
	s, err := New("m", &specs.MappingMatrix{Values: specs.List(vals...)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, s, 2, func(Trial) (float64, bool) { return 0, true })
	if len(got) != 3 || key(got[1].Params) != key(vals[1]) || key(got[2].Params) != key(vals[2]) {
		t.Errorf("mapping gave %v", got)
	}
	_, err = New("m", &specs.MappingMatrix{Values: specs.ListOrRef[map[string]any]{Template: "{{ v }}"}}, 0)
	if err == nil || !strings.HasPrefix(err.Error(), "m.values: ") {
		t.Errorf("an unrendered template: %v", err)
	}
}

// TestEarlyStopping: failure percent (a percentage, the smallest entry)
// and metric thresholds in the metric's direction; a policy is not a
// threshold.
func TestEarlyStopping(t *testing.T) {
	f := func(p float64) *float64 { return &p }
	policies := []specs.EarlyStopping{
		&specs.FailureEarlyStopping{Percent: f(50)}, &specs.FailureEarlyStopping{Percent: f(30)},
		&specs.MetricEarlyStopping{Metric: "acc", Value: f(0.9), Optimization: "maximize"},
		&specs.MetricEarlyStopping{Metric: "loss", Value: f(0.1), Optimization: "Minimize"},
		&specs.MetricEarlyStopping{Metric: "x", Value: f(0), Optimization: "minimize", Policy: &specs.MedianStoppingPolicy{}},
	}
	for _, tc := range []struct {
		failed, all int
		stop        bool
	}{{0, 10, false}, {2, 10, false}, {3, 10, true}, {1, 1, true}} {
		if got := FailureStop(policies, tc.failed, tc.all, "trials"); (got != "") != tc.stop {
			t.Errorf("%d of %d failed: %q", tc.failed, tc.all, got)
		}
	}
	if FailureStop(policies[:1], 1, 1000, "trials") != "" || FailureStop([]specs.EarlyStopping{&specs.FailureEarlyStopping{Percent: f(0.1)}}, 1, 1000, "trials") == "" {
		t.Error("percent is a percentage: 0.1 stops at 1 of 1000")
	}
	for _, tc := range []struct {
		out  map[string]any
		stop bool
	}{
		{map[string]any{"acc": 0.89}, false}, {map[string]any{"acc": 0.9}, true}, {map[string]any{"acc": "0.95"}, true},
		{map[string]any{"loss": 0.2}, false}, {map[string]any{"loss": 0.05}, true}, {map[string]any{"x": -1}, false},
		{map[string]any{"acc": "high"}, false},
	} {
		if got := MetricStop(policies, "trial 3", tc.out); (got != "") != tc.stop {
			t.Errorf("%v: %q", tc.out, got)
		}
	}
}
