package specs

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The tests in this file feed small Polyaxonfiles to Parse (and, for
// params, File.CheckParams) and check every error they report: its exact
// path, a distinctive part of its message and, where given, its line.
//
// Each source starts with a two-line header (`version: 1.1`, `kind: ...`),
// so the first line a case writes is line 3.

// vtErr is one expected error.
type vtErr struct {
	path string
	msg  string // a distinctive substring of FieldError.Message()
	line int    // 0: not checked
}

// vtCase is one input; want nil means the input is valid.
type vtCase struct {
	src  string
	want []vtErr
}

// vtLines joins YAML lines into a document.
func vtLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// vtComponent is a `kind: component` file made of lines.
func vtComponent(lines ...string) string {
	return vtLines(append([]string{"version: 1.1", "kind: component"}, lines...)...)
}

// vtOperation is a `kind: operation` file made of lines.
func vtOperation(lines ...string) string {
	return vtLines(append([]string{"version: 1.1", "kind: operation"}, lines...)...)
}

// vtJob is the smallest valid run.
const vtJob = "run: {container: {image: busybox}}"

// vtRunBody is a component whose run (line 3) holds lines, each indented
// by the caller: `  kind: service` is line 4.
func vtRunBody(lines ...string) string {
	return vtComponent(append([]string{"run:"}, lines...)...)
}

// vtDAG is a component running a dag: `run:` is line 3, `kind: dag` line
// 4, and the caller's lines (indented by two) start at line 5.
func vtDAG(lines ...string) string {
	return vtRunBody(append([]string{"  kind: dag"}, lines...)...)
}

// vtMatrix is an operation (hubRef on line 3) whose matrix starts on line
// 4; the caller's lines, indented by two, start at line 5.
func vtMatrix(lines ...string) string {
	return vtOperation(append([]string{"hubRef: trainer", "matrix:"}, lines...)...)
}

// vtHyperParam is a random search over one param `p` (line 8) with spec.
func vtHyperParam(spec string) string {
	return vtMatrix("  kind: random", "  numRuns: 2", "  params:", "    p: "+spec)
}

// vtSchedule is an operation whose schedule (line 4) is spec.
func vtSchedule(spec string) string {
	return vtOperation("hubRef: trainer", "schedule: "+spec)
}

func vtParse(t *testing.T, src string) ([]*File, ErrorList) {
	t.Helper()
	files, err := Parse("test.yaml", []byte(src))
	if err == nil {
		return files, nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse returned %T, want an ErrorList: %v", err, err)
	}
	for _, e := range list {
		if e.Source != "test.yaml" {
			t.Errorf("%s: Source = %q, want %q", e.Path, e.Source, "test.yaml")
		}
	}
	return files, list
}

func vtRun(t *testing.T, cases map[string]vtCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, got := vtParse(t, tc.src)
			vtCheck(t, tc.src, got, tc.want)
		})
	}
}

// vtCheck compares the errors' paths exactly (as a multiset), then finds,
// for each expected error, one with its path whose message holds msg, on
// the expected line.
func vtCheck(t *testing.T, src string, got ErrorList, want []vtErr) {
	t.Helper()
	gotPaths := make([]string, len(got))
	for i, e := range got {
		gotPaths[i] = string(e.Path)
	}
	wantPaths := make([]string, len(want))
	for i, w := range want {
		wantPaths[i] = w.path
	}
	sort.Strings(gotPaths)
	sort.Strings(wantPaths)
	if diff := cmp.Diff(wantPaths, gotPaths, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("error paths (-want +got):\n%s\ngot:\n%s\ninput:\n%s", diff, vtDump(got), src)
		return
	}
	used := make([]bool, len(got))
	for _, w := range want {
		var match *FieldError
		for i, e := range got {
			if !used[i] && string(e.Path) == w.path && strings.Contains(e.Message(), w.msg) {
				used[i], match = true, e
				break
			}
		}
		switch {
		case match == nil:
			t.Errorf("no error at %q containing %q\ngot:\n%s", w.path, w.msg, vtDump(got))
		case w.line != 0 && match.Line != w.line:
			t.Errorf("%s: line = %d, want %d (%s)", w.path, match.Line, w.line, match.Error())
		}
	}
}

func vtDump(l ErrorList) string {
	if len(l) == 0 {
		return "  (no errors)"
	}
	var b strings.Builder
	for _, e := range l {
		fmt.Fprintf(&b, "  %s [%s]\n", e.Error(), e.Type)
	}
	return b.String()
}

