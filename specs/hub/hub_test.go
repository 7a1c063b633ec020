package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// echoJob is a small valid component whose description tells it apart.
func echoJob(description string) string {
	return fmt.Sprintf(`version: 1.1
kind: component
name: echo
description: %s
inputs: [{name: who, type: str, isOptional: true, value: world}]
run:
  kind: job
  container: {image: alpine:3.20, command: [sh, -c, 'echo "hello {{ who }}"']}
`, description)
}

// writeHub writes files (path relative to the hub → content) into a new
// directory and returns it.
func writeHub(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func ref(t *testing.T, s string) compiler.HubRef {
	t.Helper()
	r, err := compiler.ParseHubRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBuiltinFind: the built-in names, tags and aliases resolve to the
// files they stand for.
func TestBuiltinFind(t *testing.T) {
	cases := map[string]struct{ ref, want string }{
		"the default tag":          {"jupyterlab", "polyaxon/jupyterlab:latest"},
		"tensorboard's latest":     {"tensorboard", "polyaxon/tensorboard:single-run"},
		"tensorboard's single-run": {"tensorboard:single-run", "polyaxon/tensorboard:single-run"},
		"a tag":                    {"tensorboard:s3-path", "polyaxon/tensorboard:s3-path"},
		"notebook":                 {"notebook:scipy", "polyaxon/jupyter-notebook:scipy"},
		"jupyter-lab":              {"jupyter-lab:pyspark", "polyaxon/jupyterlab:pyspark"},
		"the owner written out":    {"polyaxon/vscode", "polyaxon/vscode:latest"},
		"the owner with a dot":     {"polyaxon.kaniko:latest", "polyaxon/kaniko:latest"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Builtin().Find(context.Background(), ref(t, tc.ref))
			if err != nil {
				t.Fatal(err)
			}
			if f.Ref.String() != tc.want || f.Source != BuiltinSource {
				t.Errorf("found %s in %s, want %s in %s", f.Ref, f.Source, tc.want, BuiltinSource)
			}
			if want := "built-in:" + layoutPath(f.Ref); f.Location != want {
				t.Errorf("location %q, want %q", f.Location, want)
			}
		})
	}
}

// TestBuiltinNotFound: a missing component wraps ErrComponentNotFound and
// says what there is instead; a ref that cannot be a file is refused.
func TestBuiltinNotFound(t *testing.T) {
	cases := map[string]struct{ ref, want string }{
		"a tag":   {"tensorboard:nope", "the built-in tensorboard has the tags latest, gcs-path, multi-runs, path, s3-path, single-run, wasb-path"},
		"a name":  {"rstudio", "the built-in hub has dockerizer, jupyter-notebook, jupyterlab, kaniko"},
		"private": {"acme/tensorboard", "looked in the built-in hub)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Builtin().Component(context.Background(), ref(t, tc.ref))
			if !errors.Is(err, compiler.ErrComponentNotFound) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrComponentNotFound saying %q", err, tc.want)
			}
		})
	}
	_, err := Builtin().Component(context.Background(), compiler.HubRef{Owner: "polyaxon", Name: "tensorboard", Tag: "../../x"})
	if err == nil || errors.Is(err, compiler.ErrComponentNotFound) || !strings.Contains(err.Error(), `the tag "../../x"`) {
		t.Errorf("a tag that climbs: got %v", err)
	}
}

// TestBuiltinList: every built-in file is a valid component, and the
// listing has every name with its tags, kind and aliases.
func TestBuiltinList(t *testing.T) {
	entries, err := Builtin().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Name, Tags, Kind, Aliases string }
	var got []row
	for _, e := range entries {
		if e.Owner != compiler.DefaultHubOwner || e.Description == "" || e.Source != BuiltinSource {
			t.Errorf("%+v: want the default owner, a description and the built-in source", e)
		}
		got = append(got, row{e.Name, strings.Join(e.Tags, ","), string(e.Kind), strings.Join(e.Aliases, ",")})
	}
	jupyter := "latest,all-spark,pyspark,scipy,tensorflow"
	want := []row{
		{"dockerizer", "latest", "job", ""},
		{"jupyter-notebook", jupyter, "service", "notebook"},
		{"jupyterlab", jupyter, "service", "jupyter-lab"},
		{"kaniko", "latest", "job", ""},
		{"papermill", "latest", "job", ""},
		{"slack", "latest", "job", ""},
		{"streamlit", "latest", "service", ""},
		{"tensorboard", "latest,gcs-path,multi-runs,path,s3-path,single-run,wasb-path", "service", ""},
		{"vscode", "latest", "service", ""},
		{"webhook", "latest", "job", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("built-in listing (-want +got):\n%s", diff)
	}
}

