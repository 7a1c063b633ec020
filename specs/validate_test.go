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

func TestValidateRunKinds(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"job without kind": {src: vtComponent(vtJob)},
		"job":              {src: vtRunBody("  kind: job", "  container: {image: a}")},
		"notifier":         {src: vtRunBody("  kind: notifier", "  container: {image: a}")},
		"cleaner":          {src: vtRunBody("  kind: cleaner", "  container: {image: a}")},
		"tuner":            {src: vtRunBody("  kind: tuner", "  container: {image: a}")},
		"service": {src: vtRunBody("  kind: service", "  ports: [6006, 8888]", "  rewritePath: true", "  isExternal: false",
			"  replicas: 2", "  container: {image: a}")},
		"service ports template": {src: vtRunBody("  kind: service", `  ports: "{{ ports }}"`, "  container: {image: a}")},
		"unknown kind": {
			src:  vtRunBody("  kind: daskjob", "  container: {image: a}"),
			want: []vtErr{{"run.kind", `unsupported value "daskjob": must be one of "job", "service", "dag"`, 4}},
		},
		"ports on a job": {
			src:  vtRunBody("  container: {image: a}", "  ports: [80]"),
			want: []vtErr{{"run.ports", `unknown field "ports"`, 5}},
		},
		"service ports out of range": {
			src: vtRunBody("  kind: service", "  ports: [0, 8888, 70000]", "  container: {image: a}"),
			want: []vtErr{
				{"run.ports[0]", "a port is between 1 and 65535, got 0", 5},
				{"run.ports[2]", "a port is between 1 and 65535, got 70000", 5},
			},
		},
		"service port not a number is one error": {
			src:  vtRunBody("  kind: service", "  ports: [http]", "  container: {image: a}"),
			want: []vtErr{{"run.ports[0]", `expected an integer, got "http"`, 5}},
		},
		"service negative replicas": {
			src:  vtRunBody("  kind: service", "  replicas: -1", "  container: {image: a}"),
			want: []vtErr{{"run.replicas", "must not be negative, got -1", 5}},
		},
		"tfjob": {src: vtRunBody("  kind: tfjob", "  cleanPodPolicy: running", "  enableDynamicWorker: true",
			"  schedulingPolicy: {minAvailable: 2, queue: q}",
			"  chief: {replicas: 1, container: {image: a}}", "  worker: {replicas: 2, container: {image: a}}",
			"  ps: {replicas: 1, container: {image: a}}", "  evaluator: {replicas: 1, container: {image: a}}")},
		"pytorchjob": {src: vtRunBody("  kind: pytorchjob", "  master: {replicas: 1, container: {image: a}}",
			"  worker: {replicas: 2, container: {image: a}}")},
		"mpijob": {src: vtRunBody("  kind: mpijob", "  slotsPerWorker: 2", "  launcher: {replicas: 1, container: {image: a}}",
			"  worker: {replicas: 2, container: {image: a}}")},
		"mxjob": {src: vtRunBody("  kind: mxjob", "  mode: MXTune", "  scheduler: {replicas: 1, container: {image: a}}",
			"  tunerTracker: {replicas: 1, container: {image: a}}")},
		"xgbjob (unlike the reference's bug)": {src: vtRunBody("  kind: xgbjob",
			"  master: {replicas: 1, container: {image: a}}", "  worker: {replicas: 2, container: {image: a}}")},
		"paddlejob": {src: vtRunBody("  kind: paddlejob", "  master: {replicas: 1, container: {image: a}}")},
		"tfjob without replicas": {
			src:  vtRunBody("  kind: tfjob"),
			want: []vtErr{{"run", "a distributed job needs at least one replica role (chief, evaluator, ps, worker)", 4}},
		},
		"pytorchjob without replicas": {
			src:  vtRunBody("  kind: pytorchjob", "  cleanPodPolicy: All"),
			want: []vtErr{{"run", "needs at least one replica role (master, worker)", 4}},
		},
		"mpijob without replicas": {
			src:  vtRunBody("  kind: mpijob"),
			want: []vtErr{{"run", "(launcher, worker)", 4}},
		},
		"mxjob without replicas": {
			src:  vtRunBody("  kind: mxjob"),
			want: []vtErr{{"run", "(scheduler, server, tuner, tunerServer, tunerTracker, worker)", 4}},
		},
		"xgbjob without replicas": {
			src:  vtRunBody("  kind: xgbjob"),
			want: []vtErr{{"run", "(master, worker)", 4}},
		},
		"paddlejob without replicas": {
			src:  vtRunBody("  kind: paddlejob"),
			want: []vtErr{{"run", "(master, worker)", 4}},
		},
		"replica role of another kind": {
			src:  vtRunBody("  kind: tfjob", "  chief: {replicas: 1, container: {image: a}}", "  master: {replicas: 1}"),
			want: []vtErr{{"run.master", `unknown field "master"`, 6}},
		},
		"negative replicas": {
			src:  vtRunBody("  kind: pytorchjob", "  master: {replicas: 1, container: {image: a}}", "  worker: {replicas: -2, container: {image: a}}"),
			want: []vtErr{{"run.worker.replicas", "must not be negative, got -2", 6}},
		},
		"replica container needs an image": {
			src:  vtRunBody("  kind: pytorchjob", "  master:", "    container: {command: [train]}"),
			want: []vtErr{{"run.master.container.image", "the container needs an image", 6}},
		},
		"cleanPodPolicy": {
			src:  vtRunBody("  kind: tfjob", "  cleanPodPolicy: sometimes", "  chief: {container: {image: a}}"),
			want: []vtErr{{"run.cleanPodPolicy", `unsupported value "sometimes": must be one of "All", "Running", "None"`, 5}},
		},
		"negative minAvailable": {
			src:  vtRunBody("  kind: tfjob", "  schedulingPolicy: {minAvailable: -1}", "  chief: {container: {image: a}}"),
			want: []vtErr{{"run.schedulingPolicy.minAvailable", "must not be negative", 5}},
		},
		"slotsPerWorker 0": {
			src:  vtRunBody("  kind: mpijob", "  slotsPerWorker: 0", "  worker: {container: {image: a}}"),
			want: []vtErr{{"run.slotsPerWorker", "must be at least 1", 5}},
		},
		"mxjob mode": {
			src:  vtRunBody("  kind: mxjob", "  mode: MXFoo", "  worker: {container: {image: a}}"),
			want: []vtErr{{"run.mode", `unsupported value "MXFoo": must be one of "MXTrain", "MXTune"`, 5}},
		},
		"spark": {src: vtRunBody("  kind: spark", "  type: python", `  pythonVersion: "3"`, "  deployMode: cluster",
			"  sparkVersion: 3.1.1", "  mainApplicationFile: local:///app.py", "  sparkConf: {spark.executor.memory: 1g}",
			"  driver: {replicas: 1, container: {image: a}}", "  executor: {replicas: 2, container: {image: a}}")},
		"spark pythonVersion as a number": {src: vtRunBody("  kind: spark", "  pythonVersion: 2")},
		"spark enums": {
			src: vtRunBody("  kind: spark", "  type: Python", "  pythonVersion: cluster", "  deployMode: local"),
			want: []vtErr{
				{"run.type", `unsupported value "Python": must be one of "java", "scala", "python", "r"`, 5},
				{"run.pythonVersion", `unsupported value "cluster": must be one of "2", "3"`, 6},
				{"run.deployMode", `unsupported value "local": must be one of "cluster", "client", "in_cluster_client"`, 7},
			},
		},
		"spark executor replicas": {
			src:  vtRunBody("  kind: spark", "  executor: {replicas: -1, container: {image: a}}"),
			want: []vtErr{{"run.executor.replicas", "must not be negative", 5}},
		},
		"dask": {src: vtRunBody("  kind: dask", "  threads: 2", "  scale: 3", "  adaptMin: 1", "  adaptMax: 4",
			"  adaptInterval: 1000", "  container: {image: a}")},
		"dask adaptMin above adaptMax": {
			src:  vtRunBody("  kind: dask", "  adaptMin: 5", "  adaptMax: 2", "  container: {image: a}"),
			want: []vtErr{{"run.adaptMin", "adaptMin must not exceed adaptMax", 5}},
		},
		"flink": {src: vtRunBody("  kind: flink", "  spec: {job: {jarURI: local:///x.jar}}")},
		"ray":   {src: vtRunBody("  kind: ray", "  spec: {entrypoint: python x.py}")},
		"flink without spec": {
			src:  vtRunBody("  kind: flink"),
			want: []vtErr{{"run.spec", "`spec` is required", 4}},
		},
		"ray with a null spec": {
			src:  vtRunBody("  kind: ray", "  spec: null"),
			want: []vtErr{{"run.spec", "ray needs a spec", 5}},
		},
		"run not a mapping": {
			src:  vtComponent("run: job"),
			want: []vtErr{{"run", "expected a mapping, got a string", 3}},
		},
	})
}

