package compiler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/corpus"
)

// ownCorpus is Plexus's own Polyaxonfile corpus, inside the checkout.
const ownCorpus = "../../testdata/polyaxonfiles"

// ownFiles returns the Polyaxonfiles we own: the corpus's cases and the
// examples (which check accepts as they are).
func ownFiles(t testing.TB) []corpus.Case {
	t.Helper()
	out, err := corpus.Load(ownCorpus)
	if err != nil {
		t.Fatal(err)
	}
	examples, _ := filepath.Glob("../../examples/*.yaml")
	for _, p := range examples {
		out = append(out, corpus.Case{Name: filepath.Base(p), Path: p, Expect: corpus.Accept})
	}
	return out
}

// corpusSources resolve the corpus's references with no network: hubRefs
// from the built-in hub, urlRefs from refs/ (corpus.RefsURL).
var corpusSources = Sources{Hub: StubHub(), URL: refsFetcher{}}

type refsFetcher struct{}

func (refsFetcher) Fetch(_ context.Context, url string) ([]byte, error) {
	if data, ok, err := corpus.ReadRef(ownCorpus, url); ok {
		return data, err
	}
	return nil, fmt.Errorf("GET %s: 404 Not Found", url)
}

// corpusParams are a case's params as the compiler takes them.
func corpusParams(c corpus.Case) map[string]specs.Param {
	if len(c.Params) == 0 {
		return nil
	}
	out := map[string]specs.Param{}
	for _, p := range c.Params {
		k, v, _ := strings.Cut(p, "=")
		out[k] = specs.Param{Value: v}
	}
	return out
}

// TestCorpusMerges merges every operation of every accepted file of the
// conformance corpus, and of the examples, onto the component it resolves
// to: the merge succeeds and gives a valid component.
func TestCorpusMerges(t *testing.T) {
	merged := 0
	for _, c := range ownFiles(t) {
		if !c.Accepted() {
			continue
		}
		files, err := specs.ParseFile(c.Path)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for _, f := range files {
			res, _ := Resolve(context.Background(), f, filepath.Dir(c.Path), corpusSources)
			for _, op := range res.Operations() {
				rv := res.Of(op)
				m, err := Merge(op, rv.Component)
				if err != nil {
					t.Errorf("%s: %s: %v", c.Name, rv.Path, err)
					continue
				}
				if errs := m.Validate(); len(errs) > 0 {
					t.Errorf("%s: %s: the merged component is invalid:\n%v", c.Name, rv.Path, errs)
				}
				merged++
			}
		}
	}
	if merged < 30 {
		t.Fatalf("merged only %d operations; is the corpus at %s?", merged, ownCorpus)
	}
}

// TestPatchWithNothingCopies: patching with an empty value gives an equal,
// independent copy, for every component of the corpus.
func TestPatchWithNothingCopies(t *testing.T) {
	for _, c := range ownFiles(t) {
		path := c.Path
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

// TestCorpusCompiles compiles every operation of every accepted corpus file
// and example, with the case's params and the test connections, and lowers
// it to Kubernetes objects when it is not a pipeline, as `plexus compile`
// does; a case refused on purpose must fail with what it says.
func TestCorpusCompiles(t *testing.T) {
	n := 0
	for _, c := range ownFiles(t) {
		if !c.Accepted() {
			continue
		}
		files, err := specs.ParseFile(c.Path)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for i, f := range files {
			res, err := Resolve(context.Background(), f, filepath.Dir(c.Path), corpusSources)
			if err != nil {
				t.Errorf("%s[%d]: %v", c.Name, i, err)
				continue
			}
			op, comp := f.Operation, f.Component
			if op == nil {
				op = &specs.Operation{}
			} else if rv := res.Of(op); rv != nil {
				comp = rv.Component
			}
			// A file's own operation with events is a subscription, whose
			// runs are compiled as their events come.
			subscription := len(op.Events) > 0
			compiled, err := Compile(op, comp, Options{Run: testRun, Params: corpusParams(c), Connections: testConnections, Deferred: subscription})
			if err == nil && !subscription && !isPipeline(compiled.Operation, compiled.Component) {
				_, err = Lower(compiled, testRun, LowerOptions{Attempt: 1})
			}
			if c.CompileReject != "" {
				if err == nil || !strings.Contains(err.Error(), c.CompileReject) {
					t.Errorf("%s[%d]: got %v, want an error saying %s", c.Name, i, err, c.CompileReject)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s[%d]: %v", c.Name, i, err)
				continue
			}
			n++
		}
	}
	if n < 30 {
		t.Fatalf("compiled only %d documents", n)
	}
}
