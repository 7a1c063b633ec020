package matrix

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/plexus-ml/plexus/specs"
	"gonum.org/v1/gonum/optimize"
)

// bayes is Bayesian optimisation: numInitialRuns random suggestions, then
// maxIterations iterations that each fit a Gaussian process (gp.go) to
// the runs that succeeded with the metric and suggest the one point that
// maximises an acquisition function of its posterior, so Total is
// numInitialRuns + maxIterations (maxIterations is 1 when not set).
//
// Determinism. The initial trials are drawn in order from one generator
// (the seed's stream bayesStreamInitial), so they are the same whatever
// limit asks for them. Iteration k, trial numInitialRuns + k, is
// suggested only once every earlier trial is done, from those results
// alone, with a generator of its own stream (bayesStreamIteration plus
// its index): asked again, it is the same point. Failed runs and runs
// without the metric are not observations; an iteration without any
// observation suggests a random point.
//
// Inputs are scaled to [0, 1]^d: a uniform param linearly over
// [low, high], a discrete one by the index of its value, value i of m at
// the middle of bin i, (i + 0.5)/m. A point is decoded back to the value
// of its bin, so only listed values are suggested. When every param is
// discrete, a point already suggested is not suggested again: Total is at
// most the size of the space.
//
// The acquisition, of the standardised metric turned to be maximised
// (minimize negates it), is
//
//	ucb: μ + κσ
//	ei:  E[max(f - f* - ε, 0)]
//	poi: P(f > f* + ε)
//
// where f* is the best observation and ε (eps) is in the metric's units,
// as in the reference. It is maximised, as the reference does, over
// numWarmup random points (every point instead, for a discrete space of at
// most bayesEnumerate points), then by a local search from numIterations
// starts: the best warm-up points, and the best observation. The local
// search is L-BFGS over the uniform params (analytic gradient; the box is
// kept by optimising u with x = sin²(u)), alternating with moves of each
// discrete param to the next value up or down while that improves. The
// posterior mean costs O(n) per point; the variance, an O(n²) triangular
// solve, is computed for a warm-up point only when a bound on it (the
// variance its nearest observation alone leaves) could make it beat the
// best point so far.
//
// Defaults, when the file does not set them: ucb, κ = bayesKappa (1.5;
// over 20 seeds of Branin and Hartmann-6 with 50 evaluations, κ of 1 to
// 1.5 comes closest to the minimum, while the 2.576 of bayes_opt explores
// too much for that budget), ε = 0, numWarmup bayesWarmup and
// numIterations bayesLocalStarts (the reference's 5 and 10 are too few
// warm-up points to start the local search well), and the Gaussian
// process of the spec: a Matérn kernel of nu 1.5, length scales starting
// from 1 (in units of a param's range; see gp.go for the fit), no restart
// of the length-scale fit.
type bayes struct {
	dims     []Dim
	maximize bool
	seed     int64
	initial  int
	total    int

	acquisition string
	kappa, eps  float64
	warmup      int
	localStarts int
	kernel      gpKernel
	lengthScale float64
	restarts    int

	// discrete reports that every param is discrete; size is then the
	// number of points of the space (0 when larger than an int holds).
	discrete bool
	size     int

	// index finds a discrete value's index by its valueKey, built when
	// first needed.
	index     []map[string]int
	indexOnce sync.Once
	// drawn caches the initial trials drawn so far, with the state of
	// their generator (a search may be asked from several goroutines).
	mu    sync.Mutex
	drawn struct {
		r      *rand.Rand
		swaps  map[int]int
		seen   map[string]bool
		trials []Trial
	}
}

const (
	bayesKappa       = 1.5
	bayesWarmup      = 1000
	bayesLocalStarts = 5
	// bayesEnumerate is the largest discrete space whose every point is a
	// candidate.
	bayesEnumerate = 10000
	// bayesStreamInitial is the generator stream of the initial random
	// trials; iteration trial i uses bayesStreamIteration + i.
	bayesStreamInitial   = 1
	bayesStreamIteration = 1 << 32
)

