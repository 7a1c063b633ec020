package matrix

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/plexus-ml/plexus/specs"
)

// hyperband is successive halving over brackets (Li et al. 2018). With R
// = maxIterations and s_max = floor(log_eta(R)), bracket s (run in the
// order s_max, ..., 0) starts n = ceil((s_max+1) * eta^s / (s+1))
// random configurations with r = R * eta^-s of the resource each; rung k of
// the bracket runs the best floor(n * eta^-k) of the previous rung with
// r * eta^k. A rung starts when every trial of the previous one has ended;
// brackets run one after the other. The resource is a param of each
// trial, named resource.name.
//
// A trial ranks by its metric; one that failed or gave no metric is never
// promoted, so a rung is smaller than the paper's table when fewer trials
// than it keeps gave a metric, and a bracket whose rung is left empty
// ends there.
type hyperband struct {
	dims     []Dim
	seed     int64
	max      float64 // R
	eta      float64
	sMax     int
	resource specs.OptimizationResource
	maximize bool
	resume   bool
	total    int
	starts   []int // configurations each bracket starts, by iteration

	// What the walk of Next found before: each bracket's first rung (fixed
	// by the seed), and each rung promoted from a rung that had ended (a
	// trial that ended does not change), by iteration and rung.
	mu       sync.Mutex
	first    map[int][]Trial
	promoted map[[2]int][]Trial
}

// defaultEta is hyperband's eta when the file gives none.
const defaultEta = 3

// brackets reads a hyperband matrix's R (maxIterations) and eta, and
// says how many brackets beyond the first it has: s_max =
// floor(log_eta(R)).
func brackets(at specs.Path, m *specs.HyperbandMatrix) (maxIter int, eta float64, sMax int, err error) {
	if maxIter, err = count(at.Child("maxIterations"), m.MaxIterations, -1, 1); err != nil {
		return 0, 0, 0, err
	}
	eta = float64(defaultEta)
	if m.Eta != nil {
		eta = *m.Eta
	}
	if !(eta > 1) || math.IsInf(eta, 0) {
		return 0, 0, 0, fmt.Errorf("%s: successive halving needs eta greater than 1, got %v", at.Child("eta"), eta)
	}
	// A hair of slack so that log(81)/log(3) is 4, not 3.9999999999999996.
	return maxIter, eta, int(math.Log(float64(maxIter))/math.Log(eta) + 1e-9), nil
}

func newHyperband(at specs.Path, m *specs.HyperbandMatrix, seed int64) (Search, error) {
	maxIter, eta, sMax, err := brackets(at, m)
	if err != nil {
		return nil, err
	}
	if m.Resource == nil || m.Resource.Name == "" {
		return nil, fmt.Errorf("%s: hyperband needs the resource (name and type) it gives each run", at.Child("resource"))
	}
	if m.Metric == nil || m.Metric.Name == "" {
		return nil, fmt.Errorf("%s: hyperband needs the metric that ranks the runs of a rung", at.Child("metric"))
	}
	if _, clash := m.Params.Get(m.Resource.Name); clash {
		return nil, fmt.Errorf("%s: the resource %q is also a param", at.Child("params").Key(m.Resource.Name), m.Resource.Name)
	}
	dims, err := Dims(at.Child("params"), m.Params)
	if err != nil {
		return nil, err
	}
	h := &hyperband{dims: dims, seed: seed, max: float64(maxIter), eta: eta, resource: *m.Resource,
		maximize: Maximize(m.Metric.Optimization), resume: m.Resume != nil && *m.Resume,
		first: map[int][]Trial{}, promoted: map[[2]int][]Trial{}, sMax: sMax}
	for i := 0; i <= h.sMax; i++ {
		s := h.sMax - i
		n := h.Starts(s)
		h.starts = append(h.starts, n)
		for k := 0; k <= s; k++ {
			h.total += h.Keeps(n, k)
		}
	}
	return h, nil
}

// Starts is the number of configurations bracket s starts:
// ceil((s_max+1) * eta^s / (s+1)), the paper's ceil(B/R * eta^s/(s+1)).
func (h *hyperband) Starts(s int) int {
	x := float64(h.sMax+1) * math.Pow(h.eta, float64(s)) / float64(s+1)
	return int(math.Ceil(x - 1e-9))
}

