package matrix

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func uniformParam(name string, low, high float64) specs.NamedHyperParam {
	return specs.NamedHyperParam{Name: name, HyperParam: specs.HyperParam{Kind: specs.HPUniform, Value: []any{low, high}}}
}

func braninSpace() specs.SearchSpace {
	return specs.SearchSpace{uniformParam("x1", -5, 10), uniformParam("x2", 0, 15)}
}

func bayesMatrix(space specs.SearchSpace, initial, iterations int) *specs.BayesMatrix {
	return &specs.BayesMatrix{
		Kind:           specs.MatrixBayes,
		Params:         space,
		NumInitialRuns: specs.Int(initial),
		MaxIterations:  specs.Int(iterations),
		Metric:         &specs.OptimizationMetric{Name: "loss", Optimization: specs.Minimize},
	}
}

// minimise drives s to its end, evaluating f on the params named names,
// and returns the best value and the number of evaluations.
func minimise(t testing.TB, s Search, f func([]float64) float64, names ...string) (float64, int) {
	t.Helper()
	var results []Result
	best := math.Inf(1)
	for {
		trials, done, err := s.Next(results, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range trials {
			x := make([]float64, len(names))
			for k, n := range names {
				x[k] = tr.Params[n].(float64)
			}
			v := f(x)
			best = math.Min(best, v)
			results = append(results, Result{Trial: tr, Done: true, Succeeded: true, Metric: v, HasMetric: true})
		}
		if done {
			return best, len(results)
		}
		if len(trials) == 0 {
			t.Fatalf("the search waits with every trial done, after %d", len(results))
		}
	}
}

// observed is a bayes search of numInitialRuns n over space, with its n
// initial trials done and evaluated by f: its next answer is one
// iteration with n observations.
func observed(t testing.TB, space specs.SearchSpace, n int, f func([]float64) float64) (Search, []Result) {
	t.Helper()
	s, err := newBayes("m", bayesMatrix(space, n, 1), 7)
	if err != nil {
		t.Fatal(err)
	}
	trials, _, err := s.Next(nil, n)
	if err != nil || len(trials) != n {
		t.Fatalf("%d initial trials, %v", len(trials), err)
	}
	results := make([]Result, n)
	for i, tr := range trials {
		x := make([]float64, len(space))
		for k, p := range space {
			x[k] = tr.Params[p.Name].(float64)
		}
		results[i] = Result{Trial: tr, Done: true, Succeeded: true, Metric: f(x), HasMetric: true}
	}
	return s, results
}

func BenchmarkBayesSuggest1000(b *testing.B) {
	s, results := observed(b, braninSpace(), 1000, branin)
	b.ResetTimer()
	for b.Loop() {
		if trials, _, err := s.Next(results, 1); err != nil || len(trials) != 1 {
			b.Fatal(len(trials), err)
		}
	}
}

func BenchmarkBayesSuggest1000Hartmann6(b *testing.B) {
	s, results := observed(b, hartmannSpace(), 1000, hartmann6)
	b.ResetTimer()
	for b.Loop() {
		if trials, _, err := s.Next(results, 1); err != nil || len(trials) != 1 {
			b.Fatal(len(trials), err)
		}
	}
}

func hartmannSpace() specs.SearchSpace {
	var space specs.SearchSpace
	for _, n := range []string{"x1", "x2", "x3", "x4", "x5", "x6"} {
		space = append(space, uniformParam(n, 0, 1))
	}
	return space
}

// drive runs s to its end with limit, evaluating each trial with f (nil:
// every trial fails), and returns the results.
func drive(t *testing.T, s Search, limit int, f func(map[string]any) float64) []Result {
	t.Helper()
	var results []Result
	for range 1000 {
		trials, done, err := s.Next(results, limit)
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range trials {
			if tr.Index != len(results) {
				t.Fatalf("trial %d of the answer has index %d, want %d", i, tr.Index, len(results))
			}
			res := Result{Trial: tr, Done: true}
			if f != nil {
				res.Succeeded, res.HasMetric, res.Metric = true, true, f(tr.Params)
			}
			results = append(results, res)
		}
		if done {
			return results
		}
		if len(trials) == 0 {
			t.Fatalf("the search waits with every trial done, after %d", len(results))
		}
	}
	t.Fatal("the search does not end")
	return nil
}

func braninParams(p map[string]any) float64 {
	return branin([]float64{p["x1"].(float64), p["x2"].(float64)})
}

func trialsOf(results []Result) []Trial {
	out := make([]Trial, len(results))
	for i := range results {
		out[i] = results[i].Trial
	}
	return out
}

func TestBayesDeterministic(t *testing.T) {
	m := bayesMatrix(braninSpace(), 4, 4)
	s1, err := New("m", m, 11)
	if err != nil {
		t.Fatal(err)
	}
	results := drive(t, s1, 1, braninParams)
	if len(results) != 8 || s1.Total() != 8 {
		t.Fatalf("%d trials, Total %d, want 8", len(results), s1.Total())
	}
	// Rebuilt, asked with any limit, or asked again: the same trials.
	for _, limit := range []int{1, 3, 100} {
		s2, err := New("m", m, 11)
		if err != nil {
			t.Fatal(err)
		}
		got := drive(t, s2, limit, braninParams)
		if !reflect.DeepEqual(trialsOf(got), trialsOf(results)) {
			t.Errorf("limit %d: trials differ:\n%v\nwant\n%v", limit, trialsOf(got), trialsOf(results))
		}
	}
	for i := range results {
		a, _, err1 := s1.Next(results[:i], 2)
		b, _, err2 := s1.Next(results[:i], 2)
		if err1 != nil || err2 != nil || len(a) == 0 || !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a[0], results[i].Trial) {
			t.Errorf("asked again after %d: %v, then %v, want %v first", i, a, b, results[i].Trial)
		}
	}
	// Asked at once from several goroutines (a fresh search, its initial
	// trials drawn on demand): the same answers.
	s5, _ := New("m", m, 11)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			got, _, err := s5.Next(results[:i], 3)
			if err != nil || len(got) == 0 || !reflect.DeepEqual(got[0], results[i].Trial) {
				t.Errorf("concurrently, after %d: %v, %v; want %v first", i, got, err, results[i].Trial)
			}
		})
	}
	wg.Wait()
	// Another seed, other trials.
	s3, _ := New("m", m, 12)
	if other := drive(t, s3, 1, braninParams); reflect.DeepEqual(other[0].Params, results[0].Params) ||
		reflect.DeepEqual(other[len(other)-1].Params, results[len(results)-1].Params) {
		t.Errorf("seeds 11 and 12 give the same trials")
	}
	// The matrix's own seed wins over the derived one.
	m.Seed = new(int)
	*m.Seed = 11
	s4, _ := New("m", m, 99)
	if got := drive(t, s4, 1, braninParams); !reflect.DeepEqual(trialsOf(got), trialsOf(results)) {
		t.Errorf("seed 11 declared: other trials than seed 11 derived")
	}
}

