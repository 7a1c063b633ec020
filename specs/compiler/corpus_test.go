package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/plexus-ml/plexus/specs"
)

// TestCorpusMerges merges every operation of every accepted file of the
// conformance corpus, and of the examples, onto the component it resolves
// to: the merge succeeds and gives a valid component.
func TestCorpusMerges(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"../../../shared/conformance/*.yaml", "../../examples/*.yaml"} {
		found, _ := filepath.Glob(pattern)
		paths = append(paths, found...)
	}
	merged := 0
	for _, path := range paths {
		if strings.HasPrefix(filepath.Base(path), "bad-") {
			continue
		}
		files, err := specs.ParseFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		res, _ := Resolve(context.Background(), files[0], filepath.Dir(path), Sources{Hub: StubHub()})
		for _, op := range res.Operations() {
			rv := res.Of(op)
			c, err := Merge(op, rv.Component)
			if err != nil {
				t.Errorf("%s: %s: %v", path, rv.Path, err)
				continue
			}
			if errs := c.Validate(); len(errs) > 0 {
				t.Errorf("%s: %s: the merged component is invalid:\n%v", path, rv.Path, errs)
			}
			merged++
		}
	}
	if merged < 30 {
		t.Fatalf("merged only %d operations; is the corpus at ../../../shared/conformance?", merged)
	}
}

// TestPatchWithNothingCopies: patching with an empty value gives an equal,
// independent copy, for every component of the corpus.
func TestPatchWithNothingCopies(t *testing.T) {
	paths, _ := filepath.Glob("../../../shared/conformance/*.yaml")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files, err := specs.Parse(path, data)
		if err != nil || files[0].Component == nil {
			continue
		}
		c := files[0].Component
		for _, s := range strategies {
			got := Patch(c, &specs.Component{}, s)
			if diff := cmp.Diff(c, got, cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
				t.Errorf("%s under %s (-want +got):\n%s", filepath.Base(path), s, diff)
			}
			if got == c || got.Run == c.Run {
				t.Errorf("%s: the copy shares memory with the original", filepath.Base(path))
			}
		}
	}
}

// corpusCompileParams are the params the reference needs for a file to get
// through its runtime stage (INDEX.md).
var corpusCompileParams = map[string]map[string]specs.Param{
	"required-inputs-flag.yaml":       {"loss": {Value: "MeanSquaredError"}, "flag": {Value: "true"}},
	"required-inputs-as-arg.yaml":     {"loss": {Value: "MeanSquaredError"}, "flag": {Value: "true"}},
	"hub-tensorboard-single-run.yaml": {"uuid": {Value: "8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b"}},
	"hub-kaniko.yaml":                 {"destination": {Value: "app:1", Connection: "registry"}},
}

// corpusCompileRejects are the files Plexus refuses on purpose where the
// reference renders an undefined variable as "" (conformance README): the
// error must name the variable.
var corpusCompileRejects = map[string]string{
	"params-templated-deferred.yaml": `undefined variable "future_context_value"`,
}

// TestCorpusCompiles compiles every operation of every accepted corpus file
// and example, with the params and the `registry` connection the reference
// needs for them.
func TestCorpusCompiles(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"../../../shared/conformance/*.yaml", "../../examples/*.yaml"} {
		found, _ := filepath.Glob(pattern)
		paths = append(paths, found...)
	}
	compiled := 0
	for _, path := range paths {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "bad-") || name == "examples-urlref-operation.yaml" {
			continue // the URL is not served here; cmd/plexus covers it
		}
		files, err := specs.ParseFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		f := files[0]
		res, err := Resolve(context.Background(), f, filepath.Dir(path), Sources{Hub: StubHub()})
		if err != nil && name != "examples-random-pathref.yaml" {
			t.Errorf("%s: %v", name, err)
			continue
		}
		op, comp := f.Operation, f.Component
		if op == nil {
			op = &specs.Operation{}
		} else if rv := res.Of(op); rv != nil {
			comp = rv.Component
		}
		if comp == nil {
			continue // the pathRef of an example that lives in its own repo
		}
		_, err = Compile(op, comp, Options{Run: testRun, Params: corpusCompileParams[name], Connections: testConnections})
		if want, ok := corpusCompileRejects[name]; ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want an error naming %s", name, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		compiled++
	}
	if compiled < 30 {
		t.Fatalf("compiled only %d files", compiled)
	}
}
