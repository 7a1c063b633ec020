package compiler

import (
	"bytes"
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
