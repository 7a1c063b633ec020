package compiler

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
)

const paramsComponent = `version: 1.1
kind: component
inputs:
  - {name: lr, type: float}
  - {name: opt, type: str, options: [adam, sgd], isOptional: true, value: adam}
  - {name: sizes, type: int, isList: true, isOptional: true}
  - {name: fast, type: bool, isFlag: true, isOptional: true}
  - {name: steps, type: int, isOptional: true, value: 10, argFormat: "-s {{ steps }}", toEnv: STEPS}
  - {name: src, type: str, isOptional: true, toInit: true}
outputs:
  - {name: model, type: path}
run: {container: {image: a}}
`

func TestResolveParams(t *testing.T) {
	files, err := specs.Parse("c.yaml", []byte(paramsComponent))
	if err != nil {
		t.Fatal(err)
	}
	comp := files[0].Component
	cases := map[string]struct {
		params map[string]specs.Param
		want   map[string]any // name → resolved value
		errs   []string       // error paths, in order
	}{
		"defaults and coercion": {
			params: map[string]specs.Param{"lr": {Value: "0.1"}, "sizes": {Value: "1,2"}, "fast": {Value: "yes"}, "note": {Value: "x", ContextOnly: true}},
			want:   map[string]any{"lr": 0.1, "opt": "adam", "sizes": []any{1, 2}, "fast": true, "steps": 10, "src": nil, "model": nil, "note": "x"},
		},
		"missing required input":  {params: nil, errs: []string{"params.lr"}},
		"unknown param":           {params: map[string]specs.Param{"lr": {Value: 1}, "learning": {Value: 1}}, errs: []string{"params.learning"}},
		"not an option":           {params: map[string]specs.Param{"lr": {Value: 1}, "opt": {Value: "lbfgs"}}, errs: []string{"params.opt.value"}},
		"wrong list item":         {params: map[string]specs.Param{"lr": {Value: 1}, "sizes": {Value: "1,x"}}, errs: []string{"params.sizes.value"}},
		"flag that is no boolean": {params: map[string]specs.Param{"lr": {Value: 1}, "fast": {Value: "maybe"}}, errs: []string{"params.fast.value"}},
		"every problem at once": {
			params: map[string]specs.Param{"opt": {Value: "x"}, "sizes": {Value: "a,b"}, "bogus": {Value: 1}},
			errs:   []string{"params.bogus", "params.lr", "params.opt.value", "params.sizes.value"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ResolveParams(&specs.Operation{}, comp, tc.params, nil)
			if len(tc.errs) > 0 {
				var ce *CompilationError
				if !errors.As(err, &ce) || ce.Stage != StageParams {
					t.Fatalf("got %v, want a params error", err)
				}
				var paths []string
				for _, e := range ce.Errors {
					paths = append(paths, string(e.Path))
				}
				if diff := cmp.Diff(tc.errs, paths); diff != "" {
					t.Fatalf("error paths (-want +got):\n%s\n%v", diff, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			values := map[string]any{}
			for _, p := range got {
				values[p.Name] = p.Value
			}
			if diff := cmp.Diff(tc.want, values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParamRendering: display values, as_str, as_arg, as_args, and the
// environment and init entries params ask for.
func TestParamRendering(t *testing.T) {
	files, err := specs.Parse("c.yaml", []byte(strings.Replace(paramsComponent,
		"run: {container: {image: a}}", `run:
  container:
    image: a
    args: ["{{ fast }}", "{{ params.steps.as_arg }}", "{{ params.as_args | join(' ') }}", "{{ params.sizes.as_str }}"]`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	comp := files[0].Component
	c, err := Compile(&specs.Operation{}, comp, Options{Run: testRun, Params: map[string]specs.Param{
		"lr": {Value: "0.5"}, "sizes": {Value: "[3, 4]"}, "fast": {Value: "true"}, "src": {Value: "git-repo", Connection: "repo"},
	}, Connections: testConnections})
	if err != nil {
		t.Fatal(err)
	}
	job := c.Component.Run.(*specs.Job)
	want := []string{"--fast", "-s 10", "--lr=0.5 --opt=adam --sizes=[3, 4] --fast -s 10 --src=git-repo", "[3, 4]"}
	if diff := cmp.Diff(want, job.Container.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if len(job.Init) != 1 || job.Init[0].Connection != "repo" {
		t.Errorf("toInit with a connection gives a connection init; got %+v", job.Init)
	}
	objs, err := Lower(c, testRun, LowerOptions{Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range objs.Job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "STEPS" && e.Value == "10" {
			found = true
		}
	}
	if !found {
		t.Error("toEnv: the main container has no STEPS=10")
	}
}

func TestToInitWithoutConnection(t *testing.T) {
	files, err := specs.Parse("c.yaml", []byte(paramsComponent))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(&specs.Operation{}, files[0].Component, Options{Run: testRun, Params: map[string]specs.Param{"lr": {Value: 1}, "src": {Value: "x"}}})
	if err == nil || !strings.Contains(err.Error(), "connections: params.src.toInit: a str param without a connection cannot become an init container") {
		t.Fatalf("got %v", err)
	}
}
