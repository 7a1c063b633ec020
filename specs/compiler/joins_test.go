package compiler

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/plexus-ml/plexus/specs"
)

func TestParseQuery(t *testing.T) {
	cases := map[string]struct {
		query string
		want  Query
	}{
		"equality":                  {"status:succeeded", Query{{Field: "status", Op: OpEqual, Values: []string{"succeeded"}}}},
		"alternatives":              {"status:succeeded|failed", Query{{Field: "status", Op: OpIn, Values: []string{"succeeded", "failed"}}}},
		"negated alternatives":      {"status:~succeeded | failed", Query{{Field: "status", Op: OpIn, Negated: true, Values: []string{"succeeded", "failed"}}}},
		"blanks around the parts":   {"  status : ~ stopped ,, ", Query{{Field: "status", Op: OpEqual, Negated: true, Values: []string{"stopped"}}}},
		"name starts with":          {"name:train%", Query{{Field: "name", Op: OpStartsWith, Values: []string{"train"}}}},
		"name ends with":            {"name:%train", Query{{Field: "name", Op: OpEndsWith, Values: []string{"train"}}}},
		"name contains, negated":    {"name:~%train%", Query{{Field: "name", Op: OpContains, Negated: true, Values: []string{"train"}}}},
		"uuid aliases":              {"id:abc, uid:def", Query{{Field: "uuid", Op: OpEqual, Values: []string{"abc"}}, {Field: "uuid", Op: OpEqual, Values: []string{"def"}}}},
		"nil":                       {"pipeline:nil", Query{{Field: "pipeline", Op: OpNil}}},
		"not nil":                   {"outputs.loss:~nil", Query{{Field: "outputs.loss", Op: OpNil, Negated: true}}},
		"less than":                 {"outputs.loss:<0.5", Query{{Field: "outputs.loss", Op: OpLess, Values: []string{"0.5"}}}},
		"metrics are outputs":       {"metrics.loss:<=0.5", Query{{Field: "outputs.loss", Op: OpLessEq, Values: []string{"0.5"}}}},
		"out is outputs":            {"out.acc:>0.9", Query{{Field: "outputs.acc", Op: OpGreater, Values: []string{"0.9"}}}},
		"=> is >=":                  {"outputs.acc:=>1", Query{{Field: "outputs.acc", Op: OpGreaterEq, Values: []string{"1"}}}},
		"=< is <=":                  {"outputs.acc:=<1", Query{{Field: "outputs.acc", Op: OpLessEq, Values: []string{"1"}}}},
		"negative exponent":         {"outputs.loss:>-1e-3", Query{{Field: "outputs.loss", Op: OpGreater, Values: []string{"-1e-3"}}}},
		"negated comparison":        {"outputs.loss:~<0.5", Query{{Field: "outputs.loss", Op: OpLess, Negated: true, Values: []string{"0.5"}}}},
		"numeric range":             {"outputs.loss:0.1..0.5", Query{{Field: "outputs.loss", Op: OpRange, Values: []string{"0.1", "0.5"}}}},
		"output value":              {"outputs.model:best", Query{{Field: "outputs.model", Op: OpEqual, Values: []string{"best"}}}},
		"params are inputs":         {"params.opt:adam|sgd", Query{{Field: "inputs.opt", Op: OpIn, Values: []string{"adam", "sgd"}}}},
		"in is inputs":              {"in.lr:0.1", Query{{Field: "inputs.lr", Op: OpEqual, Values: []string{"0.1"}}}},
		"project name":              {"project.name:mnist", Query{{Field: "project", Op: OpEqual, Values: []string{"mnist"}}}},
		"project":                   {"project:mnist", Query{{Field: "project", Op: OpEqual, Values: []string{"mnist"}}}},
		"kind and tags":             {"kind:job, tags:a|b", Query{{Field: "kind", Op: OpEqual, Values: []string{"job"}}, {Field: "tags", Op: OpIn, Values: []string{"a", "b"}}}},
		"date":                      {"created_at:>=2024-01-01", Query{{Field: "created_at", Op: OpGreaterEq, Values: []string{"2024-01-01"}}}},
		"datetime with a colon":     {"updated_at:2024-01-01T10:00:00Z", Query{{Field: "updated_at", Op: OpEqual, Values: []string{"2024-01-01T10:00:00Z"}}}},
		"datetime range":            {"created_at:~2024-01-01 10:00 .. 2024-02-01", Query{{Field: "created_at", Op: OpRange, Negated: true, Values: []string{"2024-01-01 10:00", "2024-02-01"}}}},
		"the example of the spec":   {"metrics.loss:<0.01, project.name:p, kind: job", Query{{Field: "outputs.loss", Op: OpLess, Values: []string{"0.01"}}, {Field: "project", Op: OpEqual, Values: []string{"p"}}, {Field: "kind", Op: OpEqual, Values: []string{"job"}}}},
		"several on the same field": {"outputs.loss:>0.1, outputs.loss:<0.5", Query{{Field: "outputs.loss", Op: OpGreater, Values: []string{"0.1"}}, {Field: "outputs.loss", Op: OpLess, Values: []string{"0.5"}}}},
		"a % inside is text":        {"name:a%b", Query{{Field: "name", Op: OpEqual, Values: []string{"a%b"}}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(Condition{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseQueryErrors(t *testing.T) {
	cases := map[string]struct {
		query string
		parts []string // the bad parts, in order
		msg   string   // in the error
	}{
		"empty":                        {"  , ", []string{"  , "}, "no condition"},
		"no operation":                 {"status", []string{"status"}, "want field:operation"},
		"no field":                     {":succeeded", []string{":succeeded"}, "want field:operation"},
		"unknown field":                {"state:done", []string{"state:done"}, `unknown field "state"`},
		"section without a name":       {"outputs:1", []string{"outputs:1"}, "takes one name"},
		"name with two parts":          {"outputs.a.b:1", []string{"outputs.a.b:1"}, "takes one name"},
		"comparison of a value":        {"status:<1", []string{"status:<1"}, "compares numbers and datetimes"},
		"range of a value":             {"name:a..b", []string{"name:a..b"}, "ranges"},
		"pattern with two parts":       {"name:%a%b%", []string{"name:%a%b%"}, "pattern"},
		"negation of nothing":          {"status:~", []string{"status:~"}, "nothing after ~"},
		"comparison of text":           {"outputs.loss:<low", []string{"outputs.loss:<low"}, `compares numbers, got "low"`},
		"range of three":               {"outputs.loss:1..2..3", []string{"outputs.loss:1..2..3"}, "two bounds"},
		"range of text":                {"inputs.lr:a..b", []string{"inputs.lr:a..b"}, "compares numbers"},
		"alternative datetimes":        {"created_at:2024-01-01|2024-01-02", []string{"created_at:2024-01-01|2024-01-02"}, "| is not allowed"},
		"not a datetime":               {"created_at:yesterday", []string{"created_at:yesterday"}, "not a datetime"},
		"comparison without a value":   {"created_at:>", []string{"created_at:>"}, "needs a datetime"},
		"one alternative":              {"status:a|", []string{"status:a|"}, "two values or more"},
		"every bad condition, in turn": {"foo:1, status:<2, name:ok, kind:", []string{"foo:1", "status:<2", "kind:"}, "unknown field"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseQuery(tc.query)
			if err == nil {
				t.Fatal("no error")
			}
			var parts []string
			for _, e := range unjoin(err) {
				var qe *QueryError
				if !errors.As(e, &qe) {
					t.Fatalf("%v is no *QueryError", e)
				}
				parts = append(parts, qe.Part)
			}
			if diff := cmp.Diff(tc.parts, parts); diff != "" {
				t.Errorf("bad parts (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q, want it to say %q", err, tc.msg)
			}
		})
	}
}

// queryRuns are the runs the matching and sorting tests ask about.
var (
	day0      = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	queryRuns = map[string]map[string]any{
		"a": {"status": "succeeded", "name": "train-a", "uuid": "0a0a0a0a0a0a4a0a8a0a0a0a0a0a0a0a", "project": "mnist", "kind": "job",
			"tags": []string{"best", "gpu"}, "created_at": day0.Add(10 * time.Hour), "updated_at": day0.Add(30 * time.Hour),
			"outputs.loss": 0.2, "outputs.model": "m-a", "inputs.lr": "0.1", "inputs.opt": "adam", "inputs.flag": true},
		"b": {"status": "failed", "name": "eval-b", "uuid": "0b0b0b0b0b0b4b0b8b0b0b0b0b0b0b0b", "project": "mnist", "kind": "service",
			"pipeline": "0d0d0d0d0d0d4d0d8d0d0d0d0d0d0d0d", "created_at": day0.Add(24 * time.Hour), "updated_at": day0.Add(26 * time.Hour),
			"outputs.loss": 0.7, "inputs.lr": 0.01, "inputs.opt": "sgd", "inputs.flag": false},
		"c": {"status": "succeeded", "name": "Train-C", "uuid": "0c0c0c0c0c0c4c0c8c0c0c0c0c0c0c0c", "project": "cifar", "kind": "job",
			"tags": []string{"gpu"}, "created_at": day0.Add(48 * time.Hour), "updated_at": day0.Add(50 * time.Hour),
			"outputs.loss": "n/a", "inputs.sizes": []any{7}},
	}
)

func fieldsOf(run map[string]any) Fields {
	return func(f string) (any, bool) { v, ok := run[f]; return v, ok }
}

func TestQueryMatches(t *testing.T) {
	cases := map[string]struct {
		query string
		want  []string
	}{
		"status":                            {"status:succeeded", []string{"a", "c"}},
		"status, negated":                   {"status:~succeeded", []string{"b"}},
		"alternatives":                      {"status:failed|stopped", []string{"b"}},
		"name exactly":                      {"name:train-a", []string{"a"}},
		"name pattern, any case":            {"name:train%", []string{"a", "c"}},
		"name ends with":                    {"name:%-b", []string{"b"}},
		"name contains, negated":            {"name:~%rain%", []string{"b"}},
		"uuid with dashes":                  {"uuid:0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a", []string{"a"}},
		"pipeline":                          {"pipeline:0D0D0D0D0D0D4D0D8D0D0D0D0D0D0D0D", []string{"b"}},
		"no pipeline":                       {"pipeline:nil", []string{"a", "c"}},
		"project":                           {"project.name:mnist", []string{"a", "b"}},
		"kind":                              {"kind:job", []string{"a", "c"}},
		"a tag":                             {"tags:gpu", []string{"a", "c"}},
		"one of the tags":                   {"tags:best|cpu", []string{"a"}},
		"without a tag":                     {"tags:~best", []string{"c"}},
		"no tags":                           {"tags:nil", []string{"b"}},
		"a number below":                    {"outputs.loss:<0.5", []string{"a"}},
		"a number above, text never does":   {"outputs.loss:>=0.2", []string{"a", "b"}},
		"negated, text is no number either": {"outputs.loss:~<0.5", []string{"b"}},
		"a range of text, neither way":      {"inputs.opt:~0..1", nil},
		"negated, a missing value never":    {"outputs.model:~m-a", nil},
		"numbers in a range":                {"metrics.loss:0.1..0.7", []string{"a", "b"}},
		"an output as text":                 {"outputs.model:m-a", []string{"a"}},
		"an output equal as a number":       {"outputs.loss:0.20", []string{"a"}},
		"has an output":                     {"outputs.model:~nil", []string{"a"}},
		"lacks an output":                   {"outputs.model:nil", []string{"b", "c"}},
		"inputs given as text compare":      {"inputs.lr:<0.05", []string{"b"}},
		"inputs equal as numbers":           {"params.lr:0.1", []string{"a"}},
		"an input among values":             {"inputs.opt:sgd|rmsprop", []string{"b"}},
		"a boolean input":                   {"inputs.flag:true", []string{"a"}},
		"a list input":                      {"inputs.sizes:[7]", []string{"c"}},
		"created on a day":                  {"created_at:2024-05-02", []string{"b"}},
		"created before a day":              {"created_at:<2024-05-02", []string{"a"}},
		"created up to the end of a day":    {"created_at:<=2024-05-02", []string{"a", "b"}},
		"created after a day":               {"created_at:>2024-05-02", []string{"c"}},
		"created from a minute":             {"created_at:>=2024-05-01 10:00", []string{"a", "b", "c"}},
		"created in a range of days":        {"created_at:2024-05-02..2024-05-03", []string{"b", "c"}},
		"created out of a range":            {"created_at:~2024-05-02..2024-05-03", []string{"a"}},
		"updated at a second, with a zone":  {"updated_at:2024-05-02T04:00:00+02:00", []string{"b"}},
		"every condition":                   {"status:succeeded, kind:job, tags:best", []string{"a"}},
		"conditions on one field":           {"outputs.loss:>0.1, outputs.loss:<0.5", []string{"a"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			q, err := ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for id, run := range queryRuns {
				if q.Matches(fieldsOf(run)) {
					got = append(got, id)
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("matched (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSort(t *testing.T) {
	cases := map[string]struct {
		sort string
		want []string
	}{
		"default: the latest updated first":     {"", []string{"c", "a", "b"}},
		"numbers before text":                   {"outputs.loss", []string{"a", "b", "c"}},
		"descending, the other way":             {"-metrics.loss", []string{"c", "b", "a"}},
		"missing values last, descending too":   {"-inputs.opt", []string{"b", "a", "c"}},
		"text":                                  {"name", []string{"c", "b", "a"}},
		"datetimes":                             {"-created_at", []string{"c", "b", "a"}},
		"ties by the next key, then by uuid":    {"kind, -project", []string{"a", "c", "b"}},
		"equal on every key: by uuid":           {"status", []string{"b", "a", "c"}},
		"numbers given as text sort as numbers": {"-inputs.lr", []string{"a", "b", "c"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := DefaultSort
			if tc.sort != "" {
				var err error
				if s, err = ParseSort(tc.sort); err != nil {
					t.Fatal(err)
				}
			}
			got := []string{"b", "c", "a"}
			slices.SortStableFunc(got, func(x, y string) int { return s.Compare(fieldsOf(queryRuns[x]), fieldsOf(queryRuns[y])) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSort(t *testing.T) {
	got, err := ParseSort(" -metrics.acc , created_at,")
	if err != nil {
		t.Fatal(err)
	}
	want := Sort{{Field: "outputs.acc", Desc: true}, {Field: "created_at"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err = ParseSort("foo, -tags, outputs, name")
	var parts []string
	for _, e := range unjoin(err) {
		var qe *QueryError
		if errors.As(e, &qe) {
			parts = append(parts, qe.Part)
		}
	}
	if diff := cmp.Diff([]string{"foo", "-tags", "outputs"}, parts); diff != "" {
		t.Errorf("bad keys (-want +got):\n%s", diff)
	}
}

// historyRun is a run of the history fakeHistory searches.
type historyRun struct {
	uuid   string
	fields map[string]any
}

func (r historyRun) UUID() string { return r.uuid }

func (r historyRun) Select(selector string) (any, error) {
	key := selector
	if name, ok := strings.CutPrefix(selector, "globals."); ok {
		key = map[string]string{"uuid": "uuid", "name": "name", "status": "status"}[name]
	}
	v, ok := r.fields[key]
	if !ok {
		return nil, fmt.Errorf("run %s has no %s", r.uuid, selector)
	}
	return v, nil
}

// fakeHistory is a run history in memory: it searches as the engine
// does, and records what it was asked.
type fakeHistory struct {
	runs  []historyRun
	asked []JoinQuery
	err   error
}

func (h *fakeHistory) ResolveJoin(q JoinQuery) ([]JoinedRun, error) {
	h.asked = append(h.asked, q)
	if h.err != nil {
		return nil, h.err
	}
	var out []historyRun
	for _, r := range h.runs {
		if q.Query.Matches(fieldsOf(r.fields)) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b historyRun) int { return q.Sort.Compare(fieldsOf(a.fields), fieldsOf(b.fields)) })
	out = out[min(q.Offset, len(out)):]
	out = out[:min(q.Limit, len(out))]
	runs := make([]JoinedRun, len(out))
	for i, r := range out {
		runs[i] = r
	}
	return runs, nil
}

func history() *fakeHistory {
	run := func(n int, status, project string, loss any) historyRun {
		uuid := fmt.Sprintf("%032x", n)
		f := map[string]any{"uuid": uuid, "name": fmt.Sprintf("r%d", n), "status": status, "project": project,
			"updated_at": day0.Add(time.Duration(n) * time.Hour)}
		if loss != nil {
			f["outputs.loss"] = loss
		}
		f["outputs.opt"] = map[int]string{1: "adam", 2: "sgd"}[n%2+1]
		return historyRun{uuid: uuid, fields: f}
	}
	return &fakeHistory{runs: []historyRun{
		run(1, "succeeded", "default", 0.3),
		run(2, "succeeded", "default", 0.1),
		run(3, "failed", "default", 0.05),
		run(4, "succeeded", "other", "0.2"), // a string: coerced to float
		run(5, "succeeded", "default", 0.9),
		run(6, "running", "default", nil),
	}}
}

const joinsComponent = `component:
  inputs:
    - {name: losses, type: float, isList: true, isOptional: true}
    - {name: names, type: str, isList: true, isOptional: true}
    - {name: opts, type: str, isList: true, isOptional: true, options: [adam]}
    - {name: top, type: int, isOptional: true, value: 2}
    - {name: data, type: artifacts, isOptional: true}
    - {name: single, type: float, isOptional: true}
  run: {container: {image: a, args: ["{{ params.losses.as_str }}"]}}
`

func compileJoins(t *testing.T, opYAML string, mutate func(*specs.Operation), r JoinResolver) (*Compiled, error) {
	t.Helper()
	files, err := specs.Parse("op.yaml", []byte("version: 1.1\nkind: operation\n"+opYAML+"\n"+joinsComponent))
	if err != nil {
		t.Fatal(err)
	}
	op := files[0].Operation
	if mutate != nil {
		mutate(op)
	}
	opts := Options{Run: testRun}
	if r != nil {
		opts.Joins = r
	}
	return Compile(op, op.Component, opts)
}

func TestCompileJoins(t *testing.T) {
	u := func(n int) string { return fmt.Sprintf("%032x", n) }
	cases := map[string]struct {
		op    string
		want  map[string]any // param → value
		asked func(t *testing.T, asked []JoinQuery)
	}{
		"one item per matched run, in order": {
			op:   `joins: [{query: "status:succeeded, outputs.loss:<0.5", sort: outputs.loss, params: {losses: {value: outputs.loss}, names: {value: "{{ globals.name }}"}}}]`,
			want: map[string]any{"losses": []any{0.1, 0.2, 0.3}, "names": []any{"r2", "r4", "r1"}},
			asked: func(t *testing.T, asked []JoinQuery) {
				if len(asked) != 1 || asked[0].Limit != MaxJoinRuns || asked[0].Offset != 0 {
					t.Errorf("asked %+v, want one search of at most %d runs", asked, MaxJoinRuns)
				}
			},
		},
		"templated query, limit and offset": {
			op: `params: {top: {value: 2}}
joins:
  - query: "status:succeeded, project.name:{{ globals.project_name }}"
    sort: "-outputs.loss"
    limit: "{{ top }}"
    offset: "{{ top - 1 }}"
    params: {losses: {value: outputs.loss}}
`,
			want: map[string]any{"losses": []any{0.3, 0.1}},
			asked: func(t *testing.T, asked []JoinQuery) {
				want := JoinQuery{Query: Query{{Field: "status", Op: OpEqual, Values: []string{"succeeded"}}, {Field: "project", Op: OpEqual, Values: []string{"default"}}},
					Sort: Sort{{Field: "outputs.loss", Desc: true}}, Limit: 2, Offset: 1}
				if diff := cmp.Diff([]JoinQuery{want}, asked, cmpopts.IgnoreUnexported(Condition{})); diff != "" {
					t.Errorf("asked (-want +got):\n%s", diff)
				}
			},
		},
		"a limit over the cap is the cap": {
			op:   `params: {top: {value: 9000}}` + "\n" + `joins: [{query: "status:running", limit: "{{ top }}", params: {names: {value: globals.name}}}]`,
			want: map[string]any{"names": []any{"r6"}},
			asked: func(t *testing.T, asked []JoinQuery) {
				if len(asked) != 1 || asked[0].Limit != MaxJoinRuns {
					t.Errorf("asked %+v, want a limit of %d", asked, MaxJoinRuns)
				}
			},
		},
		"no run matches": {
			op:   `joins: [{query: "status:stopped", params: {losses: {value: outputs.loss}}}]`,
			want: map[string]any{"losses": []any{}},
		},
		"a param of the operation wins": {
			op:   `params: {losses: {value: [1.5]}}` + "\n" + `joins: [{query: "status:succeeded", params: {losses: {value: outputs.loss}}}]`,
			want: map[string]any{"losses": []any{1.5}},
			asked: func(t *testing.T, asked []JoinQuery) {
				if len(asked) != 0 {
					t.Errorf("searched %+v for a join whose params are all given", asked)
				}
			},
		},
		"of two joins giving a param, the later": {
			op: `joins:
  - {query: "status:failed", params: {names: {value: globals.name}}}
  - {query: "status:running", params: {names: {value: globals.name}}}
`,
			want: map[string]any{"names": []any{"r6"}},
		},
		"a context-only param": {
			op:   `joins: [{query: "status:failed|running", sort: name, params: {ids: {value: globals.uuid, contextOnly: true}}}]`,
			want: map[string]any{"ids": []any{u(3), u(6)}, "losses": nil},
		},
		"artifacts of every run, under its uuid": {
			op:   `joins: [{query: "outputs.loss:<0.2", sort: outputs.loss, params: {data: {value: {files: [model.pt, [a.txt, b.txt]], dirs: [logs]}}}}]`,
			want: map[string]any{"data": map[string]any{"files": []any{u(3) + "/model.pt", []any{u(3) + "/a.txt", "b.txt"}, u(2) + "/model.pt", []any{u(2) + "/a.txt", "b.txt"}}, "dirs": []any{u(3) + "/logs", u(2) + "/logs"}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := history()
			c, err := compileJoins(t, tc.op, nil, h)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for name := range tc.want {
				if p, ok := c.Params.Get(name); ok {
					got[name] = p.Value
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			if tc.asked != nil {
				tc.asked(t, h.asked)
			}
		})
	}
}

// TestJoinsInTemplates: a join's list is what the run's templates see.
func TestJoinsInTemplates(t *testing.T) {
	c, err := compileJoins(t, `joins: [{query: "status:succeeded, outputs.loss:<0.5", sort: outputs.loss, params: {losses: {value: outputs.loss}}}]`+"\n", nil, history())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Component.Run.(*specs.Job).Container.Args[0]; got != "[0.1, 0.2, 0.3]" {
		t.Errorf("args[0] = %q", got)
	}
}

func TestCompileJoinsErrors(t *testing.T) {
	searchDown := errors.New("history down")
	cases := map[string]struct {
		op     string
		mutate func(*specs.Operation)
		noJoin bool  // compile without a resolver
		err    error // the resolver's
		paths  []string
		msgs   []string
	}{
		"no run history": {
			op:     `joins: [{query: "status:succeeded", params: {losses: {value: outputs.loss}}}]`,
			noJoin: true,
			paths:  []string{"joins"},
			msgs:   []string{"joins select runs from the run history, which the engine resolves when it schedules the run"},
		},
		"a join into an input that is no list": {
			op: `joins: [{query: "status:succeeded", params: {losses: {value: outputs.loss}}}]`,
			mutate: func(op *specs.Operation) {
				op.Joins[0].Params["single"] = op.Joins[0].Params["losses"]
			},
			paths: []string{"joins[0].params.single"},
			msgs:  []string{"needs isList: true"},
		},
		"an unknown field": {
			op:    `joins: [{query: "status:succeeded, loss:<1", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].query"},
			msgs:  []string{`"loss:<1": unknown field "loss"`},
		},
		"a malformed condition": {
			op:    `joins: [{query: "status:<1", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].query"},
			msgs:  []string{`"status:<1"`},
		},
		"an undefined variable in the query": {
			op:    `joins: [{query: "project.name:{{ project }}", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].query"},
			msgs:  []string{`undefined variable "project"`},
		},
		"a sort by an unknown field": {
			op:    `joins: [{query: "status:succeeded", sort: "-acc", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].sort"},
			msgs:  []string{`unknown field "acc"`},
		},
		"a limit that renders no number": {
			op:    `joins: [{query: "status:succeeded", limit: "{{ globals.name }}", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].limit"},
			msgs:  []string{`renders "golden", not a whole number`},
		},
		"a negative offset": {
			op:    `joins: [{query: "status:succeeded", offset: "{{ -1 }}", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].offset"},
			msgs:  []string{"must not be negative"},
		},
		"a run without the output": {
			op:    `joins: [{query: "status:running|stopped", params: {losses: {value: outputs.loss}}}]`,
			paths: []string{"joins[0].params.losses.value"},
			msgs:  []string{"run " + fmt.Sprintf("%032x", 6) + " has no outputs.loss"},
		},
		"an item of the wrong type": {
			op:    `joins: [{query: "status:succeeded", params: {names: {value: outputs.loss}, losses: {value: globals.name}}}]`,
			paths: []string{"joins[0].params.losses.value", "joins[0].params.losses.value", "joins[0].params.losses.value", "joins[0].params.losses.value"},
			msgs:  []string{`gives "r5" for "losses", which is a list of float`},
		},
		"an item not among the options": {
			op:    `joins: [{query: "status:succeeded", sort: name, params: {opts: {value: outputs.opt}}}]`,
			paths: []string{"joins[0].params.opts.value", "joins[0].params.opts.value"},
			msgs:  []string{`run ` + fmt.Sprintf("%032x", 1) + ` gives "sgd" for "opts", which is not one of its options ["adam"]`},
		},
		"every join's problems at once": {
			op: `joins:
  - {query: "nope:1", params: {losses: {value: outputs.loss}}}
  - {query: "status:succeeded", sort: "tags", params: {names: {value: globals.name}}}
`,
			paths: []string{"joins[0].query", "joins[1].sort"},
			msgs:  []string{`unknown field "nope"`, "cannot be sorted by their tags"},
		},
		"the search fails": {
			op:    `joins: [{query: "status:succeeded", params: {losses: {value: outputs.loss}}}]`,
			err:   searchDown,
			paths: []string{"joins[0].query"},
			msgs:  []string{"searching the runs: history down"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := history()
			h.err = tc.err
			var r JoinResolver = h
			if tc.noJoin {
				r = nil
			}
			_, err := compileJoins(t, tc.op, tc.mutate, r)
			var ce *CompilationError
			if !errors.As(err, &ce) || ce.Stage != StageParams {
				t.Fatalf("got %v, want a params error", err)
			}
			var paths []string
			for _, e := range ce.Errors {
				paths = append(paths, string(e.Path))
			}
			if diff := cmp.Diff(tc.paths, paths); diff != "" {
				t.Errorf("paths (-want +got):\n%s\n%v", diff, err)
			}
			for _, m := range tc.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("got %q, want it to say %q", err, m)
				}
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("%v does not wrap the resolver's error", err)
			}
		})
	}
}
