package compiler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// benchComponent is a typical component: ten typed params, a templated
// command, env and labels.
func benchComponent(b *testing.B) (*specs.Operation, *specs.Component) {
	var y strings.Builder
	y.WriteString("version: 1.1\nkind: operation\nname: bench\nparams:\n")
	for i := range 10 {
		fmt.Fprintf(&y, "  p%d: {value: %d}\n", i, i)
	}
	y.WriteString("component:\n  inputs:\n")
	for i := range 10 {
		typ := []string{"int", "float", "str"}[i%3]
		fmt.Fprintf(&y, "    - {name: p%d, type: %s}\n", i, typ)
	}
	y.WriteString(`  termination: {maxRetries: 2, timeout: 600}
  run:
    kind: job
    environment:
      labels: {run: "{{ globals.uuid }}"}
    container:
      image: "python:3.12"
      command: [python, train.py]
      args: ["{{ params.as_args | join(' ') }}", "--out={{ globals.run_outputs_path }}", "--p0={{ p0 }}"]
      env: [{name: P1, value: "{{ p1 }}"}]
`)
	files, err := specs.Parse("bench.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	op := files[0].Operation
	return op, op.Component
}

// BenchmarkCompile: presets (none), merge, params, context and templates
// of a typical component. Target: ≥ 10,000 compiles/s on one core.
func BenchmarkCompile(b *testing.B) {
	op, comp := benchComponent(b)
	for b.Loop() {
		if _, err := Compile(op, comp, Options{Run: testRun}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileAndLower adds the Kubernetes Job.
func BenchmarkCompileAndLower(b *testing.B) {
	op, comp := benchComponent(b)
	for b.Loop() {
		c, err := Compile(op, comp, Options{Run: testRun})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Lower(c, testRun, LowerOptions{Attempt: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileDagNode: an operation of a large dag, as the engine
// compiles each when it is ready: one param, a component without
// templates.
func BenchmarkCompileDagNode(b *testing.B) {
	files, err := specs.Parse("node.yaml", []byte(`version: 1.1
kind: operation
name: l3-7
params: {i: {value: 7}}
component:
  name: noop
  inputs: [{name: i, type: int}]
  run: {kind: job, container: {image: alpine, command: ['true']}}
`))
	if err != nil {
		b.Fatal(err)
	}
	op := files[0].Operation
	for b.Loop() {
		if _, err := Compile(op, op.Component, Options{Run: testRun}); err != nil {
			b.Fatal(err)
		}
	}
}