// TestValidateRunKindDefaultsToJob checks that a run without kind is a job
// (Plexus accepts the shortest manifest) and that the kind is kept.
func TestValidateRunKindDefaultsToJob(t *testing.T) {
	files, errs := vtParse(t, vtComponent(vtJob))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	job, ok := files[0].Component.Run.(*Job)
	if !ok {
		t.Fatalf("Run is %T, want *Job", files[0].Component.Run)
	}
	if job.RunKind() != RunJob {
		t.Errorf("RunKind() = %q, want %q", job.RunKind(), RunJob)
	}
}

func TestValidateKubernetes(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"snake_case container keys": {src: vtRunBody(
			"  container:",
			"    image: a",
			"    image_pull_policy: IfNotPresent",
			"    working_dir: /code",
			"    volume_mounts: [{name: data, mount_path: /data, read_only: true}]",
			"    command: python train.py",
			"    resources: {limits: {cpu: 1, memory: 1Gi}, requests: {nvidia.com/gpu: 1}}",
			"  volumes: [{name: data, persistent_volume_claim: {claim_name: data}}]")},
		"environment": {src: vtRunBody(
			"  environment:",
			"    labels: {team: ml}",
			"    nodeSelector: {gpu: true, n: 1}",
			"    restartPolicy: OnFailure",
			"    dnsPolicy: ClusterFirst",
			"    serviceAccountName: sa",
			"    imagePullSecrets: [regcred]",
			"    hostPID: true",
			"    tolerations: [{key: gpu, operator: Exists, effect: NoSchedule, toleration_seconds: 10}]",
			"    securityContext: {run_as_user: 1000, fs_group: 100}",
			"    affinity: {node_affinity: {}}",
			"  container: {image: a}")},
		"unknown container key": {
			src:  vtRunBody("  container:", "    image: a", "    imagePullPolicy2: Always"),
			want: []vtErr{{"run.container.imagePullPolicy2", `did you mean "imagePullPolicy"?`, 6}},
		},
		"unknown container key far from any": {
			src:  vtRunBody("  container: {image: a, zzzzzzzzz: 1}"),
			want: []vtErr{{"run.container.zzzzzzzzz", `unknown field "zzzzzzzzz"`, 4}},
		},
		"imagePullPolicy enum": {
			src:  vtRunBody("  container: {image: a, imagePullPolicy: Sometimes}"),
			want: []vtErr{{"run.container.imagePullPolicy", `unsupported value "Sometimes": must be one of "Always", "Never", "IfNotPresent"`, 4}},
		},
		"container without image": {
			src:  vtRunBody("  container:", "    command: [train]"),
			want: []vtErr{{"run.container.image", "the container needs an image", 5}},
		},
		"image comes from the build": {src: vtComponent("build: {hubRef: kaniko}", "run: {container: {command: [train]}}")},
		"env var without name": {
			src:  vtRunBody("  container:", "    image: a", "    env: [{value: x}]"),
			want: []vtErr{{"run.container.env[0].name", "an env var needs a name", 6}},
		},
		"containerPort above 65535": {
			src:  vtRunBody("  container: {image: a, ports: [{containerPort: 70000}]}"),
			want: []vtErr{{"run.container.ports[0].containerPort", "a port is between 1 and 65535", 4}},
		},
		"containerPort 0": {
			src:  vtRunBody("  container: {image: a, ports: [{containerPort: 0}]}"),
			want: []vtErr{{"run.container.ports[0].containerPort", "a port is between 1 and 65535", 4}},
		},
		"sidecar without name": {
			src:  vtRunBody("  container: {image: a}", "  sidecars: [{image: b}]"),
			want: []vtErr{{"run.sidecars[0].name", "a sidecar needs a name", 5}},
		},
		"duplicate volume names": {
			src:  vtRunBody("  container: {image: a}", "  volumes:", "  - {name: v, emptyDir: {}}", "  - {name: v, emptyDir: {}}"),
			want: []vtErr{{"run.volumes[1].name", `duplicate value "v": volume names must be unique`, 7}},
		},
		"restartPolicy enum": {
			src:  vtRunBody("  environment: {restartPolicy: Sometimes}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.restartPolicy", `unsupported value "Sometimes": must be one of "Always", "OnFailure", "Never"`, 4}},
		},
		"dnsPolicy enum": {
			src:  vtRunBody("  environment: {dnsPolicy: Google}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.dnsPolicy", `unsupported value "Google"`, 4}},
		},
		"environment keys are Polyaxon keys, camelCase": {
			src:  vtRunBody("  environment:", "    node_selector: {a: b}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.node_selector", `keys are camelCase, did you mean "nodeSelector"?`, 5}},
		},
		"environment typo": {
			src:  vtRunBody("  environment: {nodeSelectr: {a: b}}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.nodeSelectr", `did you mean "nodeSelector"?`, 4}},
		},
		"toleration operator": {
			src: vtRunBody("  environment:", "    tolerations:", "    - {key: a, operator: Exists}", "    - {key: b, operator: Maybe}",
				"  container: {image: a}"),
			want: []vtErr{{"run.environment.tolerations[1].operator", `unsupported value "Maybe": must be one of "Exists", "Equal"`, 7}},
		},
		"toleration Exists with a value": {
			src:  vtRunBody("  environment:", "    tolerations: [{key: a, operator: Exists, value: x}]", "  container: {image: a}"),
			want: []vtErr{{"run.environment.tolerations[0].value", "a toleration with operator Exists takes no value", 5}},
		},
		"toleration unknown key": {
			src:  vtRunBody("  environment:", "    tolerations: [{key: a, operatr: Exists}]", "  container: {image: a}"),
			want: []vtErr{{"run.environment.tolerations[0].operatr", `did you mean "operator"?`, 5}},
		},
		"empty image pull secret": {
			src:  vtRunBody("  environment: {imagePullSecrets: ['']}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.imagePullSecrets[0]", "an image pull secret needs a name", 4}},
		},
		"nodeSelector not a mapping": {
			src:  vtRunBody("  environment: {nodeSelector: [a]}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.nodeSelector", "expected a mapping, got a list", 4}},
		},
	})
}