func newBayes(at specs.Path, m *specs.BayesMatrix, seed int64) (Search, error) {
	pp := at.Child("params")
	if len(m.Params) == 0 {
		return nil, fmt.Errorf("%s: a bayes search needs at least one param", pp)
	}
	for _, np := range m.Params {
		if np.Kind.IsDistribution() && np.Kind != specs.HPUniform {
			return nil, fmt.Errorf("%s: %s defines a non uniform distribution, and it cannot be used with bayesian optimization",
				pp.Key(np.Name).Child("kind"), np.Kind)
		}
	}
	dims, err := Dims(pp, m.Params)
	if err != nil {
		return nil, err
	}
	for _, d := range dims {
		if d.Space.Size != nil {
			return nil, fmt.Errorf("%s: a uniform with a size draws a list, and it cannot be used with bayesian optimization",
				pp.Key(d.Name))
		}
	}
	b := &bayes{dims: dims, seed: seed, discrete: true}
	if b.initial, err = count(at.Child("numInitialRuns"), m.NumInitialRuns, -1, 1); err != nil {
		return nil, err
	}
	iterations, err := count(at.Child("maxIterations"), m.MaxIterations, 1, 1)
	if err != nil {
		return nil, err
	}
	if m.Metric == nil {
		return nil, fmt.Errorf("%s: required: bayes needs a metric to optimise", at.Child("metric"))
	}
	if o := m.Metric.Optimization; o != "" && !Maximize(o) && !strings.EqualFold(string(o), string(specs.Minimize)) {
		return nil, fmt.Errorf("%s: %q is not maximize or minimize", at.Child("metric").Child("optimization"), o)
	}
	b.maximize = Maximize(m.Metric.Optimization)
	if err := b.utility(at.Child("utilityFunction"), m.UtilityFunction); err != nil {
		return nil, err
	}

	b.total = b.initial + iterations
	for _, d := range dims {
		b.discrete = b.discrete && d.Discrete()
	}
	if b.discrete {
		b.size = 1
		for _, d := range dims {
			if b.size > math.MaxInt/2/len(d.Values) {
				b.size = 0
				break
			}
			b.size *= len(d.Values)
		}
		if b.size > 0 {
			b.initial = min(b.initial, b.size)
			b.total = min(b.total, b.size)
		}
	}
	return b, nil
}

// utility reads utilityFunction and its gaussianProcess.
func (b *bayes) utility(at specs.Path, uf *specs.UtilityFunction) error {
	b.acquisition, b.kappa, b.warmup, b.localStarts = "ucb", bayesKappa, bayesWarmup, bayesLocalStarts
	b.kernel, b.lengthScale = gpKernel{matern: true, nu: 1.5}, 1
	if uf == nil {
		return nil
	}
	if uf.AcquisitionFunction != "" {
		b.acquisition = strings.ToLower(uf.AcquisitionFunction)
		if !slices.Contains(specs.AcquisitionFunctions, b.acquisition) {
			return fmt.Errorf("%s: %q is not one of %s", at.Child("acquisitionFunction"), uf.AcquisitionFunction,
				strings.Join(specs.AcquisitionFunctions, ", "))
		}
	}
	if uf.Kappa != nil {
		if !(*uf.Kappa >= 0) || math.IsInf(*uf.Kappa, 0) {
			return fmt.Errorf("%s: must be a number at least 0, got %v", at.Child("kappa"), *uf.Kappa)
		}
		b.kappa = *uf.Kappa
	}
	if uf.Eps != nil {
		if math.IsNaN(*uf.Eps) || math.IsInf(*uf.Eps, 0) {
			return fmt.Errorf("%s: must be a number, got %v", at.Child("eps"), *uf.Eps)
		}
		b.eps = *uf.Eps
	}
	if uf.NumWarmup != nil {
		if *uf.NumWarmup < 1 {
			return fmt.Errorf("%s: must be at least 1, got %d", at.Child("numWarmup"), *uf.NumWarmup)
		}
		b.warmup = *uf.NumWarmup
	}
	if uf.NumIterations != nil {
		if *uf.NumIterations < 0 {
			return fmt.Errorf("%s: must be at least 0, got %d", at.Child("numIterations"), *uf.NumIterations)
		}
		b.localStarts = *uf.NumIterations
	}
	gp := uf.GaussianProcess
	if gp == nil {
		return nil
	}
	gpp := at.Child("gaussianProcess")
	switch {
	case gp.Kernel == "" || strings.EqualFold(gp.Kernel, "matern"):
	case strings.EqualFold(gp.Kernel, "rbf"):
		b.kernel.matern = false
	default:
		return fmt.Errorf("%s: %q is not rbf or matern", gpp.Child("kernel"), gp.Kernel)
	}
	if gp.LengthScale != nil {
		if !(*gp.LengthScale > 0) || math.IsInf(*gp.LengthScale, 0) {
			return fmt.Errorf("%s: must be a number above 0, got %v", gpp.Child("lengthScale"), *gp.LengthScale)
		}
		b.lengthScale = *gp.LengthScale
	}
	if gp.Nu != nil {
		if !slices.Contains([]float64{0.5, 1.5, 2.5}, *gp.Nu) {
			return fmt.Errorf("%s: %v is not supported: nu is 0.5, 1.5 or 2.5", gpp.Child("nu"), *gp.Nu)
		}
		b.kernel.nu = *gp.Nu
	}
	if gp.NumRestartsOptimizer != nil {
		if *gp.NumRestartsOptimizer < 0 {
			return fmt.Errorf("%s: must be at least 0, got %d", gpp.Child("numRestartsOptimizer"), *gp.NumRestartsOptimizer)
		}
		b.restarts = *gp.NumRestartsOptimizer
	}
	return nil
}