// Keeps is the number of trials in rung k of a bracket of n: floor(n *
// eta^-k).
func (h *hyperband) Keeps(n, k int) int {
	return int(float64(n)*math.Pow(h.eta, -float64(k)) + 1e-9)
}

// Resource is the resource of rung k of bracket s: R * eta^(k-s).
func (h *hyperband) Resource(s, k int) any {
	r := h.max * math.Pow(h.eta, float64(k-s))
	if h.resource.Type == "float" {
		return r
	}
	return int(r + 1e-9)
}

// Total is the most trials the search runs (fewer when trials fail).
func (h *hyperband) Total() int { return h.total }

func (h *hyperband) Next(results []Result, limit int) ([]Trial, bool, error) {
	at := 0 // index of the first trial of the rung being walked
	for i := 0; i <= h.sMax; i++ {
		s := h.sMax - i
		var rung []Result // the previous rung's trials
		for k := 0; k <= s; k++ {
			group := fmt.Sprintf("bracket %d, rung %d", s, k)
			var want []Trial
			if k == 0 {
				want = cached(h, h.first, i, func() []Trial { return h.configs(i, s, at, group) })
			} else {
				if !allDone(rung) {
					return nil, false, nil
				}
				want = cached(h, h.promoted, [2]int{i, k}, func() []Trial {
					return h.promote(rung, h.Keeps(h.starts[i], k), s, k, at, group)
				})
			}
			if len(want) == 0 {
				break // nothing to promote: the bracket ends
			}
			end := at + len(want)
			if len(results) < end {
				// This rung is being created.
				from := len(results) - at
				to := min(len(want), from+limit)
				return want[from:to], false, nil
			}
			rung = results[at:end]
			at = end
		}
		if i < h.sMax && !allDone(results[:at]) {
			// A bracket starts when the one before has ended.
			return nil, false, nil
		}
	}
	return nil, true, nil
}

// configs is the first rung of bracket s (iteration i): random
// configurations, each with the rung's resource.
func (h *hyperband) configs(i, s, at int, group string) []Trial {
	r := newRandomDims(h.dims, h.starts[i], h.seed+int64(i)*1_000_003)
	var trials []Trial
	if len(h.dims) > 0 {
		trials, _, _ = r.Next(nil, h.starts[i])
	} else {
		trials = make([]Trial, 1) // no params: one configuration
	}
	out := make([]Trial, len(trials))
	for j, t := range trials {
		params := make(map[string]any, len(t.Params)+1)
		for k, v := range t.Params {
			params[k] = v
		}
		params[h.resource.Name] = h.Resource(s, 0)
		out[j] = Trial{Index: at + j, Params: params, Group: group}
	}
	return out
}

// promote is rung k of bracket s: the best keep trials of the previous
// rung, which gave a metric, with the rung's resource.
func (h *hyperband) promote(prev []Result, keep, s, k, at int, group string) []Trial {
	ranked := make([]Result, 0, len(prev))
	for _, r := range prev {
		if r.Succeeded && r.HasMetric && !math.IsNaN(r.Metric) {
			ranked = append(ranked, r)
		}
	}
	slices.SortStableFunc(ranked, func(a, b Result) int {
		if h.maximize {
			return cmp.Compare(b.Metric, a.Metric)
		}
		return cmp.Compare(a.Metric, b.Metric)
	})
	ranked = ranked[:min(keep, len(ranked))]
	out := make([]Trial, len(ranked))
	for j, r := range ranked {
		params := make(map[string]any, len(r.Params))
		for k, v := range r.Params {
			params[k] = v
		}
		params[h.resource.Name] = h.Resource(s, k)
		from := r.Index
		out[j] = Trial{Index: at + j, Params: params, Group: group, From: &from, Resume: h.resume}
	}
	return out
}

func allDone(rs []Result) bool {
	for _, r := range rs {
		if !r.Done {
			return false
		}
	}
	return true
}

// cached is what make gives for key, made once.
func cached[K comparable](h *hyperband, m map[K][]Trial, key K, make func() []Trial) []Trial {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := m[key]; ok {
		return t
	}
	t := make()
	m[key] = t
	return t
}
