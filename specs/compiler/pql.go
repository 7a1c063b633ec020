package compiler

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/specs"
)

// This file is the Polyaxon Query Language of joins (§4.3 of the spec):
// queries and sorts parsed, and matched and compared against the fields
// of a run. joins.go resolves a join's params with them.

// The fields a query reads, as Fields is asked for them. Aliases are
// resolved when parsing: `metrics.X` and `out.X` are outputs, `params.X`
// and `in.X` inputs, `id` and `uid` the uuid, `project.name` the project.
const (
	FieldStatus    = "status"
	FieldName      = "name"
	FieldUUID      = "uuid"
	FieldProject   = "project"
	FieldKind      = "kind"     // the run kind of its component: job, service, dag, ...
	FieldPipeline  = "pipeline" // the uuid of the dag the run is an operation of
	FieldTags      = "tags"
	FieldCreatedAt = "created_at"
	FieldUpdatedAt = "updated_at"
	// FieldOutputs and FieldInputs prefix a name: `outputs.loss`.
	FieldOutputs = "outputs."
	FieldInputs  = "inputs."
)

// Fields gives one run's value of a field, and whether the run has one.
// Status, name, uuid, project, kind and pipeline are strings, tags a
// []string, created_at and updated_at a time.Time; outputs and inputs are
// what the run holds (numbers, strings, booleans, lists, mappings).
type Fields func(field string) (any, bool)

// Op is the operation of a query condition, named as in the reference's
// query language.
type Op string

// Query operations.
const (
	OpEqual      Op = "="
	OpIn         Op = "|" // one of several values
	OpLess       Op = "<"
	OpLessEq     Op = "<="
	OpGreater    Op = ">"
	OpGreaterEq  Op = ">="
	OpRange      Op = ".." // both bounds included
	OpNil        Op = "nil"
	OpContains   Op = "%%" // name:%foo%
	OpStartsWith Op = "%_" // name:foo%
	OpEndsWith   Op = "_%" // name:%foo
)

// Query is a parsed Polyaxon Query Language query: conditions that must
// all hold.
type Query []Condition

// Condition is one `field:operation` of a query.
type Condition struct {
	// Field is the field's canonical name (FieldStatus, "outputs.loss").
	Field string
	Op    Op
	// Negated is set by `~`: the condition holds when the operation does
	// not. A run without the field matches neither way (as a null in SQL),
	// except for nil.
	Negated bool
	// Values are the operands as written: one, two for a range, two or
	// more for OpIn, none for OpNil.
	Values []string

	kind  fieldKind
	nums  []float64  // the operands of a numeric comparison or range
	times []timeSpan // the operands of a datetime field
}

// QueryError is a part of a join's query or sort that is not valid.
type QueryError struct {
	// Part is the condition or sort key as written.
	Part   string
	Detail string
}

func (e *QueryError) Error() string { return fmt.Sprintf("%q: %s", e.Part, e.Detail) }

// fieldKind says which operations a field takes, as the reference's
// parsers do.
type fieldKind int

const (
	valueField  fieldKind = iota // =, |, nil (status, project, kind, pipeline, tags)
	searchField                  // and % patterns (name, uuid)
	timeField                    // =, comparisons and ranges of datetimes
	ioField                      // =, |, and comparisons and ranges of numbers
)

var queryFields = map[string]fieldKind{
	FieldStatus: valueField, FieldProject: valueField, FieldKind: valueField, FieldPipeline: valueField, FieldTags: valueField,
	FieldName: searchField, FieldUUID: searchField,
	FieldCreatedAt: timeField, FieldUpdatedAt: timeField,
}

var fieldAliases = map[string]string{"id": FieldUUID, "uid": FieldUUID, "project.name": FieldProject}

var ioSections = map[string]string{"outputs": FieldOutputs, "out": FieldOutputs, "metrics": FieldOutputs,
	"inputs": FieldInputs, "in": FieldInputs, "params": FieldInputs}

const knownFields = "status, name, uuid, project.name, kind, pipeline, tags, created_at, updated_at, outputs.NAME (or metrics.NAME), inputs.NAME (or params.NAME)"

// parseField resolves a field as written to its canonical name.
func parseField(name string) (string, fieldKind, error) {
	parts := strings.Split(name, ".")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	whole := strings.Join(parts, ".")
	if a, ok := fieldAliases[whole]; ok {
		whole = a
	}
	if k, ok := queryFields[whole]; ok {
		return whole, k, nil
	}
	if sec, ok := ioSections[parts[0]]; ok {
		if len(parts) == 2 && parts[1] != "" {
			return sec + parts[1], ioField, nil
		}
		return "", 0, fmt.Errorf("%s takes one name, such as %s.loss", parts[0], parts[0])
	}
	return "", 0, fmt.Errorf("unknown field %q: want one of %s", name, knownFields)
}