func TestBayesGroupsAndWaits(t *testing.T) {
	s, err := newBayes("m", bayesMatrix(braninSpace(), 3, 2), 5)
	if err != nil {
		t.Fatal(err)
	}
	trials, done, err := s.Next(nil, 10)
	if err != nil || done || len(trials) != 3 {
		t.Fatalf("first answer: %d trials, done %v, %v; want the 3 initial ones", len(trials), done, err)
	}
	var results []Result
	for i, tr := range trials {
		if tr.Index != i || tr.Group != "initial" {
			t.Errorf("initial trial %d: index %d, group %q", i, tr.Index, tr.Group)
		}
		for _, name := range []string{"x1", "x2"} {
			if _, ok := tr.Params[name].(float64); !ok {
				t.Errorf("trial %d: %s = %#v, want a float64", i, name, tr.Params[name])
			}
		}
		results = append(results, Result{Trial: tr, Done: true, Succeeded: true, Metric: braninParams(tr.Params), HasMetric: true})
	}
	// Every initial trial suggested: the iterations wait for each to end.
	for i := range results {
		waiting := slices.Clone(results)
		waiting[i].Done, waiting[i].Succeeded, waiting[i].HasMetric = false, false, false
		if got, done, err := s.Next(waiting, 10); err != nil || done || len(got) != 0 {
			t.Errorf("trial %d running: %d trials, done %v, %v; want to wait", i, len(got), done, err)
		}
	}
	got, done, err := s.Next(results, 10)
	if err != nil || done || len(got) != 1 || got[0].Index != 3 || got[0].Group != "iteration 1" {
		t.Fatalf("all done: %+v, done %v, %v; want trial 3 alone, group \"iteration 1\"", got, done, err)
	}
	results = append(results, Result{Trial: got[0], Done: true, Succeeded: true, Metric: braninParams(got[0].Params), HasMetric: true})
	got, done, err = s.Next(results, 10)
	if err != nil || !done || len(got) != 1 || got[0].Group != "iteration 2" {
		t.Fatalf("last: %+v, done %v, %v; want trial 4, done", got, done, err)
	}
	results = append(results, Result{Trial: got[0], Done: true})
	if got, done, err := s.Next(results, 10); err != nil || !done || len(got) != 0 {
		t.Errorf("after the end: %d trials, done %v, %v", len(got), done, err)
	}
	results[1].Index = 7
	if _, _, err := s.Next(results[:4], 1); err == nil {
		t.Errorf("results out of order: no error")
	}
}

