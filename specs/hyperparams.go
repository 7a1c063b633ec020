package specs

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HyperParamKind names the search space of one matrix param
// (`matrix.params.<name>.kind`, spec §5.2). The names are all lower case.
type HyperParamKind string

// The hyper-parameter kinds.
const (
	HPChoice        HyperParamKind = "choice"
	HPPChoice       HyperParamKind = "pchoice"
	HPRange         HyperParamKind = "range"
	HPLinspace      HyperParamKind = "linspace"
	HPLogspace      HyperParamKind = "logspace"
	HPGeomspace     HyperParamKind = "geomspace"
	HPUniform       HyperParamKind = "uniform"
	HPQUniform      HyperParamKind = "quniform"
	HPLogUniform    HyperParamKind = "loguniform"
	HPQLogUniform   HyperParamKind = "qloguniform"
	HPNormal        HyperParamKind = "normal"
	HPQNormal       HyperParamKind = "qnormal"
	HPLogNormal     HyperParamKind = "lognormal"
	HPQLogNormal    HyperParamKind = "qlognormal"
	HPDateRange     HyperParamKind = "daterange"
	HPDateTimeRange HyperParamKind = "datetimerange"
)

// HyperParamKinds lists every kind, in the order of the spec's table.
var HyperParamKinds = []HyperParamKind{
	HPChoice, HPPChoice, HPRange, HPLinspace, HPLogspace, HPGeomspace,
	HPUniform, HPQUniform, HPLogUniform, HPQLogUniform,
	HPNormal, HPQNormal, HPLogNormal, HPQLogNormal,
	HPDateRange, HPDateTimeRange,
}

// MaxSpaceValues is the largest number of values Enumerate lists for one
// space. Larger spaces are still valid (random search samples them), but
// they cannot be expanded.
const MaxSpaceValues = 1 << 20

// Valid reports whether k is a known kind.
func (k HyperParamKind) Valid() bool { return slices.Contains(HyperParamKinds, k) }

// IsDistribution reports whether k defines a probability distribution:
// pchoice and every continuous kind. Grid search rejects these.
func (k HyperParamKind) IsDistribution() bool {
	return k == HPPChoice || k.IsContinuous()
}

// IsDiscrete reports whether k has a finite list of values: choice,
// pchoice, range, linspace, logspace, geomspace, daterange and
// datetimerange.
func (k HyperParamKind) IsDiscrete() bool {
	switch k {
	case HPChoice, HPPChoice, HPRange, HPLinspace, HPLogspace, HPGeomspace,
		HPDateRange, HPDateTimeRange:
		return true
	}
	return false
}

// IsContinuous reports whether k is a continuous distribution: uniform,
// quniform, loguniform, qloguniform, normal, qnormal, lognormal and
// qlognormal.
func (k HyperParamKind) IsContinuous() bool {
	switch k {
	case HPUniform, HPQUniform, HPLogUniform, HPQLogUniform,
		HPNormal, HPQNormal, HPLogNormal, HPQLogNormal:
		return true
	}
	return false
}

// AcceptedIOTypes returns the IO types an input may have when a matrix
// param of kind k feeds it (spec §5.3). It returns nil, meaning any type,
// for choice and pchoice; ["date"] for daterange; ["datetime"] for
// datetimerange; and ["int", "float"] for the other kinds. For an unknown
// kind it returns an empty, non-nil slice: no type is accepted.
func (k HyperParamKind) AcceptedIOTypes() []string {
	switch {
	case k == HPChoice || k == HPPChoice:
		return nil
	case k == HPDateRange:
		return []string{"date"}
	case k == HPDateTimeRange:
		return []string{"datetime"}
	case k.Valid():
		return []string{"int", "float"}
	}
	return []string{}
}

// WeightedValue is one outcome of a pchoice with its probability.
type WeightedValue struct {
	Value any
	P     float64
}

