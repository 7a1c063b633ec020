package matrix

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// hoSpace builds a search space from (name, kind, value) triples.
func hoSpace(params ...any) specs.SearchSpace {
	var s specs.SearchSpace
	for i := 0; i < len(params); i += 3 {
		s = append(s, specs.NamedHyperParam{Name: params[i].(string),
			HyperParam: specs.HyperParam{Kind: specs.HyperParamKind(params[i+1].(string)), Value: params[i+2]}})
	}
	return s
}

func hoMatrix(algorithm string, params specs.SearchSpace, numRuns, maxIterations int) *specs.HyperoptMatrix {
	m := &specs.HyperoptMatrix{
		Kind:      specs.MatrixHyperopt,
		Params:    params,
		NumRuns:   specs.Int(numRuns),
		Algorithm: algorithm,
		Metric:    &specs.OptimizationMetric{Name: "loss", Optimization: specs.Minimize},
	}
	if maxIterations > 0 {
		m.MaxIterations = specs.Int(maxIterations)
	}
	return m
}

func hoNew(t testing.TB, m *specs.HyperoptMatrix, seed int64) Search {
	t.Helper()
	s, err := New("m", m, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hoDrive runs a search to its end, asking for at most limit trials at a
// time from next() (the same search, or one rebuilt for each call), and
// ending every running trial with f whenever the search waits. f gives a
// trial's metric, or false for a failed trial.
func hoDrive(t testing.TB, next func() Search, limit int, f func(map[string]any) (float64, bool)) []Result {
	t.Helper()
	var results []Result
	end := func() bool {
		ended := false
		for i := range results {
			if !results[i].Done {
				m, ok := f(results[i].Params)
				results[i].Done, results[i].Succeeded, results[i].Metric, results[i].HasMetric = true, ok, m, ok
				ended = true
			}
		}
		return ended
	}
	for range 100000 {
		trials, done, err := next().Next(results, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(trials) > limit {
			t.Fatalf("%d trials for a limit of %d", len(trials), limit)
		}
		for _, tr := range trials {
			if tr.Index != len(results) {
				t.Fatalf("trial %d suggested at %d", tr.Index, len(results))
			}
			results = append(results, Result{Trial: tr})
		}
		if done {
			end()
			return results
		}
		if len(trials) == 0 && !end() {
			t.Fatalf("the search waits with nothing running after %d trials", len(results))
		}
	}
	t.Fatal("the search never ended")
	return nil
}

func hoSame(s Search) func() Search { return func() Search { return s } }

// hoSphere is a shifted sphere over params x and y.
func hoSphere(p map[string]any) (float64, bool) {
	x, y := p["x"].(float64), p["y"].(float64)
	return (x-1.5)*(x-1.5) + (y+2)*(y+2), true
}

// braninTPE is the Branin function over x1 in [-5, 10], x2 in [0, 15];
// its minimum is 0.397887.
func braninTPE(x1, x2 float64) float64 {
	const (
		a = 1
		b = 5.1 / (4 * math.Pi * math.Pi)
		c = 5 / math.Pi
		r = 6
		s = 10
		t = 1 / (8 * math.Pi)
	)
	u := x2 - b*x1*x1 + c*x1 - r
	return a*u*u + s*(1-t)*math.Cos(x1) + s
}

const braninTPEMin = 0.397887357729739

func hoMedian(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func hoBest(results []Result) float64 {
	best := math.Inf(1)
	for _, r := range results {
		if r.Succeeded && r.HasMetric {
			best = min(best, r.Metric)
		}
	}
	return best
}

var hoAlgorithms = []string{"tpe", "rand", "anneal"}

// hoMixed is a space of every family: continuous, quantised, log,
// discrete.
func hoMixed() specs.SearchSpace {
	return hoSpace(
		"x", "uniform", []any{-5.0, 5.0},
		"y", "quniform", []any{0.0, 10.0, 0.5},
		"lr", "loguniform", []any{-7.0, 0.0},
		"opt", "choice", []any{"sgd", "adam", "ftrl"},
		"n", "normal", []any{0.0, 1.0},
		"units", "range", []any{16, 128, 16},
	)
}

func hoMixedObjective(p map[string]any) (float64, bool) {
	x, y, lr := p["x"].(float64), p["y"].(float64), p["lr"].(float64)
	v := (x-1)*(x-1) + (y-3)*(y-3)/10 + math.Abs(math.Log(lr)+3)
	if p["opt"] == "adam" {
		v -= 1
	}
	return v, true
}

// TestHyperoptDeterministic: the same seed and results give the same
// trials, whatever the limit and whether the search is rebuilt for every
// call; another seed gives others.
func TestHyperoptDeterministic(t *testing.T) {
	for _, algorithm := range hoAlgorithms {
		t.Run(algorithm, func(t *testing.T) {
			m := hoMatrix(algorithm, hoMixed(), 3, 6)
			params := func(rs []Result) []map[string]any {
				out := make([]map[string]any, len(rs))
				for i, r := range rs {
					out[i] = r.Params
				}
				return out
			}
			want := params(hoDrive(t, hoSame(hoNew(t, m, 7)), 100, hoMixedObjective))
			if len(want) != 18 {
				t.Fatalf("%d trials, want 18", len(want))
			}
			for _, limit := range []int{1, 2, 3, 5} {
				got := params(hoDrive(t, hoSame(hoNew(t, m, 7)), limit, hoMixedObjective))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("limit %d: trials differ:\n got %v\nwant %v", limit, got, want)
				}
				got = params(hoDrive(t, func() Search { return hoNew(t, m, 7) }, limit, hoMixedObjective))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("limit %d, rebuilt for every call: trials differ:\n got %v\nwant %v", limit, got, want)
				}
			}
			other := params(hoDrive(t, hoSame(hoNew(t, m, 8)), 100, hoMixedObjective))
			if reflect.DeepEqual(other, want) {
				t.Errorf("seeds 7 and 8 gave the same trials")
			}
			seeded := *m
			seed := 7
			seeded.Seed = &seed
			got := params(hoDrive(t, hoSame(hoNew(t, &seeded, 99)), 100, hoMixedObjective))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the matrix's seed 7 gave other trials than seed 7 given by the engine")
			}
		})
	}
}

// TestHyperoptModelsTheResults: after the first iterations, tpe and
// anneal suggest from the observations, so that other metrics give other
// trials; rand does not look at them.
func TestHyperoptModelsTheResults(t *testing.T) {
	flipped := func(p map[string]any) (float64, bool) {
		v, _ := hoMixedObjective(p)
		return -v, true
	}
	for _, algorithm := range hoAlgorithms {
		m := hoMatrix(algorithm, hoMixed(), 4, 5)
		a := hoDrive(t, hoSame(hoNew(t, m, 3)), 100, hoMixedObjective)
		b := hoDrive(t, hoSame(hoNew(t, m, 3)), 100, flipped)
		first := !reflect.DeepEqual(a[0].Params, b[0].Params)
		last := !reflect.DeepEqual(a[len(a)-1].Params, b[len(b)-1].Params)
		if first {
			t.Errorf("%s: the first trial depends on the metrics", algorithm)
		}
		if want := algorithm != "rand"; last != want {
			t.Errorf("%s: the last trial depends on the metrics: %v, want %v", algorithm, last, want)
		}
		// Maximising -f is minimising f.
		mx := hoMatrix(algorithm, hoMixed(), 4, 5)
		mx.Metric.Optimization = "MAXIMIZE"
		c := hoDrive(t, hoSame(hoNew(t, mx, 3)), 100, flipped)
		for i := range a {
			if !reflect.DeepEqual(a[i].Params, c[i].Params) {
				t.Fatalf("%s: maximising -f differs from minimising f at trial %d", algorithm, i)
			}
		}
	}
}

// TestHyperoptWaits: an iteration starts once every trial of the
// iterations before it is done, and a limit smaller than an iteration
// gives its trials a few at a time.
func TestHyperoptWaits(t *testing.T) {
	for _, algorithm := range hoAlgorithms {
		s := hoNew(t, hoMatrix(algorithm, hoMixed(), 3, 2), 1)
		if s.Total() != 6 {
			t.Fatalf("Total() = %d, want 6", s.Total())
		}
		trials, done, err := s.Next(nil, 2)
		if err != nil || done || len(trials) != 2 {
			t.Fatalf("%s: first call: %d trials, done %v, %v", algorithm, len(trials), done, err)
		}
		var results []Result
		for _, tr := range trials {
			results = append(results, Result{Trial: tr})
		}
		trials, done, err = s.Next(results, 5)
		if err != nil || done || len(trials) != 1 || trials[0].Index != 2 || trials[0].Group != "iteration 0" {
			t.Fatalf("%s: second call: %+v, done %v, %v", algorithm, trials, done, err)
		}
		results = append(results, Result{Trial: trials[0]})
		for i := range results {
			trials, done, err = s.Next(results, 5)
			if err != nil || done || len(trials) != 0 {
				t.Fatalf("%s: with %d of 3 trials done: %d trials, done %v, %v", algorithm, i, len(trials), done, err)
			}
			m, _ := hoMixedObjective(results[i].Params)
			// A failed trial is done too.
			results[i].Done, results[i].Succeeded, results[i].Metric, results[i].HasMetric = true, i != 1, m, i != 1
		}
		trials, done, err = s.Next(results, 5)
		if err != nil || !done || len(trials) != 3 {
			t.Fatalf("%s: after iteration 0: %d trials, done %v, %v", algorithm, len(trials), done, err)
		}
		for j, tr := range trials {
			if tr.Index != 3+j || tr.Group != "iteration 1" {
				t.Errorf("%s: trial %d of iteration 1 is %d in %q", algorithm, j, tr.Index, tr.Group)
			}
			results = append(results, Result{Trial: tr})
		}
		if trials, done, err = s.Next(results, 5); err != nil || !done || len(trials) != 0 {
			t.Fatalf("%s: at the end: %d trials, done %v, %v", algorithm, len(trials), done, err)
		}
	}
}

// TestHyperoptWithinSpace: every kind gives values of its space, in its
// natural type, for every algorithm.
func TestHyperoptWithinSpace(t *testing.T) {
	dates := []any{"2024-01-01", "2024-01-03", "2024-01-05"}
	params := hoSpace(
		"u", "uniform", []any{-2.0, 3.0},
		"qu", "quniform", []any{0.0, 10.0, 0.5},
		"lu", "loguniform", []any{-4.0, 1.0},
		"qlu", "qloguniform", []any{0.0, 5.0, 2.0},
		"no", "normal", []any{1.0, 2.0},
		"qno", "qnormal", []any{0.0, 3.0, 0.25},
		"lno", "lognormal", []any{0.0, 1.0},
		"qlno", "qlognormal", []any{1.0, 1.0, 0.5},
		"vec", "uniform", map[string]any{"low": 0.0, "high": 1.0, "size": 3},
		"ch", "choice", []any{"a", 2, 3.5},
		"pch", "pchoice", []any{[]any{"x", 0.2}, []any{"y", 0.8}},
		"rg", "range", []any{0, 10, 3},
		"lin", "linspace", []any{0.0, 1.0, 5},
		"logs", "logspace", []any{0.0, 2.0, 3},
		"geo", "geomspace", []any{1.0, 8.0, 4},
		"day", "daterange", []any{"2024-01-01", "2024-01-06", 2},
	)
	dims, err := Dims("m.params", params)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]any{}
	for _, d := range dims {
		values[d.Name] = d.Values
	}
	if !reflect.DeepEqual(values["day"], dates) {
		t.Fatalf("daterange values %v", values["day"])
	}
	multiple := func(x, q float64) bool { return math.Abs(x/q-math.Round(x/q)) < 1e-9 }
	in := func(x, lo, hi float64) bool { return x >= lo && x <= hi }
	num := func(p map[string]any, name string) float64 {
		f, ok := p[name].(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("%s = %#v, want a finite float64", name, p[name])
		}
		return f
	}
	objective := func(p map[string]any) (float64, bool) {
		return math.Abs(num(p, "u")-1) + num(p, "qu")/10 + math.Abs(num(p, "no")), true
	}
	for _, algorithm := range hoAlgorithms {
		rs := hoDrive(t, hoSame(hoNew(t, hoMatrix(algorithm, params, 4, 6), 5)), 100, objective)
		if len(rs) != 24 {
			t.Fatalf("%s: %d trials, want 24", algorithm, len(rs))
		}
		for _, r := range rs {
			p := r.Params
			bad := func(name string) {
				t.Errorf("%s: trial %d: %s = %#v out of its space", algorithm, r.Index, name, p[name])
			}
			if !in(num(p, "u"), -2, 3) {
				bad("u")
			}
			if x := num(p, "qu"); !in(x, 0, 10) || !multiple(x, 0.5) {
				bad("qu")
			}
			if !in(num(p, "lu"), math.Exp(-4), math.Exp(1)) {
				bad("lu")
			}
			if x := num(p, "qlu"); !in(x, 0, math.Exp(5)) || !multiple(x, 2) {
				bad("qlu")
			}
			num(p, "no")
			if !multiple(num(p, "qno"), 0.25) {
				bad("qno")
			}
			if num(p, "lno") <= 0 {
				bad("lno")
			}
			if x := num(p, "qlno"); x < 0 || !multiple(x, 0.5) {
				bad("qlno")
			}
			if l, ok := p["vec"].([]any); !ok || len(l) != 3 {
				bad("vec")
			} else {
				for _, e := range l {
					if f, ok := e.(float64); !ok || !in(f, 0, 1) {
						bad("vec")
					}
				}
			}
			for _, name := range []string{"ch", "pch", "rg", "lin", "logs", "geo", "day"} {
				if !slices.ContainsFunc(values[name], func(v any) bool { return reflect.DeepEqual(v, p[name]) }) {
					bad(name)
				}
			}
		}
	}
}