// TestValidateKubernetesValues checks how Kubernetes values are read: a
// command given as one string is a one-element list, snake_case keys land
// in their camelCase fields, and unknown nested keys are warnings.
func TestValidateKubernetesValues(t *testing.T) {
	files, errs := vtParse(t, vtRunBody(
		"  container:",
		"    image: a",
		"    image_pull_policy: Always",
		"    command: python train.py --lr=0.1",
		"    args: --epochs=3",
		"    volume_mounts: [{name: data, mount_path: /data}]",
		"    resources: {limits: {cpu: 1}, limitz: {cpu: 2}}"))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	c := files[0].Component.Run.(*Job).Container
	type view struct {
		Command, Args       []string
		PullPolicy          string
		MountName, MountDir string
	}
	var got view
	got.Command, got.Args, got.PullPolicy = c.Command, c.Args, string(c.ImagePullPolicy)
	if len(c.VolumeMounts) == 1 {
		got.MountName, got.MountDir = c.VolumeMounts[0].Name, c.VolumeMounts[0].MountPath
	}
	want := view{
		Command:    []string{"python train.py --lr=0.1"},
		Args:       []string{"--epochs=3"},
		PullPolicy: "Always",
		MountName:  "data",
		MountDir:   "/data",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("container (-want +got):\n%s", diff)
	}
	vtCheck(t, "", files[0].Warnings, []vtErr{{"run.container.resources.limitz", `unknown field "limitz"`, 10}})
}