func TestBayesTotal(t *testing.T) {
	m := bayesMatrix(braninSpace(), 6, 9)
	s, err := newBayes("m", m, 1)
	if err != nil || s.Total() != 15 {
		t.Fatalf("Total %v, %v; want 15", s, err)
	}
	m.MaxIterations = nil
	if s, err = newBayes("m", m, 1); err != nil || s.Total() != 7 {
		t.Fatalf("no maxIterations: Total %v, %v; want 7", s, err)
	}
	if got := drive(t, s, 4, braninParams); len(got) != 7 {
		t.Errorf("%d trials, want 7", len(got))
	}
}

func TestBayesDiscrete(t *testing.T) {
	space := specs.SearchSpace{
		{Name: "opt", HyperParam: specs.HyperParam{Kind: specs.HPChoice, Value: []any{"adam", "sgd", "rmsprop"}}},
		{Name: "layers", HyperParam: specs.HyperParam{Kind: specs.HPRange, Value: []any{1, 9, 2}}},
		{Name: "lr", HyperParam: specs.HyperParam{Kind: specs.HPLogspace, Value: []any{-4, -1, 4}}},
		uniformParam("dropout", 0.1, 0.5),
	}
	dims, err := Dims("m.params", space)
	if err != nil {
		t.Fatal(err)
	}
	// The best is sgd, 5 layers, lr 1e-2, dropout 0.3.
	f := func(p map[string]any) float64 {
		v := math.Abs(math.Log10(p["lr"].(float64))+2) + math.Abs(float64(p["layers"].(int)-5)) + 4*math.Abs(p["dropout"].(float64)-0.3)
		if p["opt"] != "sgd" {
			v++
		}
		return v
	}
	m := bayesMatrix(space, 5, 20)
	m.UtilityFunction = &specs.UtilityFunction{AcquisitionFunction: "EI", Eps: new(float64)}
	s, err := newBayes("m", m, 3)
	if err != nil {
		t.Fatal(err)
	}
	results := drive(t, s, 1, f)
	best := math.Inf(1)
	for _, res := range results {
		for k := range 3 {
			v := res.Params[dims[k].Name]
			if !slices.ContainsFunc(dims[k].Values, func(w any) bool { return reflect.DeepEqual(v, w) }) {
				t.Errorf("trial %d: %s = %#v (%T), not one of %v", res.Index, dims[k].Name, v, v, dims[k].Values)
			}
		}
		if d := res.Params["dropout"].(float64); d < 0.1 || d > 0.5 {
			t.Errorf("trial %d: dropout %v out of [0.1, 0.5]", res.Index, d)
		}
		best = math.Min(best, res.Metric)
	}
	if best > 0.5 {
		t.Errorf("best %v after 25 trials, want at most 0.5", best)
	}
}

