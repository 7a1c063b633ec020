package dag

import (
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func TestEvent(t *testing.T) {
	created, running := Status("created"), Status("running")
	for _, tc := range []struct {
		kinds   []specs.EventKind
		history []Status
		want    Decision
	}{
		{[]specs.EventKind{"run_status_running"}, nil, Wait},
		{[]specs.EventKind{"run_status_running"}, []Status{created}, Wait},
		{[]specs.EventKind{"run_status_running"}, []Status{created, running}, Ready},
		{[]specs.EventKind{"run_status_running"}, []Status{created, running, Succeeded}, Ready},
		{[]specs.EventKind{"run_status_running"}, []Status{created, Failed}, Unmet}, // never ran
		{[]specs.EventKind{"run_status_succeeded", "run_status_failed"}, []Status{created, running}, Wait},
		{[]specs.EventKind{"run_status_succeeded", "run_status_failed"}, []Status{created, running, Failed}, Ready},
		{[]specs.EventKind{"run_status_done"}, []Status{created, Stopped}, Ready},
		{[]specs.EventKind{"run_status_skipped"}, []Status{created, Succeeded}, Unmet},
		{[]specs.EventKind{"alert_critical"}, []Status{created, Succeeded}, Unmet},
	} {
		if got := Event(tc.kinds, tc.history); got != tc.want {
			t.Errorf("Event(%v, %v) = %s, want %s", tc.kinds, tc.history, got, tc.want)
		}
	}
}
