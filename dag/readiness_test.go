package dag

import (
	"fmt"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

const (
	run Status = "running"
	ok         = Succeeded
	bad        = Failed
	skp        = Skipped
	stp        = Stopped
	upf        = UpstreamFailed
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		rule specs.Trigger
		skip bool
		ups  []Status
		want Decision
	}{
		{"", false, nil, Ready},
		// all_succeeded, the default
		{"", false, []Status{run, run}, Wait},
		{"", false, []Status{ok, run}, Wait},
		{"", false, []Status{ok, ok}, Ready},
		{"", false, []Status{ok, bad}, Unmet},
		{"", false, []Status{bad, run}, Wait}, // all_ rules wait for every upstream
		{"", false, []Status{ok, skp}, Unmet},
		{"", false, []Status{ok, stp}, Unmet},
		{"", false, []Status{ok, upf}, Unmet},
		{specs.TriggerAllSucceeded, false, []Status{ok, ok, ok}, Ready},
		// all_failed
		{specs.TriggerAllFailed, false, []Status{bad, run}, Wait},
		{specs.TriggerAllFailed, false, []Status{bad, bad}, Ready},
		{specs.TriggerAllFailed, false, []Status{bad, ok}, Unmet},
		{specs.TriggerAllFailed, false, []Status{bad, upf}, Unmet},
		// all_done
		{specs.TriggerAllDone, false, []Status{bad, run}, Wait},
		{specs.TriggerAllDone, false, []Status{bad, ok}, Ready},
		{specs.TriggerAllDone, false, []Status{skp, stp}, Ready},
		// one_succeeded: decided at the first upstream done
		{specs.TriggerOneSucceeded, false, []Status{run, run}, Wait},
		{specs.TriggerOneSucceeded, false, []Status{ok, run}, Ready},
		{specs.TriggerOneSucceeded, false, []Status{bad, run}, Unmet},
		{specs.TriggerOneSucceeded, false, []Status{bad, ok}, Ready},
		// one_failed: the alert branch
		{specs.TriggerOneFailed, false, []Status{run, run}, Wait},
		{specs.TriggerOneFailed, false, []Status{bad, run}, Ready},
		{specs.TriggerOneFailed, false, []Status{ok, run}, Unmet},
		{specs.TriggerOneFailed, false, []Status{upf, run}, Unmet},
		{specs.TriggerOneFailed, false, []Status{ok, ok}, Unmet},
		// one_done
		{specs.TriggerOneDone, false, []Status{run, run}, Wait},
		{specs.TriggerOneDone, false, []Status{stp, run}, Ready},
		{specs.TriggerOneDone, false, []Status{bad, run}, Ready},
		// skipOnUpstreamSkip: a skipped upstream skips, whatever the rule
		{"", true, []Status{skp, run}, Skip},
		{"", true, []Status{ok, skp}, Skip},
		{specs.TriggerAllDone, true, []Status{skp, ok}, Skip},
		{specs.TriggerOneSucceeded, true, []Status{ok, skp}, Skip},
		{specs.TriggerOneDone, true, []Status{skp}, Skip},
		{"", true, []Status{ok, ok}, Ready},
		// without it, a skipped upstream is simply not succeeded
		{specs.TriggerOneDone, false, []Status{skp}, Ready},
		{specs.TriggerAllDone, false, []Status{skp, skp}, Ready},
	} {
		t.Run(fmt.Sprintf("%s/skip=%v/%v", tc.rule, tc.skip, tc.ups), func(t *testing.T) {
			if got := Decide(tc.rule, tc.skip, tc.ups); got != tc.want {
				t.Fatalf("Decide = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDecideEveryCombination: for every rule and every pair of upstream
// statuses, the decision keeps the invariants of §6.3.
func TestDecideEveryCombination(t *testing.T) {
	all := []Status{Status("created"), Status("queued"), run, ok, bad, skp, stp, upf}
	for _, rule := range append([]specs.Trigger{""}, specs.Triggers...) {
		for _, skip := range []bool{false, true} {
			for _, a := range all {
				for _, b := range all {
					ups := []Status{a, b}
					got := Decide(rule, skip, ups)
					done := a.Final() || b.Final()
					switch {
					case !done && got != Wait:
						t.Errorf("%s %v %v: %s before any upstream is done", rule, skip, ups, got)
					case skip && (a == skp || b == skp) && got != Skip:
						t.Errorf("%s %v %v: %s with a skipped upstream, want skip", rule, skip, ups, got)
					case got == Skip && !skip:
						t.Errorf("%s %v %v: skipped without skipOnUpstreamSkip", rule, skip, ups)
					case (rule == "" || rule == specs.TriggerAllSucceeded || rule == specs.TriggerAllFailed || rule == specs.TriggerAllDone) &&
						!(a.Final() && b.Final()) && got != Wait && got != Skip:
						t.Errorf("%s %v %v: %s before every upstream is done", rule, skip, ups, got)
					}
				}
			}
		}
	}
}

func TestFinal(t *testing.T) {
	for _, tc := range []struct {
		stopped  bool
		children []Status
		want     Status
	}{
		{false, []Status{ok, ok}, ok},
		{false, []Status{ok, upf}, ok}, // an alert branch that never fired
		{false, []Status{ok, skp}, ok},
		{false, []Status{ok, bad, upf}, bad},
		{true, []Status{ok, bad}, stp},
	} {
		if got := Final(tc.stopped, tc.children); got != tc.want {
			t.Errorf("Final(%v, %v) = %s, want %s", tc.stopped, tc.children, got, tc.want)
		}
	}
}
