package specs

import (
	"reflect"

	"go.yaml.in/yaml/v3"
)

// EarlyStopping stops a matrix or dag early. Its concrete types are
// *MetricEarlyStopping and *FailureEarlyStopping.
type EarlyStopping interface {
	EarlyStoppingKind() string
}

// Early stopping kinds.
const (
	MetricEarlyStoppingKind  = "metric_early_stopping"
	FailureEarlyStoppingKind = "failure_early_stopping"
)

// MetricEarlyStopping stops when a child's metric reaches a value, or by a
// policy over the children's metrics.
type MetricEarlyStopping struct {
	Kind         string         `json:"kind"`
	Metric       string         `json:"metric" plexus:"required"`
	Value        *float64       `json:"value,omitempty" plexus:"required"`
	Optimization Optimization   `json:"optimization,omitempty" plexus:"required"`
	Policy       StoppingPolicy `json:"policy,omitempty"`
}

// FailureEarlyStopping stops when a percentage of children failed.
type FailureEarlyStopping struct {
	Kind    string   `json:"kind"`
	Percent *float64 `json:"percent,omitempty" plexus:"required"`
}

// EarlyStoppingKind implementations.
func (e *MetricEarlyStopping) EarlyStoppingKind() string  { return MetricEarlyStoppingKind }
func (e *FailureEarlyStopping) EarlyStoppingKind() string { return FailureEarlyStoppingKind }

// StoppingPolicy decides, for a metric early stopping, which runs to stop.
// Its concrete types are *MedianStoppingPolicy, *TruncationStoppingPolicy
// and *DiffStoppingPolicy.
type StoppingPolicy interface {
	PolicyKind() string
}

// MedianStoppingPolicy stops runs below the median of completed runs.
type MedianStoppingPolicy struct {
	Kind               string `json:"kind"`
	EvaluationInterval *int   `json:"evaluationInterval,omitempty" plexus:"required"`
	MinInterval        *int   `json:"minInterval,omitempty"`
	MinSamples         *int   `json:"minSamples,omitempty"`
}

// TruncationStoppingPolicy stops the worst percent of runs.
type TruncationStoppingPolicy struct {
	Kind               string   `json:"kind"`
	Percent            *float64 `json:"percent,omitempty" plexus:"required"`
	EvaluationInterval *int     `json:"evaluationInterval,omitempty" plexus:"required"`
	MinInterval        *int     `json:"minInterval,omitempty"`
	MinSamples         *int     `json:"minSamples,omitempty"`
}

// DiffStoppingPolicy stops runs a percent worse than the best.
type DiffStoppingPolicy struct {
	Kind               string   `json:"kind"`
	Percent            *float64 `json:"percent,omitempty" plexus:"required"`
	EvaluationInterval *int     `json:"evaluationInterval,omitempty" plexus:"required"`
	MinInterval        *int     `json:"minInterval,omitempty"`
	MinSamples         *int     `json:"minSamples,omitempty"`
}

// PolicyKind implementations.
func (p *MedianStoppingPolicy) PolicyKind() string     { return "median" }
func (p *TruncationStoppingPolicy) PolicyKind() string { return "truncation" }
func (p *DiffStoppingPolicy) PolicyKind() string       { return "diff" }

func init() {
	interfaceDecoders[reflect.TypeFor[EarlyStopping]()] = func(d *decoder, n *yaml.Node, p Path) reflect.Value {
		return decodeByKind(d, n, p, "early stopping", map[string]func() any{
			MetricEarlyStoppingKind:  func() any { return &MetricEarlyStopping{} },
			FailureEarlyStoppingKind: func() any { return &FailureEarlyStopping{} },
		})
	}
	interfaceDecoders[reflect.TypeFor[StoppingPolicy]()] = func(d *decoder, n *yaml.Node, p Path) reflect.Value {
		return decodeByKind(d, n, p, "stopping policy", map[string]func() any{
			"median":     func() any { return &MedianStoppingPolicy{} },
			"truncation": func() any { return &TruncationStoppingPolicy{} },
			"diff":       func() any { return &DiffStoppingPolicy{} },
		})
	}
}

// decodeByKind decodes a polymorphic section whose kind is required.
func decodeByKind(d *decoder, n *yaml.Node, p Path, what string, kinds map[string]func() any) reflect.Value {
	kind, kn, ok := d.kindOf(n, p)
	if !ok {
		return reflect.Value{}
	}
	names := sortedKeys(kinds)
	if kind == "" {
		d.errorAt(n, Required(p.Child("kind"), article(what)+" needs a kind: "+joinQuoted(names)))
		return reflect.Value{}
	}
	mk, ok := kinds[kind]
	if !ok {
		d.errorAt(kn, NotSupported(p.Child("kind"), kind, names))
		return reflect.Value{}
	}
	v := reflect.ValueOf(mk())
	d.decodeStructSkipping(n, v.Elem(), p, nil)
	return v
}

func validateEarlyStopping(p Path, es EarlyStopping) ErrorList {
	var errs ErrorList
	switch e := es.(type) {
	case *MetricEarlyStopping:
		if e.Metric == "" {
			errs = append(errs, Required(p.Child("metric"), "metric early stopping needs a metric"))
		}
		if e.Value == nil {
			errs = append(errs, Required(p.Child("value"), "metric early stopping needs a value"))
		}
		if e.Optimization == "" {
			errs = append(errs, Required(p.Child("optimization"), "metric early stopping needs an optimization (maximize or minimize)"))
		} else if !e.Optimization.valid() {
			errs = append(errs, NotSupported(p.Child("optimization"), e.Optimization, []Optimization{Maximize, Minimize}))
		}
		errs = append(errs, validatePolicy(p.Child("policy"), e.Policy)...)
	case *FailureEarlyStopping:
		if e.Percent == nil {
			errs = append(errs, Required(p.Child("percent"), "failure early stopping needs a percent"))
		} else if *e.Percent < 0 || *e.Percent > 100 {
			errs = append(errs, Invalidf(p.Child("percent"), *e.Percent, "percent is a percentage between 0 and 100"))
		}
	}
	return errs
}

func validatePolicy(p Path, sp StoppingPolicy) ErrorList {
	var errs ErrorList
	check := func(percent *float64, interval *int, needPercent bool) {
		if needPercent && percent == nil {
			errs = append(errs, Required(p.Child("percent"), "the policy needs a percent"))
		} else if percent != nil && (*percent < 0 || *percent > 100) {
			errs = append(errs, Invalid(p.Child("percent"), *percent, "percent is a percentage between 0 and 100"))
		}
		if interval == nil {
			errs = append(errs, Required(p.Child("evaluationInterval"), "the policy needs an evaluationInterval"))
		} else if *interval < 1 {
			errs = append(errs, Invalid(p.Child("evaluationInterval"), *interval, "must be at least 1"))
		}
	}
	switch s := sp.(type) {
	case *MedianStoppingPolicy:
		check(nil, s.EvaluationInterval, false)
	case *TruncationStoppingPolicy:
		check(s.Percent, s.EvaluationInterval, true)
	case *DiffStoppingPolicy:
		check(s.Percent, s.EvaluationInterval, true)
	}
	return errs
}
