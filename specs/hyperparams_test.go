package specs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// hpApprox compares floats within rounding, at any depth.
var hpApprox = cmpopts.EquateApprox(1e-12, 1e-12)

func hpIntPtr(n int) *int { return &n }

func hpTestDate(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestHyperParamKindPredicates(t *testing.T) {
	type props struct {
		Valid, Distribution, Discrete, Continuous bool
		IOTypes                                   []string
	}
	numeric := []string{"int", "float"}
	tests := map[HyperParamKind]props{
		HPChoice:        {Valid: true, Discrete: true},
		HPPChoice:       {Valid: true, Distribution: true, Discrete: true},
		HPRange:         {Valid: true, Discrete: true, IOTypes: numeric},
		HPLinspace:      {Valid: true, Discrete: true, IOTypes: numeric},
		HPLogspace:      {Valid: true, Discrete: true, IOTypes: numeric},
		HPGeomspace:     {Valid: true, Discrete: true, IOTypes: numeric},
		HPUniform:       {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPQUniform:      {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPLogUniform:    {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPQLogUniform:   {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPNormal:        {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPQNormal:       {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPLogNormal:     {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPQLogNormal:    {Valid: true, Distribution: true, Continuous: true, IOTypes: numeric},
		HPDateRange:     {Valid: true, Discrete: true, IOTypes: []string{"date"}},
		HPDateTimeRange: {Valid: true, Discrete: true, IOTypes: []string{"datetime"}},
		"dateRange":     {IOTypes: []string{}},
		"Choice":        {IOTypes: []string{}},
		"":              {IOTypes: []string{}},
	}
	if len(HyperParamKinds) != 16 {
		t.Errorf("len(HyperParamKinds) = %d, want 16", len(HyperParamKinds))
	}
	for _, k := range HyperParamKinds {
		if _, ok := tests[k]; !ok {
			t.Errorf("kind %q has no test row", k)
		}
	}
	for k, want := range tests {
		got := props{
			Valid:        k.Valid(),
			Distribution: k.IsDistribution(),
			Discrete:     k.IsDiscrete(),
			Continuous:   k.IsContinuous(),
			IOTypes:      k.AcceptedIOTypes(),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", k, diff)
		}
		if k.Valid() && k.IsDiscrete() == k.IsContinuous() {
			t.Errorf("%q must be exactly one of discrete and continuous", k)
		}
	}
	// nil means "any type" and must stay distinguishable from "none".
	if HPChoice.AcceptedIOTypes() != nil || HPPChoice.AcceptedIOTypes() != nil {
		t.Error("choice and pchoice must accept any IO type (nil)")
	}
}

func TestParseSpace(t *testing.T) {
	tests := []struct {
		name string
		kind HyperParamKind
		v    any
		want *Space
	}{
		// choice
		{"choice strings", HPChoice, []any{"MeanSquaredError", "AbsoluteDifference"},
			&Space{Kind: HPChoice, Values: []any{"MeanSquaredError", "AbsoluteDifference"}}},
		{"choice mixed", HPChoice, []any{1, 2.5, "a", nil, []any{1}, map[string]any{"a": 1}},
			&Space{Kind: HPChoice, Values: []any{1, 2.5, "a", nil, []any{1}, map[string]any{"a": 1}}}},
		{"choice typed slice", HPChoice, []int{32, 64},
			&Space{Kind: HPChoice, Values: []any{32, 64}}},

		// pchoice
		{"pchoice", HPPChoice, []any{[]any{"relu", 0.1}, []any{"sigmoid", 0.8}},
			&Space{Kind: HPPChoice, Weighted: []WeightedValue{{"relu", 0.1}, {"sigmoid", 0.8}}}},
		{"pchoice sums to 1", HPPChoice, []any{[]any{"adam", 0.5}, []any{"rmsprop", 0.3}, []any{"sgd", 0.2}},
			&Space{Kind: HPPChoice, Weighted: []WeightedValue{{"adam", 0.5}, {"rmsprop", 0.3}, {"sgd", 0.2}}}},
		{"pchoice rounding over 1", HPPChoice, []any{[]any{1, 0.33}, []any{2, 0.56}, []any{3, 0.11}},
			&Space{Kind: HPPChoice, Weighted: []WeightedValue{{1, 0.33}, {2, 0.56}, {3, 0.11}}}},
		{"pchoice zero p", HPPChoice, []any{[]any{"a", 0.0}},
			&Space{Kind: HPPChoice, Weighted: []WeightedValue{{"a", 0}}}},
		{"pchoice float32", HPPChoice, []any{[]any{"a", float32(0.5)}},
			&Space{Kind: HPPChoice, Weighted: []WeightedValue{{"a", 0.5}}}},

		// range
		{"range list", HPRange, []any{-5, 0, 1},
			&Space{Kind: HPRange, Start: -5, Stop: 0, Step: 1, Integer: true}},
		{"range list floats", HPRange, []any{0, 1, 0.25},
			&Space{Kind: HPRange, Start: 0, Stop: 1, Step: 0.25}},
		{"range dict", HPRange, map[string]any{"start": 1, "stop": 10, "step": 2},
			&Space{Kind: HPRange, Start: 1, Stop: 10, Step: 2, Integer: true}},
		{"range string", HPRange, "10:600:50",
			&Space{Kind: HPRange, Start: 10, Stop: 600, Step: 50, Integer: true}},
		{"range string spaces", HPRange, " 1 : 10 : 2 ",
			&Space{Kind: HPRange, Start: 1, Stop: 10, Step: 2, Integer: true}},
		{"range string floats", HPRange, "0:1:0.5",
			&Space{Kind: HPRange, Start: 0, Stop: 1, Step: 0.5}},
		{"range numeric strings in list", HPRange, []any{"1", "1e1", 3},
			&Space{Kind: HPRange, Start: 1, Stop: 10, Step: 3}},
		{"range typed slice", HPRange, []float64{0, 1, 0.5},
			&Space{Kind: HPRange, Start: 0, Stop: 1, Step: 0.5}},
		{"range int kinds", HPRange, []any{int8(1), uint16(5), int64(2)},
			&Space{Kind: HPRange, Start: 1, Stop: 5, Step: 2, Integer: true}},
		{"range json numbers", HPRange, []any{json.Number("1"), json.Number("3"), json.Number("1")},
			&Space{Kind: HPRange, Start: 1, Stop: 3, Step: 1, Integer: true}},
		{"range map any keys", HPRange, map[any]any{"start": 1, "stop": 2, "step": 1},
			&Space{Kind: HPRange, Start: 1, Stop: 2, Step: 1, Integer: true}},

		// linspace, logspace, geomspace
		{"linspace string", HPLinspace, "0.01:0.1:5",
			&Space{Kind: HPLinspace, Start: 0.01, Stop: 0.1, Num: 5}},
		{"linspace list", HPLinspace, []any{1, 10, 20},
			&Space{Kind: HPLinspace, Start: 1, Stop: 10, Num: 20}},
		{"linspace dict", HPLinspace, map[string]any{"start": 1, "stop": 10, "num": 20.0},
			&Space{Kind: HPLinspace, Start: 1, Stop: 10, Num: 20}},
		{"logspace default base", HPLogspace, []any{0, 2, 3},
			&Space{Kind: HPLogspace, Start: 0, Stop: 2, Num: 3, Base: 10}},
		{"logspace list base", HPLogspace, []any{0, 3, 4, 2},
			&Space{Kind: HPLogspace, Start: 0, Stop: 3, Num: 4, Base: 2}},
		{"logspace dict base", HPLogspace, map[string]any{"start": 0, "stop": 3, "num": 4, "base": 2},
			&Space{Kind: HPLogspace, Start: 0, Stop: 3, Num: 4, Base: 2}},
		{"logspace dict no base", HPLogspace, map[string]any{"start": 0, "stop": 3, "num": 4},
			&Space{Kind: HPLogspace, Start: 0, Stop: 3, Num: 4, Base: 10}},
		{"logspace string base", HPLogspace, "1:3:3:2",
			&Space{Kind: HPLogspace, Start: 1, Stop: 3, Num: 3, Base: 2}},
		{"geomspace list", HPGeomspace, []any{1, 1000, 4},
			&Space{Kind: HPGeomspace, Start: 1, Stop: 1000, Num: 4}},
		{"geomspace negative", HPGeomspace, "-1000:-1:4",
			&Space{Kind: HPGeomspace, Start: -1000, Stop: -1, Num: 4}},
		{"geomspace dict", HPGeomspace, map[string]any{"start": 1, "stop": 8, "num": 4},
			&Space{Kind: HPGeomspace, Start: 1, Stop: 8, Num: 4}},

		// uniform family
		{"uniform string", HPUniform, "0:1",
			&Space{Kind: HPUniform, Low: 0, High: 1}},
		{"uniform list", HPUniform, []any{0, 1},
			&Space{Kind: HPUniform, Low: 0, High: 1}},
		{"uniform list size", HPUniform, []any{0, 1, 5},
			&Space{Kind: HPUniform, Low: 0, High: 1, Size: hpIntPtr(5)}},
		{"uniform dict size", HPUniform, map[string]any{"low": -1, "high": 1, "size": 3},
			&Space{Kind: HPUniform, Low: -1, High: 1, Size: hpIntPtr(3)}},
		{"quniform list", HPQUniform, []any{0, 1, 0.1},
			&Space{Kind: HPQUniform, Low: 0, High: 1, Q: 0.1}},
		{"quniform string", HPQUniform, "0:1:0.1",
			&Space{Kind: HPQUniform, Low: 0, High: 1, Q: 0.1}},
		{"quniform dict size", HPQUniform, map[string]any{"low": 0, "high": 1, "q": 0.1, "size": 2},
			&Space{Kind: HPQUniform, Low: 0, High: 1, Q: 0.1, Size: hpIntPtr(2)}},
		{"loguniform low 0", HPLogUniform, []any{0, 1},
			&Space{Kind: HPLogUniform, Low: 0, High: 1}},
		{"loguniform negative exponents", HPLogUniform, map[string]any{"low": -5, "high": -1},
			&Space{Kind: HPLogUniform, Low: -5, High: -1}},
		{"qloguniform list", HPQLogUniform, []any{0, 0.8, 0.1},
			&Space{Kind: HPQLogUniform, Low: 0, High: 0.8, Q: 0.1}},
		{"qloguniform list size", HPQLogUniform, []any{0, 0.8, 0.1, 4},
			&Space{Kind: HPQLogUniform, Low: 0, High: 0.8, Q: 0.1, Size: hpIntPtr(4)}},

		// normal family
		{"normal list", HPNormal, []any{0, 0.9},
			&Space{Kind: HPNormal, Loc: 0, Scale: 0.9}},
		{"normal string", HPNormal, "0:1",
			&Space{Kind: HPNormal, Loc: 0, Scale: 1}},
		{"normal negative loc", HPNormal, map[string]any{"loc": -3, "scale": 2, "size": 10},
			&Space{Kind: HPNormal, Loc: -3, Scale: 2, Size: hpIntPtr(10)}},
		{"qnormal list", HPQNormal, []any{0, 1, 0.1},
			&Space{Kind: HPQNormal, Loc: 0, Scale: 1, Q: 0.1}},
		{"qnormal dict", HPQNormal, map[string]any{"loc": 0, "scale": 1, "q": 0.5},
			&Space{Kind: HPQNormal, Loc: 0, Scale: 1, Q: 0.5}},
		{"lognormal list", HPLogNormal, []any{0, 1},
			&Space{Kind: HPLogNormal, Loc: 0, Scale: 1}},
		{"qlognormal string", HPQLogNormal, "0:1:0.1",
			&Space{Kind: HPQLogNormal, Loc: 0, Scale: 1, Q: 0.1}},

		// dates
		{"daterange list", HPDateRange, []any{"2019-06-22", "2019-07-25", 1},
			&Space{Kind: HPDateRange, StartTime: hpTestDate(2019, 6, 22), StopTime: hpTestDate(2019, 7, 25), StepDays: 1}},
		{"daterange dict", HPDateRange, map[string]any{"start": "2019-06-22", "stop": "2019-06-25", "step": "2"},
			&Space{Kind: HPDateRange, StartTime: hpTestDate(2019, 6, 22), StopTime: hpTestDate(2019, 6, 25), StepDays: 2}},
		{"daterange time values", HPDateRange, []any{hpTestDate(2020, 1, 1), hpTestDate(2020, 1, 3), 1},
			&Space{Kind: HPDateRange, StartTime: hpTestDate(2020, 1, 1), StopTime: hpTestDate(2020, 1, 3), StepDays: 1}},
		{"datetimerange list", HPDateTimeRange, []any{"2019-06-22 21:00", "2019-06-25 21:00", 3600},
			&Space{Kind: HPDateTimeRange, StartTime: time.Date(2019, 6, 22, 21, 0, 0, 0, time.UTC),
				StopTime: time.Date(2019, 6, 25, 21, 0, 0, 0, time.UTC), StepSeconds: 3600}},
		{"datetimerange offsets", HPDateTimeRange,
			map[string]any{"start": "2019-06-24T21:20:07+02:00", "stop": "2019-06-25T21:20:07+02:00", "step": 14400},
			&Space{Kind: HPDateTimeRange, StartTime: time.Date(2019, 6, 24, 19, 20, 7, 0, time.UTC),
				StopTime: time.Date(2019, 6, 25, 19, 20, 7, 0, time.UTC), StepSeconds: 14400}},
		{"datetimerange date only", HPDateTimeRange, []any{"2019-06-22", "2019-06-23T00:00:00Z", 43200},
			&Space{Kind: HPDateTimeRange, StartTime: hpTestDate(2019, 6, 22), StopTime: hpTestDate(2019, 6, 23), StepSeconds: 43200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSpace(tt.kind, tt.v)
			if err != nil {
				t.Fatalf("ParseSpace(%q, %#v): %v", tt.kind, tt.v, err)
			}
			if diff := cmp.Diff(tt.want, got, hpApprox); diff != "" {
				t.Errorf("ParseSpace(%q, %#v) (-want +got):\n%s", tt.kind, tt.v, diff)
			}
		})
	}
}

func TestParseSpaceErrors(t *testing.T) {
	tests := []struct {
		name string
		kind HyperParamKind
		v    any
		want string
	}{
		{"unknown kind", "dateRange", []any{1}, `unsupported value "dateRange": must be one of "choice", "pchoice", "range", "linspace", "logspace", "geomspace", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal", "lognormal", "qlognormal", "daterange", "datetimerange"; did you mean "daterange"?`},
		{"nil value", HPRange, nil, "range needs a value"},

		// choice
		{"choice not list", HPChoice, "a,b", "choice takes a list of values, got a string"},
		{"choice map", HPChoice, map[string]any{"a": 1}, "choice takes a list of values, got a map"},
		{"choice empty", HPChoice, []any{}, "choice needs at least one value"},

		// pchoice
		{"pchoice not list", HPPChoice, 0.5, "pchoice takes a list of [value, p] pairs, got a number"},
		{"pchoice empty", HPPChoice, []any{}, "pchoice needs at least one [value, p] pair"},
		{"pchoice not pair", HPPChoice, []any{[]any{"a", 0.5}, "b"}, `pchoice item 1 must be a [value, p] pair, got "b"`},
		{"pchoice triple", HPPChoice, []any{[]any{"a", 0.5, 1}}, `pchoice item 0 must be a [value, p] pair, got ["a",0.5,1]`},
		{"pchoice int p", HPPChoice, []any{[]any{"relu", 1}}, `pchoice probability of "relu" must be a float such as 0.5, got 1`},
		{"pchoice int zero p", HPPChoice, []any{[]any{"relu", 0}}, `pchoice probability of "relu" must be a float such as 0.5, got 0`},
		{"pchoice string p", HPPChoice, []any{[]any{"relu", "0.5"}}, `pchoice probability of "relu" must be a float such as 0.5, got "0.5"`},
		{"pchoice p one", HPPChoice, []any{[]any{"relu", 1.0}}, `pchoice probability of "relu" must be at least 0 and less than 1, got 1`},
		{"pchoice p negative", HPPChoice, []any{[]any{2, -0.1}}, `pchoice probability of 2 must be at least 0 and less than 1, got -0.1`},
		{"pchoice sum", HPPChoice, []any{[]any{"a", 0.6}, []any{"b", 0.6}}, "pchoice probabilities must sum to at most 1, got 1.2"},

		// shapes
		{"range four values", HPRange, []any{3, 4, 5, 6}, "range takes 3 values [start, stop, step], got 4"},
		{"range two values", HPRange, []any{3, 4}, "range takes 3 values [start, stop, step], got 2"},
		{"range string count", HPRange, "1:10", "range takes 3 values [start, stop, step], got 2"},
		{"range no colon", HPRange, "5", "range takes 3 values [start, stop, step], got 1"},
		{"range bool", HPRange, true, `range takes a list [start, stop, step], a map {start, stop, step} or a string "start:stop:step", got a bool`},
		{"range number", HPRange, 4202, `range takes a list [start, stop, step], a map {start, stop, step} or a string "start:stop:step", got a number`},
		{"logspace count", HPLogspace, []any{1, 2}, "logspace takes 3 or 4 values [start, stop, num, base], got 2"},
		{"logspace string count", HPLogspace, "1:2:3:4:5", "logspace takes 3 or 4 values [start, stop, num, base], got 5"},
		{"uniform count", HPUniform, []any{0, 1, 2, 3}, "uniform takes 2 or 3 values [low, high, size], got 4"},
		{"uniform one", HPUniform, "0", "uniform takes 2 or 3 values [low, high, size], got 1"},
		{"quniform count", HPQUniform, []any{0, 1}, "quniform takes 3 or 4 values [low, high, q, size], got 2"},
		{"normal count", HPNormal, []any{0}, "normal takes 2 or 3 values [loc, scale, size], got 1"},
		{"qlognormal count", HPQLogNormal, []any{0, 1, 2, 3, 4}, "qlognormal takes 3 or 4 values [loc, scale, q, size], got 5"},
		{"uniform shape", HPUniform, false, `uniform takes a list [low, high], a map {low, high, size} or a string "low:high", got a bool`},
		{"daterange string", HPDateRange, "2019-06-22:2019-06-25:1", "daterange takes a list [start, stop, step] or a map {start, stop, step}, got a string"},
		{"datetimerange string", HPDateTimeRange, "a:b:c", "datetimerange takes a list [start, stop, step] or a map {start, stop, step}, got a string"},

		// dict keys
		{"range dict missing", HPRange, map[string]any{"start": 1, "stop": 2}, `range is missing key "step"`},
		{"range dict missing two", HPRange, map[string]any{"start": 1}, `range is missing keys "stop", "step"`},
		{"range dict unknown", HPRange, map[string]any{"start": 1, "stop": 2, "step": 1, "num": 3}, `range has unknown key "num" (allowed: start, stop, step)`},
		{"uniform dict unknown", HPUniform, map[string]any{"low": 0, "high": 1, "q": 0.1, "Size": 1}, `uniform has unknown keys "Size", "q" (allowed: low, high, size)`},
		{"normal dict missing", HPNormal, map[string]any{"loc": 0}, `normal is missing key "scale"`},
		{"map int keys", HPRange, map[any]any{1: 2}, "range map keys must be strings, got 1"},

		// numbers
		{"range not number", HPRange, []any{"a", 2, 1}, `range start must be a number, got "a"`},
		{"range string not number", HPRange, "0:x:1", `range stop must be a number, got "x"`},
		{"range bool part", HPRange, []any{0, true, 1}, "range stop must be a number, got true"},
		{"range null part", HPRange, map[string]any{"start": 0, "stop": 1, "step": nil}, "range step must be a number, got null"},
		{"range hex", HPRange, "0x1:2:1", `range start must be a number, got "0x1"`},
		{"range inf string", HPRange, "0:inf:1", `range stop must be a number, got "inf"`},
		{"range empty part", HPRange, "0::1", `range stop must be a number, got ""`},
		{"range list part", HPRange, []any{0, []any{1}, 1}, "range stop must be a number, got [1]"},

		// range rules
		{"range order", HPRange, []any{5, 1, 1}, "range needs start < stop (got start=5, stop=1)"},
		{"range equal", HPRange, "1:1:1", "range needs start < stop (got start=1, stop=1)"},
		{"range step zero", HPRange, []any{0, 1, 0}, "range needs step > 0 (got step=0)"},
		{"range step negative", HPRange, []any{0, 10, -1}, "range needs step > 0 (got step=-1)"},
		{"range overflow", HPRange, []any{-1e308, 1e308, 1}, "range is too wide: stop - start overflows"},

		// spaces
		{"linspace order", HPLinspace, "0.1:0.01:5", "linspace needs start < stop (got start=0.1, stop=0.01)"},
		{"linspace num zero", HPLinspace, []any{0, 1, 0}, "linspace num must be a whole number of at least 1, got 0"},
		{"linspace num fraction", HPLinspace, []any{0, 1, 2.5}, "linspace num must be a whole number of at least 1, got 2.5"},
		{"linspace num string", HPLinspace, "0:1:x", `linspace num must be a whole number of at least 1, got "x"`},
		{"logspace base zero", HPLogspace, []any{0, 1, 3, 0}, "logspace needs base > 0 (got base=0)"},
		{"logspace base negative", HPLogspace, map[string]any{"start": 0, "stop": 1, "num": 3, "base": -2}, "logspace needs base > 0 (got base=-2)"},
		{"logspace overflow", HPLogspace, []any{0, 400, 3}, "logspace 10**400 overflows"},
		{"geomspace zero", HPGeomspace, []any{0, 10, 3}, "geomspace needs start and stop of the same sign, neither 0 (got start=0, stop=10)"},
		{"geomspace signs", HPGeomspace, []any{-1, 10, 3}, "geomspace needs start and stop of the same sign, neither 0 (got start=-1, stop=10)"},
		{"geomspace order", HPGeomspace, []any{10, 1, 3}, "geomspace needs start < stop (got start=10, stop=1)"},

		// distributions
		{"uniform order", HPUniform, []any{1, 0}, "uniform needs low < high (got low=1, high=0)"},
		{"uniform equal", HPUniform, "1:1", "uniform needs low < high (got low=1, high=1)"},
		{"loguniform order", HPLogUniform, map[string]any{"low": 2, "high": 1}, "loguniform needs low < high (got low=2, high=1)"},
		{"quniform q zero", HPQUniform, []any{0, 1, 0}, "quniform needs q > 0 (got q=0)"},
		{"qloguniform q negative", HPQLogUniform, "0:1:-0.1", "qloguniform needs q > 0 (got q=-0.1)"},
		{"uniform size zero", HPUniform, []any{0, 1, 0}, "uniform size must be a whole number of at least 1, got 0"},
		{"uniform size fraction", HPUniform, map[string]any{"low": 0, "high": 1, "size": 1.5}, "uniform size must be a whole number of at least 1, got 1.5"},
		{"normal scale zero", HPNormal, []any{0, 0}, "normal needs scale > 0 (got scale=0)"},
		{"lognormal scale negative", HPLogNormal, "0:-1", "lognormal needs scale > 0 (got scale=-1)"},
		{"qnormal q zero", HPQNormal, []any{0, 1, 0}, "qnormal needs q > 0 (got q=0)"},
		{"qlognormal scale", HPQLogNormal, map[string]any{"loc": 0, "scale": -1, "q": 1}, "qlognormal needs scale > 0 (got scale=-1)"},
		{"normal loc not number", HPNormal, []any{"x", 1}, `normal loc must be a number, got "x"`},

		// dates
		{"daterange bad date", HPDateRange, []any{"22/06/2019", "2019-06-25", 1}, `daterange start must be an ISO date such as "2019-06-22", got "22/06/2019"`},
		{"daterange datetime", HPDateRange, []any{"2019-06-22", "2019-06-25T10:00:00Z", 1}, `daterange stop must be an ISO date such as "2019-06-22", got "2019-06-25T10:00:00Z"`},
		{"daterange number", HPDateRange, []any{20190622, "2019-06-25", 1}, `daterange start must be an ISO date such as "2019-06-22", got 20190622`},
		{"daterange time not midnight", HPDateRange, []any{time.Date(2020, 1, 1, 5, 0, 0, 0, time.UTC), "2020-01-03", 1}, `daterange start must be an ISO date such as "2019-06-22", got "2020-01-01T05:00:00Z"`},
		{"daterange order", HPDateRange, []any{"2019-06-25", "2019-06-22", 1}, `daterange needs start < stop (got start="2019-06-25", stop="2019-06-22")`},
		{"daterange equal", HPDateRange, map[string]any{"start": "2019-06-25", "stop": "2019-06-25", "step": 1}, `daterange needs start < stop (got start="2019-06-25", stop="2019-06-25")`},
		{"daterange step zero", HPDateRange, []any{"2019-06-22", "2019-06-25", 0}, "daterange step must be a whole number of days of at least 1, got 0"},
		{"daterange step fraction", HPDateRange, []any{"2019-06-22", "2019-06-25", 0.5}, "daterange step must be a whole number of days of at least 1, got 0.5"},
		{"daterange count", HPDateRange, []any{"2019-06-22", "2019-06-25"}, "daterange takes 3 values [start, stop, step], got 2"},
		{"daterange missing", HPDateRange, map[string]any{"start": "2019-06-22", "stop": "2019-06-25"}, `daterange is missing key "step"`},
		{"datetimerange bad", HPDateTimeRange, []any{"yesterday", "2019-06-25 21:00", 60}, `datetimerange start must be an ISO datetime such as "2019-06-22T21:00:00Z", got "yesterday"`},
		{"datetimerange order", HPDateTimeRange, []any{"2019-06-25 21:00", "2019-06-25 20:00", 60}, `datetimerange needs start < stop (got start="2019-06-25 21:00", stop="2019-06-25 20:00")`},
		{"datetimerange step", HPDateTimeRange, []any{"2019-06-25 20:00", "2019-06-25 21:00", -60}, "datetimerange step must be a whole number of seconds of at least 1, got -60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSpace(tt.kind, tt.v)
			if err == nil {
				t.Fatalf("ParseSpace(%q, %#v) = %+v, want error %q", tt.kind, tt.v, got, tt.want)
			}
			if got != nil {
				t.Errorf("ParseSpace(%q, %#v) returned a space with its error", tt.kind, tt.v)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseSpace(%q, %#v) error\n got: %s\nwant: %s", tt.kind, tt.v, err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != "" {
				t.Errorf("error %#v is not a *FieldError without a path", err)
			}
		})
	}
}

func TestParseSpaceErrorPrefixed(t *testing.T) {
	_, err := ParseSpace(HPRange, []any{3, 4, 5, 6})
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FieldError", err)
	}
	got := ErrorList{fe}.Prefixed("matrix.params.lr.value").Error()
	want := "matrix.params.lr.value: range takes 3 values [start, stop, step], got 4"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestParseSpaceCopiesChoices checks that a space does not alias its input.
func TestParseSpaceCopiesChoices(t *testing.T) {
	in := []any{1, 2}
	s, err := ParseSpace(HPChoice, in)
	if err != nil {
		t.Fatal(err)
	}
	in[0] = 99
	if s.Values[0] != 1 {
		t.Errorf("Values[0] = %v after the input changed, want 1", s.Values[0])
	}
}

func TestEnumerate(t *testing.T) {
	tests := []struct {
		name string
		kind HyperParamKind
		v    any
		want []any
	}{
		{"choice", HPChoice, []any{"a", 1, 2.5}, []any{"a", 1, 2.5}},
		{"pchoice", HPPChoice, []any{[]any{"relu", 0.1}, []any{"sigmoid", 0.8}}, []any{"relu", "sigmoid"}},
		{"range floats", HPRange, []any{0, 1, 0.25}, []any{0.0, 0.25, 0.5, 0.75}},
		{"range ints", HPRange, "1:10:2", []any{1, 3, 5, 7, 9}},
		{"range ints exact stop", HPRange, []any{0, 10, 5}, []any{0, 5}},
		{"range negative", HPRange, []any{-5, 0, 1}, []any{-5, -4, -3, -2, -1}},
		{"range float start", HPRange, []any{1.0, 4, 1}, []any{1.0, 2.0, 3.0}},
		{"range float step", HPRange, []any{0.5, 2, 0.5}, []any{0.5, 1.0, 1.5}},
		{"range single", HPRange, []any{0, 1, 5}, []any{0}},
		{"range numpy rounding", HPRange, []any{1, 1.3, 0.1}, []any{1.0, 1.1, 1.2000000000000002, 1.3000000000000003}},
		{"range hidden sizes", HPRange, "10:600:50", []any{10, 60, 110, 160, 210, 260, 310, 360, 410, 460, 510, 560}},
		{"linspace", HPLinspace, "0.01:0.1:5", []any{0.01, 0.0325, 0.055, 0.0775, 0.1}},
		{"linspace ints give floats", HPLinspace, []any{1, 3, 3}, []any{1.0, 2.0, 3.0}},
		{"linspace one", HPLinspace, []any{2, 3, 1}, []any{2.0}},
		{"linspace two", HPLinspace, []any{0, 1, 2}, []any{0.0, 1.0}},
		{"logspace", HPLogspace, []any{0, 2, 3}, []any{1.0, 10.0, 100.0}},
		{"logspace base 2", HPLogspace, "0:3:4:2", []any{1.0, 2.0, 4.0, 8.0}},
		{"logspace negative exponents", HPLogspace, []any{-3, -1, 3}, []any{0.001, 0.01, 0.1}},
		{"geomspace", HPGeomspace, []any{1, 1000, 4}, []any{1.0, 10.0, 100.0, 1000.0}},
		{"geomspace negative", HPGeomspace, []any{-1000, -1, 4}, []any{-1000.0, -100.0, -10.0, -1.0}},
		{"geomspace one", HPGeomspace, []any{2, 8, 1}, []any{2.0}},
		{"geomspace powers of 2", HPGeomspace, map[string]any{"start": 1, "stop": 256, "num": 9},
			[]any{1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0}},
		{"daterange", HPDateRange, []any{"2019-06-22", "2019-06-25", 1},
			[]any{"2019-06-22", "2019-06-23", "2019-06-24"}},
		{"daterange step", HPDateRange, []any{"2019-06-22", "2019-06-27", 2},
			[]any{"2019-06-22", "2019-06-24", "2019-06-26"}},
		{"daterange month end", HPDateRange, []any{"2020-02-27", "2020-03-02", 1},
			[]any{"2020-02-27", "2020-02-28", "2020-02-29", "2020-03-01"}},
		{"datetimerange", HPDateTimeRange, []any{"2019-06-22 21:00", "2019-06-23 00:00", 3600},
			[]any{"2019-06-22T21:00:00Z", "2019-06-22T22:00:00Z", "2019-06-22T23:00:00Z"}},
		{"datetimerange offset kept", HPDateTimeRange, []any{"2019-06-24T21:20:07+02:00", "2019-06-25T21:20:07+02:00", 43200},
			[]any{"2019-06-24T21:20:07+02:00", "2019-06-25T09:20:07+02:00"}},
		{"datetimerange fraction", HPDateTimeRange, []any{"2019-06-22T00:00:00.5Z", "2019-06-22T00:00:02Z", 1},
			[]any{"2019-06-22T00:00:00.5Z", "2019-06-22T00:00:01.5Z"}},
		{"datetimerange fraction inside", HPDateTimeRange, []any{"2019-06-22T00:00:00Z", "2019-06-22T00:00:02.5Z", 1},
			[]any{"2019-06-22T00:00:00Z", "2019-06-22T00:00:01Z", "2019-06-22T00:00:02Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSpace(tt.kind, tt.v)
			if err != nil {
				t.Fatalf("ParseSpace(%q, %#v): %v", tt.kind, tt.v, err)
			}
			got, err := s.Enumerate()
			if err != nil {
				t.Fatalf("Enumerate: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, hpApprox); diff != "" {
				t.Errorf("Enumerate (-want +got):\n%s", diff)
			}
			if n := s.Len(); n != len(tt.want) {
				t.Errorf("Len() = %d, want %d", n, len(tt.want))
			}
		})
	}
}

func TestEnumerateRangeExactNumpy(t *testing.T) {
	// numpy.arange fills with (start+step)-start, so arange(0.1, 1, 0.3)
	// is [0.1, 0.4, 0.7000000000000001]: compare bit for bit.
	s, err := ParseSpace(HPRange, []any{0.1, 1, 0.3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Enumerate()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{0.1, 0.4, 0.7000000000000001}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestContinuousSpaces(t *testing.T) {
	for _, k := range HyperParamKinds {
		if !k.IsContinuous() {
			continue
		}
		v := "0:1"
		if strings.HasPrefix(string(k), "q") {
			v = "0:1:0.5"
		}
		s, err := ParseSpace(k, v)
		if err != nil {
			t.Fatalf("ParseSpace(%q): %v", k, err)
		}
		if n := s.Len(); n != -1 {
			t.Errorf("%s: Len() = %d, want -1", k, n)
		}
		vals, err := s.Enumerate()
		if err == nil {
			t.Errorf("%s: Enumerate() = %v, want an error", k, vals)
		} else if want := string(k) + " is a continuous distribution: it has no list of values"; err.Error() != want {
			t.Errorf("%s: Enumerate error %q, want %q", k, err, want)
		}
	}
}

func TestEnumerateLimits(t *testing.T) {
	tests := []struct {
		name    string
		space   *Space
		wantLen int
		wantErr string
	}{
		{"range too long", hpMustSpace(t, HPRange, []any{0, 1e9, 1}), 1e9,
			"range has too many values to list (1000000000, more than 1048576)"},
		{"range clamps", hpMustSpace(t, HPRange, []any{0, 1e300, 1e-300}), int(^uint(0) >> 1),
			"range has too many values to list (9223372036854775807, more than 1048576)"},
		{"linspace too long", hpMustSpace(t, HPLinspace, []any{0, 1, 1 << 21}), 1 << 21,
			"linspace has too many values to list (2097152, more than 1048576)"},
		{"datetimerange too long", hpMustSpace(t, HPDateTimeRange, []any{"1900-01-01", "2100-01-01", 1}), 6311433600,
			"datetimerange has too many values to list (6311433600, more than 1048576)"},
		{"unknown kind", &Space{Kind: "dateRange"}, -1,
			`unsupported value "dateRange": must be one of "choice", "pchoice", "range", "linspace", "logspace", "geomspace", "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal", "lognormal", "qlognormal", "daterange", "datetimerange"; did you mean "daterange"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := tt.space.Len(); n != tt.wantLen {
				t.Errorf("Len() = %d, want %d", n, tt.wantLen)
			}
			_, err := tt.space.Enumerate()
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Enumerate error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestHandBuiltSpaces checks Len and Enumerate on spaces not made by
// ParseSpace, where the fields may not be valid.
func TestHandBuiltSpaces(t *testing.T) {
	tests := []struct {
		name  string
		space Space
		want  []any
	}{
		{"range zero step", Space{Kind: HPRange, Start: 0, Stop: 1}, []any{}},
		{"range descending", Space{Kind: HPRange, Start: 3, Stop: 0, Step: -1}, []any{3.0, 2.0, 1.0}},
		{"range empty", Space{Kind: HPRange, Start: 3, Stop: 0, Step: 1}, []any{}},
		{"linspace negative num", Space{Kind: HPLinspace, Num: -1}, []any{}},
		{"daterange zero step", Space{Kind: HPDateRange, StartTime: hpTestDate(2020, 1, 1), StopTime: hpTestDate(2020, 1, 2)}, []any{}},
		{"datetimerange reversed", Space{Kind: HPDateTimeRange, StartTime: hpTestDate(2020, 1, 2), StopTime: hpTestDate(2020, 1, 1), StepSeconds: 1}, []any{}},
		{"choice empty", Space{Kind: HPChoice}, []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.space.Enumerate()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, hpApprox); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if n := tt.space.Len(); n != len(tt.want) {
				t.Errorf("Len() = %d, want %d", n, len(tt.want))
			}
		})
	}
}

func hpMustSpace(t *testing.T, kind HyperParamKind, v any) *Space {
	t.Helper()
	s, err := ParseSpace(kind, v)
	if err != nil {
		t.Fatalf("ParseSpace(%q, %#v): %v", kind, v, err)
	}
	return s
}

// FuzzParseSpace feeds ParseSpace JSON values (or raw strings) of every
// kind. It must never panic, and a space it accepts must be consistent:
// continuous kinds have Len -1 and no values, discrete ones at least one
// value and exactly Len values when they can be listed.
func FuzzParseSpace(f *testing.F) {
	seeds := []string{
		`[1, 2, 3]`, `[["a", 0.5], ["b", 0.4]]`, `"0:1:0.25"`, `"0.01:0.1:5"`, `"1:10:2"`,
		`{"start": 0, "stop": 3, "num": 4, "base": 2}`, `{"low": 0, "high": 1, "q": 0.1, "size": 3}`,
		`["2019-06-22", "2019-06-25", 1]`, `["2019-06-22 21:00", "2019-06-25T21:00:00+02:00", 3600]`,
		`null`, `true`, `[]`, `{}`, `[1e308, -1e308, 1e-308]`, `"::"`, `[[1]]`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, k uint8, input string) {
		kind := HyperParamKind("unknown")
		if int(k) < len(HyperParamKinds) {
			kind = HyperParamKinds[k]
		}
		var v any
		if err := json.Unmarshal([]byte(input), &v); err != nil {
			v = input
		}
		s, err := ParseSpace(kind, v)
		if err != nil {
			if s != nil {
				t.Fatalf("ParseSpace returned both a space and %v", err)
			}
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		n := s.Len()
		vals, err := s.Enumerate()
		switch {
		case kind.IsContinuous():
			if n != -1 || err == nil {
				t.Fatalf("continuous %s: Len %d, Enumerate error %v", kind, n, err)
			}
		case n < 1:
			t.Fatalf("%s %#v: Len %d, want >= 1", kind, v, n)
		case n <= MaxSpaceValues && (err != nil || len(vals) != n):
			t.Fatalf("%s %#v: Len %d, Enumerate %d values, error %v", kind, v, n, len(vals), err)
		case n > MaxSpaceValues && err == nil:
			t.Fatalf("%s %#v: Len %d, Enumerate did not refuse", kind, v, n)
		}
	})
}