// TestHyperoptDistinct: the points of an iteration are distinct draws, also
// in a space with few points, and a space smaller than an iteration still
// gives its trials.
func TestHyperoptDistinct(t *testing.T) {
	key := func(p map[string]any) string {
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	objective := func(p map[string]any) (float64, bool) {
		b, _ := json.Marshal(p)
		return float64(len(b) % 7), true
	}
	small := hoSpace(
		"q", "quniform", []any{0.0, 3.0, 1.0},
		"c", "choice", []any{"a", "b"},
	)
	for _, algorithm := range hoAlgorithms {
		for _, tc := range []struct {
			params        specs.SearchSpace
			numRuns, iter int
			distinct      int // trials distinct per iteration
		}{
			{hoMixed(), 8, 4, 8},
			{small, 6, 3, 6},
			{hoSpace("c", "choice", []any{1, 2}), 3, 2, 2},
		} {
			rs := hoDrive(t, hoSame(hoNew(t, hoMatrix(algorithm, tc.params, tc.numRuns, tc.iter), 11)), 100, objective)
			if len(rs) != tc.numRuns*tc.iter {
				t.Fatalf("%s: %d trials, want %d", algorithm, len(rs), tc.numRuns*tc.iter)
			}
			for k := range tc.iter {
				seen := map[string]bool{}
				for _, r := range rs[k*tc.numRuns : (k+1)*tc.numRuns] {
					seen[key(r.Params)] = true
				}
				if len(seen) != tc.distinct {
					t.Errorf("%s: %d runs of %v: iteration %d has %d distinct points, want %d",
						algorithm, tc.numRuns, tc.params, k, len(seen), tc.distinct)
				}
			}
		}
	}
}

// TestHyperoptTotal: numRuns trials per iteration, maxIterations of them
// (1 when it is not set).
func TestHyperoptTotal(t *testing.T) {
	for _, tc := range []struct{ numRuns, iter, want int }{{3, 0, 3}, {1, 50, 50}, {5, 10, 50}, {4, 1, 4}} {
		s := hoNew(t, hoMatrix("", hoMixed(), tc.numRuns, tc.iter), 1)
		if s.Total() != tc.want {
			t.Errorf("numRuns %d, maxIterations %d: Total() = %d, want %d", tc.numRuns, tc.iter, s.Total(), tc.want)
		}
		rs := hoDrive(t, hoSame(s), 4, hoMixedObjective)
		if len(rs) != tc.want {
			t.Errorf("numRuns %d, maxIterations %d: %d trials, want %d", tc.numRuns, tc.iter, len(rs), tc.want)
		}
		for _, r := range rs {
			if want := fmt.Sprintf("iteration %d", r.Index/tc.numRuns); r.Group != want {
				t.Errorf("trial %d is in %q, want %q", r.Index, r.Group, want)
			}
		}
	}
}

// TestHyperoptResultsReadBack: results whose params went through JSON (as
// they do through etcd), and failed or metric-less trials, are read as
// they should be.
func TestHyperoptResultsReadBack(t *testing.T) {
	params := append(hoMixed(), hoSpace("mix", "choice", []any{5, "3", true, []any{1, 2}, 1, 0.5})...)
	for _, algorithm := range []string{"tpe", "anneal"} {
		m := hoMatrix(algorithm, params, 6, 3)
		s := hoNew(t, m, 2)
		rs := hoDrive(t, hoSame(s), 100, func(p map[string]any) (float64, bool) {
			v, _ := hoMixedObjective(p)
			return v, p["opt"] != "ftrl"
		})
		prev := rs[:12]
		want, _, err := hoNew(t, m, 2).Next(prev, 100)
		if err != nil {
			t.Fatal(err)
		}
		decoded := make([]Result, len(prev))
		for i, r := range prev {
			b, err := json.Marshal(r.Params)
			if err != nil {
				t.Fatal(err)
			}
			var p map[string]any
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			decoded[i] = r
			decoded[i].Params = p
		}
		got, _, err := hoNew(t, m, 2).Next(decoded, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: params read back from JSON give other trials:\n got %v\nwant %v", algorithm, got, want)
		}
		// Every trial failing leaves nothing to model: the search goes on.
		failing := hoDrive(t, hoSame(hoNew(t, m, 2)), 100, func(map[string]any) (float64, bool) { return 0, false })
		if len(failing) != 18 {
			t.Errorf("%s: %d trials when every trial fails, want 18", algorithm, len(failing))
		}
	}
	if _, _, err := hoNew(t, hoMatrix("tpe", hoMixed(), 2, 2), 1).Next([]Result{{Trial: Trial{Index: 1}}}, 1); err == nil {
		t.Errorf("results out of order were accepted")
	}
}

// TestHyperoptErrors: a bad matrix is refused, naming the path.
func TestHyperoptErrors(t *testing.T) {
	ok := func() *specs.HyperoptMatrix { return hoMatrix("tpe", hoMixed(), 2, 2) }
	for _, tc := range []struct {
		name string
		edit func(m *specs.HyperoptMatrix)
		path string
	}{
		{"algorithm", func(m *specs.HyperoptMatrix) { m.Algorithm = "bayes" }, "m.algorithm"},
		{"no numRuns", func(m *specs.HyperoptMatrix) { m.NumRuns = nil }, "m.numRuns"},
		{"numRuns 0", func(m *specs.HyperoptMatrix) { m.NumRuns = specs.Int(0) }, "m.numRuns"},
		{"numRuns template", func(m *specs.HyperoptMatrix) { m.NumRuns = specs.Ref("{{ n }}") }, "m.numRuns"},
		{"maxIterations 0", func(m *specs.HyperoptMatrix) { m.MaxIterations = specs.Int(0) }, "m.maxIterations"},
		{"too many", func(m *specs.HyperoptMatrix) {
			m.NumRuns, m.MaxIterations = specs.Int(1<<20), specs.Int(1<<20)
		}, "m.maxIterations"},
		{"no metric", func(m *specs.HyperoptMatrix) { m.Metric = nil }, "m.metric"},
		{"no metric name", func(m *specs.HyperoptMatrix) { m.Metric.Name = "" }, "m.metric.name"},
		{"optimization", func(m *specs.HyperoptMatrix) { m.Metric.Optimization = "lower" }, "m.metric.optimization"},
		{"no params", func(m *specs.HyperoptMatrix) { m.Params = nil }, "m.params"},
		{"bad param", func(m *specs.HyperoptMatrix) {
			m.Params = hoSpace("lr", "uniform", []any{1.0, 0.5})
		}, "m.params.lr"},
	} {
		m := ok()
		tc.edit(m)
		_, err := New("m", m, 1)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.path+":") {
			t.Errorf("%s: %v, want an error at %s", tc.name, err, tc.path)
		}
	}
	for _, a := range []string{"", "tpe", "rand", "anneal"} {
		m := ok()
		m.Algorithm = a
		m.Metric.Optimization = "Maximize"
		if _, err := New("m", m, 1); err != nil {
			t.Errorf("algorithm %q: %v", a, err)
		}
	}
}