// countingSource counts the reads of the source it wraps.
type countingSource struct {
	Source
	reads atomic.Int32
}

func (c *countingSource) Read(ctx context.Context, r compiler.HubRef) ([]byte, string, error) {
	c.reads.Add(1)
	return c.Source.Read(ctx, r)
}

// TestFreshCopies: a file is read and parsed once, however many look it
// up at once, and each gets a copy of its own to change.
func TestFreshCopies(t *testing.T) {
	src := &countingSource{Source: Dir(writeHub(t, map[string]string{"acme/echo/latest.yaml": echoJob("Say hello.")}))}
	h := New(src)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			c, err := h.Component(context.Background(), ref(t, "acme/echo"))
			if err != nil {
				t.Error(err)
				return
			}
			c.Description = "changed"
			c.Inputs[0].Value = "changed"
			c.Run.(*specs.Job).Container.Command[0] = "changed"
		})
	}
	wg.Wait()
	c, err := h.Component(context.Background(), ref(t, "acme/echo"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Description != "Say hello." || c.Inputs[0].Value != "world" || c.Run.(*specs.Job).Container.Command[0] != "sh" {
		t.Errorf("a caller's change reached the hub: %+v", c)
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("read the file %d times, want once", n)
	}
}

// TestPrecedence: private sources come first, in order, and shadow the
// built-in components they hold, aliases included.
func TestPrecedence(t *testing.T) {
	first := writeHub(t, map[string]string{
		"acme/echo/latest.yaml":                     echoJob("first"),
		"polyaxon/tensorboard/single-run.yaml":      echoJob("a private tensorboard"),
		"polyaxon/jupyter-notebook/tensorflow.yaml": echoJob("a private notebook"),
	})
	second := writeHub(t, map[string]string{
		"acme/echo/latest.yaml": echoJob("second"),
		"acme/echo/v2.yaml":     echoJob("second's v2"),
	})
	h := New(Dir(first), Dir(second))
	cases := map[string]struct{ ref, description, source string }{
		"the first source wins":         {"acme/echo", "first", first},
		"a tag only the second has":     {"acme/echo:v2", "second's v2", second},
		"a built-in component shadowed": {"tensorboard:single-run", "a private tensorboard", first},
		"through a tag alias":           {"tensorboard", "a private tensorboard", first},
		"through a name alias":          {"notebook:tensorflow", "a private notebook", first},
		"a built-in one not shadowed":   {"tensorboard:path", "Serve TensorBoard for a path the service can read.", BuiltinSource},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := h.Find(context.Background(), ref(t, tc.ref))
			if err != nil {
				t.Fatal(err)
			}
			if f.Component.Description != tc.description || f.Source != tc.source {
				t.Errorf("got %q from %s, want %q from %s", f.Component.Description, f.Source, tc.description, tc.source)
			}
		})
	}
	entries, err := h.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Owner + "/" + e.Name {
		case "acme/echo":
			if e.Source != first || !cmp.Equal(e.Tags, []string{"latest", "v2"}) {
				t.Errorf("acme/echo listed as %+v", e)
			}
		case "polyaxon/tensorboard":
			if e.Source != first || e.Description != "a private tensorboard" {
				t.Errorf("the shadowed tensorboard listed as %+v", e)
			}
		}
	}
	if got := h.Sources(); !cmp.Equal(got, []string{first, second, BuiltinSource}) {
		t.Errorf("sources %v", got)
	}
}

