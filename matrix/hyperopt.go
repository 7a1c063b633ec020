package matrix

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/plexus-ml/plexus/specs"
)

// The hyperopt search runs hyperopt's algorithms (tpe, rand, anneal) over
// any search space, as the reference does through the hyperopt library.
//
// Iterations. The reference asks its manager for numRuns suggestions per
// iteration, giving it the configs and metrics of every run so far, and
// runs maxIterations iterations of suggest, train, reduce. The search
// does the same: iteration k suggests numRuns trials (indices
// k*numRuns .. (k+1)*numRuns-1) from the observations of iterations
// 0..k-1, and there are maxIterations iterations (1 when it is not set),
// so Total is numRuns * maxIterations. Iteration 0 has no observations
// and samples the prior, whatever the algorithm. Iteration k > 0 starts
// only once every trial of the iterations before it is done; its trials
// are then the same whatever limit asks for them, as they are all drawn
// at once from a generator of the iteration's own stream. The
// observations are the trials that succeeded with a (non-NaN) metric;
// maximised metrics are negated into losses, as the reference does.
//
// Values. Each param is one or more coordinates (a distribution with a
// size has one per draw, each modelled on its own). A discrete param
// (choice, pchoice, range, linspace, logspace, geomspace, daterange,
// datetimerange) is a categorical over the index of its values, as the
// reference maps them to hp.choice (pchoice keeps its weights as the
// prior). A continuous one is modelled in its sampling space: loguniform
// and lognormal in log space, uniform kinds truncated to [low, high], q
// kinds floor(x / q) * q as the package samples them.
//
// Within an iteration, the numRuns points are distinct draws: a point
// equal to an earlier trial's is drawn again (50 times from the
// algorithm, then up to 200 times from the prior), and failing that a
// point new to the iteration is taken; only a space with fewer points
// than numRuns repeats some within an iteration.
//
// rand suggests prior samples only, yet waits for each iteration like the
// others, as the reference's loop does.
type hyperopt struct {
	algorithm string
	dims      []Dim
	coords    []hoCoord
	// first[d] is the first coordinate of dims[d].
	first []int
	// lookup finds the index of a discrete dim's value, built when first
	// needed.
	lookup     []hoLookup
	lookupOnce sync.Once
	numRuns    int
	total      int
	seed       int64
	maximize   bool
	startup    int
	// size is the number of points of a space of discrete params (MaxInt
	// when a param is continuous).
	size int

	mu    sync.Mutex
	cache struct {
		ok     bool
		k, n   int
		sum    uint64
		points [][]float64
	}
}

// Hyperopt's algorithms.
const (
	hoTPE    = "tpe"
	hoRand   = "rand"
	hoAnneal = "anneal"
)

// hoStartup is the most observations tpe samples the prior with before it
// models them (hyperopt's n_startup_jobs is 20; with the budgets matrices
// run, 10 leaves more of them to the model). A budget smaller than 40
// starts with a quarter of it (at least 2).
const hoStartup = 10

// hoEps keeps the log of a log kind's value finite.
const hoEps = 1e-12

func newHyperopt(at specs.Path, m *specs.HyperoptMatrix, seed int64) (Search, error) {
	algorithm := m.Algorithm
	if algorithm == "" {
		algorithm = hoTPE
	}
	if !slices.Contains(specs.HyperoptAlgorithms, algorithm) {
		return nil, fmt.Errorf("%s: %q is not a hyperopt algorithm (one of %q)",
			at.Child("algorithm"), m.Algorithm, specs.HyperoptAlgorithms)
	}
	if len(m.Params) == 0 {
		return nil, fmt.Errorf("%s: a hyperopt search needs at least one param", at.Child("params"))
	}
	dims, err := Dims(at.Child("params"), m.Params)
	if err != nil {
		return nil, err
	}
	numRuns, err := count(at.Child("numRuns"), m.NumRuns, -1, 1)
	if err != nil {
		return nil, err
	}
	iterations, err := count(at.Child("maxIterations"), m.MaxIterations, 1, 1)
	if err != nil {
		return nil, err
	}
	if numRuns > math.MaxInt32/iterations {
		return nil, fmt.Errorf("%s: numRuns * maxIterations (%d * %d) is too many trials",
			at.Child("maxIterations"), numRuns, iterations)
	}
	if m.Metric == nil {
		return nil, fmt.Errorf("%s: required: hyperopt needs a metric to optimise", at.Child("metric"))
	}
	if m.Metric.Name == "" {
		return nil, fmt.Errorf("%s: required: the metric needs a name", at.Child("metric").Child("name"))
	}
	if o := m.Metric.Optimization; o != "" && !Maximize(o) && !strings.EqualFold(string(o), string(specs.Minimize)) {
		return nil, fmt.Errorf("%s: %q is neither %q nor %q",
			at.Child("metric").Child("optimization"), o, specs.Maximize, specs.Minimize)
	}
	h := &hyperopt{
		algorithm: algorithm,
		dims:      dims,
		numRuns:   numRuns,
		total:     numRuns * iterations,
		seed:      seed,
		maximize:  Maximize(m.Metric.Optimization),
	}
	h.startup = min(hoStartup, max(2, h.total/4))
	h.size = math.MaxInt
	if !slices.ContainsFunc(dims, func(d Dim) bool { return !d.Discrete() }) {
		h.size = spaceSize(dims)
	}
	h.first = make([]int, len(dims))
	for d := range dims {
		h.first[d] = len(h.coords)
		h.coords = append(h.coords, hoCoords(&dims[d])...)
	}
	return h, nil
}