func TestValidateVersionAndKind(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"version 1.1":                    {src: vtComponent(vtJob)},
		"version as the string 1.1":      {src: vtLines(`version: "1.1"`, "kind: component", vtJob)},
		"version 1.10 is the number 1.1": {src: vtLines("version: 1.10", "kind: component", vtJob)},
		"operation":                      {src: vtOperation("hubRef: kaniko")},
		"missing version": {
			src:  vtLines("kind: component", vtJob),
			want: []vtErr{{"version", "`version` must be specified", 1}},
		},
		"version 1": {
			src:  vtLines("version: 1", "kind: component", vtJob),
			want: []vtErr{{"version", "version 1 is not supported", 1}},
		},
		"version 0.4": {
			src:  vtLines("kind: component", "version: 0.4", vtJob),
			want: []vtErr{{"version", "version 0.4 is not supported", 2}},
		},
		"version not a number is one error": {
			src:  vtLines("version: abc", "kind: component", vtJob),
			want: []vtErr{{"version", `version must be the number 1.1, got "abc"`, 1}},
		},
		"missing kind": {
			src:  vtLines("version: 1.1", vtJob),
			want: []vtErr{{"kind", "`kind` must be specified: component or operation", 1}},
		},
		"unknown kind": {
			src:  vtLines("version: 1.1", "kind: job", vtJob),
			want: []vtErr{{"kind", `unsupported value "job": must be one of "component", "operation"`, 2}},
		},
		"a preset needs no version, kind or reference": {
			src: vtLines("isPreset: true", "queue: gpu", "runPatch: {environment: {nodeSelector: {pool: a}}}"),
		},
		"a preset cannot hold a reference": {
			src:  vtLines("isPreset: true", "hubRef: kaniko"),
			want: []vtErr{{"", "a preset (isPreset: true) cannot hold", 1}},
		},
		"a list is not a Polyaxonfile": {
			src:  vtLines("- version: 1.1"),
			want: []vtErr{{"", "a Polyaxonfile is a mapping", 1}},
		},
	})
}

func TestValidateTopLevelSections(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"environment at the top level": {
			src:  vtComponent("environment: {nodeSelector: {a: b}}", vtJob),
			want: []vtErr{{"environment", "unexpected section `environment` in a v1.1 Polyaxonfile: it belongs under `run`", 3}},
		},
		"ports at the top level": {
			src:  vtComponent(vtJob, "ports: [8888]"),
			want: []vtErr{{"ports", "unexpected section `ports`", 4}},
		},
		"parallel is now matrix": {
			src:  vtOperation("hubRef: a", "parallel: {}"),
			want: []vtErr{{"parallel", "v1.1 calls it `matrix`", 4}},
		},
		"typo gets a suggestion": {
			src:  vtOperation("hubRef: a", "runPach: {}"),
			want: []vtErr{{"runPach", `unknown field "runPach", did you mean "runPatch"?`, 4}},
		},
		"snake_case gets a camelCase hint": {
			src:  vtOperation("hubRef: a", "run_patch: {}"),
			want: []vtErr{{"run_patch", `Polyaxonfile v1.1 keys are camelCase, did you mean "runPatch"?`, 4}},
		},
		"params do not belong in a component": {
			src:  vtComponent("params: {lr: {value: 1}}", vtJob),
			want: []vtErr{{"params", "section `params` does not belong in a component", 3}},
		},
		"run does not belong in an operation": {
			src:  vtOperation("hubRef: a", vtJob),
			want: []vtErr{{"run", "section `run` does not belong in", 4}},
		},
		"unknown key with no near name": {
			src:  vtComponent("zzzzzzzzzz: 1", vtJob),
			want: []vtErr{{"zzzzzzzzzz", "valid fields are", 3}},
		},
		"key given twice": {
			src:  vtComponent("name: a", "name: b", vtJob),
			want: []vtErr{{"name", "the field is already set on line 3", 4}},
		},
		"queue with two slashes": {
			src:  vtComponent("queue: a/b/c", vtJob),
			want: []vtErr{{"queue", "queue must be `queue-name` or `agent-name/queue-name`", 3}},
		},
		"queue agent/name": {src: vtComponent("queue: agent-1/gpu", vtJob)},
		"negative cost": {
			src:  vtComponent("cost: -1", vtJob),
			want: []vtErr{{"cost", "cost must not be negative", 3}},
		},
		"run missing": {
			src:  vtComponent("name: a"),
			want: []vtErr{{"run", "a component needs a `run` section", 0}},
		},
	})
}

