package engine

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's Prometheus collectors.
type metrics struct {
	transitions *prometheus.CounterVec
	dispatch    prometheus.Histogram
	leader      prometheus.Gauge
	queueDepth  prometheus.GaugeFunc
	orphans     prometheus.Gauge
	panics      prometheus.Counter
}

func newMetrics(current *atomic.Pointer[leading]) *metrics {
	return &metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plexus_run_transitions_total", Help: "Run status changes the leader saw, by new status.",
		}, []string{"status"}),
		dispatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "plexus_dispatch_latency_seconds", Help: "Time from a run's creation to its dispatch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plexus_leader", Help: "1 while this engine leads, else 0.",
		}),
		orphans: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plexus_orphaned_attempts", Help: "Attempts the executor holds whose run the store does not know (last sweep).",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plexus_recovered_panics_total", Help: "Panics recovered while handling a run (each failed that run, not the engine).",
		}),
		queueDepth: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plexus_reconcile_queue_depth", Help: "Runs waiting to be reconciled by this engine.",
		}, func() float64 {
			if l := current.Load(); l != nil {
				return float64(l.queue.len())
			}
			return 0
		}),
	}
}

// Collectors returns the engine's metrics, to register with a registry.
func (e *Engine) Collectors() []prometheus.Collector {
	m := e.metrics
	return []prometheus.Collector{m.transitions, m.dispatch, m.leader, m.queueDepth, m.orphans, m.panics}
}