func TestBayesDiscreteSpaceEnds(t *testing.T) {
	space := specs.SearchSpace{
		{Name: "a", HyperParam: specs.HyperParam{Kind: specs.HPChoice, Value: []any{1, 2, 3}}},
		{Name: "b", HyperParam: specs.HyperParam{Kind: specs.HPLinspace, Value: []any{0, 1, 2}}},
	}
	s, err := newBayes("m", bayesMatrix(space, 2, 10), 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Total() != 6 {
		t.Errorf("Total %d, want the 6 points of the space", s.Total())
	}
	results := drive(t, s, 1, func(p map[string]any) float64 { return float64(p["a"].(int)) * p["b"].(float64) })
	seen := map[string]bool{}
	for _, res := range results {
		k := fmt.Sprint(res.Params["a"], res.Params["b"])
		if seen[k] {
			t.Errorf("trial %d repeats %s", res.Index, k)
		}
		seen[k] = true
	}
	if len(seen) != 6 {
		t.Errorf("%d distinct points, want 6", len(seen))
	}
}

// A discrete space too large to enumerate: values of the space, never
// twice, and the search still improves.
func TestBayesLargeDiscrete(t *testing.T) {
	space := specs.SearchSpace{
		{Name: "a", HyperParam: specs.HyperParam{Kind: specs.HPRange, Value: []any{0, 300, 1}}},
		{Name: "b", HyperParam: specs.HyperParam{Kind: specs.HPRange, Value: []any{0, 300, 1}}},
	}
	s, err := newBayes("m", bayesMatrix(space, 5, 15), 6)
	if err != nil {
		t.Fatal(err)
	}
	f := func(p map[string]any) float64 {
		a, b := float64(p["a"].(int)), float64(p["b"].(int))
		return (a-100)*(a-100) + (b-200)*(b-200)
	}
	results := drive(t, s, 1, f)
	seen := map[[2]int]bool{}
	initial, best := math.Inf(1), math.Inf(1)
	for _, res := range results {
		k := [2]int{res.Params["a"].(int), res.Params["b"].(int)}
		if seen[k] || k[0] < 0 || k[0] >= 300 || k[1] < 0 || k[1] >= 300 {
			t.Errorf("trial %d: %v repeated or out of the space", res.Index, k)
		}
		seen[k] = true
		if res.Index < 5 {
			initial = math.Min(initial, res.Metric)
		}
		best = math.Min(best, res.Metric)
	}
	if !(best < initial/4) {
		t.Errorf("best %v after 15 iterations, %v after the initial runs", best, initial)
	}
}

// The results the engine reads back from its store went through JSON: an
// int param is a float64 then. The answer is the same.
func TestBayesParamsThroughJSON(t *testing.T) {
	space := specs.SearchSpace{
		{Name: "n", HyperParam: specs.HyperParam{Kind: specs.HPRange, Value: []any{0, 20, 1}}},
		uniformParam("x", -1, 1),
	}
	s, err := newBayes("m", bayesMatrix(space, 4, 3), 2)
	if err != nil {
		t.Fatal(err)
	}
	results := drive(t, s, 1, func(p map[string]any) float64 {
		return math.Pow(float64(p["n"].(int))-13, 2) + p["x"].(float64)
	})
	data, err := json.Marshal(results[:6])
	if err != nil {
		t.Fatal(err)
	}
	var decoded []Result
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	if _, ok := decoded[0].Params["n"].(float64); !ok {
		t.Fatalf("decoded n is %T", decoded[0].Params["n"])
	}
	got, _, err := s.Next(decoded, 1)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], results[6].Trial) {
		t.Errorf("after JSON: %+v, %v; want %+v", got, err, results[6].Trial)
	}
}