func TestValidateComponentName(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"letters digits dash underscore": {src: vtComponent("name: My-model_2", vtJob)},
		"tag is rejected": {
			src:  vtComponent("name: foo:v1", vtJob),
			want: []vtErr{{"name", `name "foo:v1" may only contain letters, digits, '-' and '_'`, 3}},
		},
		"dot is rejected": {
			src:  vtComponent("name: foo.bar", vtJob),
			want: []vtErr{{"name", `name "foo.bar" may only contain`, 3}},
		},
		"space is rejected": {
			src:  vtComponent("name: my model", vtJob),
			want: []vtErr{{"name", "may only contain", 0}},
		},
		"operation name too": {
			src:  vtOperation("name: a/b", "hubRef: x"),
			want: []vtErr{{"name", `name "a/b" may only contain`, 3}},
		},
	})
}

func TestValidateIO(t *testing.T) {
	io := func(lines ...string) string {
		return vtComponent(append(append([]string{"inputs:"}, lines...), vtJob)...)
	}
	vtRun(t, map[string]vtCase{
		"valid inputs and outputs": {src: vtComponent(
			"inputs:",
			"- {name: lr, type: float, isOptional: true, value: 0.1, options: [0.1, 0.2]}",
			"- {name: flag, type: bool, isFlag: true, isOptional: true, value: false}",
			"- {name: a.b, type: str, isOptional: true, value: x}",
			"- {name: untyped}",
			"- {name: ids, type: int, isList: true, isOptional: true, value: [1, 2], options: [1, 2, 3]}",
			"- {name: when, type: datetime, isOptional: true, value: '2024-01-01T10:00:00Z'}",
			"- {name: lr2, type: float, toEnv: LR_2}",
			"outputs:",
			"- {name: loss, type: metric}",
			"- {name: lr, type: float}",
			vtJob)},
		"every IO type is known": {src: vtComponent(
			"inputs:",
			"- {name: a1, type: any}", "- {name: a2, type: int}", "- {name: a3, type: float}", "- {name: a4, type: bool}",
			"- {name: a5, type: str}", "- {name: a6, type: dict}", "- {name: a7, type: dict_of_dicts}", "- {name: a8, type: uri}",
			"- {name: a9, type: auth}", "- {name: b1, type: list}", "- {name: b2, type: gcs}", "- {name: b3, type: s3}",
			"- {name: b4, type: wasb}", "- {name: b5, type: dockerfile}", "- {name: b6, type: git}", "- {name: b7, type: image}",
			"- {name: b8, type: event}", "- {name: b9, type: artifacts}", "- {name: c1, type: path}", "- {name: c2, type: metric}",
			"- {name: c3, type: metadata}", "- {name: c4, type: date}", "- {name: c5, type: datetime}", "- {name: c6, type: uuid}",
			vtJob)},
		"unknown type": {
			src:  io("- {name: a, type: string}"),
			want: []vtErr{{"inputs[0].type", `unsupported value "string": must be one of "any", "int"`, 4}},
		},
		"file is not an IO type": {
			src:  io("- {name: a, type: file}"),
			want: []vtErr{{"inputs[0].type", `unsupported value "file"`, 4}},
		},
		"reserved name globals": {
			src:  io("- {name: globals, type: str}"),
			want: []vtErr{{"inputs[0].name", `"globals" is reserved`, 4}},
		},
		"reserved name params": {
			src:  io("- {name: x}", "- {name: params}"),
			want: []vtErr{{"inputs[1].name", `"params" is reserved`, 5}},
		},
		"reserved output name connections": {
			src:  vtComponent("outputs:", "- {name: connections}", vtJob),
			want: []vtErr{{"outputs[0].name", `"connections" is reserved`, 4}},
		},
		"name with a space": {
			src:  io("- {name: a b}"),
			want: []vtErr{{"inputs[0].name", "an input or output name may only contain", 4}},
		},
		"missing name": {
			src:  io("- {type: int}"),
			want: []vtErr{{"inputs[0].name", "`name` is required", 4}},
		},
		"isFlag without bool": {
			src:  io("- {name: f, type: int, isFlag: true}"),
			want: []vtErr{{"inputs[0].isFlag", "isFlag needs type: bool", 4}},
		},
		"isFlag untyped": {
			src:  io("- name: f", "  isFlag: true"),
			want: []vtErr{{"inputs[0].isFlag", "isFlag needs type: bool", 5}},
		},
		"not optional with a value": {
			src:  io("- {name: n, type: int, value: 3}"),
			want: []vtErr{{"inputs[0].value", `"n" is not optional and has a default value; add isOptional: true`, 4}},
		},
		"default not of the type": {
			src: io(
				"- name: n",
				"  type: int",
				"  isOptional: true",
				"  value: abc"),
			want: []vtErr{{"inputs[0].value", "the default does not fit type int", 7}},
		},
		"default 1.5 for an int": {
			src:  io("- {name: n, type: int, isOptional: true, value: 1.5}"),
			want: []vtErr{{"inputs[0].value", "the default does not fit type int", 0}},
		},
		"default not among the options": {
			src:  io("- {name: n, type: int, isOptional: true, value: 5, options: [1, 2]}"),
			want: []vtErr{{"inputs[0].value", "the default 5 is not one of the options [1,2]", 4}},
		},
		"float default not among float options": {
			src:  io("- {name: x, type: float, isOptional: true, value: 4.4, options: [1.1, 2.2]}"),
			want: []vtErr{{"inputs[0].value", "is not one of the options", 0}},
		},
		"list default item not among the options": {
			src:  io("- {name: ids, type: int, isList: true, isOptional: true, value: [1, 4], options: [1, 2, 3]}"),
			want: []vtErr{{"inputs[0].value", "is not one of the options", 0}},
		},
		"option not of the type": {
			src:  io("- {name: n, type: int, options: [1, x]}"),
			want: []vtErr{{"inputs[0].options[1]", "option does not fit type int", 4}},
		},
		"duplicate input names": {
			src:  io("- {name: a, type: int}", "- {name: b}", "- {name: a, type: str}"),
			want: []vtErr{{"inputs[2].name", `duplicate value "a": inputs[0] has the same name`, 6}},
		},
		"duplicate output names": {
			src:  vtComponent("outputs:", "- {name: a}", "- {name: a}", vtJob),
			want: []vtErr{{"outputs[1].name", `duplicate value "a"`, 5}},
		},
		"iotype is not a key": {
			src:  io("- {name: a, iotype: int}"),
			want: []vtErr{{"inputs[0].iotype", `did you mean "type"?`, 4}},
		},
		"bad toEnv": {
			src:  io("- {name: a, toEnv: 1LR}"),
			want: []vtErr{{"inputs[0].toEnv", `"1LR" is not a valid environment variable name`, 4}},
		},
		"isOptional not a bool": {
			src:  io("- {name: a, isOptional: maybe}"),
			want: []vtErr{{"inputs[0].isOptional", `expected a boolean, got "maybe"`, 4}},
		},
	})
}