func (b *bayes) Total() int { return b.total }

func (b *bayes) Next(results []Result, limit int) ([]Trial, bool, error) {
	for i := range results {
		if results[i].Index != i {
			return nil, false, fmt.Errorf("result %d has index %d: results must be every trial in index order", i, results[i].Index)
		}
	}
	from := len(results)
	if from >= b.total {
		return nil, true, nil
	}
	if limit < 1 {
		return nil, false, nil
	}
	if from < b.initial {
		to := min(from+limit, b.initial)
		return b.initialTrials(to)[from:to], to == b.total, nil
	}
	for i := range results {
		if !results[i].Done {
			return nil, false, nil
		}
	}
	params, err := b.suggest(results)
	if err != nil {
		return nil, false, err
	}
	t := Trial{Index: from, Params: params, Group: fmt.Sprintf("iteration %d", from-b.initial+1)}
	return []Trial{t}, from+1 == b.total, nil
}

// initialTrials are the first n random trials, drawn in order from one
// generator, so that they do not depend on how they are asked for. When
// every param is discrete they are distinct: the first of a shuffle of
// the points of the space.
func (b *bayes) initialTrials(n int) []Trial {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := &b.drawn
	if st.r == nil {
		st.r = newRand(b.seed, bayesStreamInitial)
		st.swaps, st.seen = map[int]int{}, map[string]bool{}
	}
	for i := len(st.trials); i < n; i++ {
		var x []float64
		if b.discrete && b.size > 0 {
			j := i + st.r.IntN(b.size-i)
			vi, vj := b.swapped(i), b.swapped(j)
			st.swaps[i], st.swaps[j] = vj, vi
			x = b.pointOf(vj)
		} else {
			x = make([]float64, len(b.dims))
			for range 100 {
				b.randomPoint(st.r, x)
				if !b.discrete || !st.seen[b.key(x)] {
					break
				}
			}
			if b.discrete {
				st.seen[b.key(x)] = true
			}
		}
		st.trials = append(st.trials, Trial{Index: i, Params: b.params(x), Group: "initial"})
	}
	return slices.Clone(st.trials[:n])
}

func (b *bayes) swapped(i int) int {
	if v, ok := b.drawn.swaps[i]; ok {
		return v
	}
	return i
}

// randomPoint draws a point of [0, 1]^d, snapped to the discrete bins.
func (b *bayes) randomPoint(r *rand.Rand, x []float64) {
	for k := range x {
		x[k] = r.Float64()
	}
	b.snap(x)
}

// snap moves the discrete coordinates of x to the middle of their bin.
func (b *bayes) snap(x []float64) {
	for k := range b.dims {
		if m := len(b.dims[k].Values); b.dims[k].Discrete() {
			x[k] = (float64(b.bin(k, x[k])) + 0.5) / float64(m)
		}
	}
}

// bin is the index of the value that coordinate v of discrete dim k
// stands for.
func (b *bayes) bin(k int, v float64) int {
	m := len(b.dims[k].Values)
	return max(0, min(int(v*float64(m)), m-1))
}

// pointOf is point i of the product of the (discrete) dims, the last
// varying fastest.
func (b *bayes) pointOf(i int) []float64 {
	x := make([]float64, len(b.dims))
	for k := len(b.dims) - 1; k >= 0; k-- {
		m := len(b.dims[k].Values)
		x[k] = (float64(i%m) + 0.5) / float64(m)
		i /= m
	}
	return x
}