func TestBayesFailures(t *testing.T) {
	// Every trial fails: no observation, random points in the box.
	s, err := newBayes("m", bayesMatrix(braninSpace(), 3, 3), 4)
	if err != nil {
		t.Fatal(err)
	}
	results := drive(t, s, 1, nil)
	if len(results) != 6 {
		t.Fatalf("%d trials, want 6", len(results))
	}
	for _, res := range results {
		x1, x2 := res.Params["x1"].(float64), res.Params["x2"].(float64)
		if x1 < -5 || x1 > 10 || x2 < 0 || x2 > 15 {
			t.Errorf("trial %d: (%v, %v) out of the box", res.Index, x1, x2)
		}
	}
	if reflect.DeepEqual(results[4].Params, results[5].Params) {
		t.Errorf("iterations 2 and 3 without observations suggest the same point")
	}
	// A failed trial is not an observation: failing with any metric is
	// the same as failing without one.
	ok := drive(t, s, 1, braninParams)[:4]
	a, b := slices.Clone(ok), slices.Clone(ok)
	a[1].Succeeded, a[1].HasMetric = false, false
	b[1].Succeeded, b[1].Metric = false, -1000
	ta, _, _ := s.Next(a, 1)
	tb, _, _ := s.Next(b, 1)
	tok, _, _ := s.Next(ok, 1)
	if !reflect.DeepEqual(ta, tb) {
		t.Errorf("the metric of a failed trial changes the suggestion")
	}
	if reflect.DeepEqual(ta, tok) {
		t.Errorf("a failed trial changes nothing: %v", ta)
	}
}

// Maximising -f is minimising f.
func TestBayesMaximize(t *testing.T) {
	mmin := bayesMatrix(braninSpace(), 5, 3)
	mmax := bayesMatrix(braninSpace(), 5, 3)
	mmax.Metric = &specs.OptimizationMetric{Name: "score", Optimization: "MAXIMIZE"}
	smin, _ := newBayes("m", mmin, 8)
	smax, err := newBayes("m", mmax, 8)
	if err != nil {
		t.Fatal(err)
	}
	rmin := drive(t, smin, 1, braninParams)
	rmax := drive(t, smax, 1, func(p map[string]any) float64 { return -braninParams(p) })
	for i := range rmin {
		a, b := rmin[i].Params, rmax[i].Params
		if math.Abs(a["x1"].(float64)-b["x1"].(float64)) > 1e-6 || math.Abs(a["x2"].(float64)-b["x2"].(float64)) > 1e-6 {
			t.Errorf("trial %d: minimising f gives %v, maximising -f %v", i, a, b)
		}
	}
	// And minimising -f is another search.
	sneg, _ := newBayes("m", mmin, 8)
	rneg := drive(t, sneg, 1, func(p map[string]any) float64 { return -braninParams(p) })
	if reflect.DeepEqual(trialsOf(rneg)[5:], trialsOf(rmin)[5:]) {
		t.Errorf("the sign of the metric is ignored")
	}
}