func TestValidateInit(t *testing.T) {
	initRun := func(lines ...string) string {
		return vtRunBody(append(append([]string{"  init:"}, lines...), "  container: {image: a}")...)
	}
	vtRun(t, map[string]vtCase{
		"every handler": {src: initRun(
			"  - git: {url: https://github.com/org/repo, revision: main}",
			"  - git: {revision: main}",
			"    connection: repo",
			"  - artifacts: {files: [a.txt, [b.txt, c.txt]], dirs: [d], workers: 2}",
			"  - paths: [a, [b, c]]",
			"  - dockerfile: {image: python:3.11, run: [pip install x], env: {A: 1}}",
			"  - file: {content: 'print(1)', filename: x.py, chmod: '+x'}",
			"  - tensorboard: {port: 6006, uuids: [a, b]}",
			"  - lineageRef: abc:model",
			"  - connection: dataset",
			"    path: /data",
			"  - container: {name: custom, image: busybox}")},
		"two handlers": {
			src:  initRun("  - git: {url: https://x}", "    artifacts: {files: [a]}"),
			want: []vtErr{{"run.init[0].git", "an init entry takes one handler, got artifacts and git", 5}},
		},
		"git without url and connection": {
			src:  initRun("  - git: {revision: main}"),
			want: []vtErr{{"run.init[0].git.url", "a git init needs a url or a connection", 5}},
		},
		"empty entry": {
			src:  initRun("  - {}"),
			want: []vtErr{{"run.init[0]", "an init entry needs a handler", 5}},
		},
		"dockerfile without image": {
			src:  initRun("  - dockerfile: {run: [ls]}"),
			want: []vtErr{{"run.init[0].dockerfile.image", "`image` is required", 5}},
		},
		"file without content": {
			src:  initRun("  - file: {filename: x}"),
			want: []vtErr{{"run.init[0].file.content", "`content` is required", 5}},
		},
		"bad paths": {
			src: initRun("  - paths: [[a, b, c], 1]"),
			want: []vtErr{
				{"run.init[0].paths[0]", "expected a path or a [from, to] pair of paths", 5},
				{"run.init[0].paths[1]", "expected a path or a [from, to] pair of paths", 5},
			},
		},
		"negative workers": {
			src:  initRun("  - artifacts: {files: [a], workers: -1}"),
			want: []vtErr{{"run.init[0].artifacts.workers", "must not be negative", 5}},
		},
		"typo": {
			src:  initRun("  - gti: {url: https://x}"),
			want: []vtErr{{"run.init[0].gti", `did you mean "git"?`, 5}},
		},
		"second entry": {
			src:  initRun("  - git: {url: https://x}", "  - git: {flags: [--depth=1]}"),
			want: []vtErr{{"run.init[1].git.url", "needs a url or a connection", 6}},
		},
	})
}