// key identifies a point of a discrete space.
func (b *bayes) key(x []float64) string {
	buf := make([]byte, 0, 4*len(x))
	for k := range b.dims {
		buf = strconv.AppendInt(buf, int64(b.bin(k, x[k])), 36)
		buf = append(buf, ',')
	}
	return string(buf)
}

// params decodes a point of [0, 1]^d.
func (b *bayes) params(x []float64) map[string]any {
	out := make(map[string]any, len(b.dims))
	for k := range b.dims {
		d := &b.dims[k]
		if d.Discrete() {
			out[d.Name] = d.Values[b.bin(k, x[k])]
			continue
		}
		s := d.Space
		out[d.Name] = clamp(s.Low+x[k]*(s.High-s.Low), s.Low, s.High)
	}
	return out
}

// encode is the point of a trial's params; ok is false when a param is
// missing or not one of its space.
func (b *bayes) encode(params map[string]any, index []map[string]int) ([]float64, bool) {
	x := make([]float64, len(b.dims))
	for k := range b.dims {
		d := &b.dims[k]
		v, ok := params[d.Name]
		if !ok {
			return nil, false
		}
		if !d.Discrete() {
			f, ok := toFloat(v)
			if !ok || math.IsNaN(f) {
				return nil, false
			}
			s := d.Space
			x[k] = 0
			if s.High > s.Low {
				x[k] = clamp((f-s.Low)/(s.High-s.Low), 0, 1)
			}
			continue
		}
		i, ok := index[k][valueKey(v)]
		if !ok {
			if i, ok = nearest(d.Values, v); !ok {
				return nil, false
			}
		}
		x[k] = (float64(i) + 0.5) / float64(len(d.Values))
	}
	return x, true
}

// nearest is the index of the numeric value of values nearest v.
func nearest(values []any, v any) (int, bool) {
	f, ok := toFloat(v)
	if !ok {
		return 0, false
	}
	best, bestDist := -1, math.Inf(1)
	for i, w := range values {
		g, ok := toFloat(w)
		if ok && math.Abs(g-f) < bestDist {
			best, bestDist = i, math.Abs(g-f)
		}
	}
	return best, best >= 0
}

