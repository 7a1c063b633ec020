package matrix

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func hyperbandOf(t *testing.T, maxIter int, eta float64, opt specs.Optimization) *hyperband {
	t.Helper()
	m := &specs.HyperbandMatrix{
		Kind:          specs.MatrixHyperband,
		Params:        specs.SearchSpace{{Name: "lr", HyperParam: specs.HyperParam{Kind: specs.HPUniform, Value: []any{0.0, 1.0}}}},
		MaxIterations: specs.Int(maxIter),
		Eta:           &eta,
		Resource:      &specs.OptimizationResource{Name: "epochs", Type: "int"},
		Metric:        &specs.OptimizationMetric{Name: "loss", Optimization: opt},
	}
	s, err := New("matrix", m, 7)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*hyperband)
}

// TestHyperbandBrackets: the brackets of eta=3, R=81 are the paper's
// table (Li et al. 2018, table 1): (n_i, r_i) per rung.
func TestHyperbandBrackets(t *testing.T) {
	h := hyperbandOf(t, 81, 3, specs.Minimize)
	want := map[int][][2]int{
		4: {{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}},
		3: {{34, 3}, {11, 9}, {3, 27}, {1, 81}},
		2: {{15, 9}, {5, 27}, {1, 81}},
		1: {{8, 27}, {2, 81}},
		0: {{5, 81}},
	}
	if h.sMax != 4 {
		t.Fatalf("s_max = %d, want 4", h.sMax)
	}
	total := 0
	for s := 4; s >= 0; s-- {
		n := h.Starts(s)
		var got [][2]int
		for k := 0; k <= s; k++ {
			got = append(got, [2]int{h.Keeps(n, k), h.Resource(s, k).(int)})
			total += h.Keeps(n, k)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[s]) {
			t.Errorf("bracket %d: %v, want %v", s, got, want[s])
		}
	}
	if h.Total() != total || total != 121+49+21+10+5 {
		t.Errorf("Total() = %d, want %d", h.Total(), 121+49+21+10+5)
	}
}

