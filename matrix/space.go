package matrix

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/plexus-ml/plexus/specs"
)

// Dim is one param of a search space, parsed and ready to sample.
type Dim struct {
	Name  string
	Space *specs.Space
	// Values lists the values of a discrete space in order (nil for a
	// continuous distribution).
	Values []any
}

// Discrete reports whether the dim has a finite list of values.
func (d *Dim) Discrete() bool { return d.Space.Kind.IsDiscrete() }

// Dims parses every param of a search space, in declaration order. An
// error names the param (matrix.params.NAME).
func Dims(at specs.Path, space specs.SearchSpace) ([]Dim, error) {
	dims := make([]Dim, 0, len(space))
	for _, np := range space {
		p := at.Key(np.Name)
		s, err := specs.ParseSpace(np.Kind, np.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		d := Dim{Name: np.Name, Space: s}
		if s.Kind.IsDiscrete() {
			if d.Values, err = s.Enumerate(); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if len(d.Values) == 0 {
				return nil, fmt.Errorf("%s: %s has no values", p, s.Kind)
			}
		}
		dims = append(dims, d)
	}
	return dims, nil
}

// newRand returns the generator of a search: seed and stream select
// independent sequences (a search that needs several uses one stream
// each).
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream^0x9e3779b97f4a7c15))
}

// Sample draws one value of the dim: a value of a discrete space, each as
// likely (a pchoice, by its weights), or a draw of a distribution with the
// reference's semantics: loguniform is exp(uniform(low, high)), lognormal
// is exp(normal(loc, scale)), and a q kind is floor(x / q) * q. A
// distribution with a size gives a list of that many draws.
func (d *Dim) Sample(r *rand.Rand) any {
	s := d.Space
	switch {
	case s.Kind == specs.HPPChoice:
		return pick(s.Weighted, r.Float64())
	case d.Discrete():
		return d.Values[r.IntN(len(d.Values))]
	}
	if s.Size != nil {
		out := make([]any, *s.Size)
		for i := range out {
			out[i] = draw(s, r)
		}
		return out
	}
	return draw(s, r)
}

// pick is the weighted value that u (in [0, 1)) falls on; weights that
// sum to less than 1 are scaled up, as a multinomial draw normalises.
func pick(ws []specs.WeightedValue, u float64) any {
	sum := 0.0
	for _, w := range ws {
		sum += w.P
	}
	if sum <= 0 {
		return ws[int(u*float64(len(ws)))].Value
	}
	acc := 0.0
	for _, w := range ws {
		acc += w.P / sum
		if u < acc {
			return w.Value
		}
	}
	return ws[len(ws)-1].Value
}

// draw samples a continuous distribution once.
func draw(s *specs.Space, r *rand.Rand) float64 {
	var x float64
	switch s.Kind {
	case specs.HPUniform, specs.HPQUniform:
		x = s.Low + (s.High-s.Low)*r.Float64()
	case specs.HPLogUniform, specs.HPQLogUniform:
		x = math.Exp(s.Low + (s.High-s.Low)*r.Float64())
	case specs.HPNormal, specs.HPQNormal:
		x = s.Loc + s.Scale*r.NormFloat64()
	case specs.HPLogNormal, specs.HPQLogNormal:
		x = math.Exp(s.Loc + s.Scale*r.NormFloat64())
	}
	return Quantize(s, x)
}

// Quantize applies a q kind's step to x: floor(x / q) * q, as the
// reference does; other kinds are returned as they are.
func Quantize(s *specs.Space, x float64) float64 {
	switch s.Kind {
	case specs.HPQUniform, specs.HPQLogUniform, specs.HPQNormal, specs.HPQLogNormal:
		if s.Q > 0 {
			return math.Floor(x/s.Q) * s.Q
		}
	}
	return x
}

// toFloat reads a number of any Go type (or a json.Number); not a string.
func toFloat(v any) (float64, bool) {
	if _, ok := v.(string); ok {
		return 0, false
	}
	return specs.Number(v)
}

// valueKey identifies a value whatever the Go type it was decoded into:
// a string as it is, another by its JSON form (an int and the float64 it
// became in JSON have the same key).
func valueKey(v any) string {
	if s, ok := v.(string); ok {
		return "s" + s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T:%v", v, v)
	}
	return "j" + string(b)
}