// ParseQuery parses a Polyaxon Query Language query: conditions
// `field:operation` separated by commas, all of which must hold. An
// operation is a value (`status:succeeded`), alternatives
// (`status:succeeded|stopped`), a comparison of numbers or datetimes
// (`outputs.loss:<0.5`, `created_at:>=2024-01-01`), a range
// (`outputs.loss:0.1..0.5`, both bounds included), `nil` (no value), a
// pattern of names (`name:train%`), each negated by a leading `~`. Every
// bad condition is reported, each as a *QueryError.
func ParseQuery(s string) (Query, error) {
	q, errs := parseQuery(s)
	return q, errors.Join(errs...)
}

func parseQuery(s string) (Query, []error) {
	var q Query
	var errs []error
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		c, err := parseCondition(part)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		q = append(q, c)
	}
	if len(q) == 0 && len(errs) == 0 {
		errs = append(errs, &QueryError{Part: s, Detail: "the query has no condition; write field:operation, such as status:succeeded"})
	}
	return q, errs
}

func parseCondition(part string) (Condition, error) {
	name, op, ok := strings.Cut(part, ":")
	name, op = strings.TrimSpace(name), strings.TrimSpace(op)
	if !ok || name == "" || op == "" {
		return Condition{}, &QueryError{Part: part, Detail: "want field:operation, such as status:succeeded"}
	}
	field, kind, err := parseField(name)
	if err != nil {
		return Condition{}, &QueryError{Part: part, Detail: err.Error()}
	}
	c := Condition{Field: field, kind: kind}
	if err := c.parseOperation(op); err != nil {
		return Condition{}, &QueryError{Part: part, Detail: err.Error()}
	}
	return c, nil
}

func (c *Condition) parseOperation(op string) error {
	rest, negated := strings.CutPrefix(op, "~")
	rest = strings.TrimSpace(rest)
	c.Negated = negated
	if rest == "" {
		return errors.New("nothing after ~")
	}
	if rest == "nil" {
		c.Op = OpNil
		return nil
	}
	cmpOp, operand := comparison(rest)
	switch c.kind {
	case valueField, searchField:
		if strings.Contains(rest, "..") {
			return fmt.Errorf("ranges (..) are for numbers and datetimes, not for %s", c.Field)
		}
		if cmpOp != "" {
			return fmt.Errorf("%s compares numbers and datetimes, not %s", cmpOp, c.Field)
		}
		if strings.Contains(rest, "|") {
			return c.parseIn(rest)
		}
		if c.kind == searchField && (strings.HasPrefix(rest, "%") || strings.HasSuffix(rest, "%")) {
			return c.parseLike(rest)
		}
		c.Op, c.Values = OpEqual, []string{rest}
	case timeField:
		if strings.Contains(rest, "|") {
			return fmt.Errorf("| is not allowed for %s: use a range (a..b)", c.Field)
		}
		if strings.Contains(rest, "..") {
			c.Op = OpRange
			c.Values = nonEmpty(strings.Split(rest, ".."))
			if len(c.Values) != 2 {
				return errors.New("a range takes two bounds: a..b")
			}
		} else {
			if operand == "" {
				return fmt.Errorf("%s needs a datetime", cmpOp)
			}
			c.Op, c.Values = cmp.Or(cmpOp, OpEqual), []string{operand}
		}
		for _, v := range c.Values {
			t, err := parseTimeSpan(v)
			if err != nil {
				return err
			}
			c.times = append(c.times, t)
		}
	case ioField:
		switch {
		case strings.Contains(rest, ".."):
			c.Op = OpRange
			c.Values = nonEmpty(strings.Split(rest, ".."))
			if len(c.Values) != 2 {
				return errors.New("a range takes two bounds: a..b")
			}
		case cmpOp != "":
			c.Op, c.Values = cmpOp, []string{operand}
		case strings.Contains(rest, "|"):
			return c.parseIn(rest)
		default:
			c.Op, c.Values = OpEqual, []string{rest}
			return nil // a value, a number or not
		}
		for _, v := range c.Values {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("%s compares numbers, got %q", c.Op, v)
			}
			c.nums = append(c.nums, n)
		}
	}
	return nil
}

