package matrix

import (
	"math"
	"math/rand/v2"
)

// Annealing as hyperopt's anneal runs it: each point perturbs one of the
// best observations, its rank drawn from a geometric distribution of mean
// annealAvgBest - 1 (0 is the best), within a neighbourhood that shrinks
// as observations accumulate, by 1 / (1 + n * annealShrink) of the prior's
// width. A uniform kind draws uniformly from a window of that share of
// [low, high] around the value (moved inside the bounds); a normal kind
// draws from a normal of that share of scale around it (both in log space
// for log kinds); a discrete param keeps its value, or with probability
// the shrink factor draws from its prior.
const (
	annealAvgBest = 2.0
	annealShrink  = 0.1
)

type annealer struct {
	coords []hoCoord
	ranked []hoObservation
	// counts are the observations with a value, per coordinate.
	counts []int
}

func newAnneal(coords []hoCoord, obs []hoObservation) *annealer {
	a := &annealer{coords: coords, ranked: hoRanked(obs), counts: make([]int, len(coords))}
	for _, o := range obs {
		for c, x := range o.point {
			if !math.IsNaN(x) {
				a.counts[c]++
			}
		}
	}
	return a
}

// suggest draws one point.
func (a *annealer) suggest(r *rand.Rand) []float64 {
	i := 0
	for i < len(a.ranked)-1 && r.Float64() >= 1/annealAvgBest {
		i++
	}
	base := a.ranked[i].point
	p := make([]float64, len(a.coords))
	for c := range a.coords {
		co := &a.coords[c]
		x := base[c]
		if math.IsNaN(x) || a.counts[c] == 0 {
			p[c] = co.sample(r)
			continue
		}
		shrink := 1 / (1 + float64(a.counts[c])*annealShrink)
		p[c] = co.perturb(x, shrink, r)
	}
	return p
}

// perturb draws a value near x, in a neighbourhood shrink times the
// prior's.
func (c *hoCoord) perturb(x, shrink float64, r *rand.Rand) float64 {
	if c.discrete {
		if r.Float64() < shrink {
			return c.sample(r)
		}
		return x
	}
	y := c.internal(x)
	if math.IsInf(c.low, 0) || math.IsInf(c.high, 0) {
		return c.external(y + c.sigma*shrink*r.NormFloat64())
	}
	half := 0.5 * (c.high - c.low) * shrink
	mid := min(max(y, c.low+half), c.high-half)
	y = min(max(mid-half+2*half*r.Float64(), c.low), c.high)
	return c.external(y)
}
