package matrix

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func ptrInt(v int) *specs.IntOrRef { return &specs.IntOrRef{Value: v} }

// TestTunedIterations: a tuner is asked for iteration k once every trial
// of the iterations before it has ended; its suggestions become the
// trials numbered after those; the search ends after maxIterations, or
// at a tuner that suggests nothing.
func TestTunedIterations(t *testing.T) {
	tu, err := NewTuned("matrix", &specs.IterativeMatrix{Kind: specs.MatrixIterative, MaxIterations: ptrInt(3), Tuner: &specs.Tuner{HubRef: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	var results []Result
	if k := tu.Ask(results); k != 0 {
		t.Fatalf("first ask %d", k)
	}
	if trials, done, _ := tu.Next(results, 10); len(trials) != 0 || done {
		t.Fatalf("before an answer: %v %v", trials, done)
	}
	tu.Answer(0, []map[string]any{{"lr": 0.1}, {"lr": 0.2}})
	trials, done, _ := tu.Next(results, 1) // the limit holds
	if len(trials) != 1 || done || trials[0].Index != 0 || trials[0].Group != "iteration 0" {
		t.Fatalf("limited: %+v %v", trials, done)
	}
	results = append(results, Result{Trial: trials[0]})
	trials, _, _ = tu.Next(results, 10)
	if len(trials) != 1 || trials[0].Index != 1 || fmt.Sprint(trials[0].Params) != "map[lr:0.2]" {
		t.Fatalf("second: %+v", trials)
	}
	results = append(results, Result{Trial: trials[0]})
	if k := tu.Ask(results); k != -1 {
		t.Fatalf("asked %d while trials run", k)
	}
	results[0].Done, results[0].Succeeded, results[0].Metric, results[0].HasMetric = true, true, 0.5, true
	if k := tu.Ask(results); k != -1 {
		t.Fatalf("asked %d while a trial runs", k)
	}
	results[1].Done = true
	if k := tu.Ask(results); k != 1 {
		t.Fatalf("ask %d, want 1", k)
	}
	obs := tu.Observations(results, []string{"succeeded", "failed"}, map[int]map[string]any{0: {"loss": 0.5}})
	if len(obs) != 2 || obs[0].Metric == nil || *obs[0].Metric != 0.5 || obs[1].Metric != nil || obs[1].Status != "failed" || obs[1].Iteration != 0 || obs[0].Outputs["loss"] != 0.5 {
		t.Fatalf("observations %+v", obs)
	}
	tu.Answer(1, []map[string]any{{"lr": 0.3}})
	trials, done, _ = tu.Next(results, 10)
	if len(trials) != 1 || trials[0].Index != 2 || done || tu.Iteration(2) != 1 {
		t.Fatalf("iteration 1: %+v %v", trials, done)
	}
	results = append(results, Result{Trial: trials[0], Done: true})
	if k := tu.Ask(results); k != 2 {
		t.Fatalf("ask %d, want 2", k)
	}
	tu.Answer(2, []map[string]any{{"lr": 0.4}})
	trials, done, _ = tu.Next(results, 10)
	if len(trials) != 1 || !done {
		t.Fatalf("last iteration: %+v %v", trials, done)
	}
	results = append(results, Result{Trial: trials[0], Done: true})
	if k := tu.Ask(results); k != -1 || tu.Total() != 4 {
		t.Fatalf("after the last: ask %d, total %d", k, tu.Total())
	}

	// A tuner that suggests nothing ends the search.
	tu, _ = NewTuned("matrix", &specs.IterativeMatrix{MaxIterations: ptrInt(5), Tuner: &specs.Tuner{HubRef: "t"}})
	tu.Answer(0, nil)
	if trials, done, _ := tu.Next(nil, 10); len(trials) != 0 || !done || tu.Ask(nil) != -1 {
		t.Fatalf("empty answer: %v %v %d", trials, done, tu.Ask(nil))
	}
}

// TestTunedIterationCounts: how often the tuner runs, by kind; and what
// is refused.
func TestTunedIterationCounts(t *testing.T) {
	eta := 3.0
	tuner := &specs.Tuner{HubRef: "t"}
	for name, tc := range map[string]struct {
		m    specs.Matrix
		want int
		err  string
	}{
		"iterative":          {m: &specs.IterativeMatrix{MaxIterations: ptrInt(4), Tuner: tuner}, want: 4},
		"iterative no tuner": {m: &specs.IterativeMatrix{MaxIterations: ptrInt(4)}, err: "matrix.tuner: a matrix of kind iterative needs a tuner component"},
		"bayes":              {m: &specs.BayesMatrix{MaxIterations: ptrInt(7), Tuner: tuner}, want: 8},
		"hyperopt default":   {m: &specs.HyperoptMatrix{Tuner: tuner}, want: 1},
		// R=81, eta=3: s_max 4, brackets of 5, 4, 3, 2, 1 rungs.
		"hyperband":   {m: &specs.HyperbandMatrix{MaxIterations: ptrInt(81), Eta: &eta, Tuner: tuner}, want: 15},
		"iterative 0": {m: &specs.IterativeMatrix{MaxIterations: ptrInt(0), Tuner: tuner}, err: "matrix.maxIterations: must be at least 1"},
		"grid":        {m: &specs.GridMatrix{}, err: "needs a tuner"},
	} {
		tu, err := NewTuned("matrix", tc.m)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %v, want %q", name, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", name, err)
		case tu.Iterations != tc.want:
			t.Errorf("%s: %d iterations, want %d", name, tu.Iterations, tc.want)
		}
	}
}