// Space is a parsed, validated hyper-parameter value. Only the fields of
// its Kind are set.
type Space struct {
	Kind HyperParamKind

	// Values are the choices of a choice, as written.
	Values []any
	// Weighted are the outcomes of a pchoice.
	Weighted []WeightedValue

	// Start, Stop and Step define a range (numpy.arange: Stop is
	// exclusive). Start, Stop and Num define a linspace, logspace or
	// geomspace; for logspace, Start and Stop are exponents of Base.
	Start, Stop, Step float64
	Num               int
	// Base is the base of a logspace; 10 unless given.
	Base float64
	// Integer reports that a range's start, stop and step were all written
	// as integers, so that, like numpy.arange, Enumerate yields ints.
	Integer bool

	// Low, High and Q define the uniform family (Q for the q kinds).
	Low, High, Q float64
	// Loc and Scale define the normal family (with Q for the q kinds).
	Loc, Scale float64
	// Size is the optional sample size of a continuous distribution.
	Size *int

	// StartTime and StopTime bound a daterange (dates at midnight UTC,
	// stop exclusive, StepDays apart) or a datetimerange (StepSeconds
	// apart).
	StartTime, StopTime time.Time
	StepDays            int
	StepSeconds         int
}

// hpForm is the positional layout of a kind's value: the keys of its
// dict form, in list and string order, of which the first required ones
// must be given.
type hpForm struct {
	keys     []string
	required int
	noString bool
}

var hpForms = map[HyperParamKind]hpForm{
	HPRange:         {keys: []string{"start", "stop", "step"}, required: 3},
	HPLinspace:      {keys: []string{"start", "stop", "num"}, required: 3},
	HPGeomspace:     {keys: []string{"start", "stop", "num"}, required: 3},
	HPLogspace:      {keys: []string{"start", "stop", "num", "base"}, required: 3},
	HPUniform:       {keys: []string{"low", "high", "size"}, required: 2},
	HPLogUniform:    {keys: []string{"low", "high", "size"}, required: 2},
	HPQUniform:      {keys: []string{"low", "high", "q", "size"}, required: 3},
	HPQLogUniform:   {keys: []string{"low", "high", "q", "size"}, required: 3},
	HPNormal:        {keys: []string{"loc", "scale", "size"}, required: 2},
	HPLogNormal:     {keys: []string{"loc", "scale", "size"}, required: 2},
	HPQNormal:       {keys: []string{"loc", "scale", "q", "size"}, required: 3},
	HPQLogNormal:    {keys: []string{"loc", "scale", "q", "size"}, required: 3},
	HPDateRange:     {keys: []string{"start", "stop", "step"}, required: 3, noString: true},
	HPDateTimeRange: {keys: []string{"start", "stop", "step"}, required: 3, noString: true},
}