func TestBayesUtilityFunctions(t *testing.T) {
	for _, uf := range []*specs.UtilityFunction{
		{AcquisitionFunction: "ucb", Kappa: ptr(2.576), NumWarmup: ptr(50), NumIterations: ptr(2)},
		{AcquisitionFunction: "Ei", Eps: ptr(0.1), GaussianProcess: &specs.GaussianProcess{Kernel: "rbf", LengthScale: ptr(0.3)}},
		{AcquisitionFunction: "POI", Eps: ptr(5.0), GaussianProcess: &specs.GaussianProcess{Kernel: "matern", Nu: ptr(0.5), NumRestartsOptimizer: ptr(2)}},
		{AcquisitionFunction: "ei", Eps: ptr(0.0), NumIterations: ptr(0), GaussianProcess: &specs.GaussianProcess{Nu: ptr(2.5)}},
	} {
		m := bayesMatrix(braninSpace(), 5, 10)
		m.UtilityFunction = uf
		s, err := newBayes("m", m, 21)
		if err != nil {
			t.Fatalf("%+v: %v", uf, err)
		}
		results := drive(t, s, 1, braninParams)
		best := math.Inf(1)
		for _, res := range results {
			best = math.Min(best, res.Metric)
		}
		initial := math.Inf(1)
		for _, res := range results[:5] {
			initial = math.Min(initial, res.Metric)
		}
		if !(best < initial/2) {
			t.Errorf("%s: best %v after 10 iterations, %v after the initial runs", uf.AcquisitionFunction, best, initial)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestBayesErrors(t *testing.T) {
	valid := func() *specs.BayesMatrix { return bayesMatrix(braninSpace(), 3, 3) }
	for _, c := range []struct {
		name string
		edit func(m *specs.BayesMatrix)
		want string
	}{
		{"no params", func(m *specs.BayesMatrix) { m.Params = nil }, "op.matrix.params:"},
		{"normal", func(m *specs.BayesMatrix) {
			m.Params[1] = specs.NamedHyperParam{Name: "x2", HyperParam: specs.HyperParam{Kind: specs.HPNormal, Value: []any{0.0, 1.0}}}
		}, "op.matrix.params.x2.kind: normal defines a non uniform distribution"},
		{"pchoice", func(m *specs.BayesMatrix) {
			m.Params[0] = specs.NamedHyperParam{Name: "x1", HyperParam: specs.HyperParam{Kind: specs.HPPChoice, Value: []any{[]any{"a", 0.5}, []any{"b", 0.5}}}}
		}, "op.matrix.params.x1.kind: pchoice"},
		{"size", func(m *specs.BayesMatrix) {
			m.Params[0] = specs.NamedHyperParam{Name: "x1", HyperParam: specs.HyperParam{Kind: specs.HPUniform, Value: map[string]any{"low": 0.0, "high": 1.0, "size": 3}}}
		}, "op.matrix.params.x1: a uniform with a size"},
		{"bad uniform", func(m *specs.BayesMatrix) { m.Params[0].Value = []any{2.0, 1.0} }, "op.matrix.params.x1:"},
		{"no numInitialRuns", func(m *specs.BayesMatrix) { m.NumInitialRuns = nil }, "op.matrix.numInitialRuns: required"},
		{"numInitialRuns 0", func(m *specs.BayesMatrix) { m.NumInitialRuns = specs.Int(0) }, "op.matrix.numInitialRuns: must be at least 1"},
		{"template", func(m *specs.BayesMatrix) { m.NumInitialRuns = specs.Ref("{{ n }}") }, "op.matrix.numInitialRuns:"},
		{"maxIterations 0", func(m *specs.BayesMatrix) { m.MaxIterations = specs.Int(0) }, "op.matrix.maxIterations: must be at least 1"},
		{"no metric", func(m *specs.BayesMatrix) { m.Metric = nil }, "op.matrix.metric: required"},
		{"optimization", func(m *specs.BayesMatrix) { m.Metric.Optimization = "best" }, "op.matrix.metric.optimization:"},
		{"acquisition", func(m *specs.BayesMatrix) {
			m.UtilityFunction = &specs.UtilityFunction{AcquisitionFunction: "pi"}
		}, "op.matrix.utilityFunction.acquisitionFunction:"},
		{"kappa", func(m *specs.BayesMatrix) { m.UtilityFunction = &specs.UtilityFunction{Kappa: ptr(-1.0)} }, "op.matrix.utilityFunction.kappa:"},
		{"numWarmup", func(m *specs.BayesMatrix) { m.UtilityFunction = &specs.UtilityFunction{NumWarmup: ptr(0)} }, "op.matrix.utilityFunction.numWarmup:"},
		{"numIterations", func(m *specs.BayesMatrix) { m.UtilityFunction = &specs.UtilityFunction{NumIterations: ptr(-1)} }, "op.matrix.utilityFunction.numIterations:"},
		{"kernel", func(m *specs.BayesMatrix) {
			m.UtilityFunction = &specs.UtilityFunction{GaussianProcess: &specs.GaussianProcess{Kernel: "linear"}}
		}, "op.matrix.utilityFunction.gaussianProcess.kernel:"},
		{"nu", func(m *specs.BayesMatrix) {
			m.UtilityFunction = &specs.UtilityFunction{GaussianProcess: &specs.GaussianProcess{Nu: ptr(2.0)}}
		}, "op.matrix.utilityFunction.gaussianProcess.nu:"},
		{"lengthScale", func(m *specs.BayesMatrix) {
			m.UtilityFunction = &specs.UtilityFunction{GaussianProcess: &specs.GaussianProcess{LengthScale: ptr(0.0)}}
		}, "op.matrix.utilityFunction.gaussianProcess.lengthScale:"},
		{"restarts", func(m *specs.BayesMatrix) {
			m.UtilityFunction = &specs.UtilityFunction{GaussianProcess: &specs.GaussianProcess{NumRestartsOptimizer: ptr(-2)}}
		}, "op.matrix.utilityFunction.gaussianProcess.numRestartsOptimizer:"},
	} {
		m := valid()
		c.edit(m)
		_, err := New("op.matrix", m, 1)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to start with %q", c.name, err, c.want)
		}
	}
	if _, err := New("op.matrix", valid(), 1); err != nil {
		t.Errorf("valid: %v", err)
	}
}

// On Branin, 50 evaluations of bayes (10 random, 40 iterations) come
// closer to the minimum than 50 of random search, on each seed, and
// within 0.05 of it.
func TestBayesBeatsRandomOnBranin(t *testing.T) {
	for seed := range int64(3) {
		s, err := New("m", bayesMatrix(braninSpace(), 10, 40), seed)
		if err != nil {
			t.Fatal(err)
		}
		bayesBest, n := minimise(t, s, branin, "x1", "x2")
		if n != 50 {
			t.Fatalf("%d evaluations, want 50", n)
		}
		r, err := New("m", &specs.RandomMatrix{Kind: specs.MatrixRandom, Params: braninSpace(), NumRuns: specs.Int(50)}, seed)
		if err != nil {
			t.Fatal(err)
		}
		randomBest, _ := minimise(t, r, branin, "x1", "x2")
		t.Logf("seed %d: regret %.5f bayes, %.5f random", seed, bayesBest-braninMin, randomBest-braninMin)
		if bayesBest-braninMin > 0.05 || bayesBest >= randomBest {
			t.Errorf("seed %d: regret %.5f bayes, %.5f random", seed, bayesBest-braninMin, randomBest-braninMin)
		}
	}
}

func TestObjectives(t *testing.T) {
	for _, x := range [][]float64{{-math.Pi, 12.275}, {math.Pi, 2.275}, {9.42478, 2.475}} {
		if v := branin(x); math.Abs(v-braninMin) > 1e-5 {
			t.Errorf("branin%v = %v, want %v", x, v, braninMin)
		}
	}
	xh := []float64{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}
	if v := hartmann6(xh); math.Abs(v-hartmann6Min) > 1e-4 {
		t.Errorf("hartmann6%v = %v, want %v", xh, v, hartmann6Min)
	}
	if v := hartmann6([]float64{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}); v < hartmann6Min || v > 0 {
		t.Errorf("hartmann6 at the centre = %v", v)
	}
}

// The gradient of the negative log marginal likelihood is that of its
// finite differences.
func TestGPLikelihoodGradient(t *testing.T) {
	r := newRand(1, 2)
	for _, k := range []gpKernel{{}, {matern: true, nu: 0.5}, {matern: true, nu: 1.5}, {matern: true, nu: 2.5}} {
		lk := &likelihood{kernel: k, d: 3, m: 20, x: make([]float64, 60), y: make([]float64, 20)}
		for i := range lk.x {
			lk.x[i] = r.Float64()
		}
		for i := range lk.y {
			lk.y[i] = math.Sin(3*lk.x[3*i]) + lk.x[3*i+1]
		}
		theta := []float64{math.Log(0.3), math.Log(0.7), math.Log(0.2), math.Log(1e-3)}
		grad := make([]float64, 4)
		lk.gradient(grad, theta)
		for j := range theta {
			const h = 1e-6
			tp, tm := slices.Clone(theta), slices.Clone(theta)
			tp[j] += h
			tm[j] -= h
			num := (lk.value(tp) - lk.value(tm)) / (2 * h)
			if math.Abs(num-grad[j]) > 1e-4*math.Max(1, math.Abs(num)) {
				t.Errorf("kernel %+v: d/dθ%d = %g, numerically %g", k, j, grad[j], num)
			}
		}
	}
}

// The gradients of the posterior mean and deviation are those of their
// finite differences.
func TestGPPredictGradient(t *testing.T) {
	r := newRand(3, 4)
	var xs [][]float64
	var ys []float64
	for range 30 {
		x := []float64{r.Float64(), r.Float64(), r.Float64()}
		xs = append(xs, x)
		ys = append(ys, x[0]*x[0]+x[1]-x[2]*x[1])
	}
	for _, k := range []gpKernel{{}, {matern: true, nu: 1.5}, {matern: true, nu: 2.5}} {
		g, err := fitGP(xs, ys, k, 1, 0, r)
		if err != nil {
			t.Fatal(err)
		}
		n := g.n
		c, w, sl, xsc := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, 3)
		dmu, dsd, scratch := make([]float64, 3), make([]float64, 3), make([]float64, 3)
		x := []float64{0.3, 0.6, 0.45}
		g.predictGrad(x, xsc, c, w, sl, dmu, dsd)
		for j := range 3 {
			const h = 1e-6
			xp, xm := slices.Clone(x), slices.Clone(x)
			xp[j] += h
			xm[j] -= h
			mup, sdp := g.predictGrad(xp, xsc, c, w, sl, scratch, scratch)
			mum, sdm := g.predictGrad(xm, xsc, c, w, sl, scratch, scratch)
			if num := (mup - mum) / (2 * h); math.Abs(num-dmu[j]) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("kernel %+v: dμ/dx%d = %g, numerically %g", k, j, dmu[j], num)
			}
			if num := (sdp - sdm) / (2 * h); math.Abs(num-dsd[j]) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("kernel %+v: dσ/dx%d = %g, numerically %g", k, j, dsd[j], num)
			}
		}
		// And the mean and deviation without gradient agree.
		cmax := g.cross(x, xsc, c)
		mu, sd := g.mean(c), g.sd(c)
		mu2, sd2 := g.predictGrad(x, xsc, c, w, sl, dmu, dsd)
		if math.Abs(mu-mu2) > 1e-9 || math.Abs(sd-sd2) > 1e-9 || sd > g.sdBound(cmax)+1e-12 {
			t.Errorf("kernel %+v: μ %v/%v, σ %v/%v, bound %v", k, mu, mu2, sd, sd2, g.sdBound(cmax))
		}
	}
}