func TestValidateTerminationCachePlugins(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"all set": {src: vtComponent(
			`termination: {maxRetries: 3, ttl: "{{ ttl }}", timeout: 600}`,
			"cache: {disable: false, ttl: 3600, io: [lr], sections: [containers, init, connections]}",
			"plugins: {auth: true, docker: false, shm: true, logLevel: info, sidecar: {sleepInterval: 5}, notifications: [{connections: [slack], trigger: failed}]}",
			vtJob)},
		"templated logLevel": {src: vtComponent(`plugins: {logLevel: "{{ level }}"}`, vtJob)},
		"negative maxRetries": {
			src:  vtComponent("termination: {maxRetries: -1}", vtJob),
			want: []vtErr{{"termination.maxRetries", "must not be negative, got -1", 3}},
		},
		"negative ttl and timeout": {
			src: vtComponent("termination:", "  ttl: -1", "  timeout: -2", vtJob),
			want: []vtErr{
				{"termination.ttl", "must not be negative", 4},
				{"termination.timeout", "must not be negative", 5},
			},
		},
		"timeout not a number": {
			src:  vtComponent("termination: {timeout: soon}", vtJob),
			want: []vtErr{{"termination.timeout", `expected an integer, got "soon"`, 3}},
		},
		"negative cache ttl": {
			src:  vtComponent("cache: {ttl: -5}", vtJob),
			want: []vtErr{{"cache.ttl", "must not be negative", 3}},
		},
		"cache sections enum": {
			src:  vtComponent("cache: {sections: [containers, volumes]}", vtJob),
			want: []vtErr{{"cache.sections[1]", `unsupported value "volumes": must be one of "containers", "init", "connections"`, 3}},
		},
		"cache inputs is the old name of io": {
			src:  vtComponent("cache: {inputs: [lr]}", vtJob),
			want: []vtErr{{"cache.inputs", `unknown field "inputs"`, 3}},
		},
		"logLevel enum": {
			src:  vtComponent("plugins: {logLevel: verbose}", vtJob),
			want: []vtErr{{"plugins.logLevel", `unsupported value "verbose": must be one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"`, 3}},
		},
		"negative sidecar interval": {
			src:  vtComponent("plugins: {sidecar: {syncInterval: -1}}", vtJob),
			want: []vtErr{{"plugins.sidecar.syncInterval", "must not be negative", 3}},
		},
		"notification without connections": {
			src:  vtComponent("plugins: {notifications: [{trigger: failed}]}", vtJob),
			want: []vtErr{{"plugins.notifications[0].connections", "`connections` is required", 3}},
		},
		"plugin typo": {
			src:  vtComponent("plugins: {dockr: true}", vtJob),
			want: []vtErr{{"plugins.dockr", `did you mean "docker"?`, 3}},
		},
		"plugin not a bool": {
			src:  vtComponent("plugins: {shm: sometimes}", vtJob),
			want: []vtErr{{"plugins.shm", "expected a boolean", 3}},
		},
	})
}

func TestValidateHooksAndBuild(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"hooks": {src: vtComponent(
			"hooks:",
			"- {hubRef: slack, trigger: failed, connection: slack, conditions: \"{{ status == 'failed' }}\"}",
			"- {hubRef: acme/notifier:v1, trigger: done, params: {channel: {value: ml}}}",
			vtJob)},
		"hook without hubRef": {
			src:  vtComponent("hooks:", "- trigger: failed", vtJob),
			want: []vtErr{{"hooks[0].hubRef", "`hubRef` is required", 4}},
		},
		"hook trigger enum": {
			src: vtComponent("hooks:", "- {hubRef: slack, trigger: running}", vtJob),
			want: []vtErr{{"hooks[0].trigger",
				`unsupported value "running": must be one of "succeeded", "failed", "stopped", "skipped", "upstream_failed", "done"`, 4}},
		},
		"hook hubRef with two tags": {
			src:  vtComponent("hooks:", "- {hubRef: 'slack:a:b'}", vtJob),
			want: []vtErr{{"hooks[0].hubRef", `hubRef must be [owner/]name[:tag], got "slack:a:b"`, 4}},
		},
		"hook conditions": {
			src:  vtComponent("hooks:", "- hubRef: slack", `  conditions: "{{ status == }}"`, vtJob),
			want: []vtErr{{"hooks[0].conditions", "does not compile", 5}},
		},
		"hook with the old connection-only shape": {
			src:  vtComponent("hooks:", "- connection: slack", vtJob),
			want: []vtErr{{"hooks[0].hubRef", "`hubRef` is required", 4}},
		},
		"build": {src: vtComponent("build:", "  hubRef: kaniko", "  connection: registry", "  patchStrategy: replace",
			"  params: {destination: {value: 'img:{{ globals.uuid }}'}}", "  runPatch: {init: [{git: {url: https://x}}]}", vtJob)},
		"build without hubRef": {
			src:  vtComponent("build: {connection: docker}", vtJob),
			want: []vtErr{{"build.hubRef", "`hubRef` is required", 3}},
		},
		"build patchStrategy enum": {
			src:  vtComponent("build: {hubRef: kaniko, patchStrategy: merge}", vtJob),
			want: []vtErr{{"build.patchStrategy", `unsupported value "merge": must be one of "replace", "isnull", "post_merge", "pre_merge"`, 3}},
		},
		"build cache sections": {
			src:  vtComponent("build:", "  hubRef: kaniko", "  cache: {sections: [layers]}", vtJob),
			want: []vtErr{{"build.cache.sections[0]", `unsupported value "layers"`, 5}},
		},
		"build unknown key": {
			src:  vtComponent("build: {hubRef: kaniko, image: x}", vtJob),
			want: []vtErr{{"build.image", `unknown field "image"`, 3}},
		},
	})
}

