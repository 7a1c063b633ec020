package compiler

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
)

var update = flag.Bool("update", false, "rewrite the .golden files under testdata")

// TestMergeGolden compiles each testdata/merge/NAME.yaml — an operation
// with its component inline, then its presets as further documents — with
// ApplyPresets and Merge, and compares the operation after its presets and
// the merged component with NAME.golden. `go test ./specs/compiler -update`
// rewrites the golden files.
func TestMergeGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/merge/*.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".yaml"), func(t *testing.T) {
			files, err := specs.ParseFile(in)
			if err != nil {
				t.Fatal(err)
			}
			op := files[0].Operation
			var presets []*specs.Operation
			for _, f := range files[1:] {
				presets = append(presets, f.Operation)
			}
			withPresets, err := ApplyPresets(op, op.Component, presets)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := Merge(withPresets, op.Component)
			if err != nil {
				t.Fatal(err)
			}
			withPresets.Component = nil // shown merged below
			var b bytes.Buffer
			for _, part := range []struct {
				title string
				v     any
			}{{"operation after presets", withPresets}, {"component after runPatch and the operation's fields", merged}} {
				out, err := specs.MarshalYAML(part.v)
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString("# " + part.title + "\n")
				b.Write(out)
				b.WriteString("---\n")
			}
			checkGolden(t, strings.TrimSuffix(in, ".yaml")+".golden", b.Bytes())
			// The result is a valid component.
			if errs := merged.Validate(); len(errs) > 0 {
				t.Errorf("the merged component is invalid:\n%v", errs)
			}
		})
	}
}

// checkGolden compares got with the golden file, or rewrites the file with
// -update.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// TestMergeSharesDagOperations: compiling a dag shares its operations and
// components with the component it was given (a large dag is not held
// twice) and changes nothing of it; a runPatch gets a copy.
func TestMergeSharesDagOperations(t *testing.T) {
	files, err := specs.Parse("dag.yaml", []byte(`version: 1.1
kind: operation
name: pipe
params: {n: {value: 3}}
component:
  inputs: [{name: n, type: int}]
  run:
    kind: dag
    concurrency: "{{ n }}"
    operations:
      - {name: a, dagRef: step, params: {x: {value: 1}}}
      - {name: b, dagRef: step, params: {x: {value: "{{ globals.uuid }}"}}, dependencies: [a]}
    components:
      - {name: step, inputs: [{name: x, type: str}], run: {kind: job, container: {image: alpine, command: [echo, "{{ x }}"]}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	op := files[0].Operation
	before, _ := json.Marshal(op.Component)
	c, err := Compile(op, op.Component, Options{Run: testRun})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(op.Component)
	if string(before) != string(after) {
		t.Fatalf("compiling changed the component:\n%s\n%s", before, after)
	}
	in, out := op.Component.Run.(*specs.DAG), c.Component.Run.(*specs.DAG)
	if &in.Operations[0] != &out.Operations[0] || &in.Components[0] != &out.Components[0] {
		t.Error("the compiled dag copied its operations and components")
	}
	if out.Concurrency.Value != 3 || in.Concurrency.Template == "" {
		t.Errorf("concurrency: compiled %+v, given %+v", *out.Concurrency, *in.Concurrency)
	}
	patched := *op
	patched.RunPatch = map[string]any{"concurrency": 1}
	c, err = Compile(&patched, op.Component, Options{Run: testRun})
	if err != nil {
		t.Fatal(err)
	}
	if out := c.Component.Run.(*specs.DAG); &in.Operations[0] == &out.Operations[0] || out.Concurrency.Value != 1 {
		t.Errorf("with a runPatch: shared %v, concurrency %+v", &in.Operations[0] == &out.Operations[0], *out.Concurrency)
	}
}