func (c *Condition) parseIn(rest string) error {
	c.Op, c.Values = OpIn, nonEmpty(strings.Split(rest, "|"))
	if len(c.Values) < 2 {
		return errors.New("| separates two values or more")
	}
	return nil
}

// parseLike reads `%foo%`, `foo%` and `%foo`.
func (c *Condition) parseLike(rest string) error {
	start, end := strings.HasPrefix(rest, "%"), strings.HasSuffix(rest, "%")
	parts := nonEmpty(strings.Split(rest, "%"))
	if len(parts) != 1 {
		return errors.New("a pattern is %text, text% or %text%")
	}
	switch {
	case start && end:
		c.Op = OpContains
	case start:
		c.Op = OpEndsWith
	default:
		c.Op = OpStartsWith
	}
	c.Values = parts
	return nil
}

// comparison splits a leading comparison operator off s.
func comparison(s string) (Op, string) {
	switch {
	case strings.HasPrefix(s, "<=") || strings.HasPrefix(s, "=<"):
		return OpLessEq, strings.TrimSpace(s[2:])
	case strings.HasPrefix(s, ">=") || strings.HasPrefix(s, "=>"):
		return OpGreaterEq, strings.TrimSpace(s[2:])
	case strings.HasPrefix(s, "<"):
		return OpLess, strings.TrimSpace(s[1:])
	case strings.HasPrefix(s, ">"):
		return OpGreater, strings.TrimSpace(s[1:])
	}
	return "", s
}

func nonEmpty(parts []string) []string {
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// timeSpan is a datetime operand: the interval its precision covers, so
// `created_at:2024-05-01` is that day, `<=2024-05-01` up to its end and
// `>2024-05-01` after it.
type timeSpan struct{ start, end time.Time }

var timeLayouts = []struct {
	layout string
	span   time.Duration
}{
	{"2006-01-02", 24 * time.Hour},
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02 15:04", time.Minute},
	{"2006-01-02T15:04Z07:00", time.Minute},
	{"2006-01-02 15:04Z07:00", time.Minute},
	{"2006-01-02T15:04:05", time.Second},
	{"2006-01-02 15:04:05", time.Second},
	{"2006-01-02T15:04:05Z07:00", time.Second},
	{"2006-01-02 15:04:05Z07:00", time.Second},
}

func parseTimeSpan(s string) (timeSpan, error) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l.layout, s, time.UTC); err == nil {
			return timeSpan{start: t, end: t.Add(l.span)}, nil
		}
	}
	return timeSpan{}, fmt.Errorf("%q is not a datetime: want 2006-01-02, 2006-01-02 15:04 or 2006-01-02T15:04:05Z", s)
}

// Matches reports whether every condition holds for the run f describes.
func (q Query) Matches(f Fields) bool {
	for i := range q {
		if !q[i].Matches(f) {
			return false
		}
	}
	return true
}

// Matches reports whether the condition holds for the run f describes.
func (c *Condition) Matches(f Fields) bool {
	v, ok := f(c.Field)
	if ok {
		switch x := v.(type) {
		case nil:
			ok = false
		case []string:
			ok = len(x) > 0
		}
	}
	if c.Op == OpNil {
		return ok == c.Negated
	}
	if !ok {
		return false
	}
	holds, comparable := c.holds(v)
	return comparable && holds != c.Negated
}

// holds says whether the operation holds for v, and whether v can be
// compared at all: a comparison of numbers or datetimes holds neither way
// for a value that is neither, as for a missing value.
func (c *Condition) holds(v any) (holds, comparable bool) {
	switch {
	case c.Field == FieldTags:
		tags := stringsOf(v)
		return slices.ContainsFunc(c.Values, func(t string) bool { return slices.Contains(tags, t) }), true
	case c.kind == timeField:
		t, ok := timeOf(v)
		return ok && c.holdsAt(t), ok
	case c.nums != nil:
		n, ok := Number(v)
		return ok && c.holdsFor(n), ok
	}
	return c.holdsText(v), true
}

// holdsText is the operation on a value read as text: equality,
// alternatives and patterns.
func (c *Condition) holdsText(v any) bool {
	s := fmt.Sprint(v)
	if c.Field == FieldUUID || c.Field == FieldPipeline {
		s = normalUUID(s)
	}
	switch c.Op {
	case OpContains:
		return strings.Contains(strings.ToLower(s), strings.ToLower(c.Values[0]))
	case OpStartsWith:
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(c.Values[0]))
	case OpEndsWith:
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(c.Values[0]))
	}
	return slices.ContainsFunc(c.Values, func(want string) bool { return c.equal(v, want) })
}

