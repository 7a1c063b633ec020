package compiler

import (
	"errors"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// TestCompileErrors: each stage reports its problems with the stage, the
// path and what was wrong.
func TestCompileErrors(t *testing.T) {
	cases := map[string]struct {
		yaml  string
		extra map[string]specs.Param
		stage Stage
		path  string
		msg   string
	}{
		"undefined variable": {
			yaml:  "component:\n  run: {container: {image: a, args: [\"{{ lr }}\"]}}\n",
			stage: StageTemplates, path: "run.container.args[0]", msg: `undefined variable "lr"`,
		},
		"missing attribute": {
			yaml:  "component:\n  run: {container: {image: \"{{ globals.nope }}\"}}\n",
			stage: StageTemplates, path: "run.container.image", msg: `globals has no "nope"`,
		},
		"no file access": {
			yaml:  "component:\n  run: {container: {image: a, command: [\"{% include '/etc/passwd' %}\"]}}\n",
			stage: StageTemplates, path: "run.container.command[0]", msg: "/etc/passwd",
		},
		"integer template": {
			yaml:  "termination: {timeout: \"{{ 'soon' }}\"}\ncomponent:\n  run: {container: {image: a}}\n",
			stage: StageTemplates, path: "termination.timeout", msg: `not an integer`,
		},
		"missing input": {
			yaml:  "component:\n  inputs: [{name: lr, type: float}]\n  run: {container: {image: a}}\n",
			stage: StageParams, path: "params.lr", msg: `input "lr" is required`,
		},
		"wrong type from the command line": {
			yaml:  "component:\n  inputs: [{name: n, type: int}]\n  run: {container: {image: a}}\n",
			extra: map[string]specs.Param{"n": {Value: "1.5"}},
			stage: StageParams, path: "params.n.value", msg: `"1.5"`,
		},
		"ref without its runs": {
			yaml:  "params: {lr: {ref: runs.8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b, value: outputs.lr}}\ncomponent:\n  inputs: [{name: lr, type: float}]\n  run: {container: {image: a}}\n",
			stage: StageParams, path: "params.lr.ref", msg: "needs the run it refers to",
		},
		"param template renders the wrong type": {
			yaml:  "params: {n: {value: \"{{ globals.name }}\"}}\ncomponent:\n  inputs: [{name: n, type: int}]\n  run: {container: {image: a}}\n",
			stage: StageParams, path: "params.n.value", msg: `renders "golden"`,
		},
		"runPatch of another kind": {
			yaml:  "runPatch: {ports: [80]}\ncomponent:\n  run: {container: {image: a}}\n",
			stage: StagePatch, path: "runPatch.ports", msg: "unknown field",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files, err := specs.Parse("t.yaml", []byte("version: 1.1\nkind: operation\n"+tc.yaml))
			var op *specs.Operation
			if err != nil {
				// Parse refuses some of these itself; the compiler must too,
				// for operations built in Go.
				if len(files) == 0 || files[0].Operation == nil {
					t.Fatalf("does not parse: %v", err)
				}
			}
			op = files[0].Operation
			_, err = Compile(op, op.Component, Options{Run: testRun, Params: tc.extra})
			var ce *CompilationError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a CompilationError", err)
			}
			if ce.Stage != tc.stage {
				t.Errorf("stage %s, want %s: %v", ce.Stage, tc.stage, err)
			}
			for _, e := range ce.Errors {
				if string(e.Path) == tc.path && strings.Contains(e.Error(), tc.msg) {
					return
				}
			}
			t.Errorf("no error at %s mentioning %q:\n%v", tc.path, tc.msg, err)
		})
	}
}