// run drives a search to its end, each trial giving f(params) as its
// metric (or failing when f says so), taking at most limit trials per call,
// and returns every result.
func run(t *testing.T, s Search, limit int, f func(Trial) (float64, bool)) []Result {
	t.Helper()
	var results []Result
	for range 100000 {
		trials, done, err := s.Next(results, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range trials {
			if tr.Index != len(results) {
				t.Fatalf("trial %d suggested at %d", tr.Index, len(results))
			}
			results = append(results, Result{Trial: tr})
		}
		if done {
			for i := range results {
				if !results[i].Done {
					m, ok := f(results[i].Trial)
					results[i].Done, results[i].Succeeded, results[i].Metric, results[i].HasMetric = true, ok, m, ok
				}
			}
			return results
		}
		if len(trials) == 0 {
			// It waits: end every trial that runs.
			ended := false
			for i := range results {
				if !results[i].Done {
					m, ok := f(results[i].Trial)
					results[i].Done, results[i].Succeeded, results[i].Metric, results[i].HasMetric = true, ok, m, ok
					ended = true
				}
			}
			if !ended {
				t.Fatalf("the search waits with nothing running after %d trials", len(results))
			}
		}
	}
	t.Fatal("the search never ended")
	return nil
}

// TestHyperbandPromotesTheBest: each rung runs the best of the rung
// before (by the metric, in the metric's direction) with eta times the
// resource, and the search runs the table's number of trials.
func TestHyperbandPromotesTheBest(t *testing.T) {
	for _, opt := range []specs.Optimization{specs.Minimize, "MAXIMIZE"} {
		h := hyperbandOf(t, 27, 3, opt)
		metric := func(tr Trial) (float64, bool) { return tr.Params["lr"].(float64), true }
		results := run(t, h, 1000, metric)
		if len(results) != h.Total() {
			t.Fatalf("%s: %d trials, want %d", opt, len(results), h.Total())
		}
		for _, r := range results {
			if r.From == nil {
				continue
			}
			from := results[*r.From]
			if from.Params["lr"] != r.Params["lr"] || from.Params["epochs"].(int)*3 != r.Params["epochs"].(int) {
				t.Errorf("%s: trial %d (%v) promoted from %d (%v)", opt, r.Index, r.Params, *r.From, from.Params)
			}
			// Every trial of from's rung that was not promoted is worse.
			for _, o := range results {
				if o.Group != from.Group || o.Index == from.Index || promoted(results, o.Index) {
					continue
				}
				if Maximize(opt) && o.Metric > from.Metric || !Maximize(opt) && o.Metric < from.Metric {
					t.Errorf("%s: %d (%v) promoted over %d (%v)", opt, from.Index, from.Metric, o.Index, o.Metric)
				}
			}
		}
	}
}

func promoted(results []Result, i int) bool {
	for _, r := range results {
		if r.From != nil && *r.From == i {
			return true
		}
	}
	return false
}

// TestHyperbandWaitsForTheRung: no trial of rung 1 is suggested while
// one of rung 0 runs, whatever the limit, and the answer is the same
// when asked again.
func TestHyperbandWaitsForTheRung(t *testing.T) {
	h := hyperbandOf(t, 9, 3, specs.Minimize)
	first, done, err := h.Next(nil, 2)
	if err != nil || done || len(first) != 2 {
		t.Fatalf("Next(nil, 2) = %d trials, done %v, %v", len(first), done, err)
	}
	n := h.Starts(h.sMax)
	var results []Result
	for len(results) < n {
		trials, _, err := h.Next(results, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range trials {
			results = append(results, Result{Trial: tr})
		}
	}
	again, _, _ := h.Next(nil, n)
	for i := range again {
		if fmt.Sprint(again[i]) != fmt.Sprint(results[i].Trial) {
			t.Fatalf("trial %d: %v asked again, was %v", i, again[i], results[i].Trial)
		}
	}
	for i := range results[:n-1] {
		results[i].Done, results[i].Succeeded, results[i].HasMetric, results[i].Metric = true, true, true, float64(i)
	}
	if trials, done, _ := h.Next(results, 100); len(trials) != 0 || done {
		t.Fatalf("with one trial of rung 0 running: %d trials, done %v", len(trials), done)
	}
	results[n-1].Done = true // failed
	trials, _, _ := h.Next(results, 100)
	if len(trials) != h.Keeps(n, 1) || *trials[0].From != 0 {
		t.Fatalf("rung 1: %d trials from %v, want %d from 0", len(trials), trials[0].From, h.Keeps(n, 1))
	}
}

// TestHyperbandErrors: what cannot halve is refused with its path.
func TestHyperbandErrors(t *testing.T) {
	one := 1.0
	for name, tc := range map[string]struct {
		m    *specs.HyperbandMatrix
		want string
	}{
		"eta 1": {&specs.HyperbandMatrix{MaxIterations: specs.Int(9), Eta: &one,
			Resource: &specs.OptimizationResource{Name: "e"}, Metric: &specs.OptimizationMetric{Name: "l"}}, "m.eta: successive halving needs eta greater than 1"},
		"no resource": {&specs.HyperbandMatrix{MaxIterations: specs.Int(9),
			Metric: &specs.OptimizationMetric{Name: "l"}}, "m.resource: hyperband needs the resource"},
		"no metric": {&specs.HyperbandMatrix{MaxIterations: specs.Int(9),
			Resource: &specs.OptimizationResource{Name: "e"}}, "m.metric: hyperband needs the metric"},
		"template": {&specs.HyperbandMatrix{MaxIterations: &specs.IntOrRef{Template: "{{ n }}"}}, "m.maxIterations: \"{{ n }}\" was not rendered"},
	} {
		_, err := New("m", tc.m, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