// ParseSpace validates the `value` of a matrix param of the given kind
// and returns the parsed space. v is a decoded YAML or JSON value: nil,
// bool, any Go int or float kind, string, a list or a map with string
// keys.
//
// The accepted forms follow spec §5.2: choice takes a list; pchoice a list
// of [value, p] pairs; the other kinds a list, a map of named parts, or a
// "a:b:c" string (except daterange and datetimerange, which have no string
// form). The optional trailing `size` of the continuous kinds may also be
// given by position, as the reference allows. Numeric parts may be
// numbers or numeric strings.
//
// A returned error is a *FieldError with an empty Path: its message names
// the kind but not where the value is, which the caller adds.
func ParseSpace(kind HyperParamKind, v any) (*Space, error) {
	if !kind.Valid() {
		return nil, NotSupported("", string(kind), HyperParamKinds)
	}
	if v == nil {
		return nil, hpErr(v, "%s needs a value", kind)
	}
	switch kind {
	case HPChoice:
		return hpParseChoice(v)
	case HPPChoice:
		return hpParsePChoice(v)
	}
	parts, err := hpSplit(kind, v)
	if err != nil {
		return nil, err
	}
	s := &Space{Kind: kind}
	switch kind {
	case HPRange:
		err = parts.rangeSpace(s)
	case HPLinspace, HPLogspace, HPGeomspace:
		err = parts.numSpace(s)
	case HPUniform, HPQUniform, HPLogUniform, HPQLogUniform:
		err = parts.uniformSpace(s)
	case HPNormal, HPQNormal, HPLogNormal, HPQLogNormal:
		err = parts.normalSpace(s)
	case HPDateRange, HPDateTimeRange:
		err = parts.timeSpace(s)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func hpParseChoice(v any) (*Space, error) {
	l, ok := iotAsList(v)
	if !ok {
		return nil, hpErr(v, "choice takes a list of values, got %s", hpDescribe(v))
	}
	if len(l) == 0 {
		return nil, hpErr(v, "choice needs at least one value")
	}
	return &Space{Kind: HPChoice, Values: slices.Clone(l)}, nil
}

// hpPChoiceSumSlack absorbs rounding when probabilities such as 0.33, 0.56
// and 0.11 add up to a hair over 1.
const hpPChoiceSumSlack = 1e-9

func hpParsePChoice(v any) (*Space, error) {
	l, ok := iotAsList(v)
	if !ok {
		return nil, hpErr(v, "pchoice takes a list of [value, p] pairs, got %s", hpDescribe(v))
	}
	if len(l) == 0 {
		return nil, hpErr(v, "pchoice needs at least one [value, p] pair")
	}
	s := &Space{Kind: HPPChoice, Weighted: make([]WeightedValue, len(l))}
	sum := 0.0
	for i, item := range l {
		pair, ok := iotAsList(item)
		if !ok || len(pair) != 2 {
			return nil, hpErr(item, "pchoice item %d must be a [value, p] pair, got %s", i, renderValue(item))
		}
		var p float64
		switch f := pair[1].(type) {
		case float64:
			p = f
		case float32:
			p = float64(f)
		default:
			return nil, hpErr(item, "pchoice probability of %s must be a float such as 0.5, got %s",
				renderValue(pair[0]), renderValue(pair[1]))
		}
		if !(p >= 0 && p < 1) {
			return nil, hpErr(item, "pchoice probability of %s must be at least 0 and less than 1, got %s",
				renderValue(pair[0]), hpNum(p))
		}
		sum += p
		s.Weighted[i] = WeightedValue{Value: pair[0], P: p}
	}
	if sum > 1+hpPChoiceSumSlack {
		return nil, hpErr(v, "pchoice probabilities must sum to at most 1, got %s", hpNum(sum))
	}
	return s, nil
}

// hpParts is a value's named parts; only the given ones are present.
type hpParts struct {
	kind HyperParamKind
	m    map[string]any
}

// hpSplit splits a list, map or "a:b:c" value into its named parts and
// checks their count and names.
func hpSplit(kind HyperParamKind, v any) (hpParts, error) {
	form := hpForms[kind]
	p := hpParts{kind: kind, m: map[string]any{}}
	var items []any
	if s, ok := hpString(v); ok {
		if form.noString {
			return p, hpFormErr(kind, form, v)
		}
		for _, part := range strings.Split(s, ":") {
			items = append(items, strings.TrimSpace(part))
		}
	} else if l, ok := iotAsList(v); ok {
		items = l
	} else if m, ok, err := hpMap(kind, v); ok || err != nil {
		if err != nil {
			return p, err
		}
		return p, p.setMap(form, m)
	} else {
		return p, hpFormErr(kind, form, v)
	}
	if n := len(items); n < form.required || n > len(form.keys) {
		if form.required == len(form.keys) {
			return p, hpErr(v, "%s takes %d values [%s], got %d",
				kind, form.required, strings.Join(form.keys, ", "), n)
		}
		return p, hpErr(v, "%s takes %d or %d values [%s], got %d",
			kind, form.required, len(form.keys), strings.Join(form.keys, ", "), n)
	}
	for i, item := range items {
		p.m[form.keys[i]] = item
	}
	return p, nil
}

func (p hpParts) setMap(form hpForm, m map[string]any) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(form.keys, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return hpErr(m, "%s has unknown key%s %s (allowed: %s)",
			p.kind, hpPlural(len(unknown)), strings.Join(unknown, ", "), strings.Join(form.keys, ", "))
	}
	var missing []string
	for _, k := range form.keys[:form.required] {
		if _, ok := m[k]; !ok {
			missing = append(missing, strconv.Quote(k))
		}
	}
	if len(missing) > 0 {
		return hpErr(m, "%s is missing key%s %s", p.kind, hpPlural(len(missing)), strings.Join(missing, ", "))
	}
	for k, v := range m {
		p.m[k] = v
	}
	return nil
}

func hpFormErr(kind HyperParamKind, form hpForm, v any) error {
	req := form.keys[:form.required]
	list := "[" + strings.Join(req, ", ") + "]"
	dict := "{" + strings.Join(form.keys, ", ") + "}"
	if form.noString {
		return hpErr(v, "%s takes a list %s or a map %s, got %s", kind, list, dict, hpDescribe(v))
	}
	return hpErr(v, "%s takes a list %s, a map %s or a string %q, got %s",
		kind, list, dict, strings.Join(req, ":"), hpDescribe(v))
}

func (p hpParts) has(key string) bool {
	_, ok := p.m[key]
	return ok
}

// number returns a finite numeric part and whether it was an integer.
func (p hpParts) number(key string) (float64, bool, error) {
	raw := p.m[key]
	f, isInt, ok := hpNumber(raw)
	if !ok {
		return 0, false, hpErr(raw, "%s %s must be a number, got %s", p.kind, key, renderValue(raw))
	}
	return f, isInt, nil
}

// count returns a part that must be a whole number of at least 1.
func (p hpParts) count(key, what string) (int, error) {
	raw := p.m[key]
	f, _, ok := hpNumber(raw)
	if !ok || f != math.Trunc(f) || f < 1 || f > 1<<53 {
		return 0, hpErr(raw, "%s %s must be a whole number%s of at least 1, got %s",
			p.kind, key, what, renderValue(raw))
	}
	return int(f), nil
}

// ordered checks that a < b for the parts named ka and kb.
func (p hpParts) ordered(ka string, a float64, kb string, b float64) error {
	if a < b {
		return nil
	}
	return hpErr(p.m, "%s needs %s < %s (got %s=%s, %s=%s)", p.kind, ka, kb, ka, hpNum(a), kb, hpNum(b))
}

// positive checks that the part named key is > 0.
func (p hpParts) positive(key string, f float64) error {
	if f > 0 {
		return nil
	}
	return hpErr(p.m[key], "%s needs %s > 0 (got %s=%s)", p.kind, key, key, hpNum(f))
}

func (p hpParts) rangeSpace(s *Space) error {
	var err error
	var i1, i2, i3 bool
	if s.Start, i1, err = p.number("start"); err != nil {
		return err
	}
	if s.Stop, i2, err = p.number("stop"); err != nil {
		return err
	}
	if s.Step, i3, err = p.number("step"); err != nil {
		return err
	}
	if err := p.ordered("start", s.Start, "stop", s.Stop); err != nil {
		return err
	}
	if err := p.positive("step", s.Step); err != nil {
		return err
	}
	if math.IsInf(s.Stop-s.Start, 0) {
		return hpErr(p.m, "%s is too wide: stop - start overflows", p.kind)
	}
	s.Integer = i1 && i2 && i3
	return nil
}

func (p hpParts) numSpace(s *Space) error {
	var err error
	if s.Start, _, err = p.number("start"); err != nil {
		return err
	}
	if s.Stop, _, err = p.number("stop"); err != nil {
		return err
	}
	if s.Num, err = p.count("num", ""); err != nil {
		return err
	}
	if err := p.ordered("start", s.Start, "stop", s.Stop); err != nil {
		return err
	}
	if math.IsInf(s.Stop-s.Start, 0) {
		return hpErr(p.m, "%s is too wide: stop - start overflows", p.kind)
	}
	switch p.kind {
	case HPLogspace:
		s.Base = 10
		if p.has("base") {
			if s.Base, _, err = p.number("base"); err != nil {
				return err
			}
			if err := p.positive("base", s.Base); err != nil {
				return err
			}
		}
		for _, e := range []float64{s.Start, s.Stop} {
			if math.IsInf(math.Pow(s.Base, e), 0) {
				return hpErr(p.m, "%s %s**%s overflows", p.kind, hpNum(s.Base), hpNum(e))
			}
		}
	case HPGeomspace:
		if s.Start == 0 || s.Stop == 0 || (s.Start < 0) != (s.Stop < 0) {
			return hpErr(p.m, "%s needs start and stop of the same sign, neither 0 (got start=%s, stop=%s)",
				p.kind, hpNum(s.Start), hpNum(s.Stop))
		}
	}
	return nil
}

func (p hpParts) size(s *Space) error {
	if !p.has("size") {
		return nil
	}
	n, err := p.count("size", "")
	if err != nil {
		return err
	}
	s.Size = &n
	return nil
}

func (p hpParts) q(s *Space) error {
	if !p.has("q") {
		return nil
	}
	var err error
	if s.Q, _, err = p.number("q"); err != nil {
		return err
	}
	return p.positive("q", s.Q)
}

func (p hpParts) uniformSpace(s *Space) error {
	var err error
	if s.Low, _, err = p.number("low"); err != nil {
		return err
	}
	if s.High, _, err = p.number("high"); err != nil {
		return err
	}
	if err := p.ordered("low", s.Low, "high", s.High); err != nil {
		return err
	}
	if err := p.q(s); err != nil {
		return err
	}
	return p.size(s)
}

func (p hpParts) normalSpace(s *Space) error {
	var err error
	if s.Loc, _, err = p.number("loc"); err != nil {
		return err
	}
	if s.Scale, _, err = p.number("scale"); err != nil {
		return err
	}
	if err := p.positive("scale", s.Scale); err != nil {
		return err
	}
	if err := p.q(s); err != nil {
		return err
	}
	return p.size(s)
}

func (p hpParts) timeSpace(s *Space) error {
	parse, unit := hpDate, " of days"
	if p.kind == HPDateTimeRange {
		parse, unit = hpDateTime, " of seconds"
	}
	var err error
	if s.StartTime, err = parse(p.kind, "start", p.m["start"]); err != nil {
		return err
	}
	if s.StopTime, err = parse(p.kind, "stop", p.m["stop"]); err != nil {
		return err
	}
	step, err := p.count("step", unit)
	if err != nil {
		return err
	}
	if !s.StartTime.Before(s.StopTime) {
		return hpErr(p.m, "%s needs start < stop (got start=%s, stop=%s)",
			p.kind, renderValue(p.m["start"]), renderValue(p.m["stop"]))
	}
	if p.kind == HPDateRange {
		s.StepDays = step
	} else {
		s.StepSeconds = step
	}
	return nil
}

// The ISO forms accepted for a datetimerange, tried in order after a space
// between the date and the time is replaced by "T". A missing offset
// means UTC.
var hpDateTimeLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	time.DateOnly,
}