// TestBrokenComponent: a file that is not a valid component is an error
// naming its source and path, in lookups and in the listing, and a later
// source's file of the same ref is not used instead.
func TestBrokenComponent(t *testing.T) {
	broken := writeHub(t, map[string]string{
		"acme/echo/latest.yaml":          "version: 1.1\nkind: component\ninputs: [{name: x, type: string2}]\nrun: {kind: job}\n",
		"acme/echo/v2.yaml":              echoJob("fine"),
		"acme/op/latest.yaml":            "version: 1.1\nkind: operation\nhubRef: echo\n",
		"polyaxon/tensorboard/path.yaml": "version: 1.1\nkind: component\nrun: [\n",
		"acme/stray.yaml":                echoJob("misplaced"),
		"acme/echo/v3.yml":               echoJob("misnamed"),
		"acme/echo/README.md":            "not a component",
		".git/config/x.yaml":             "hidden",
	})
	fine := writeHub(t, map[string]string{"acme/echo/latest.yaml": echoJob("fine")})
	h := New(Dir(broken), Dir(fine))
	for r, want := range map[string]string{
		"acme/echo":        filepath.Join(broken, "acme", "echo", "latest.yaml") + " is not a valid component (acme/echo:latest): inputs[0].type: unsupported value \"string2\"",
		"acme/op":          "must hold exactly one component (kind: component)",
		"tensorboard:path": filepath.Join(broken, "polyaxon", "tensorboard", "path.yaml") + " is not a valid component (polyaxon/tensorboard:path): invalid YAML",
	} {
		_, err := h.Component(context.Background(), ref(t, r))
		var ce *ComponentError
		if !errors.As(err, &ce) || ce.Source != broken || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want a ComponentError from %s saying %q", r, err, broken, want)
		}
	}
	entries, err := h.List(context.Background())
	var names []string
	for _, e := range entries {
		if e.Owner == "acme" {
			names = append(names, e.Name+":"+strings.Join(e.Tags, ","))
		}
	}
	if !cmp.Equal(names, []string{"echo:v2"}) {
		t.Errorf("listed %v, want the valid acme/echo:v2 alone", names)
	}
	var problems []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		problems = append(problems, strings.ReplaceAll(e.Error(), broken, "HUB"))
	}
	wantProblems := []string{
		"HUB/acme/stray.yaml: not read; a component is <owner>/<name>/<tag>.yaml",
		"HUB/acme/echo/v3.yml: not read: a component's file ends in .yaml",
		"HUB/acme/echo/latest.yaml is not a valid component (acme/echo:latest)",
		"HUB/acme/op/latest.yaml is not a valid component (acme/op:latest)",
		"HUB/polyaxon/tensorboard/path.yaml is not a valid component (polyaxon/tensorboard:path)",
	}
	for _, w := range wantProblems {
		if !strings.Contains(strings.Join(problems, "\n"), w) {
			t.Errorf("the listing's errors do not say %q:\n%s", w, strings.Join(problems, "\n"))
		}
	}
	if len(problems) != len(wantProblems) {
		t.Errorf("%d problems, want %d:\n%s", len(problems), len(wantProblems), strings.Join(problems, "\n"))
	}
}

// TestMissingDirectory: a source directory that does not exist is an
// error naming it, not an empty hub that lets the built-in one answer.
func TestMissingDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	h := New(Dir(missing))
	_, err := h.Component(context.Background(), ref(t, "tensorboard"))
	if err == nil || errors.Is(err, compiler.ErrComponentNotFound) || !strings.Contains(err.Error(), "hub source "+missing+": no such file or directory") {
		t.Errorf("lookup: got %v", err)
	}
	entries, err := h.List(context.Background())
	if err == nil || !strings.Contains(err.Error(), missing) || len(entries) == 0 {
		t.Errorf("listing: got %d entries and %v, want the built-in ones and the error", len(entries), err)
	}
}