// vtParamsOp is an operation whose inline component declares lr
// (float, required, line 5), n (optional int, line 6) and act (optional
// str with options, line 7); params start on line 10.
func vtParamsOp(params ...string) string {
	lines := []string{
		"component:",
		"  inputs:",
		"  - {name: lr, type: float}",
		"  - {name: n, type: int, isOptional: true, value: 1}",
		"  - {name: act, type: str, isOptional: true, value: relu, options: [relu, tanh]}",
		"  run: {container: {image: busybox}}",
	}
	if len(params) > 0 {
		lines = append(lines, "params:")
		for _, p := range params {
			lines = append(lines, "  "+p)
		}
	}
	return vtOperation(lines...)
}

// TestValidateParams checks params against the component's IO as `plexus
// check` does: Parse, then File.CheckParams with the -P params.
func TestValidateParams(t *testing.T) {
	const uuid = "0123456789abcdef0123456789abcdef"
	cases := map[string]struct {
		src   string
		extra map[string]Param
		want  []vtErr
	}{
		"required input given":     {src: vtParamsOp("lr: {value: 0.1}")},
		"string coerced to float":  {src: vtParamsOp(`lr: {value: "0.1"}`)},
		"2.0 is an int":            {src: vtParamsOp("lr: {value: 1}", "n: {value: 2.0}")},
		"option given":             {src: vtParamsOp("lr: {value: 1}", "act: {value: tanh}")},
		"template is not checked":  {src: vtParamsOp(`lr: {value: "{{ base_lr }}"}`)},
		"ref is not checked":       {src: vtParamsOp("lr: {ref: runs." + uuid + ", value: outputs.lr}")},
		"contextOnly unknown name": {src: vtParamsOp("lr: {value: 1}", "seed: {value: 1, contextOnly: true}")},
		"-P satisfies a required input": {
			src:   vtParamsOp(),
			extra: map[string]Param{"lr": {Value: "0.5"}},
		},
		"unknown param with a suggestion": {
			src: vtParamsOp("lr: {value: 0.1}", "lrr: {value: 0.2}"),
			want: []vtErr{{"params.lrr",
				`unexpected param "lrr": the component has no input or output with this name (did you mean "lr"?); use contextOnly: true`, 11}},
		},
		"missing required input is reported where it is declared": {
			src:  vtParamsOp(),
			want: []vtErr{{"params.lr", `input "lr" is required: pass a value (with -P lr=VALUE or params.lr)`, 5}},
		},
		"string 1.5 for an int": {
			src:  vtParamsOp("lr: {value: 1}", `n: {value: "1.5"}`),
			want: []vtErr{{"params.n.value", `"n" is int: expected an int, got "1.5"`, 11}},
		},
		"1.5 for an int": {
			src:  vtParamsOp("lr: {value: 1}", "n: {value: 1.5}"),
			want: []vtErr{{"params.n.value", `"n" is int`, 11}},
		},
		"bool for a float is fine, a word is not": {
			src:  vtParamsOp("lr: {value: fast}"),
			want: []vtErr{{"params.lr.value", `"lr" is float`, 10}},
		},
		"not among the options": {
			src:  vtParamsOp("lr: {value: 1}", "act: {value: sigmoid}"),
			want: []vtErr{{"params.act.value", `"sigmoid" is not one of the options of "act": ["relu","tanh"]`, 11}},
		},
		"null for a required input": {
			src:  vtParamsOp("lr: {value: null}"),
			want: []vtErr{{"params.lr.value", `"lr" is not optional and its param is null`, 10}},
		},
		"param without value": {
			src:  vtParamsOp("lr: {value: 1}", "n: {toEnv: N}"),
			want: []vtErr{{"params.n.value", "a param needs a `value` (it may be null)", 11}},
		},
		"unknown param field": {
			src:  vtParamsOp("lr: {value: 1, vaule: 2}"),
			want: []vtErr{{"params.lr.vaule", `did you mean "value"?`, 10}},
		},
		"bad toEnv": {
			src:  vtParamsOp("lr: {value: 1, toEnv: 1LR}"),
			want: []vtErr{{"params.lr.toEnv", "is not a valid environment variable name", 10}},
		},
		"-P of the wrong type": {
			src:   vtParamsOp(),
			extra: map[string]Param{"lr": {Value: "abc"}},
			want:  []vtErr{{"params.lr.value", `"lr" is float`, 5}},
		},
		"-P unknown name": {
			src:   vtParamsOp("lr: {value: 1}"),
			extra: map[string]Param{"epochs": {Value: "3"}},
			want:  []vtErr{{"params.epochs", `unexpected param "epochs"`, 0}},
		},
		"params for a component without IO": {
			src:  vtOperation("component: {run: {container: {image: a}}}", "params:", "  a: {value: 1}", "  b: {value: 2, contextOnly: true}"),
			want: []vtErr{{"params.a", "the component declares no inputs or outputs", 5}},
		},
		"output with delayValidation false needs a value": {
			src:  vtOperation("component:", "  outputs: [{name: o, type: int, delayValidation: false}]", "  run: {container: {image: a}}"),
			want: []vtErr{{"params.o", `output "o" has delayValidation: false and needs a value`, 4}},
		},
		"a join gives a list": {
			src: vtOperation(
				"component:",
				"  inputs: [{name: xs, type: float}, {name: ys, type: float, isList: true}]",
				"  run: {container: {image: a}}",
				"joins:",
				"- query: 'kind: job'",
				"  params:",
				"    xs: {value: outputs.x}",
				"    ys: {value: outputs.y}"),
			want: []vtErr{{"joins[0].params.xs", `"xs" needs isList: true`, 9}},
		},
		"matrix kind against the input type": {
			src: vtOperation(
				"component:",
				"  inputs: [{name: act, type: str}, {name: day, type: datetime}, {name: n, type: int}]",
				"  run: {container: {image: a}}",
				"matrix:",
				"  kind: grid",
				"  params:",
				"    act: {kind: linspace, value: [0, 1, 3]}",
				"    day: {kind: daterange, value: ['2020-01-01', '2020-01-05', 1]}",
				"    n: {kind: range, value: [1, 5, 1]}"),
			want: []vtErr{
				{"matrix.params.act.kind", `linspace gives int or float values, but "act" is str`, 9},
				{"matrix.params.day.kind", `daterange gives date values, but "day" is datetime`, 10},
			},
		},
		"mapping keys come from the first entry": {
			src: vtOperation(
				"component:",
				"  inputs: [{name: a, type: int}, {name: b, type: int}]",
				"  run: {container: {image: a}}",
				"matrix: {kind: mapping, values: [{a: 1}, {a: 2, b: 3}]}"),
			want: []vtErr{{"params.b", `input "b" is required`, 4}},
		},
		"hyperband resource satisfies an input": {
			src: vtOperation(
				"component:",
				"  inputs: [{name: epochs, type: int}]",
				"  run: {container: {image: a}}",
				"matrix: {kind: hyperband, maxIterations: 9, eta: 3, resource: {name: epochs, type: int}, metric: {name: loss, optimization: minimize}}"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files, errs := vtParse(t, tc.src)
			for _, f := range files {
				errs = append(errs, f.CheckParams(tc.extra)...)
			}
			vtCheck(t, tc.src, errs, tc.want)
		})
	}
}