// TestHyperoptTPEBeatsRand: with the same budget, tpe finds a better
// point of a shifted sphere than rand, over a few seeds, sequentially and
// in batches.
func TestHyperoptTPEBeatsRand(t *testing.T) {
	params := hoSpace("x", "uniform", []any{-5.0, 5.0}, "y", "uniform", []any{-5.0, 5.0})
	for _, shape := range []struct{ numRuns, iter int }{{1, 40}, {4, 10}} {
		medians := map[string]float64{}
		for _, algorithm := range hoAlgorithms {
			var bests []float64
			for seed := range int64(9) {
				m := hoMatrix(algorithm, params, shape.numRuns, shape.iter)
				bests = append(bests, hoBest(hoDrive(t, hoSame(hoNew(t, m, seed)), 100, hoSphere)))
			}
			medians[algorithm] = hoMedian(bests)
		}
		t.Logf("%d x %d: median best %v", shape.numRuns, shape.iter, medians)
		if !(medians["tpe"] < medians["rand"]) {
			t.Errorf("%d x %d: tpe's median best %g is not below rand's %g", shape.numRuns, shape.iter, medians["tpe"], medians["rand"])
		}
		if !(medians["anneal"] < medians["rand"]) {
			t.Errorf("%d x %d: anneal's median best %g is not below rand's %g", shape.numRuns, shape.iter, medians["anneal"], medians["rand"])
		}
	}
}