func (h *hyperopt) Total() int { return h.total }

func (h *hyperopt) Next(results []Result, limit int) ([]Trial, bool, error) {
	for i := range results {
		if results[i].Index != i {
			return nil, false, fmt.Errorf("hyperopt: result %d has index %d", i, results[i].Index)
		}
	}
	from := len(results)
	if from >= h.total {
		return nil, true, nil
	}
	if limit <= 0 {
		return nil, false, nil
	}
	k := from / h.numRuns
	start := k * h.numRuns
	if from == start {
		for i := range start {
			if !results[i].Done {
				return nil, false, nil
			}
		}
	}
	points := h.iteration(k, results[:start])
	to := min(from+limit, start+h.numRuns)
	out := make([]Trial, 0, to-from)
	group := "iteration " + strconv.Itoa(k)
	for i := from; i < to; i++ {
		out = append(out, Trial{Index: i, Params: h.params(points[i-start]), Group: group})
	}
	return out, to == h.total, nil
}

// iteration returns the numRuns points of iteration k, given the trials
// of the iterations before it. The last iteration computed is kept, keyed
// by what it was computed from, as the engine asks for an iteration's
// trials a few at a time.
func (h *hyperopt) iteration(k int, prev []Result) [][]float64 {
	points := make([][]float64, len(prev))
	sum := fnv.New64a()
	var b [8]byte
	for i := range prev {
		r := &prev[i]
		points[i] = h.point(r.Params)
		flags := byte(0)
		if r.Done {
			flags |= 1
		}
		if r.Succeeded {
			flags |= 2
		}
		if r.HasMetric {
			flags |= 4
		}
		sum.Write([]byte{flags})
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(r.Metric))
		sum.Write(b[:])
		sum.Write([]byte(hoPointKey(points[i])))
	}
	key := sum.Sum64()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cache.ok && h.cache.k == k && h.cache.n == len(prev) && h.cache.sum == key {
		return h.cache.points
	}
	next := h.suggest(k, prev, points)
	h.cache.ok, h.cache.k, h.cache.n, h.cache.sum, h.cache.points = true, k, len(prev), key, next
	return next
}

// hoObservation is a trial that succeeded with a metric: its point (NaN
// where a coordinate could not be read) and its loss.
type hoObservation struct {
	index int
	loss  float64
	point []float64
}

// suggest draws the points of iteration k, given the trials before it
// and their points.
func (h *hyperopt) suggest(k int, prev []Result, prevPoints [][]float64) [][]float64 {
	r := newRand(h.seed, 0x68797065<<32|uint64(k))
	seen := make(map[string]bool, len(prev)+h.numRuns)
	var obs []hoObservation
	for i := range prev {
		p := prevPoints[i]
		if !slices.ContainsFunc(p, math.IsNaN) {
			seen[hoPointKey(p)] = true
		}
		res := &prev[i]
		if !res.Succeeded || !res.HasMetric || math.IsNaN(res.Metric) {
			continue
		}
		loss := res.Metric
		if h.maximize {
			loss = -loss
		}
		obs = append(obs, hoObservation{index: res.Index, loss: loss, point: p})
	}
	prior := func() []float64 { return h.prior(r) }
	propose := prior
	switch {
	case k == 0 || len(obs) == 0 || h.algorithm == hoRand:
	case h.algorithm == hoTPE && len(obs) >= h.startup:
		m := newTPEModel(h.coords, obs)
		propose = func() []float64 { return m.suggest(r) }
	case h.algorithm == hoAnneal:
		a := newAnneal(h.coords, obs)
		propose = func() []float64 { return a.suggest(r) }
	}
	points := make([][]float64, 0, h.numRuns)
	mine := make(map[string]bool, h.numRuns)
	for len(points) < h.numRuns {
		p := h.distinct(propose, prior, seen, mine)
		key := hoPointKey(p)
		seen[key], mine[key] = true, true
		points = append(points, p)
	}
	return points
}

