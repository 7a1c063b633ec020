package matrix

import (
	"fmt"
	"math"

	"github.com/plexus-ml/plexus/specs"
)

// grid is the cartesian product of discrete params in declaration order
// (the last param varies fastest, as itertools.product), cut to numRuns.
type grid struct {
	dims  []Dim
	total int
}

func newGrid(at specs.Path, m *specs.GridMatrix) (*grid, error) {
	for _, np := range m.Params {
		if np.Kind.IsDistribution() {
			return nil, fmt.Errorf("%s: %s defines a distribution, and it cannot be used with grid search",
				at.Child("params").Key(np.Name).Child("kind"), np.Kind)
		}
	}
	if len(m.Params) == 0 {
		return nil, fmt.Errorf("%s: a grid needs at least one param", at.Child("params"))
	}
	dims, err := Dims(at.Child("params"), m.Params)
	if err != nil {
		return nil, err
	}
	total := spaceSize(dims)
	numRuns, err := count(at.Child("numRuns"), m.NumRuns, 0, 1)
	if err != nil {
		return nil, err
	}
	if numRuns > 0 {
		total = min(total, numRuns)
	}
	return &grid{dims: dims, total: total}, nil
}

// spaceSize is the number of points of a space of discrete dims, capped at
// MaxInt.
func spaceSize(dims []Dim) int {
	n := 1
	for _, d := range dims {
		if len(d.Values) > 0 && n > math.MaxInt/len(d.Values) {
			return math.MaxInt
		}
		n *= len(d.Values)
	}
	return n
}

func (g *grid) Total() int { return g.total }

func (g *grid) Next(results []Result, limit int) ([]Trial, bool, error) {
	from := len(results)
	if from >= g.total {
		return nil, true, nil
	}
	to := min(from+limit, g.total)
	out := make([]Trial, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, Trial{Index: i, Params: pointAt(g.dims, i)})
	}
	return out, to == g.total, nil
}

// mapping runs one trial per given set of values.
type mapping struct {
	values []map[string]any
}

func newMapping(at specs.Path, m *specs.MappingMatrix) (*mapping, error) {
	if m.Values.Template != "" {
		return nil, fmt.Errorf("%s: %q was not rendered before the search started", at.Child("values"), m.Values.Template)
	}
	if len(m.Values.Items) == 0 {
		return nil, fmt.Errorf("%s: a mapping needs at least one set of values", at.Child("values"))
	}
	return &mapping{values: m.Values.Items}, nil
}

func (m *mapping) Total() int { return len(m.values) }

func (m *mapping) Next(results []Result, limit int) ([]Trial, bool, error) {
	from := len(results)
	if from >= len(m.values) {
		return nil, true, nil
	}
	to := min(from+limit, len(m.values))
	out := make([]Trial, 0, to-from)
	for i := from; i < to; i++ {
		params := make(map[string]any, len(m.values[i]))
		for k, v := range m.values[i] {
			params[k] = v
		}
		out = append(out, Trial{Index: i, Params: params})
	}
	return out, to == len(m.values), nil
}
