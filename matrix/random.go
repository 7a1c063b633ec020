package matrix

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/plexus-ml/plexus/specs"
)

// random samples numRuns distinct suggestions. When every param is
// discrete, numRuns is capped at the size of the space.
type random struct {
	dims  []Dim
	total int
	r     *rand.Rand
	// Sampling state, grown on demand: the trials drawn so far, the keys
	// of their params, and, for a space of discrete params without
	// weights, the indices already drawn (a sparse Fisher-Yates shuffle).
	trials []Trial
	seen   map[string]bool
	swaps  map[int]int
	size   int
	mode   int
}

const (
	modeReject  = iota // draw, drop what was drawn before
	modeShuffle        // draw indices of the product without replacement
)

// maxRejections bounds the draws spent finding a new suggestion: past it,
// the space is (near) exhausted and the search ends with fewer trials.
const maxRejections = 10000

func newRandom(at specs.Path, m *specs.RandomMatrix, seed int64) (*random, error) {
	if len(m.Params) == 0 {
		return nil, fmt.Errorf("%s: a random search needs at least one param", at.Child("params"))
	}
	dims, err := Dims(at.Child("params"), m.Params)
	if err != nil {
		return nil, err
	}
	numRuns, err := count(at.Child("numRuns"), m.NumRuns, -1, 1)
	if err != nil {
		return nil, err
	}
	return newRandomDims(dims, numRuns, seed), nil
}

func newRandomDims(dims []Dim, numRuns int, seed int64) *random {
	s := &random{dims: dims, total: numRuns, r: newRand(seed, 1), seen: map[string]bool{}, mode: modeReject}
	discrete, weighted := true, false
	for _, d := range dims {
		discrete = discrete && d.Discrete()
		weighted = weighted || d.Space.Kind == specs.HPPChoice
	}
	if discrete {
		s.size = spaceSize(dims)
		s.total = min(s.total, s.size)
		if !weighted {
			s.mode, s.swaps = modeShuffle, map[int]int{}
		}
	}
	return s
}

func (s *random) Total() int { return s.total }

func (s *random) Next(results []Result, limit int) ([]Trial, bool, error) {
	from := len(results)
	to := min(from+limit, s.total)
	for len(s.trials) < to {
		t, ok := s.draw(len(s.trials))
		if !ok {
			s.total = len(s.trials)
			to = min(to, s.total)
			break
		}
		s.trials = append(s.trials, t)
	}
	if from >= to {
		return nil, from >= s.total, nil
	}
	return s.trials[from:to], to == s.total, nil
}

func (s *random) draw(i int) (Trial, bool) {
	if s.mode == modeShuffle {
		// Index i of a virtual shuffle of 0..size-1.
		j := i + s.r.IntN(s.size-i)
		vi, vj := s.swapped(i), s.swapped(j)
		s.swaps[i], s.swaps[j] = vj, vi
		return Trial{Index: i, Params: pointAt(s.dims, vj)}, true
	}
	for range maxRejections {
		params := make(map[string]any, len(s.dims))
		for k := range s.dims {
			params[s.dims[k].Name] = s.dims[k].Sample(s.r)
		}
		key, err := json.Marshal(params)
		if err != nil || s.seen[string(key)] {
			continue
		}
		s.seen[string(key)] = true
		return Trial{Index: i, Params: params}, true
	}
	return Trial{}, false
}

func (s *random) swapped(i int) int {
	if v, ok := s.swaps[i]; ok {
		return v
	}
	return i
}

// pointAt is point i of the product of discrete dims, the last varying
// fastest.
func pointAt(dims []Dim, i int) map[string]any {
	params := make(map[string]any, len(dims))
	for k := len(dims) - 1; k >= 0; k-- {
		d := &dims[k]
		params[d.Name] = d.Values[i%len(d.Values)]
		i /= len(d.Values)
	}
	return params
}