func TestValidateOperation(t *testing.T) {
	inline := func(lines ...string) string {
		return vtOperation(append([]string{"component:", "  run: {container: {image: a}}"}, lines...)...)
	}
	vtRun(t, map[string]vtCase{
		"runPatch of a job": {src: inline("runPatch:", "  environment: {nodeSelector: {pool: gpu}}", "  container: {image: b}")},
		"runPatch of a service": {src: vtOperation(
			"component: {run: {kind: service, ports: [80], container: {image: a}}}",
			"runPatch: {ports: [8888], rewritePath: true}")},
		"runPatch of one replica of a tfjob": {src: vtOperation(
			"component: {run: {kind: tfjob, worker: {replicas: 1, container: {image: a}}}}",
			"runPatch: {replicas: 2, container: {image: b}}")},
		"runPatch ports on a job": {
			src:  inline("runPatch:", "  ports: [8888]"),
			want: []vtErr{{"runPatch.ports", `unknown field "ports"; valid fields are connections, container, environment, init, kind, sidecars, volumes (runPatch must fit the component's run kind "job")`, 6}},
		},
		"runPatch of an unknown component": {
			src:  vtOperation("hubRef: notebook", "runPatch:", "  ports: [8888]", "  portz: 1"),
			want: []vtErr{{"runPatch.portz", `unknown field "portz"`, 6}},
		},
		"runPatch environment typo": {
			src:  inline("runPatch:", "  environment: {node_selector: {a: b}}"),
			want: []vtErr{{"runPatch.environment.node_selector", `did you mean "nodeSelector"?`, 6}},
		},
		"patchStrategy": {src: inline("patchStrategy: pre_merge")},
		"patchStrategy enum": {
			src:  inline("patchStrategy: merge"),
			want: []vtErr{{"patchStrategy", `unsupported value "merge": must be one of "replace", "isnull", "post_merge", "pre_merge"`, 5}},
		},
		"trigger": {src: inline("trigger: one_done")},
		"trigger enum": {
			src: inline("trigger: always"),
			want: []vtErr{{"trigger",
				`unsupported value "always": must be one of "all_succeeded", "all_failed", "all_done", "one_succeeded", "one_failed", "one_done"`, 5}},
		},
		"conditions":                     {src: inline(`conditions: "{{ lr > 0.1 and act == 'relu' and not skip }}"`)},
		"conditions without braces":      {src: inline(`conditions: "lr > 0.1"`)},
		"conditions with Jinja literals": {src: inline(`conditions: "{{ flag == True or x == None }}"`)},
		"conditions do not compile": {
			src:  inline(`conditions: "{{ a == }}"`),
			want: []vtErr{{"conditions", `condition "{{ a == }}" does not compile`, 5}},
		},
		"conditions with two templates": {
			src:  inline(`conditions: "{{ a }} and {{ b }}"`),
			want: []vtErr{{"conditions", `must be one expression, written "{{ expr }}"`, 5}},
		},
		"conditions not closed": {
			src:  inline(`conditions: "{{ a == 'x'"`),
			want: []vtErr{{"conditions", "opens {{ without closing it", 5}},
		},
		"no reference": {
			src:  vtOperation("name: orphan"),
			want: []vtErr{{"", "an operation needs exactly one of component, hubRef, dagRef, urlRef or pathRef", 1}},
		},
		"two references": {
			src:  vtOperation("hubRef: a", "urlRef: https://example.com/c.yaml"),
			want: []vtErr{{"urlRef", "only one reference may be set, got hubRef and urlRef", 4}},
		},
		"hubRef with an inline component": {src: inline("hubRef: trainer")},
		"hubRef forms":                    {src: vtOperation("hubRef: acme.tensorboard:single-run")},
		"bad hubRef": {
			src:  vtOperation("hubRef: a/b/c"),
			want: []vtErr{{"hubRef", "hubRef must be [owner/]name[:tag]", 3}},
		},
		"urlRef not http": {
			src:  vtOperation("urlRef: ftp://example.com/c.yaml"),
			want: []vtErr{{"urlRef", "urlRef must be an http(s) URL", 3}},
		},
		"pathRef": {src: vtOperation("pathRef: ../components/train.yaml")},
		"dagRef outside a dag": {
			src:  vtOperation("dagRef: train"),
			want: []vtErr{{"dagRef", "dagRef only works for operations inside a dag", 3}},
		},
		"dependencies outside a dag": {
			src:  vtOperation("hubRef: a", "dependencies: [b]"),
			want: []vtErr{{"dependencies[0]", "dependencies only apply to operations inside a dag", 4}},
		},
		"inline component of another kind": {
			src:  vtOperation("component: {kind: operation, run: {container: {image: a}}}"),
			want: []vtErr{{"component.kind", `kind must be "component" here`, 3}},
		},
		"inline component needs no version": {src: vtOperation("component: {name: c, run: {container: {image: a}}}")},
		"image may come from runPatch":      {src: vtOperation("component: {run: {container: {command: [x]}}}", "runPatch: {container: {image: b}}")},
		"image may come from presets":       {src: vtOperation("component: {run: {container: {command: [x]}}}", "presets: [gpu]")},
	})
}

