package matrix

import (
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func curve(values ...float64) Curve {
	c := make(Curve, len(values))
	for i, v := range values {
		c[i] = Point{Step: i + 1, Value: v}
	}
	return c
}

func policyOf(t *testing.T, opt specs.Optimization, policy specs.StoppingPolicy) *Policy {
	t.Helper()
	v := 0.0
	ps := Policies([]specs.EarlyStopping{
		&specs.FailureEarlyStopping{},
		&specs.MetricEarlyStopping{Metric: "loss", Value: &v, Optimization: "minimize"}, // no policy: not one
		&specs.MetricEarlyStopping{Metric: "loss", Value: &v, Optimization: opt, Policy: policy},
	})
	if len(ps) != 1 || ps[0].Metric() != "loss" {
		t.Fatalf("Policies gave %d", len(ps))
	}
	return ps[0]
}

func ip(n int) *int         { return &n }
func fp(f float64) *float64 { return &f }
func names(ok bool) string  { return map[bool]string{true: "stop", false: "go on"}[ok] }

// TestMedianStopping: a trial whose best so far is worse than the median
// of the ended trials' running averages stops, only at evaluation steps
// from minInterval on, and only with minSamples ended trials.
func TestMedianStopping(t *testing.T) {
	p := policyOf(t, "minimize", &specs.MedianStoppingPolicy{EvaluationInterval: ip(2), MinInterval: ip(2), MinSamples: ip(2)})
	ended := []Curve{curve(1, 0.5, 0.4, 0.3), curve(0.9, 0.6, 0.5, 0.4), curve(2, 1.8, 1.6, 1.5)}
	// Running averages at step 2: 0.75, 0.75, 1.9: median 0.75.
	for _, tc := range []struct {
		cur   Curve
		ended []Curve
		stop  bool
	}{
		{curve(3, 2), ended, true},       // best 2 > 0.75
		{curve(3, 0.7), ended, false},    // best 0.7 < 0.75
		{curve(3), ended, false},         // step 1 < minInterval
		{curve(3, 2, 2), ended, false},   // step 3: not an evaluation step
		{curve(3, 2, 2, 2), ended, true}, // step 4: averages 0.55, 0.6, 1.725: median 0.6
		{curve(3, 2), ended[:1], false},  // one ended trial: fewer than minSamples
	} {
		if got, why := p.Judge(tc.cur, tc.ended, nil); got != tc.stop {
			t.Errorf("%v with %d ended: %s (%s), want %s", tc.cur, len(tc.ended), names(got), why, names(tc.stop))
		}
	}
	// Maximising, the direction turns.
	p = policyOf(t, "maximize", &specs.MedianStoppingPolicy{EvaluationInterval: ip(1)})
	if stop, _ := p.Judge(curve(0.2), []Curve{curve(0.5), curve(0.6)}, nil); !stop {
		t.Error("maximising: 0.2 under a median of 0.55 goes on")
	}
	if stop, _ := p.Judge(curve(0.9), []Curve{curve(0.5), curve(0.6)}, nil); stop {
		t.Error("maximising: 0.9 over a median of 0.55 stops")
	}
}

// TestTruncationStopping: the worst percent of the trials that reached a
// step stop, the trial judged among them.
func TestTruncationStopping(t *testing.T) {
	p := policyOf(t, "minimize", &specs.TruncationStoppingPolicy{Percent: fp(25), EvaluationInterval: ip(1)})
	ended := []Curve{curve(1, 0.5), curve(2, 0.6)}
	running := []Curve{curve(3, 0.7), curve(4)} // the last has not reached step 2
	if stop, why := p.Judge(curve(5, 0.9), ended, running); !stop {
		t.Errorf("0.9, the worst of 4 at step 2, goes on: %s", why)
	} else if !strings.Contains(why, "worst 25% of the 4 trials") {
		t.Errorf("reason %q", why)
	}
	if stop, _ := p.Judge(curve(5, 0.65), ended, running); stop {
		t.Error("0.65, third of 4 at step 2, stops")
	}
	p = policyOf(t, "minimize", &specs.TruncationStoppingPolicy{Percent: fp(10), EvaluationInterval: ip(1)})
	if stop, _ := p.Judge(curve(5, 0.9), ended, running); stop {
		t.Error("10% of 4 trials is none, yet a trial stops")
	}
}

// TestDiffStopping: a trial more than percent worse than the best ended
// trial stops.
func TestDiffStopping(t *testing.T) {
	p := policyOf(t, "minimize", &specs.DiffStoppingPolicy{Percent: fp(50), EvaluationInterval: ip(1)})
	ended := []Curve{curve(2, 1), curve(3, 1.2)}
	for _, tc := range []struct {
		cur  Curve
		stop bool
	}{{curve(4, 1.6), true}, {curve(4, 1.4), false}, {curve(1.6), true}, {curve(1.4), false}} {
		// At step 1 the best ended is 2 (gap 1): 1.6 and 1.4 are within it.
		want := tc.stop
		if len(tc.cur) == 1 {
			want = false
		}
		if got, why := p.Judge(tc.cur, ended, nil); got != want {
			t.Errorf("%v: %s (%s), want %s", tc.cur, names(got), why, names(want))
		}
	}
}

// TestParseMetricLine: name=value pairs, the step from step= or the
// ordinal; other lines and bad numbers give nothing.
func TestParseMetricLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Point
		ok   bool
	}{
		{"epoch=3 loss=0.42 acc=0.9", Point{7, 0.42}, true},
		{"step=12 loss=1e-3,", Point{12, 0.001}, true},
		{"loss = 0.4", Point{}, false},
		{"val_loss=0.4", Point{}, false},
		{"loss=NaN", Point{}, false},
		{"training with lr=0.1", Point{}, false},
	} {
		got, ok := ParseMetricLine(tc.line, "loss", 7)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("%q: %v %v, want %v %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}