// TestHTTPSource: a hub served over HTTP is read by GET, listed through
// its index, and a 404 lets the next source answer while other failures
// do not.
func TestHTTPSource(t *testing.T) {
	var gets sync.Map
	files := map[string]string{
		"/hub/acme/echo/latest.yaml":          echoJob("over http"),
		"/hub/polyaxon/tensorboard/path.yaml": echoJob("a served tensorboard"),
		"/hub/acme/broken/latest.yaml":        "version: 1.1\nkind: component\n",
		"/hub/index.json":                     `{"components": [{"owner": "acme", "name": "echo", "tags": ["latest"]}, {"owner": "acme", "name": "broken", "tags": ["latest"]}, {"owner": "polyaxon", "name": "tensorboard", "tags": ["path", "../x"]}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Store(r.URL.Path, true)
		if r.URL.Path == "/hub/acme/down/latest.yaml" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	src, err := URL(srv.URL + "/hub/")
	if err != nil {
		t.Fatal(err)
	}
	h := New(src)
	base := srv.URL + "/hub"

	f, err := h.Find(context.Background(), ref(t, "acme/echo"))
	if err != nil || f.Component.Description != "over http" || f.Source != base || f.Location != base+"/acme/echo/latest.yaml" {
		t.Errorf("acme/echo: %+v, %v", f, err)
	}
	if f, err := h.Find(context.Background(), ref(t, "tensorboard:path")); err != nil || f.Source != base {
		t.Errorf("a shadowed built-in: %+v, %v", f, err)
	}
	if f, err := h.Find(context.Background(), ref(t, "vscode")); err != nil || f.Source != BuiltinSource {
		t.Errorf("a 404 lets the built-in hub answer: %+v, %v", f, err)
	}
	if _, ok := gets.Load("/hub/polyaxon/vscode/latest.yaml"); !ok {
		t.Error("the server was not asked for vscode first")
	}
	_, err = h.Find(context.Background(), ref(t, "acme/down"))
	if err == nil || errors.Is(err, compiler.ErrComponentNotFound) || !strings.Contains(err.Error(), "503 Service Unavailable") {
		t.Errorf("a server failure: got %v", err)
	}
	_, err = h.Find(context.Background(), ref(t, "acme/broken"))
	var ce *ComponentError
	if !errors.As(err, &ce) || ce.Location != base+"/acme/broken/latest.yaml" {
		t.Errorf("a broken component: got %v", err)
	}

	entries, err := h.List(context.Background())
	var acme []string
	for _, e := range entries {
		if e.Owner == "acme" || e.Source == base {
			acme = append(acme, e.Owner+"/"+e.Name+":"+strings.Join(e.Tags, ","))
		}
	}
	if want := []string{"acme/echo:latest"}; !cmp.Equal(acme, want) {
		t.Errorf("listed %v from the server, want %v (tensorboard's path is the server's, its other tags built in)", acme, want)
	}
	msg := fmt.Sprint(err)
	for _, w := range []string{base + "/acme/broken/latest.yaml is not a valid component", base + "/index.json: components[2]: hub: polyaxon/tensorboard:../x: the tag"} {
		if !strings.Contains(msg, w) {
			t.Errorf("the listing's errors do not say %q:\n%s", w, msg)
		}
	}

	// A server without an index cannot be listed, which is an error, but
	// its components can still be found.
	delete(files, "/hub/index.json")
	if _, err := h.List(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot list it: "+base+"/index.json is missing") {
		t.Errorf("no index: got %v", err)
	}
}

// TestParseSources reads PLEXUS_HUB's form.
func TestParseSources(t *testing.T) {
	got, err := ParseSources(" /srv/hub, https://hub.example/components/ ,,./local")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.String())
	}
	if want := []string{"/srv/hub", "https://hub.example/components", "./local"}; !cmp.Equal(names, want) {
		t.Errorf("sources %v, want %v", names, want)
	}
	for _, bad := range []string{"ftp://hub.example/x", "https://", "https://hub.example/x?y=1"} {
		if _, err := ParseSources(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestIndexOf lists one directory as its index file says it, and refuses
// nothing silently.
func TestIndexOf(t *testing.T) {
	dir := writeHub(t, map[string]string{
		"acme/echo/latest.yaml": echoJob("a"),
		"acme/echo/v1.yaml":     echoJob("b"),
		"team/say/latest.yaml":  echoJob("c"),
	})
	idx, err := IndexOf(context.Background(), Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := &Index{Components: []IndexEntry{{"acme", "echo", []string{"latest", "v1"}}, {"team", "say", []string{"latest"}}}}
	if diff := cmp.Diff(want, idx); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
}