func TestValidateEvents(t *testing.T) {
	const uuid = "0123456789abcdef0123456789abcdef"
	events := func(lines ...string) string {
		return vtOperation(append([]string{"hubRef: a", "events:"}, lines...)...)
	}
	vtRun(t, map[string]vtCase{
		"run and dag refs": {src: events(
			"- {kinds: [run_status_running, run_status_done], ref: runs."+uuid+"}",
			"- {kinds: [run_status_succeeded], ref: dag}")},
		"unknown kind": {
			src:  events("- {kinds: [run_status_succeeded, run_status_initializing], ref: dag}"),
			want: []vtErr{{"events[0].kinds[1]", `unsupported value "run_status_initializing": must be one of "run_status_created"`, 5}},
		},
		"no kinds": {
			src:  events("- {kinds: [], ref: dag}"),
			want: []vtErr{{"events[0].kinds", "an event needs at least one kind", 5}},
		},
		"kinds missing": {
			src:  events("- {ref: dag}"),
			want: []vtErr{{"events[0].kinds", "`kinds` is required", 5}},
		},
		"ref missing": {
			src:  events("- kinds: [run_status_done]"),
			want: []vtErr{{"events[0].ref", "`ref` is required", 5}},
		},
		"runs with a bad uuid": {
			src:  events("- {kinds: [run_status_done], ref: runs.123}"),
			want: []vtErr{{"events[0].ref", `runs.<uuid> needs a valid run uuid, got "runs.123"`, 5}},
		},
		"ops outside a dag": {
			src:  events("- {kinds: [run_status_done], ref: ops.train}"),
			want: []vtErr{{"events[0].ref", "a ref to `ops.` only works for operations inside a dag", 5}},
		},
		"untyped list of strings (before v1.5)": {
			src:  events("- run_status_done"),
			want: []vtErr{{"events[0]", "expected a mapping, got a string", 5}},
		},
		"ref forms inside a dag": {
			src: vtDAG(
				"  operations:",
				"  - {name: train, hubRef: x}",
				"  - name: board",
				"    hubRef: tensorboard",
				"    events:",
				"    - {kinds: [run_status_running], ref: ops.train}",
				`    - {kinds: [run_status_running], ref: "{{ ops.train }}"}`,
				"    - {kinds: [run_status_running], ref: train}",
				"    - {kinds: [run_status_running], ref: ops.trian}"),
			want: []vtErr{
				{"run.operations[1].events[1].ref", "event ref must be exactly `ops.<operation>`, `runs.<uuid>` or `dag`, got \"{{ ops.train }}\" (did you mean \"ops.train\"?)", 11},
				{"run.operations[1].events[2].ref", `got "train" (did you mean "ops.train"?)`, 12},
				{"run.operations[1].events[3].ref", `unknown operation "trian" (did you mean "train"?)`, 13},
			},
		},
	})
}

func TestValidateMultiDocument(t *testing.T) {
	src := vtComponent(vtJob) + "---\n" + vtLines("version: 2", "kind: component", vtJob) + "---\n" + vtOperation("hubRef: a")
	files, errs := vtParse(t, src)
	vtCheck(t, src, errs, []vtErr{{"version", "version 2 is not supported", 5}})
	if len(files) != 3 {
		t.Fatalf("got %d files, want 3", len(files))
	}
	type doc struct {
		Index  int
		Kind   Kind
		Errors []string
	}
	var got []doc
	for _, f := range files {
		d := doc{Index: f.Index, Kind: f.Kind()}
		for _, e := range f.Errors {
			d.Errors = append(d.Errors, e.Error())
		}
		got = append(got, d)
	}
	want := []doc{
		{Index: 0, Kind: KindComponent},
		{Index: 1, Kind: KindComponent, Errors: []string{"version: version 2 is not supported: Plexus reads Polyaxonfile version 1.1 (line 5)"}},
		{Index: 2, Kind: KindOperation},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
}

func TestValidateMultiDocumentSkipsEmptyDocuments(t *testing.T) {
	src := "---\n" + vtComponent(vtJob) + "---\n# nothing here\n---\n" + vtComponent("name: b", vtJob)
	files, errs := vtParse(t, src)
	vtCheck(t, src, errs, nil)
	if len(files) != 2 || files[1].Index != 1 || files[1].Component.Name != "b" {
		t.Errorf("got %d files, want 2 with the second named b at index 1", len(files))
	}
}

func TestValidateJSON(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"component": {src: `{"version": 1.1, "kind": "component", "inputs": [{"name": "lr", "type": "float"}],
 "run": {"kind": "job", "container": {"image": "a", "command": ["python", "train.py"]}}}`},
		"version as a string": {src: `{"version": "1.1", "kind": "operation", "hubRef": "kaniko"}`},
		"unknown key with its line": {
			src:  "{\n  \"version\": 1.1,\n  \"kind\": \"component\",\n  \"run\": {\n    \"container\": {\"image\": \"a\"},\n    \"kindd\": \"job\"\n  }\n}\n",
			want: []vtErr{{"run.kindd", `unknown field "kindd", did you mean "kind"?`, 6}},
		},
		"wrong type with its line": {
			src:  "{\n  \"version\": 1.1,\n  \"kind\": \"component\",\n  \"termination\": {\"maxRetries\": -1},\n  \"run\": {\"container\": {\"image\": \"a\"}}\n}\n",
			want: []vtErr{{"termination.maxRetries", "must not be negative", 4}},
		},
	})
}

