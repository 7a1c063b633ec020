package matrix

import (
	"fmt"

	"github.com/plexus-ml/plexus/specs"
)

// Tuned is the search of a matrix whose suggestions a tuner component
// makes (the matrix's `tuner`, or any `iterative` matrix): an iteration
// runs the tuner, with the observations so far, then the trials it
// suggested; the next iteration starts once every one of them has ended.
// The engine runs the tuners; Tuned decides when one is due (Ask), takes
// its answer (Answer) and numbers the trials it suggested after those of
// the iterations before it, so a search rebuilt from the runs (the tuners'
// outputs, the trials' params) answers the same.
//
// It stops after Iterations iterations, or at the first tuner that
// suggests nothing.
type Tuned struct {
	// Iterations is how many times the tuner runs at most.
	Iterations int
	// answers are the tuners' suggestions, by iteration; a nil entry is a
	// tuner that has not answered.
	answers [][]map[string]any
}

// TunerOf returns a matrix's tuner, if it has one. An iterative matrix
// without one is an error: nothing else makes its suggestions.
func TunerOf(m specs.Matrix) *specs.Tuner {
	switch m := m.(type) {
	case *specs.IterativeMatrix:
		return m.Tuner
	case *specs.HyperbandMatrix:
		return m.Tuner
	case *specs.BayesMatrix:
		return m.Tuner
	case *specs.HyperoptMatrix:
		return m.Tuner
	}
	return nil
}

// NewTuned returns the search of a matrix with a tuner. The tuner runs
// maxIterations times (iterative, hyperopt: once when it gives none;
// bayes: once more, first, for the initial runs), and for hyperband once
// per rung of its brackets, each iteration being one rung as the built-in
// hyperband runs them.
func NewTuned(at specs.Path, m specs.Matrix) (*Tuned, error) {
	if TunerOf(m) == nil {
		return nil, fmt.Errorf("%s: a matrix of kind %s needs a tuner component (tuner.hubRef) to make its suggestions", at.Child("tuner"), m.MatrixKind())
	}
	var n int
	var err error
	switch m := m.(type) {
	case *specs.IterativeMatrix:
		n, err = count(at.Child("maxIterations"), m.MaxIterations, -1, 1)
	case *specs.BayesMatrix:
		// Its first iteration suggests the initial runs, as the built-in
		// bayes starts with numInitialRuns random ones.
		n, err = count(at.Child("maxIterations"), m.MaxIterations, 1, 1)
		n++
	case *specs.HyperoptMatrix:
		n, err = count(at.Child("maxIterations"), m.MaxIterations, 1, 1)
	case *specs.HyperbandMatrix:
		var sMax int
		if _, _, sMax, err = brackets(at, m); err == nil {
			n = (sMax + 1) * (sMax + 2) / 2 // bracket s has s+1 rungs
		}
	default:
		return nil, fmt.Errorf("%s: a matrix of kind %s does not take a tuner", at.Child("tuner"), m.MatrixKind())
	}
	if err != nil {
		return nil, err
	}
	return &Tuned{Iterations: n}, nil
}

// Answer records the suggestions of iteration k's tuner. Every
// suggestion is a trial's params.
func (t *Tuned) Answer(k int, suggestions []map[string]any) {
	for len(t.answers) <= k {
		t.answers = append(t.answers, nil)
	}
	if suggestions == nil {
		suggestions = []map[string]any{}
	}
	t.answers[k] = suggestions
}

// Answered says whether iteration k's tuner has answered.
func (t *Tuned) Answered(k int) bool { return k < len(t.answers) && t.answers[k] != nil }

// Ask is the iteration whose tuner is due given the trials so far: the
// first not answered, once every trial of the iterations before it has
// ended; -1 when none is (one is waited for, or the search is over).
func (t *Tuned) Ask(results []Result) int {
	n := 0
	for k := 0; k < t.Iterations; k++ {
		if !t.Answered(k) {
			for _, r := range results[:min(n, len(results))] {
				if !r.Done {
					return -1
				}
			}
			if n > len(results) {
				return -1 // its trials are not all suggested yet
			}
			return k
		}
		if len(t.answers[k]) == 0 {
			return -1 // the tuner ended the search
		}
		n += len(t.answers[k])
	}
	return -1
}

// Iteration is the iteration trial i belongs to, -1 if no answer holds
// it yet.
func (t *Tuned) Iteration(i int) int {
	for k, a := range t.answers {
		if a == nil {
			return -1
		}
		if i < len(a) {
			return k
		}
		i -= len(a)
	}
	return -1
}

// Next returns the answered suggestions not yet in results, as trials
// numbered after them. It is done once the last iteration has answered,
// or a tuner suggested nothing.
func (t *Tuned) Next(results []Result, limit int) ([]Trial, bool, error) {
	var trials []Trial
	i := 0
	for k := 0; k < t.Iterations; k++ {
		if !t.Answered(k) {
			return trials, false, nil
		}
		if len(t.answers[k]) == 0 {
			break // the tuner ended the search
		}
		for _, params := range t.answers[k] {
			if i >= len(results) && len(trials) < limit {
				trials = append(trials, Trial{Index: i, Params: params, Group: fmt.Sprintf("iteration %d", k)})
			}
			i++
		}
	}
	return trials, i <= len(results)+len(trials), nil
}

// Total is the trials the answers so far hold; more may follow.
func (t *Tuned) Total() int {
	n := 0
	for _, a := range t.answers {
		n += len(a)
	}
	return n
}

// Observation is what a tuner is told of one trial.
type Observation struct {
	Index     int            `json:"index"`
	Iteration int            `json:"iteration"`
	Params    map[string]any `json:"params"`
	Status    string         `json:"status"`
	// Metric is the matrix's metric the trial gave, nil if none.
	Metric  *float64       `json:"metric"`
	Outputs map[string]any `json:"outputs,omitempty"`
}

// Observations are what the tuner of an iteration is given: every trial
// so far, in order, with what became of it (status: succeeded, failed,
// stopped, ...), and outputs[i], trial i's outputs, if known.
func (t *Tuned) Observations(results []Result, statuses []string, outputs map[int]map[string]any) []Observation {
	obs := make([]Observation, 0, len(results))
	for i, r := range results {
		o := Observation{Index: i, Iteration: t.Iteration(i), Params: r.Params, Outputs: outputs[i]}
		if i < len(statuses) {
			o.Status = statuses[i]
		}
		if r.HasMetric {
			v := r.Metric
			o.Metric = &v
		}
		obs = append(obs, o)
	}
	return obs
}

// IsTuned says whether a matrix's suggestions come from a tuner: it has
// one, or is iterative (which only a tuner drives).
func IsTuned(m specs.Matrix) bool {
	return TunerOf(m) != nil || m != nil && m.MatrixKind() == specs.MatrixIterative
}
