package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
)

// objective is a function to minimise over a box.
type objective struct {
	name   string
	params specs.SearchSpace
	min    float64
	f      func(x []float64) float64
}

func uniform(name string, low, high float64) specs.NamedHyperParam {
	return specs.NamedHyperParam{Name: name, HyperParam: specs.HyperParam{Kind: specs.HPUniform, Value: []any{low, high}}}
}

var objectives = []objective{
	{
		name:   "branin",
		params: specs.SearchSpace{uniform("x1", -5, 10), uniform("x2", 0, 15)},
		min:    0.397887,
		f:      branin,
	},
	{
		name: "hartmann6",
		params: specs.SearchSpace{
			uniform("x1", 0, 1), uniform("x2", 0, 1), uniform("x3", 0, 1),
			uniform("x4", 0, 1), uniform("x5", 0, 1), uniform("x6", 0, 1),
		},
		min: -3.32237,
		f:   hartmann6,
	},
}

func branin(x []float64) float64 {
	x1, x2 := x[0], x[1]
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	u := x2 - b*x1*x1 + c*x1 - 6
	return u*u + 10*(1-t)*math.Cos(x1) + 10
}

func hartmann6(x []float64) float64 {
	alpha := [4]float64{1.0, 1.2, 3.0, 3.2}
	a := [4][6]float64{
		{10, 3, 17, 3.5, 1.7, 8},
		{0.05, 10, 17, 0.1, 8, 14},
		{3, 3.5, 1.7, 10, 17, 8},
		{17, 8, 0.05, 10, 0.1, 14},
	}
	p := [4][6]float64{
		{1312, 1696, 5569, 124, 8283, 5886},
		{2329, 4135, 8307, 3736, 1004, 9991},
		{2348, 1451, 3522, 2883, 3047, 6650},
		{4047, 8828, 8732, 5743, 1091, 381},
	}
	sum := 0.0
	for i := range 4 {
		e := 0.0
		for j := range 6 {
			d := x[j] - p[i][j]*1e-4
			e += a[i][j] * d * d
		}
		sum += alpha[i] * math.Exp(-e)
	}
	return -sum
}

// optimiser builds the matrix of a search of evals evaluations.
type optimiser struct {
	name   string
	matrix func(params specs.SearchSpace, evals, initial int) specs.Matrix
}

var loss = &specs.OptimizationMetric{Name: "loss", Optimization: specs.Minimize}

var optimisers = []optimiser{
	{"random", func(params specs.SearchSpace, evals, _ int) specs.Matrix {
		return &specs.RandomMatrix{Kind: specs.MatrixRandom, Params: params, NumRuns: specs.Int(evals)}
	}},
	{"bayes", func(params specs.SearchSpace, evals, initial int) specs.Matrix {
		return &specs.BayesMatrix{Kind: specs.MatrixBayes, Params: params, Metric: loss,
			NumInitialRuns: specs.Int(initial), MaxIterations: specs.Int(evals - initial)}
	}},
	{"tpe", func(params specs.SearchSpace, evals, _ int) specs.Matrix {
		return &specs.HyperoptMatrix{Kind: specs.MatrixHyperopt, Params: params, Metric: loss, Algorithm: "tpe",
			NumRuns: specs.Int(1), MaxIterations: specs.Int(evals)}
	}},
}