func hpDate(kind HyperParamKind, key string, v any) (time.Time, error) {
	if t, ok := v.(time.Time); ok {
		y, m, d := t.Date()
		if t.Equal(time.Date(y, m, d, 0, 0, 0, 0, t.Location())) {
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	} else if s, ok := v.(string); ok {
		if t, err := time.Parse(time.DateOnly, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, hpErr(v, "%s %s must be an ISO date such as \"2019-06-22\", got %s",
		kind, key, renderValue(v))
}

func hpDateTime(kind HyperParamKind, key string, v any) (time.Time, error) {
	if t, ok := v.(time.Time); ok {
		return t, nil
	}
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if len(s) > 10 && s[10] == ' ' {
			s = s[:10] + "T" + strings.TrimLeft(s[10:], " ")
		}
		for _, layout := range hpDateTimeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, hpErr(v, "%s %s must be an ISO datetime such as \"2019-06-22T21:00:00Z\", got %s",
		kind, key, renderValue(v))
}

// Len returns how many values a discrete space has, or -1 for a continuous
// kind (and for an unknown one).
func (s *Space) Len() int {
	switch s.Kind {
	case HPChoice:
		return len(s.Values)
	case HPPChoice:
		return len(s.Weighted)
	case HPRange:
		if s.Step == 0 {
			return 0
		}
		return hpCeilCount((s.Stop - s.Start) / s.Step)
	case HPLinspace, HPLogspace, HPGeomspace:
		return max(s.Num, 0)
	case HPDateRange:
		if s.StepDays <= 0 {
			return 0
		}
		days := hpCivilDays(s.StopTime) - hpCivilDays(s.StartTime)
		return hpCeilDiv(days, int64(s.StepDays))
	case HPDateTimeRange:
		if s.StepSeconds <= 0 || !s.StartTime.Before(s.StopTime) {
			return 0
		}
		secs := s.StopTime.Unix() - s.StartTime.Unix()
		if s.StopTime.Nanosecond() != s.StartTime.Nanosecond() {
			// The span is secs plus or minus a fraction of a second.
			if s.StopTime.Nanosecond() < s.StartTime.Nanosecond() {
				secs--
			}
			return hpClampCount(secs/int64(s.StepSeconds) + 1)
		}
		return hpCeilDiv(secs, int64(s.StepSeconds))
	}
	return -1
}

// hpCeilCount returns ceil(x) as a count, clamped to [0, MaxInt].
func hpCeilCount(x float64) int {
	switch {
	case !(x > 0):
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt
	}
	return hpClampCount(int64(math.Ceil(x)))
}

// hpCeilDiv returns ceil(a/b) for b > 0 as a count, 0 when a <= 0.
func hpCeilDiv(a, b int64) int {
	if a <= 0 {
		return 0
	}
	return hpClampCount((a-1)/b + 1)
}

func hpClampCount(n int64) int {
	if n > math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

// hpCivilDays numbers t's calendar date in days since the Unix epoch.
func hpCivilDays(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// Enumerate lists the values of a discrete space in order, as numpy
// does: range is numpy.arange (stop exclusive; ints when Integer is set,
// float64 otherwise), linspace is numpy.linspace (stop inclusive),
// logspace is Base**linspace(Start, Stop, Num), and geomspace is
// numpy.geomspace (geometric steps between the actual values). daterange
// and datetimerange give "2006-01-02" and RFC 3339 strings, stop
// exclusive. choice and pchoice give their values as written.
//
// It returns an error for a continuous kind, and for a space with more than
// MaxSpaceValues values.
func (s *Space) Enumerate() ([]any, error) {
	if !s.Kind.IsDiscrete() {
		if s.Kind.IsContinuous() {
			return nil, hpErr(nil, "%s is a continuous distribution: it has no list of values", s.Kind)
		}
		return nil, NotSupported("", string(s.Kind), HyperParamKinds)
	}
	n := s.Len()
	if n > MaxSpaceValues {
		return nil, hpErr(nil, "%s has too many values to list (%d, more than %d)", s.Kind, n, MaxSpaceValues)
	}
	out := make([]any, n)
	switch s.Kind {
	case HPChoice:
		copy(out, s.Values)
	case HPPChoice:
		for i, w := range s.Weighted {
			out[i] = w.Value
		}
	case HPRange:
		if s.Integer && hpIsInt(s.Start) && hpIsInt(s.Step) {
			start, step := int(s.Start), int(s.Step)
			for i := range out {
				out[i] = start + i*step
			}
			break
		}
		// numpy.arange fills with the step as seen between the first two
		// values, which may differ from Step by a rounding.
		delta := (s.Start + s.Step) - s.Start
		for i := range out {
			out[i] = s.Start + float64(i)*delta
		}
	case HPLinspace:
		for i, x := range hpLinspace(s.Start, s.Stop, n) {
			out[i] = x
		}
	case HPLogspace:
		for i, x := range hpLinspace(s.Start, s.Stop, n) {
			out[i] = math.Pow(s.Base, x)
		}
	case HPGeomspace:
		for i, x := range hpGeomspace(s.Start, s.Stop, n) {
			out[i] = x
		}
	case HPDateRange:
		y, m, d := s.StartTime.Date()
		for i := range out {
			out[i] = time.Date(y, m, d+i*s.StepDays, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		}
	case HPDateTimeRange:
		start, loc := s.StartTime.Unix(), s.StartTime.Location()
		for i := range out {
			t := time.Unix(start+int64(i)*int64(s.StepSeconds), int64(s.StartTime.Nanosecond()))
			out[i] = t.In(loc).Format(time.RFC3339Nano)
		}
	}
	return out, nil
}

func hpIsInt(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) <= 1<<53
}

// hpLinspace is numpy.linspace(start, stop, n) with the endpoint.
func hpLinspace(start, stop float64, n int) []float64 {
	out := make([]float64, n)
	if n == 0 {
		return out
	}
	step := (stop - start) / float64(max(n-1, 1))
	for i := range out {
		out[i] = float64(i)*step + start
	}
	if n > 1 {
		out[n-1] = stop
	}
	return out
}

// hpGeomspace is numpy.geomspace(start, stop, n) for start and stop of
// the same sign, neither 0.
func hpGeomspace(start, stop float64, n int) []float64 {
	sign := 1.0
	if start < 0 {
		sign, start, stop = -1, -start, -stop
	}
	out := hpLinspace(math.Log10(start), math.Log10(stop), n)
	for i, x := range out {
		out[i] = math.Pow(10, x)
	}
	if n > 0 {
		out[0] = start
	}
	if n > 1 {
		out[n-1] = stop
	}
	for i := range out {
		out[i] *= sign
	}
	return out
}

// hpErr builds the error for a bad value; the caller sets its path.
func hpErr(v any, format string, args ...any) error {
	return Invalidf("", v, format, args...)
}

// hpNum renders a float the short way: 1, 0.5, 1e+21.
func hpNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func hpPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// hpDescribe names the type of a decoded value for messages.
func hpDescribe(v any) string {
	if v == nil {
		return "null"
	}
	if _, ok := hpString(v); ok {
		return "a string"
	}
	if _, ok := iotAsList(v); ok {
		return "a list"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Bool:
		return "a bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map:
		return "a map"
	}
	return fmt.Sprintf("a %T", v)
}

// hpString returns v as a string if it is one (json.Number is a number).
func hpString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// hpMap returns v as a map if it is one; its keys must be strings.
func hpMap(kind HyperParamKind, v any) (map[string]any, bool, error) {
	if m, ok := v.(map[string]any); ok {
		return m, true, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false, nil
	}
	m := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k := it.Key()
		if k.Kind() == reflect.Interface {
			k = k.Elem()
		}
		if k.Kind() != reflect.String {
			return nil, true, hpErr(v, "%s map keys must be strings, got %s", kind, renderValue(it.Key().Interface()))
		}
		m[k.String()] = it.Value().Interface()
	}
	return m, true, nil
}

// hpNumber reads a finite number from a Go number, a json.Number or a
// decimal string, and reports whether it is an integer as Python's
// ast.literal_eval would read it (3 and "3", not 3.0 or "3e0").
// Booleans are not numbers.
func hpNumber(v any) (f float64, isInt, ok bool) {
	switch x := v.(type) {
	case json.Number:
		return hpNumberString(string(x))
	case string:
		return hpNumberString(x)
	}
	switch iotNumberKind(v) {
	case iotIntNumber, iotUintNumber:
		return iotFloatOf(v), true, true
	case iotFloatNumber:
		f = iotFloatOf(v)
		return f, false, !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false, false
}

func hpNumberString(s string) (f float64, isInt, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Trim(s, "0123456789+-.eE") != "" {
		return 0, false, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false, false
	}
	_, err = strconv.ParseInt(s, 10, 64)
	return f, err == nil, true
}
