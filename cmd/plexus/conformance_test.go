package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/corpus"
)

// ownCorpus is Plexus's own Polyaxonfile corpus, inside the checkout.
const ownCorpus = "../../testdata/polyaxonfiles"

// corpusDir is the corpus TestConformance checks; `make conformance
// CORPUS=DIR` points it at another folder laid out like ours or with an
// INDEX.md of verdicts.
var corpusDir = flag.String("corpus", ownCorpus, "folder of Polyaxonfiles with verdicts (in-file headers or INDEX.md)")

// corpusSources resolve a corpus's references without the network: hubRefs
// from the built-in hub; urlRefs on corpus.RefsURL from DIR/refs, and the one
// example URL of the shared corpus served by a stand-in component with the
// inputs its operation passes.
func corpusSources(dir string) compiler.Sources {
	return compiler.Sources{Hub: compiler.StubHub(), URL: corpusURLs{dir: dir, fixed: map[string]string{
		"https://raw.githubusercontent.com/polyaxon/polyaxon-examples/master/in_cluster/kubeflow/tfjob/component.yaml": `version: 1.1
kind: component
inputs:
  - {name: optimizer, type: str, isOptional: true, value: adam}
  - {name: epochs, type: int, isOptional: true, value: 10}
run:
  kind: tfjob
  worker:
    replicas: 2
    container: {image: tensorflow/tensorflow, command: [python, train.py]}
`,
	}}}
}

// corpusURLs serves a corpus's urlRefs.
type corpusURLs struct {
	dir   string
	fixed map[string]string
}

func (u corpusURLs) Fetch(_ context.Context, url string) ([]byte, error) {
	if doc, ok := u.fixed[url]; ok {
		return []byte(doc), nil
	}
	if data, ok, err := corpus.ReadRef(u.dir, url); ok && err == nil {
		return data, nil
	}
	return nil, fmt.Errorf("GET %s: 404 Not Found", url)
}

// TestConformance checks every file of the corpus as `plexus check` does
// and compares with its verdict: accepted, rejected, or accepted only with
// its params. For Plexus's own corpus it also checks that a rejection names
// the paths the file says, with a line for every error, and that an
// accepted file gets exactly the warnings it says.
func TestConformance(t *testing.T) {
	dir := *corpusDir
	cases, err := corpus.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := corpusSources(dir)
	agree := 0
	var disagree []string
	for _, c := range cases {
		if t.Run(strings.TrimSuffix(c.Name, ".yaml"), func(t *testing.T) { checkCase(t, c, src) }) {
			agree++
		} else {
			disagree = append(disagree, c.Name)
		}
	}
	// Printed, not logged: `make conformance` runs the test binary and
	// shows this line whatever the outcome.
	fmt.Printf("conformance: %d/%d agree (%s)\n", agree, len(cases), dir)
	for _, name := range disagree {
		fmt.Printf("  disagrees: %s\n", name)
	}
	if dir == ownCorpus && len(cases) < 60 {
		t.Errorf("the corpus holds %d files; it should cover every run kind, IO type and operation power", len(cases))
	}
}

func checkCase(t *testing.T, c corpus.Case, src compiler.Sources) {
	p := stagedPath(t, c)
	r := checkSource(t.Context(), nil, p, nil, false, src)
	switch {
	case c.Expect == corpus.Reject && r.Valid, c.Expect == corpus.NeedsParams && r.Valid:
		t.Fatalf("accepted; expected %s (%s)", c.Expect, c.Check)
	case c.Expect == corpus.Accept && !r.Valid:
		t.Fatalf("rejected; expected accept (%s):\n%v", c.Check, r.Errors)
	}
	if c.Expect == corpus.NeedsParams {
		params, err := parseParamFlags(c.Params)
		if err != nil {
			t.Fatal(err)
		}
		if r = checkSource(t.Context(), nil, p, params, false, src); !r.Valid {
			t.Fatalf("rejected with params %v; expected accept:\n%v", c.Params, r.Errors)
		}
	}
	if c.FromIndex {
		return // an INDEX.md gives the verdict only
	}
	if c.Expect != corpus.Reject {
		var got []string
		for _, w := range r.Warnings {
			got = append(got, string(w.Path))
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.Warnings))
		if !slices.Equal(got, want) {
			t.Errorf("warnings at %q, the file says %q:\n%v", got, want, r.Warnings)
		}
		return
	}
	paths := map[string]bool{}
	for _, e := range r.Errors {
		paths[string(e.Path)] = true
		// Only a document that is missing altogether has no line.
		if e.Line == 0 && (e.Path != "" || e.Type != specs.ErrRequired) {
			t.Errorf("an error without a source line: %v", e)
		}
	}
	all := r.Errors.Error()
	for _, w := range c.Errors {
		if !paths[w.Path] {
			t.Errorf("no error names %s; got:\n%s", w.Path, all)
		}
		if w.Message != "" && !strings.Contains(all, w.Message) {
			t.Errorf("the errors do not say %q:\n%s", w.Message, all)
		}
	}
}

var pathRefRE = regexp.MustCompile(`(?m)^\s*-?\s*pathRef:\s*["']?([^"'\s#]+)`)

// stagedPath returns where to check a case. A file an INDEX.md accepts only
// "in its repo" is checked in a temporary copy with a stub component at
// each pathRef that is missing beside it.
func stagedPath(t *testing.T, c corpus.Case) string {
	if !c.FromIndex || !strings.Contains(c.Check, "in its repo") {
		return c.Path
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, c.Name)
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stub := "version: 1.1\nkind: component\nrun: {kind: job, container: {image: stub}}\n"
	for _, m := range pathRefRE.FindAllStringSubmatch(string(data), -1) {
		if _, err := os.Stat(filepath.Join(filepath.Dir(c.Path), m[1])); err == nil {
			continue
		}
		ref := filepath.Join(dir, filepath.FromSlash(m[1]))
		if !strings.HasPrefix(ref, dir+string(filepath.Separator)) {
			t.Fatalf("pathRef %s leaves the folder", m[1])
		}
		if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ref, []byte(stub), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestCorpusLoad: the own corpus reads back with every verdict, and every
// file in it is a case or a component a case refers to.
func TestCorpusLoad(t *testing.T) {
	cases, err := corpus.Load(ownCorpus)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[corpus.Expect]int{}
	for _, c := range cases {
		kinds[c.Expect]++
		if c.Exercises == "" {
			t.Errorf("%s: no `# exercises:` line", c.Name)
		}
	}
	for _, e := range []corpus.Expect{corpus.Accept, corpus.Reject, corpus.NeedsParams} {
		if kinds[e] == 0 {
			t.Errorf("no case expects %s", e)
		}
	}
}
