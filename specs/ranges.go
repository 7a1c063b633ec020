package specs

import (
	"math"
	"time"
)

// Numbers in range. A number a Polyaxonfile gives is an int here, but what
// it becomes is narrower: Kubernetes keeps a Job's backoffLimit and
// ttlSecondsAfterFinished, and replicas, in an int32, and the engine and
// the local executor turn seconds into a time.Duration, which holds about
// 292 years. A number that does not fit must be refused, never wrapped
// (4294967295 retries would become backoffLimit -1). Validation refuses the
// numbers a file writes, with their line; the compiler checks again, when
// it lowers a run, the numbers templates rendered; and Seconds never wraps
// where a number reaches a clock without either.

const (
	// MaxInt32 is the largest value of a Kubernetes int32 field.
	MaxInt32 = math.MaxInt32
	// MaxSeconds is the largest number of whole seconds a time.Duration
	// holds: 9223372036.
	MaxSeconds = math.MaxInt64 / int64(time.Second)
)

// Bound is the values an integer field may hold, and why it may hold no
// more.
type Bound struct {
	Min, Max int64
	// Why says what sets Max: "backoffLimit is int32".
	Why string
}

// The bounds of the numbers that become Kubernetes fields or durations.
// Each is the narrower of what the Polyaxonfile means and what holds it.
var (
	// BoundMaxRetries bounds termination.maxRetries, a Job's backoffLimit.
	BoundMaxRetries = Bound{0, MaxInt32, "backoffLimit is int32"}
	// BoundTTL bounds termination.ttl, a Job's ttlSecondsAfterFinished.
	BoundTTL = Bound{0, MaxInt32, "ttlSecondsAfterFinished is int32"}
	// BoundTimeout bounds termination.timeout: a Job's
	// activeDeadlineSeconds (int64) and the local executor's timer.
	BoundTimeout = Bound{0, MaxSeconds, "the most seconds a time.Duration holds"}
	// BoundCacheTTL bounds cache.ttl, the age of a reusable result.
	BoundCacheTTL = Bound{0, MaxSeconds, "the most seconds a time.Duration holds"}
	// BoundFrequency bounds an interval schedule's frequency in seconds.
	BoundFrequency = Bound{1, MaxSeconds, "the most seconds a time.Duration holds"}
	// BoundSidecarInterval bounds the sidecar's sleep and sync intervals
	// in seconds.
	BoundSidecarInterval = Bound{0, MaxSeconds, "the most seconds a time.Duration holds"}
	// BoundReplicas bounds a service's or a distributed role's replicas.
	BoundReplicas = Bound{0, MaxInt32, "replicas is int32"}
	// BoundMinAvailable bounds a distributed job's
	// schedulingPolicy.minAvailable.
	BoundMinAvailable = Bound{0, MaxInt32, "minAvailable is int32"}
	// BoundSlotsPerWorker bounds an MPI job's slotsPerWorker.
	BoundSlotsPerWorker = Bound{1, MaxInt32, "slotsPerWorker is int32"}
	// BoundPort bounds a service's ports.
	BoundPort = Bound{1, 65535, "a port is 16 bits"}
)

// Check returns the error of v at p when it is outside b, else nil. Its
// detail says the bound and the value: `must be at most 2147483647
// (backoffLimit is int32), got 4294967295`.
func (b Bound) Check(p Path, v int) *FieldError {
	switch n := int64(v); {
	case n < b.Min && b.Min == 0:
		return Invalidf(p, v, "must not be negative, got %d", v)
	case n < b.Min:
		return Invalidf(p, v, "must be at least %d, got %d", b.Min, v)
	case n > b.Max:
		return Invalidf(p, v, "must be at most %d (%s), got %d", b.Max, b.Why, v)
	}
	return nil
}

// checkRef checks a number written in the file; a template is checked by
// the compiler once rendered.
func (b Bound) checkRef(p Path, v *IntOrRef) ErrorList {
	if v == nil || v.IsTemplate() {
		return nil
	}
	if e := b.Check(p, v.Value); e != nil {
		return ErrorList{e}
	}
	return nil
}

// checkInt checks an optional plain int.
func (b Bound) checkInt(p Path, v *int) ErrorList {
	if v == nil {
		return nil
	}
	if e := b.Check(p, *v); e != nil {
		return ErrorList{e}
	}
	return nil
}

// Seconds returns n seconds as a time.Duration. Where n seconds do not fit
// in one, it saturates at the largest (or smallest) Duration instead of
// wrapping, so a timeout of 18446744074 seconds never becomes 0.3 s.
func Seconds(n int) time.Duration {
	switch {
	case int64(n) > MaxSeconds:
		return math.MaxInt64
	case int64(n) < -MaxSeconds:
		return math.MinInt64
	}
	return time.Duration(n) * time.Second
}
