package compiler

import (
	"math"

	"github.com/plexus-ml/plexus/specs"
)

// Lowering checks every number it writes into a Kubernetes field again:
// validation saw the numbers the file wrote, not those its templates
// rendered (`maxRetries: "{{ retries }}"`). A number outside its field's
// bound (specs.Bound) is an error naming the field, never a wrapped value.

// int32Of returns v for an int32 field of a Kubernetes object, or records
// an error at p and returns false when v is outside b or outside int32.
func (l *lowering) int32Of(p specs.Path, v int, b specs.Bound) (int32, bool) {
	if b.Max > math.MaxInt32 {
		b.Max, b.Why = math.MaxInt32, "the field is int32"
	}
	if b.Min < math.MinInt32 {
		b.Min = math.MinInt32
	}
	if e := b.Check(p, v); e != nil {
		l.errs = append(l.errs, e)
		return 0, false
	}
	return int32(v), true
}

// int64Of returns v for an int64 field of a Kubernetes object (or a number
// of an unstructured one), or records an error at p and returns false when
// v is outside b.
func (l *lowering) int64Of(p specs.Path, v int, b specs.Bound) (int64, bool) {
	if e := b.Check(p, v); e != nil {
		l.errs = append(l.errs, e)
		return 0, false
	}
	return int64(v), true
}
