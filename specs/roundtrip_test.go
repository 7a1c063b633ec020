package specs

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/plexus-ml/plexus/specs/corpus"
)

// ownCorpus is Plexus's own Polyaxonfile corpus, inside the checkout.
const ownCorpus = "../testdata/polyaxonfiles"

// corpusFiles returns the Polyaxonfiles we own: the examples and every file
// of the corpus, with whether check accepts them (with their params).
func corpusFiles(t testing.TB) map[string]accepted {
	t.Helper()
	out := map[string]accepted{}
	examples, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range examples {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = accepted{data, true}
	}
	cases, err := corpus.Load(ownCorpus)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		data, err := os.ReadFile(c.Path)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Path] = accepted{data, c.Accepted()}
	}
	return out
}

type accepted struct {
	data []byte
	ok   bool
}

// acceptedCorpus returns the accepted Polyaxonfiles we own.
func acceptedCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for p, f := range corpusFiles(t) {
		if f.ok {
			out[p] = f.data
		}
	}
	if len(out) < 30 {
		t.Fatalf("the corpus has %d accepted files; is %s there?", len(out), ownCorpus)
	}
	return out
}

// specEqual compares parsed specs. Numbers in free-form values compare by
// value: JSON writes the float 2.0 as 2, which reads back as the int 2.
var specEqual = []cmp.Option{
	cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 }),
	cmp.FilterValues(func(a, b any) bool { return isNumber(a) && isNumber(b) }, cmp.Comparer(func(a, b any) bool {
		return toFloat(a) == toFloat(b)
	})),
}

func isNumber(v any) bool {
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func toFloat(v any) float64 {
	rv := reflect.ValueOf(v)
	if rv.CanInt() {
		return float64(rv.Int())
	}
	return rv.Float()
}

// roundTrip marshals each parsed document to YAML and to JSON and parses
// it back; both must give an equal value.
func roundTrip(t testing.TB, source string, files []*File) {
	t.Helper()
	for _, f := range files {
		for _, format := range []string{"yaml", "json"} {
			var out []byte
			var err error
			if format == "yaml" {
				out, err = MarshalYAML(f.Spec())
			} else {
				out, err = MarshalJSON(f.Spec())
			}
			if err != nil {
				t.Fatalf("%s: accepted, then failed to marshal to %s: %v", source, format, err)
			}
			again, err := Parse(source+"."+format, out)
			if err != nil {
				t.Fatalf("%s: marshalled %s does not parse back: %v\n%s", source, format, err, out)
			}
			if len(again) != 1 {
				t.Fatalf("%s: marshalled %s holds %d documents", source, format, len(again))
			}
			if diff := cmp.Diff(f.Spec(), again[0].Spec(), specEqual...); diff != "" {
				t.Fatalf("%s: parse -> %s -> parse changed the spec (-first +second):\n%s", source, format, diff)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for path, data := range acceptedCorpus(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			files, err := Parse(path, data)
			if err != nil {
				t.Fatalf("the corpus file does not parse: %v", err)
			}
			roundTrip(t, path, files)
		})
	}
}

// FuzzParse checks that parsing never panics and that whatever it accepts
// marshals and parses back to the same value.
func FuzzParse(f *testing.F) {
	for _, file := range corpusFiles(f) {
		f.Add(file.data)
	}
	f.Add([]byte("version: 1.1\nkind: component\nrun: {container: {image: x}}\n"))
	f.Add([]byte(`{"version": 1.1, "kind": "operation", "hubRef": "tensorboard"}`))
	f.Add([]byte("---\nversion: 1.1\nkind: operation\n---\n- a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := Parse("fuzz", data)
		for _, file := range files {
			if file.Spec() == nil && len(file.Errors) == 0 {
				t.Fatalf("a document with no spec and no errors")
			}
		}
		if err != nil {
			var list ErrorList
			if !asErrorList(err, &list) || len(list) == 0 {
				t.Fatalf("Parse returned %T %v, want a non-empty ErrorList", err, err)
			}
			return
		}
		roundTrip(t, "fuzz", files)
	})
}

func asErrorList(err error, list *ErrorList) bool {
	l, ok := err.(ErrorList)
	*list = l
	return ok
}

func TestNonFiniteNumbersRejected(t *testing.T) {
	for _, v := range []string{".nan", ".inf", "-.inf"} {
		src := "version: 1.1\nkind: operation\nhubRef: x\ncost: " + v + "\nparams: {a: {value: " + v + "}}\n"
		_, err := Parse("t", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "not a finite number") {
			t.Errorf("%s: got %v, want a 'not a finite number' error", v, err)
		}
	}
}

func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: operation\nhubRef: x\nparams:\n  l0: {value: &l0 [a, a, a, a, a, a, a, a, a, a]}\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "  l%d: {value: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]}\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, err := Parse("laughs.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("got %v, want the expansion to be refused", err)
	}
}
