package specs

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite the .golden files of testdata/errors")

// TestGoldenErrors parses each testdata/errors/NAME.yaml as `plexus check`
// does (Parse, then CheckParams for the documents that parsed cleanly) and
// compares the sorted, rendered errors with NAME.golden. Run
// `go test ./specs -run Golden -update` to rewrite the golden files, and
// review the diff: each one is what a user reads for that input.
func TestGoldenErrors(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs in testdata/errors")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := goldenRender(t, filepath.Base(in), data)
			if got == "" {
				t.Errorf("%s reports no errors; every golden input must be invalid", in)
			}
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s: errors differ from %s (-want +got):\n%s", in, golden, diff)
			}
		})
	}
}

// goldenRender returns the input's errors, one per line, in ErrorList.Sort
// order, with a final newline.
func goldenRender(t *testing.T, source string, data []byte) string {
	t.Helper()
	files, err := Parse(source, data)
	var errs ErrorList
	if err != nil && !errors.As(err, &errs) {
		t.Fatalf("Parse returned %T, want an ErrorList: %v", err, err)
	}
	errs = append(ErrorList(nil), errs...)
	for _, f := range files {
		if len(f.Errors) == 0 {
			errs = append(errs, f.CheckParams(nil)...)
		}
	}
	if len(errs) == 0 {
		return ""
	}
	errs.Sort()
	return errs.Error() + "\n"
}