func main() {
	seeds := flag.Int("seeds", 20, "runs of each search on each function, with seeds 0 .. seeds-1")
	evals := flag.Int("evals", 50, "evaluations of each run")
	initial := flag.Int("init", 10, "bayes' numInitialRuns (random runs before the first iteration)")
	obs := flag.Int("obs", 1000, "observations of the timed bayes suggestion")
	procs := flag.Int("procs", 1, "GOMAXPROCS while measuring")
	flag.Parse()
	log.SetFlags(0)
	if *seeds < 1 || *evals < 2 || *initial < 1 || *initial >= *evals || *obs < 1 || *procs < 1 {
		log.Fatal("need -seeds >= 1, -evals >= 2, 1 <= -init < -evals, -obs >= 1, -procs >= 1")
	}
	runtime.GOMAXPROCS(*procs)

	fmt.Printf("best value after %d evaluations, median over %d seeds (bayes: %d random + %d iterations; tpe: 1 trial per iteration)\n\n",
		*evals, *seeds, *initial, *evals-*initial)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "function\tsearch\tmedian best\tmedian regret\tbest regret\tworst regret\ttime/run\t")
	for _, o := range objectives {
		for _, opt := range optimisers {
			var regrets []float64
			var elapsed time.Duration
			var failed error
			for seed := range *seeds {
				start := time.Now()
				best, err := run(o, opt.matrix(o.params, *evals, *initial), int64(seed))
				elapsed += time.Since(start)
				if err != nil {
					failed = err
					break
				}
				regrets = append(regrets, best-o.min)
			}
			if failed != nil {
				fmt.Fprintf(w, "%s\t%s\tnot available: %v\t\t\t\t\t\n", o.name, opt.name, failed)
				continue
			}
			slices.Sort(regrets)
			med := median(regrets)
			fmt.Fprintf(w, "%s\t%s\t%.6f\t%.6f\t%.6f\t%.6f\t%s\t\n", o.name, opt.name, med+o.min, med,
				regrets[0], regrets[len(regrets)-1], round(elapsed/time.Duration(*seeds)))
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("\none bayes suggestion with %d observations (GOMAXPROCS %d)\n\n", *obs, *procs)
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "function\tdims\ttime\t")
	for _, o := range objectives {
		d, err := suggestionTime(o, *obs)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t\n", o.name, len(o.params), round(d))
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

// run drives the search of m to its end, one trial at a time, and
// returns the best value it found.
func run(o objective, m specs.Matrix, seed int64) (float64, error) {
	s, err := matrix.New("matrix", m, seed)
	if err != nil {
		return 0, err
	}
	var results []matrix.Result
	best := math.Inf(1)
	for {
		trials, done, err := s.Next(results, 1)
		if err != nil {
			return 0, err
		}
		for _, t := range trials {
			v, err := evaluate(o, t.Params)
			if err != nil {
				return 0, fmt.Errorf("trial %d: %w", t.Index, err)
			}
			best = math.Min(best, v)
			results = append(results, matrix.Result{Trial: t, Done: true, Succeeded: true, Metric: v, HasMetric: true})
		}
		if done {
			return best, nil
		}
		if len(trials) == 0 {
			return 0, fmt.Errorf("the search waits after %d trials, all of them done", len(results))
		}
	}
}

func evaluate(o objective, params map[string]any) (float64, error) {
	x := make([]float64, len(o.params))
	for k, p := range o.params {
		switch v := params[p.Name].(type) {
		case float64:
			x[k] = v
		case int:
			x[k] = float64(v)
		default:
			return 0, fmt.Errorf("param %s is %#v, not a number", p.Name, params[p.Name])
		}
	}
	return o.f(x), nil
}

// suggestionTime is how long bayes takes to suggest a point after n
// observations (its n initial runs, evaluated): the median of 3 times.
func suggestionTime(o objective, n int) (time.Duration, error) {
	m := &specs.BayesMatrix{Kind: specs.MatrixBayes, Params: o.params, Metric: loss,
		NumInitialRuns: specs.Int(n), MaxIterations: specs.Int(1)}
	s, err := matrix.New("matrix", m, 1)
	if err != nil {
		return 0, err
	}
	trials, _, err := s.Next(nil, n)
	if err != nil {
		return 0, err
	}
	results := make([]matrix.Result, 0, n)
	for _, t := range trials {
		v, err := evaluate(o, t.Params)
		if err != nil {
			return 0, err
		}
		results = append(results, matrix.Result{Trial: t, Done: true, Succeeded: true, Metric: v, HasMetric: true})
	}
	var times []time.Duration
	for range 3 {
		start := time.Now()
		next, _, err := s.Next(results, 1)
		times = append(times, time.Since(start))
		if err != nil {
			return 0, err
		}
		if len(next) != 1 {
			return 0, fmt.Errorf("%d trials suggested after %d observations, want 1", len(next), n)
		}
	}
	slices.Sort(times)
	return times[1], nil
}

// round keeps a duration's three leading digits or so.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