func TestValidateSyntaxError(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"tab indentation": {
			src:  vtComponent("run:", "\tcontainer: {image: a}"),
			want: []vtErr{{"", "invalid YAML", 4}},
		},
		"bad indentation": {
			src:  vtComponent("run:", "  container:", "    image: a", "   command: [x]"),
			want: []vtErr{{"", "invalid YAML", 6}},
		},
		"unclosed flow mapping": {
			src:  vtComponent("run: {container: {image: a}"),
			want: []vtErr{{"", "invalid YAML", 3}},
		},
	})
}

// TestValidateSyntaxErrorKeepsEarlierDocuments checks that the documents
// before a syntax error are returned, and that the error names its line.
func TestValidateSyntaxErrorKeepsEarlierDocuments(t *testing.T) {
	src := vtComponent(vtJob) + "---\n" + vtComponent("name: b", "run: [a")
	files, errs := vtParse(t, src)
	vtCheck(t, src, errs, []vtErr{{"", "invalid YAML", 8}}) // `run: [a` is line 8
	if len(files) != 1 || len(files[0].Errors) != 0 {
		t.Errorf("got %d files, want the valid first document", len(files))
	}
}

func TestValidateEmptyInput(t *testing.T) {
	for name, src := range map[string]string{
		"empty":            "",
		"only a comment":   "# a Polyaxonfile\n",
		"only separators":  "---\n---\n",
		"only whitespace":  "\n\n   \n",
		"an explicit null": "null\n",
	} {
		t.Run(name, func(t *testing.T) {
			files, errs := vtParse(t, src)
			vtCheck(t, src, errs, []vtErr{{"", "no Polyaxonfile found: the input is empty", 0}})
			if len(files) != 0 {
				t.Errorf("got %d files, want none", len(files))
			}
		})
	}
}

// TestValidateAllErrorsInOnePass checks that independent problems in
// different sections are all reported by one Parse, each with its line.
func TestValidateAllErrorsInOnePass(t *testing.T) {
	src := vtLines(
		"version: 1.05",                         // 1
		"kind: component",                       // 2
		"name: train:v1",                        // 3
		"environment: {}",                       // 4
		"termination: {maxRetries: -1}",         // 5
		"inputs:",                               // 6
		"- {name: lr, type: double}",            // 7
		"- {name: lr, type: float, value: 0.1}", // 8
		"run:",                                  // 9
		"  kind: service",                       // 10
		"  ports: [0]",                          // 11
		"  environment: {restartPolicy: Sometimes}", // 12
		"  container:",               // 13
		"    imagePullPolicy: Often", // 14
		"    image_name: a",          // 15
	)
	_, errs := vtParse(t, src)
	vtCheck(t, src, errs, []vtErr{
		{"version", "version 1.05 is not supported", 1},
		{"name", "may only contain", 3},
		{"environment", "unexpected section `environment`", 4},
		{"termination.maxRetries", "must not be negative", 5},
		{"inputs[0].type", `unsupported value "double"`, 7},
		{"inputs[1].name", `duplicate value "lr"`, 8},
		{"inputs[1].value", "is not optional and has a default value", 8},
		{"run.ports[0]", "a port is between 1 and 65535", 11},
		{"run.environment.restartPolicy", `unsupported value "Sometimes"`, 12},
		{"run.container.imagePullPolicy", `unsupported value "Often"`, 14},
		{"run.container.image_name", `unknown field "image_name"`, 15},
		{"run.container.image", "the container needs an image", 14},
	})
}

// TestValidateErrorRendering checks the `path: message (line N)` form and
// that errors.As finds each *FieldError in the list.
func TestValidateErrorRendering(t *testing.T) {
	_, err := Parse("test.yaml", []byte(vtComponent("cost: -1", vtJob)))
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v, *FieldError) = false", err)
	}
	if got, want := err.Error(), "cost: cost must not be negative (line 3)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if fe.Line != 3 || fe.Column != 7 {
		t.Errorf("position = %d:%d, want 3:7", fe.Line, fe.Column)
	}
}
