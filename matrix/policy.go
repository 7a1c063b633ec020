package matrix

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// The stopping policies of a metric_early_stopping entry (§5.4: median,
// truncation, diff) judge a running trial by the values of the metric it
// reports while it runs, against the other trials' at the same step. The
// reference accepts them and applies none; these are the rules they
// follow here. The engine reads the values from the trials' logs
// (ParseMetricLine) and stops the trials a policy judges.

// Point is one value a trial reported: at step Step (1, 2, ...).
type Point struct {
	Step  int
	Value float64
}

// Curve is the values a trial reported, in step order.
type Curve []Point

// at is the curve's value at step s: the last reported at or before s.
func (c Curve) at(s int) (float64, bool) {
	i, _ := slices.BinarySearchFunc(c, s, func(p Point, s int) int { return p.Step - s })
	if i < len(c) && c[i].Step == s {
		return c[i].Value, true
	}
	if i == 0 {
		return 0, false
	}
	return c[i-1].Value, true
}

// Policy is a stopping policy ready to judge trials.
type Policy struct {
	kind        string
	metric      string
	maximize    bool
	every       int     // evaluationInterval
	minInterval int     // no judgement before this step
	minSamples  int     // ended trials needed to judge
	percent     float64 // truncation, diff
}

// Policies are the stopping policies of a matrix's early stopping, in
// order; an entry without a policy is not one (MetricStop applies it).
func Policies(es []specs.EarlyStopping) []*Policy {
	var out []*Policy
	for _, e := range es {
		m, ok := e.(*specs.MetricEarlyStopping)
		if !ok || m.Policy == nil {
			continue
		}
		p := &Policy{kind: m.Policy.PolicyKind(), metric: m.Metric, maximize: Maximize(m.Optimization), every: 1}
		set := func(every, minInterval, minSamples *int, percent *float64) {
			if every != nil && *every > 0 {
				p.every = *every
			}
			if minInterval != nil {
				p.minInterval = *minInterval
			}
			if minSamples != nil {
				p.minSamples = *minSamples
			}
			if percent != nil {
				p.percent = *percent
			}
		}
		switch sp := m.Policy.(type) {
		case *specs.MedianStoppingPolicy:
			set(sp.EvaluationInterval, sp.MinInterval, sp.MinSamples, nil)
		case *specs.TruncationStoppingPolicy:
			set(sp.EvaluationInterval, sp.MinInterval, sp.MinSamples, sp.Percent)
		case *specs.DiffStoppingPolicy:
			set(sp.EvaluationInterval, sp.MinInterval, sp.MinSamples, sp.Percent)
		}
		out = append(out, p)
	}
	return out
}

// Metric is the name of the metric the policy reads.
func (p *Policy) Metric() string { return p.metric }

// better says whether a is better than b in the policy's direction.
func (p *Policy) better(a, b float64) bool {
	if p.maximize {
		return a > b
	}
	return a < b
}

// best is the best value of a curve up to step s.
func (p *Policy) best(c Curve, s int) (float64, bool) {
	var v float64
	ok := false
	for _, pt := range c {
		if pt.Step > s {
			break
		}
		if !ok || p.better(pt.Value, v) {
			v, ok = pt.Value, true
		}
	}
	return v, ok
}

// Judge says whether a running trial whose values so far are cur should
// stop now, and why. ended are the curves of the trials that ended
// succeeded; running those of the other trials running (truncation ranks
// them too). A trial is judged at its last step s when s is at least
// minInterval and a multiple of evaluationInterval, and only once
// minSamples trials have ended:
//   - median: when its best value up to s is worse than the median of the
//     ended trials' running averages up to s (Golovin et al. 2017);
//   - truncation: when its value at s is among the worst percent of the
//     values at s of all the trials that reached s (it with them);
//   - diff: when its best value up to s is worse than the best ended
//     trial's value at s by more than percent of that value.
func (p *Policy) Judge(cur Curve, ended, running []Curve) (bool, string) {
	if len(cur) == 0 {
		return false, ""
	}
	s := cur[len(cur)-1].Step
	if s < p.minInterval || s%p.every != 0 || len(ended) < max(p.minSamples, 1) {
		return false, ""
	}
	mine, _ := p.best(cur, s)
	switch p.kind {
	case "median":
		var avgs []float64
		for _, c := range ended {
			sum, n := 0.0, 0
			for _, pt := range c {
				if pt.Step > s {
					break
				}
				sum, n = sum+pt.Value, n+1
			}
			if n > 0 {
				avgs = append(avgs, sum/float64(n))
			}
		}
		if len(avgs) < max(p.minSamples, 1) {
			return false, ""
		}
		med := median(avgs)
		if p.better(med, mine) {
			return true, fmt.Sprintf("its best %s %v by step %d is worse than the median %v of the running averages of %d ended trials (median stopping)", p.metric, mine, s, med, len(avgs))
		}
	case "truncation":
		v, _ := cur.at(s)
		values := []float64{v}
		for _, group := range [][]Curve{ended, running} {
			for _, c := range group {
				if w, ok := c.at(s); ok && len(c) > 0 && c[len(c)-1].Step >= s {
					values = append(values, w)
				}
			}
		}
		// The worst k values, k = floor(percent% of them): v stops if it
		// is worse than all but k-1 of the others.
		k := int(math.Floor(p.percent / 100 * float64(len(values))))
		if k == 0 {
			return false, ""
		}
		worse := 0
		for _, w := range values[1:] {
			if p.better(v, w) {
				worse++ // w is worse than v
			}
		}
		if worse < k {
			return true, fmt.Sprintf("its %s %v at step %d is among the worst %v%% of the %d trials that reached it (truncation stopping)", p.metric, v, s, p.percent, len(values))
		}
	case "diff":
		var top float64
		found := false
		for _, c := range ended {
			if w, ok := p.best(c, s); ok && (!found || p.better(w, top)) {
				top, found = w, true
			}
		}
		if !found {
			return false, ""
		}
		gap := math.Abs(top) * p.percent / 100
		if p.maximize && mine < top-gap || !p.maximize && mine > top+gap {
			return true, fmt.Sprintf("its best %s %v by step %d is more than %v%% worse than the best ended trial's %v (diff stopping)", p.metric, mine, s, p.percent, top)
		}
	}
	return false, ""
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ParseMetricLine reads the value of metric from one line of a trial's
// log, written as `name=value` pairs separated by spaces (`epoch=3
// loss=0.42 acc=0.9`), as Katib's stdout collector reads them. The step is
// the line's `step=` value when it has one, else ordinal (the count of the
// metric's reports so far, this one included).
func ParseMetricLine(line, metric string, ordinal int) (Point, bool) {
	var value float64
	found := false
	step := ordinal
	for _, field := range strings.Fields(line) {
		name, raw, ok := strings.Cut(field, "=")
		if !ok {
			continue
		}
		raw = strings.TrimRight(raw, ",;")
		switch name {
		case metric:
			v, err := strconv.ParseFloat(raw, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return Point{}, false
			}
			value, found = v, true
		case "step":
			if n, err := strconv.Atoi(raw); err == nil && n > 0 {
				step = n
			}
		}
	}
	return Point{Step: step, Value: value}, found
}