func TestValidateParamRefs(t *testing.T) {
	const uuid = "0123456789abcdef0123456789abcdef"
	ref := func(params ...string) string {
		return vtOperation(append([]string{"hubRef: trainer", "params:"}, params...)...)
	}
	runRef := func(value string) string {
		return ref("  a: {ref: runs." + uuid + ", value: " + value + "}")
	}
	vtRun(t, map[string]vtCase{
		"outputs.x":         {src: runRef("outputs.loss")},
		"inputs.x":          {src: runRef("inputs.lr")},
		"artifacts.a.b":     {src: runRef("artifacts.a.b")},
		"globals.uuid":      {src: runRef("globals.uuid")},
		"io":                {src: runRef("io")},
		"template selector": {src: runRef(`"{{ outputs.loss }}"`)},
		"artifacts mapping": {src: runRef("{files: [a.txt], dirs: [d]}")},
		"uuid with dashes":  {src: ref("  a: {ref: runs.01234567-89ab-cdef-0123-456789abcdef, value: outputs.x}")},
		"templated ref":     {src: ref(`  a: {ref: "{{ upstream }}", value: outputs.x}`)},
		"runs with a bad uuid": {
			src:  ref("  a: {ref: runs.123, value: outputs.x}"),
			want: []vtErr{{"params.a.ref", `runs.<uuid> needs a valid run uuid, got "runs.123"`, 5}},
		},
		"unknown ref form": {
			src:  ref("  a: {ref: foo.bar, value: outputs.x}"),
			want: []vtErr{{"params.a.ref", "ref must be `ops.<operation>`, `runs.<uuid>` or `dag`", 5}},
		},
		"ops outside a dag": {
			src:  ref("  a: {ref: ops.train, value: outputs.x}"),
			want: []vtErr{{"params.a.ref", "a ref to `ops.` only works for operations inside a dag", 5}},
		},
		"dag outside a dag": {
			src:  ref("  a: {ref: dag, value: inputs.x}"),
			want: []vtErr{{"params.a.ref", "ref `dag` only works for operations inside a dag", 5}},
		},
		"number with a ref": {
			src:  runRef("1"),
			want: []vtErr{{"params.a.value", "with a ref, the value must be a selector string", 5}},
		},
		"bare globals": {
			src:  runRef("globals"),
			want: []vtErr{{"params.a.value", "`globals` needs a key", 5}},
		},
		"three parts outside artifacts": {
			src:  runRef("outputs.a.b"),
			want: []vtErr{{"params.a.value", `only artifacts selectors take three parts, got "outputs.a.b"`, 5}},
		},
		"four parts": {
			src:  runRef("artifacts.a.b.c"),
			want: []vtErr{{"params.a.value", "a selector has at most three parts", 5}},
		},
		"unknown section": {
			src:  runRef("metrics.loss"),
			want: []vtErr{{"params.a.value", "a selector starts with inputs, outputs, io, artifacts or globals", 5}},
		},
		"empty part": {
			src:  runRef("outputs."),
			want: []vtErr{{"params.a.value", `empty part in selector "outputs."`, 5}},
		},
		"mapping with other keys": {
			src:  runRef("{paths: [a]}"),
			want: []vtErr{{"params.a.value", "a selector mapping takes `files` and `dirs`", 5}},
		},
		"null selector": {
			src:  runRef("null"),
			want: []vtErr{{"params.a.value", "a ref param needs a value selecting what to take", 5}},
		},
	})
}
