package matrix

import (
	"fmt"

	"github.com/plexus-ml/plexus/specs"
)

// MetricStop says why a succeeded run's outputs stop its matrix or dag
// early, or "": by a metric_early_stopping entry without policy (spec
// §5.4), when the output named by the entry's metric reaches its value
// (at least it when maximising, at most when minimising). who names the
// run in the reason. The entries are OR-ed.
func MetricStop(policies []specs.EarlyStopping, who string, outputs map[string]any) string {
	for _, es := range policies {
		m, ok := es.(*specs.MetricEarlyStopping)
		if !ok || m.Policy != nil || m.Value == nil {
			continue
		}
		v, ok := Number(outputs[m.Metric])
		if !ok {
			continue
		}
		if Maximize(m.Optimization) && v >= *m.Value || !Maximize(m.Optimization) && v <= *m.Value {
			return fmt.Sprintf("%s gave %s = %v, which reaches %v (%s)", who, m.Metric, v, *m.Value, m.Optimization)
		}
	}
	return ""
}

// FailureStop says why failed runs stop their matrix or dag early, or "":
// by failure_early_stopping, when at least one of all runs failed and the
// failed share is at least the smallest percent of every such entry
// (percent is a percentage: 0.1 is one in a thousand). what names the
// runs in the reason ("trials", "operations").
func FailureStop(policies []specs.EarlyStopping, failed, all int, what string) string {
	pct := -1.0
	for _, es := range policies {
		if f, ok := es.(*specs.FailureEarlyStopping); ok && f.Percent != nil && (pct < 0 || *f.Percent < pct) {
			pct = *f.Percent
		}
	}
	if pct < 0 || failed == 0 || all == 0 {
		return ""
	}
	if share := float64(failed) * 100 / float64(all); share >= pct {
		return fmt.Sprintf("%d of %d %s failed (%.1f%%), at least %v%%", failed, all, what, share, pct)
	}
	return ""
}

// Number reads an output as a number: any Go number, a json.Number or a
// numeric string.
func Number(v any) (float64, bool) { return specs.Number(v) }
