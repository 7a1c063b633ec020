package dag

import "github.com/plexus-ml/plexus/specs"

// Status is a run's status by its Polyaxon name, as the engine's store
// keeps it; the package needs only the final ones.
type Status string

// The statuses that end a run.
const (
	Succeeded      Status = "succeeded"
	Failed         Status = "failed"
	Stopped        Status = "stopped"
	Skipped        Status = "skipped"
	UpstreamFailed Status = "upstream_failed"
)

// Final reports whether the status ends a run.
func (s Status) Final() bool {
	switch s {
	case Succeeded, Failed, Stopped, Skipped, UpstreamFailed:
		return true
	}
	return false
}

// Decision is what becomes of an operation that has not started.
type Decision int

// Decisions.
const (
	// Wait: not decided yet; ask again when an upstream changes.
	Wait Decision = iota
	// Ready: the operation starts.
	Ready
	// Skip: the operation is skipped (an upstream was skipped and it
	// skips on upstream skip).
	Skip
	// Unmet: its trigger rule can no longer be met; it becomes
	// upstream_failed.
	Unmet
)

func (d Decision) String() string {
	return [...]string{"wait", "ready", "skip", "upstream_failed"}[d]
}

// Decide applies an operation's trigger rule (all_succeeded when empty) to
// its upstreams' statuses, as the reference scheduler does (spec §6.3):
//
//   - nothing is decided until at least one upstream is done;
//   - with skipOnUpstreamSkip, a skipped upstream skips the operation at
//     once, whatever the rule;
//   - one_done starts it; one_succeeded and one_failed start it if an
//     upstream has that status, and otherwise mark it upstream_failed;
//   - the all_ rules wait until every upstream is done, then all_done
//     starts it, and all_succeeded and all_failed start it only if every
//     upstream has that status, else mark it upstream_failed.
//
// An operation without upstreams is ready.
func Decide(rule specs.Trigger, skipOnUpstreamSkip bool, upstreams []Status) Decision {
	var c counts
	for _, s := range upstreams {
		c.add(s)
	}
	return decide(rule, skipOnUpstreamSkip, len(upstreams), c)
}

// counts are the final statuses among an operation's upstreams: what
// its trigger rule reads, kept up to date as upstreams end whatever the
// fan-in.
type counts struct{ done, succeeded, failed, skipped int }

func (c *counts) add(s Status) {
	if !s.Final() {
		return
	}
	c.done++
	switch s {
	case Succeeded:
		c.succeeded++
	case Failed:
		c.failed++
	case Skipped:
		c.skipped++
	}
}

// decide is Decide over counts of total upstreams.
func decide(rule specs.Trigger, skipOnUpstreamSkip bool, total int, c counts) Decision {
	if total == 0 {
		return Ready
	}
	if skipOnUpstreamSkip && c.skipped > 0 {
		return Skip
	}
	if c.done == 0 {
		return Wait
	}
	switch rule {
	case specs.TriggerOneDone:
		return Ready
	case specs.TriggerOneSucceeded:
		return readyIf(c.succeeded > 0)
	case specs.TriggerOneFailed:
		return readyIf(c.failed > 0)
	}
	if c.done < total {
		return Wait
	}
	switch rule {
	case specs.TriggerAllDone:
		return Ready
	case specs.TriggerAllFailed:
		return readyIf(c.failed == total)
	}
	return readyIf(c.succeeded == total) // all_succeeded, the default
}

func readyIf(ok bool) Decision {
	if ok {
		return Ready
	}
	return Unmet
}

// Final is a finished dag's own status from its operations': stopped if
// the dag was stopped, failed if an operation failed, else succeeded. An
// operation that never ran because its rule was not met (upstream_failed,
// say an alert branch on one_failed) does not fail a healthy pipeline.
func Final(stopped bool, children []Status) Status {
	if stopped {
		return Stopped
	}
	for _, s := range children {
		if s == Failed {
			return Failed
		}
	}
	return Succeeded
}