// Draws spent finding a point no trial has had: of the algorithm, then of
// the prior.
const (
	hoAlgorithmDraws = 50
	hoPriorDraws     = 200
)

// distinct draws the next point of an iteration: one of the algorithm's
// that no trial has had, else one of the prior's, else one of the
// algorithm's or the prior's not in the iteration yet, else whatever the
// algorithm proposes (the space has fewer points than the iteration).
func (h *hyperopt) distinct(propose, prior func() []float64, seen, mine map[string]bool) []float64 {
	var repeat []float64
	try := func(draw func() []float64, n int, avoid map[string]bool) []float64 {
		for range n {
			p := draw()
			key := hoPointKey(p)
			if !avoid[key] {
				return p
			}
			if repeat == nil && !mine[key] {
				repeat = p
			}
		}
		return nil
	}
	switch {
	case len(mine) >= h.size:
		return propose()
	case len(seen) < h.size:
		if p := try(propose, hoAlgorithmDraws, seen); p != nil {
			return p
		}
		if p := try(prior, hoPriorDraws, seen); p != nil {
			return p
		}
	}
	if repeat != nil {
		return repeat
	}
	if p := try(propose, hoAlgorithmDraws, mine); p != nil {
		return p
	}
	if p := try(prior, hoPriorDraws, mine); p != nil {
		return p
	}
	return propose()
}

// prior samples every coordinate from its prior.
func (h *hyperopt) prior(r *rand.Rand) []float64 {
	p := make([]float64, len(h.coords))
	for c := range h.coords {
		p[c] = h.coords[c].sample(r)
	}
	return p
}

// params renders a point as a trial's params.
func (h *hyperopt) params(p []float64) map[string]any {
	out := make(map[string]any, len(h.dims))
	for d := range h.dims {
		dim := &h.dims[d]
		c := h.first[d]
		switch {
		case dim.Discrete():
			out[dim.Name] = dim.Values[int(p[c])]
		case dim.Space.Size != nil:
			l := make([]any, *dim.Space.Size)
			for j := range l {
				l[j] = p[c+j]
			}
			out[dim.Name] = l
		default:
			out[dim.Name] = p[c]
		}
	}
	return out
}

// point reads a trial's params back into a point: NaN where a value is
// missing or not one of the space's.
func (h *hyperopt) point(params map[string]any) []float64 {
	p := make([]float64, len(h.coords))
	for c := range p {
		p[c] = math.NaN()
	}
	for d := range h.dims {
		dim := &h.dims[d]
		v, ok := params[dim.Name]
		if !ok {
			continue
		}
		c := h.first[d]
		switch {
		case dim.Discrete():
			if i, ok := h.index(d, v); ok {
				p[c] = float64(i)
			}
		case dim.Space.Size != nil:
			l, ok := hoList(v)
			if !ok || len(l) != *dim.Space.Size {
				continue
			}
			for j, e := range l {
				if f, ok := toFloat(e); ok {
					p[c+j] = f
				}
			}
		default:
			if f, ok := toFloat(v); ok {
				p[c] = f
			}
		}
	}
	return p
}

// hoLookup maps the values of a discrete dim to their indices: numbers
// by value, whatever their Go type (a value read back from JSON is a
// float64), by a binary search of nums (at[j] is the index of nums[j],
// or j when at is nil); other values by their JSON form.
type hoLookup struct {
	nums  []float64
	at    []int
	other map[string]int
}

// index is the index of the value v of the discrete dims[d].
func (h *hyperopt) index(d int, v any) (int, bool) {
	h.lookupOnce.Do(func() {
		h.lookup = make([]hoLookup, len(h.dims))
		for d := range h.dims {
			h.lookup[d] = newHoLookup(h.dims[d].Values)
		}
	})
	l := &h.lookup[d]
	if f, ok := toFloat(v); ok {
		j := sort.SearchFloat64s(l.nums, f)
		if j == len(l.nums) || l.nums[j] != f {
			return 0, false
		}
		if l.at == nil {
			return j, true
		}
		return l.at[j], true
	}
	i, ok := l.other[valueKey(v)]
	return i, ok
}

func newHoLookup(values []any) hoLookup {
	var l hoLookup
	type num struct {
		f float64
		i int
	}
	var nums []num
	sorted := true
	for i, v := range values {
		if f, ok := toFloat(v); ok {
			if len(nums) > 0 && !(nums[len(nums)-1].f < f) {
				sorted = false
			}
			nums = append(nums, num{f, i})
			continue
		}
		if l.other == nil {
			l.other = map[string]int{}
		}
		if _, dup := l.other[valueKey(v)]; !dup {
			l.other[valueKey(v)] = i
		}
	}
	if !sorted {
		sort.SliceStable(nums, func(a, b int) bool { return nums[a].f < nums[b].f })
	}
	l.nums = make([]float64, len(nums))
	identity := true
	for j, n := range nums {
		l.nums[j] = n.f
		identity = identity && n.i == j
	}
	if !identity {
		l.at = make([]int, len(nums))
		for j, n := range nums {
			l.at[j] = n.i
		}
	}
	return l
}