// TestHyperoptBranin: on Branin, with 50 evaluations one at a time, tpe's
// median regret over 20 seeds is at most 0.1 and below rand's.
func TestHyperoptBranin(t *testing.T) {
	params := hoSpace("x1", "uniform", []any{-5.0, 10.0}, "x2", "uniform", []any{0.0, 15.0})
	f := func(p map[string]any) (float64, bool) {
		return braninTPE(p["x1"].(float64), p["x2"].(float64)), true
	}
	regret := func(algorithm string, numRuns, iter int) float64 {
		var rs []float64
		for seed := range int64(20) {
			m := hoMatrix(algorithm, params, numRuns, iter)
			rs = append(rs, hoBest(hoDrive(t, hoSame(hoNew(t, m, seed)), 100, f))-braninTPEMin)
		}
		return hoMedian(rs)
	}
	medians := map[string]float64{}
	for _, algorithm := range hoAlgorithms {
		medians[algorithm] = regret(algorithm, 1, 50)
	}
	batch := regret("tpe", 5, 10)
	t.Logf("median regret after 50 evaluations over 20 seeds: tpe %.4f, rand %.4f, anneal %.4f; tpe 5 x 10: %.4f",
		medians["tpe"], medians["rand"], medians["anneal"], batch)
	if medians["tpe"] > 0.1 || medians["tpe"] >= medians["rand"] {
		t.Errorf("tpe's median regret %g, want at most 0.1 and below rand's %g", medians["tpe"], medians["rand"])
	}
	if batch >= medians["rand"] {
		t.Errorf("tpe in batches of 5: median regret %g, want below rand's %g", batch, medians["rand"])
	}
}

// TestHyperoptLargeDiscrete: a discrete param of 262144 values is
// searched without listing its probabilities for every draw.
func TestHyperoptLargeDiscrete(t *testing.T) {
	params := hoSpace("k", "range", []any{0, 1 << 18, 1}, "c", "choice", []any{"a", "b"})
	for _, algorithm := range hoAlgorithms {
		rs := hoDrive(t, hoSame(hoNew(t, hoMatrix(algorithm, params, 5, 4), 1)), 100, func(p map[string]any) (float64, bool) {
			return math.Abs(float64(p["k"].(int)) - 1000), true
		})
		seen := map[string]bool{}
		for _, r := range rs {
			seen[fmt.Sprint(r.Params)] = true
		}
		if len(rs) != 20 || len(seen) != 20 {
			t.Errorf("%s: %d trials, %d distinct, want 20", algorithm, len(rs), len(seen))
		}
	}
}