// equal compares a run's value with an operand: numbers by value,
// booleans as true or false, uuids without dashes or case, anything else
// as its text.
func (c *Condition) equal(v any, want string) bool {
	if c.Field == FieldUUID || c.Field == FieldPipeline {
		return normalUUID(fmt.Sprint(v)) == normalUUID(want)
	}
	if n, ok := Number(v); ok {
		w, err := strconv.ParseFloat(want, 64)
		return err == nil && n == w
	}
	switch x := v.(type) {
	case string:
		return x == want
	case bool:
		return strings.EqualFold(strconv.FormatBool(x), want)
	case map[string]any, []any:
		b, err := json.Marshal(x)
		return err == nil && string(b) == want
	}
	return fmt.Sprint(v) == want
}

func (c *Condition) holdsFor(n float64) bool {
	switch c.Op {
	case OpLess:
		return n < c.nums[0]
	case OpLessEq:
		return n <= c.nums[0]
	case OpGreater:
		return n > c.nums[0]
	case OpGreaterEq:
		return n >= c.nums[0]
	case OpRange:
		return c.nums[0] <= n && n <= c.nums[1]
	}
	return false
}

func (c *Condition) holdsAt(t time.Time) bool {
	s := c.times[0]
	switch c.Op {
	case OpEqual:
		return !t.Before(s.start) && t.Before(s.end)
	case OpLess:
		return t.Before(s.start)
	case OpLessEq:
		return t.Before(s.end)
	case OpGreater:
		return !t.Before(s.end)
	case OpGreaterEq:
		return !t.Before(s.start)
	case OpRange:
		return !t.Before(s.start) && t.Before(c.times[1].end)
	}
	return false
}

func normalUUID(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }

// Number is v as a number: a Go number, or a string that reads as one
// (inputs given on the command line are strings).
func Number(v any) (float64, bool) { return specs.Number(v) }

func timeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, !x.IsZero()
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t, err == nil
	}
	return time.Time{}, false
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, it := range x {
			out[i] = fmt.Sprint(it)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// SortKey orders runs by one field, ascending unless Desc.
type SortKey struct {
	Field string
	Desc  bool
}

// Sort orders runs by its keys in turn.
type Sort []SortKey

// DefaultSort is the order of a join without `sort`: the latest updated
// runs first, as the reference lists runs.
var DefaultSort = Sort{{Field: FieldUpdatedAt, Desc: true}}

// ParseSort parses a join's `sort`: fields separated by commas, each
// descending when it starts with `-` (`-outputs.accuracy, created_at`).
// Every field that cannot sort is reported, each as a *QueryError.
func ParseSort(s string) (Sort, error) {
	var out Sort
	var errs []error
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, desc := strings.CutPrefix(part, "-")
		field, _, err := parseField(name)
		switch {
		case err != nil:
			errs = append(errs, &QueryError{Part: part, Detail: err.Error()})
		case field == FieldTags:
			errs = append(errs, &QueryError{Part: part, Detail: "runs cannot be sorted by their tags"})
		default:
			out = append(out, SortKey{Field: field, Desc: desc})
		}
	}
	return out, errors.Join(errs...)
}

// Compare orders two runs by the keys in turn: numbers by value, datetimes
// in time, anything else as text; a run without the field comes after
// those with it, whichever the direction. Runs equal on every key are
// ordered by uuid, so the order is the same every time.
func (s Sort) Compare(a, b Fields) int {
	for _, k := range s {
		if c := compareField(a, b, k.Field, k.Desc); c != 0 {
			return c
		}
	}
	return compareField(a, b, FieldUUID, false)
}

func compareField(a, b Fields, field string, desc bool) int {
	va, oka := a(field)
	vb, okb := b(field)
	oka, okb = oka && va != nil, okb && vb != nil
	if !oka || !okb {
		return compareBools(okb, oka) // present first
	}
	c := compareValues(va, vb)
	if desc {
		c = -c
	}
	return c
}

func compareBools(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// compareValues orders numbers before datetimes before anything else,
// each among its own: numbers by value, datetimes in time, the rest as
// text.
func compareValues(a, b any) int {
	x, xn := Number(a)
	y, yn := Number(b)
	if xn || yn {
		if xn && yn {
			return cmp.Compare(x, y)
		}
		return compareBools(yn, xn)
	}
	s, st := a.(time.Time)
	u, ut := b.(time.Time)
	if st || ut {
		if st && ut {
			return s.Compare(u)
		}
		return compareBools(ut, st)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}