// suggest is the point of the iteration that follows results (every one
// done).
func (b *bayes) suggest(results []Result) (map[string]any, error) {
	b.indexOnce.Do(func() {
		b.index = make([]map[string]int, len(b.dims))
		for k := range b.dims {
			b.index[k] = map[string]int{}
			for i := len(b.dims[k].Values) - 1; i >= 0; i-- {
				b.index[k][valueKey(b.dims[k].Values[i])] = i
			}
		}
	})
	var xs [][]float64
	var ys []float64
	taken := map[string]bool{}
	for i := range results {
		x, ok := b.encode(results[i].Params, b.index)
		if !ok {
			continue
		}
		if b.discrete {
			taken[b.key(x)] = true
		}
		res := &results[i]
		if !res.Succeeded || !res.HasMetric || math.IsNaN(res.Metric) || math.IsInf(res.Metric, 0) {
			continue
		}
		y := res.Metric
		if !b.maximize {
			y = -y
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	r := newRand(b.seed, bayesStreamIteration+uint64(len(results)))
	var x []float64
	if len(xs) > 0 {
		g, err := fitGP(xs, ys, b.kernel, b.lengthScale, b.restarts, r)
		if err != nil {
			return nil, fmt.Errorf("iteration %d: %w", len(results)-b.initial+1, err)
		}
		o := b.optimizer(g, taken)
		x = o.maximize(r, xs, ys)
	}
	if x == nil {
		x = b.randomFree(r, taken)
	}
	return b.params(x), nil
}

// randomFree is a random point, one not taken when every param is
// discrete.
func (b *bayes) randomFree(r *rand.Rand, taken map[string]bool) []float64 {
	x := make([]float64, len(b.dims))
	for range 100 {
		b.randomPoint(r, x)
		if !b.discrete || !taken[b.key(x)] {
			return x
		}
	}
	if b.size > 0 {
		// A crowded space: the first free point from a random one.
		start := r.IntN(b.size)
		for i := range b.size {
			p := b.pointOf((start + i) % b.size)
			if !taken[b.key(p)] {
				return p
			}
		}
	}
	return x
}

// acqOptimizer maximises the acquisition function of a fitted process.
type acqOptimizer struct {
	b     *bayes
	g     *gp
	taken map[string]bool
	eps   float64
	c     []float64
	xsc   []float64
}

func (b *bayes) optimizer(g *gp, taken map[string]bool) *acqOptimizer {
	o := &acqOptimizer{b: b, g: g, taken: taken, eps: b.eps / g.yStd,
		c: make([]float64, g.n), xsc: make([]float64, g.d)}
	return o
}

// value is the acquisition at posterior mean mu and deviation sd.
func (o *acqOptimizer) value(mu, sd float64) float64 {
	switch o.b.acquisition {
	case "ei":
		z := (mu - o.g.best - o.eps) / sd
		return sd * eiTau(z)
	case "poi":
		z := (mu - o.g.best - o.eps) / sd
		return 0.5 * math.Erfc(-z/math.Sqrt2)
	}
	return mu + o.b.kappa*sd
}

// eiTau is z·Φ(z) + φ(z), with an asymptotic form where it cancels.
func eiTau(z float64) float64 {
	pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	if z < -6 {
		z2 := z * z
		return pdf / z2 * (1 - 3/z2 + 15/(z2*z2))
	}
	return z*0.5*math.Erfc(-z/math.Sqrt2) + pdf
}

// eval is the acquisition at x, or -Inf when x cannot beat floor (or is
// taken).
func (o *acqOptimizer) eval(x []float64, floor float64) float64 {
	if o.b.discrete && o.taken[o.b.key(x)] {
		return math.Inf(-1)
	}
	cmax := o.g.cross(x, o.xsc, o.c)
	mu := o.g.mean(o.c)
	if o.bound(mu, cmax) <= floor {
		return math.Inf(-1)
	}
	return o.value(mu, o.g.sd(o.c))
}

// bound is the most the acquisition can be at a point of mean mu and
// largest correlation cmax with an observation.
func (o *acqOptimizer) bound(mu, cmax float64) float64 {
	if o.b.acquisition == "poi" && mu-o.g.best-o.eps >= 0 {
		return 1
	}
	return o.value(mu, o.g.sdBound(cmax))
}

type candidate struct {
	x     []float64
	bound float64
	value float64
}

// maximize returns the point that maximises the acquisition, or nil when
// none is free.
func (o *acqOptimizer) maximize(r *rand.Rand, xs [][]float64, ys []float64) []float64 {
	b, d := o.b, o.g.d
	var cands []candidate
	enumerate := b.discrete && b.size > 0 && b.size <= max(b.warmup, bayesEnumerate)
	if enumerate {
		for i := range b.size {
			cands = append(cands, candidate{x: b.pointOf(i)})
		}
	} else {
		for range b.warmup {
			x := make([]float64, d)
			b.randomPoint(r, x)
			cands = append(cands, candidate{x: x})
		}
	}
	for i := range cands {
		c := &cands[i]
		c.value = math.Inf(-1)
		if b.discrete && o.taken[b.key(c.x)] {
			c.bound = math.Inf(-1)
			continue
		}
		cmax := o.g.cross(c.x, o.xsc, o.c)
		c.bound = o.bound(o.g.mean(o.c), cmax)
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmpFloat(cands[b].bound, cands[a].bound); c != 0 {
			return c
		}
		return a - b
	})
	// Exact values in order of bound while the bound can beat the best,
	// and for at least the localStarts first, the seeds of the compass
	// search.
	best := math.Inf(-1)
	var exact []candidate
	for _, i := range order {
		c := cands[i]
		if math.IsInf(c.bound, -1) || (c.bound <= best && len(exact) >= max(1, o.b.localStarts)) {
			break
		}
		c.value = o.eval(c.x, math.Inf(-1))
		exact = append(exact, c)
		best = math.Max(best, c.value)
	}
	if len(exact) == 0 {
		return nil
	}
	slices.SortStableFunc(exact, func(a, b candidate) int { return cmpFloat(a.value, b.value) })
	top := exact[len(exact)-1]
	if enumerate {
		return top.x
	}
	// Local search from the best candidates and the best observation.
	var starts [][]float64
	for i := len(exact) - 1; i >= 0 && len(starts) < o.b.localStarts; i-- {
		starts = append(starts, exact[i].x)
	}
	if len(ys) > 0 {
		ib := 0
		for i, y := range ys {
			if y > ys[ib] {
				ib = i
			}
		}
		starts = append(starts, slices.Clone(xs[ib]))
	}
	for _, s := range starts {
		x, v := o.local(s)
		if v > top.value {
			top = candidate{x: x, value: v}
		}
	}
	return top.x
}

// local climbs the acquisition from x: L-BFGS over the continuous params,
// then moves of one value of each discrete param, in turn while either
// improves.
func (o *acqOptimizer) local(x0 []float64) ([]float64, float64) {
	x := slices.Clone(x0)
	o.b.snap(x)
	fx := o.eval(x, math.Inf(-1))
	var cont, disc []int
	for k := range o.b.dims {
		if o.b.dims[k].Discrete() {
			disc = append(disc, k)
		} else {
			cont = append(cont, k)
		}
	}
	for range 4 {
		improved := false
		if len(cont) > 0 {
			if y, fy := o.gradientClimb(x, cont); fy > fx {
				x, fx, improved = y, fy, true
			}
		}
		if len(disc) == 0 {
			break
		}
		if y, fy := o.discreteClimb(x, fx, disc); fy > fx {
			x, fx, improved = y, fy, true
		}
		if !improved {
			break
		}
	}
	return x, fx
}

// gradientClimb maximises the acquisition over the params cont from x
// with L-BFGS, the others fixed. The box is kept by optimising u with
// x = sin²(u).
func (o *acqOptimizer) gradientClimb(x0 []float64, cont []int) ([]float64, float64) {
	g := o.g
	n, d := g.n, g.d
	x := slices.Clone(x0)
	c, w, slope := make([]float64, n), make([]float64, n), make([]float64, n)
	dmu, dsd := make([]float64, d), make([]float64, d)
	at := func(u []float64) {
		for j, k := range cont {
			s := math.Sin(u[j])
			x[k] = s * s
		}
	}
	fg := func(grad, u []float64) float64 {
		at(u)
		mu, sd := g.predictGrad(x, o.xsc, c, w, slope, dmu, dsd)
		f, fmu, fsd := o.valueGrad(mu, sd)
		for j, k := range cont {
			if grad != nil {
				grad[j] = -(fmu*dmu[k] + fsd*dsd[k]) * math.Sin(2*u[j])
			}
		}
		return -f
	}
	u0 := make([]float64, len(cont))
	for j, k := range cont {
		// Off the bounds, where sin² is flat, so that L-BFGS can move.
		u0[j] = math.Asin(math.Sqrt(clamp(x0[k], 1e-4, 1-1e-4)))
	}
	p := optimize.Problem{
		Func: func(u []float64) float64 { return fg(nil, u) },
		Grad: func(grad, u []float64) { fg(grad, u) },
	}
	res, err := optimize.Minimize(p, u0, &optimize.Settings{
		GradientThreshold: 1e-9,
		MajorIterations:   50,
		FuncEvaluations:   100,
		Converger:         &optimize.FunctionConverge{Relative: 1e-10, Absolute: 1e-12, Iterations: 5},
	}, &optimize.LBFGS{})
	if res == nil || math.IsNaN(res.F) || (err != nil && math.IsInf(res.F, 0)) {
		return x0, math.Inf(-1)
	}
	at(res.X)
	return x, o.eval(x, math.Inf(-1))
}

// valueGrad is the acquisition at mu and sd with its partial derivatives.
func (o *acqOptimizer) valueGrad(mu, sd float64) (f, fmu, fsd float64) {
	switch o.b.acquisition {
	case "ei":
		z := (mu - o.g.best - o.eps) / sd
		pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
		return sd * eiTau(z), 0.5 * math.Erfc(-z/math.Sqrt2), pdf
	case "poi":
		z := (mu - o.g.best - o.eps) / sd
		pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
		return 0.5 * math.Erfc(-z/math.Sqrt2), pdf / sd, -pdf * z / sd
	}
	return mu + o.b.kappa*sd, 1, o.b.kappa
}

// discreteClimb moves the params disc one value up or down while that
// improves the acquisition.
func (o *acqOptimizer) discreteClimb(x0 []float64, f0 float64, disc []int) ([]float64, float64) {
	x, fx := slices.Clone(x0), f0
	y := make([]float64, len(x))
	for evals := 0; evals < 50*len(disc); {
		improved := false
		for _, k := range disc {
			step := 1 / float64(len(o.b.dims[k].Values))
			for _, sign := range []float64{1, -1} {
				copy(y, x)
				y[k] = clamp(x[k]+sign*step, 0, 1)
				o.b.snap(y)
				if y[k] == x[k] {
					continue
				}
				evals++
				if fy := o.eval(y, fx); fy > fx {
					copy(x, y)
					fx, improved = fy, true
					break
				}
			}
		}
		if !improved {
			break
		}
	}
	return x, fx
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