// hoPointKey identifies a point.
func hoPointKey(p []float64) string {
	b := make([]byte, 8*len(p))
	for i, x := range p {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return string(b)
}

// hoList reads a list of values.
func hoList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []float64:
		l := make([]any, len(x))
		for i, f := range x {
			l[i] = f
		}
		return l, true
	}
	return nil, false
}

// hoCoord is one coordinate of the space: a discrete param, a continuous
// one, or one draw of a continuous one with a size.
type hoCoord struct {
	space *specs.Space
	// n is a discrete param's number of values, p their prior
	// probabilities (nil when they are equally likely).
	n int
	p []float64
	// A continuous param is modelled in its sampling space (log space for
	// the log kinds): a normal prior of mean mu and deviation sigma,
	// truncated to [low, high] (infinite for the normal kinds).
	log       bool
	q         float64
	mu, sigma float64
	low, high float64
	discrete  bool
}

func hoCoords(d *Dim) []hoCoord {
	s := d.Space
	c := hoCoord{space: s}
	if d.Discrete() {
		c.discrete = true
		c.n = len(d.Values)
		if s.Kind != specs.HPPChoice {
			return []hoCoord{c}
		}
		sum := 0.0
		for _, w := range s.Weighted {
			sum += w.P
		}
		if sum > 0 {
			// Weights that sum to less than 1 are scaled up, as Sample
			// does.
			c.p = make([]float64, c.n)
			for i, w := range s.Weighted {
				c.p[i] = w.P / sum
			}
		}
		return []hoCoord{c}
	}
	switch s.Kind {
	case specs.HPUniform, specs.HPQUniform, specs.HPLogUniform, specs.HPQLogUniform:
		c.mu, c.sigma = 0.5*(s.Low+s.High), s.High-s.Low
		c.low, c.high = s.Low, s.High
	default:
		c.mu, c.sigma = s.Loc, s.Scale
		c.low, c.high = math.Inf(-1), math.Inf(1)
	}
	switch s.Kind {
	case specs.HPLogUniform, specs.HPQLogUniform, specs.HPLogNormal, specs.HPQLogNormal:
		c.log = true
	}
	switch s.Kind {
	case specs.HPQUniform, specs.HPQLogUniform, specs.HPQNormal, specs.HPQLogNormal:
		c.q = s.Q
	}
	n := 1
	if s.Size != nil {
		n = *s.Size
	}
	out := make([]hoCoord, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// sample draws the coordinate from its prior.
func (c *hoCoord) sample(r *rand.Rand) float64 {
	switch {
	case c.discrete && c.p == nil:
		return float64(r.IntN(c.n))
	case c.discrete:
		return float64(hoCategorical(c.p, r))
	}
	return draw(c.space, r)
}

// prior is the prior probability of the index i of a discrete param.
func (c *hoCoord) prior(i int) float64 {
	if c.p == nil {
		return 1 / float64(c.n)
	}
	return c.p[i]
}

// internal maps a value of the coordinate to its modelling space: the log
// of a log kind, and for a q kind the middle of the cell of values that
// quantise to it.
func (c *hoCoord) internal(x float64) float64 {
	if c.q > 0 {
		x += c.q / 2
	}
	if c.log {
		x = math.Log(max(x, hoEps))
	}
	return min(max(x, c.low), c.high)
}

// external maps a point of the modelling space to a value, quantised.
func (c *hoCoord) external(y float64) float64 {
	if c.log {
		y = math.Exp(y)
	}
	return Quantize(c.space, y)
}

// cell returns the interval of the modelling space whose points quantise
// to the value x of a q kind, within the bounds.
func (c *hoCoord) cell(x float64) (float64, float64) {
	lo, hi := x, x+c.q
	if c.log {
		lo, hi = math.Log(lo), math.Log(hi)
	}
	return max(lo, c.low), min(hi, c.high)
}

// hoCategorical draws an index with the given probabilities (summing to 1).
func hoCategorical(p []float64, r *rand.Rand) int {
	u := r.Float64()
	acc := 0.0
	for i, w := range p {
		acc += w
		if u < acc {
			return i
		}
	}
	for i := len(p) - 1; i > 0; i-- {
		if p[i] > 0 {
			return i
		}
	}
	return 0
}

// hoRanked returns the observations by loss, best first (ties by index).
func hoRanked(obs []hoObservation) []hoObservation {
	out := slices.Clone(obs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].loss < out[j].loss })
	return out
}
