package compiler

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
)

const trainComponent = `version: 1.1
kind: component
name: train
inputs:
  - {name: lr, type: float}
run: {container: {image: python}}
`

// writeFiles writes name → content under a temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func parseOne(t *testing.T, path string) *specs.File {
	t.Helper()
	files, err := specs.ParseFile(path)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	return files[0]
}

// errorPaths returns the paths of a resolve error, or nil.
func errorPaths(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ce *CompilationError
	if !errors.As(err, &ce) || ce.Stage != StageResolve {
		t.Fatalf("got %T %v, want a resolve CompilationError", err, err)
	}
	var out []string
	for _, e := range ce.Errors {
		out = append(out, e.Source+":"+string(e.Path))
	}
	return out
}

func TestResolve(t *testing.T) {
	cases := map[string]struct {
		files map[string]string // main.yaml is the file resolved
		src   Sources
		from  map[string]string // operation name → where its component came from (relative)
		errs  []string          // source:path of each error
		msg   string            // a substring of the errors
	}{
		"inline and dagRef": {
			files: map[string]string{"main.yaml": `version: 1.1
kind: component
run:
  kind: dag
  operations:
    - {name: a, dagRef: step, params: {lr: {value: 1}}}
    - {name: b, component: {run: {container: {image: x}}}}
  components:
    - {name: step, inputs: [{name: lr, type: float}], run: {container: {image: x}}}
`},
			from: map[string]string{"a": "dagRef step", "b": "inline"},
		},
		"pathRef, nested relative to its own file": {
			files: map[string]string{
				"main.yaml": "version: 1.1\nkind: operation\nname: top\npathRef: sub/pipeline.yaml\n",
				"sub/pipeline.yaml": `version: 1.1
kind: component
run:
  kind: dag
  operations:
    - {name: t, pathRef: ../train.yaml, params: {lr: {value: 0.1}}}
`,
				"train.yaml": trainComponent,
			},
			from: map[string]string{"top": "sub/pipeline.yaml", "t": "train.yaml"},
		},
		"missing pathRef": {
			files: map[string]string{"main.yaml": "version: 1.1\nkind: operation\npathRef: nope.yaml\n"},
			errs:  []string{"MAIN:pathRef"},
			msg:   "no such file or directory",
		},
		"pathRef to an invalid component": {
			files: map[string]string{
				"main.yaml": "version: 1.1\nkind: operation\npathRef: bad.yaml\n",
				"bad.yaml":  "version: 1.1\nkind: component\nrun: {kind: jbo}\n",
			},
			errs: []string{"MAIN:pathRef", "BAD:run.kind"},
			msg:  "is not a valid component",
		},
		"pathRef to an operation": {
			files: map[string]string{
				"main.yaml": "version: 1.1\nkind: operation\npathRef: op.yaml\n",
				"op.yaml":   "version: 1.1\nkind: operation\nhubRef: kaniko\n",
			},
			errs: []string{"MAIN:pathRef"},
			msg:  "must hold exactly one component",
		},
		"pathRef cycle": {
			files: map[string]string{
				"main.yaml": "version: 1.1\nkind: operation\npathRef: a.yaml\n",
				"a.yaml":    "version: 1.1\nkind: component\nrun: {kind: dag, operations: [{name: x, pathRef: b.yaml}]}\n",
				"b.yaml":    "version: 1.1\nkind: component\nrun: {kind: dag, operations: [{name: y, pathRef: a.yaml}]}\n",
			},
			errs: []string{"B:run.operations[0].pathRef"},
			msg:  "a cycle",
		},
		"hubRef from the stub hub": {
			files: map[string]string{"main.yaml": "version: 1.1\nkind: operation\nname: build\nhubRef: kaniko\n"},
			src:   Sources{Hub: StubHub()},
			from:  map[string]string{"build": "polyaxon/kaniko:latest"},
		},
		"hubRef with an inline component uses it": {
			files: map[string]string{"main.yaml": "version: 1.1\nkind: operation\nname: b\nhubRef: nothere\ncomponent: {run: {container: {image: x}}}\n"},
			src:   Sources{Hub: StubHub()},
			from:  map[string]string{"b": "inline"},
		},
		"unknown hubRef": {
			files: map[string]string{"main.yaml": "version: 1.1\nkind: operation\nhubRef: acme/notebook:v2\n"},
			src:   Sources{Hub: StubHub()},
			errs:  []string{"MAIN:hubRef"},
			msg:   "component not found: acme/notebook:v2",
		},
		"no hub": {
			files: map[string]string{"main.yaml": "version: 1.1\nkind: operation\nhubRef: kaniko\n"},
			errs:  []string{"MAIN:hubRef"},
			msg:   "no component hub is configured",
		},
		"urlRefs disabled": {
			files: map[string]string{"main.yaml": "version: 1.1\nkind: operation\nurlRef: https://example.com/c.yaml\n"},
			errs:  []string{"MAIN:urlRef"},
			msg:   "urlRefs are disabled",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			main := filepath.Join(dir, "main.yaml")
			f := parseOne(t, main)
			res, err := Resolve(context.Background(), f, dir, tc.src)
			var want []string
			for _, e := range tc.errs {
				e = strings.Replace(e, "MAIN:", main+":", 1)
				e = strings.Replace(e, "BAD:", filepath.Join(dir, "bad.yaml")+":", 1)
				e = strings.Replace(e, "B:", filepath.Join(dir, "b.yaml")+":", 1)
				want = append(want, e)
			}
			if diff := cmp.Diff(want, errorPaths(t, err)); diff != "" {
				t.Fatalf("error paths (-want +got):\n%s\n%v", diff, err)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("errors do not mention %q:\n%v", tc.msg, err)
			}
			for _, e := range errorList(err) {
				if e.Line == 0 {
					t.Errorf("error without a line: %v", e)
				}
			}
			got := map[string]string{}
			for _, op := range res.Operations() {
				from := res.Of(op).From
				from = strings.TrimPrefix(from, dir+string(filepath.Separator))
				got[op.Name] = from
			}
			for op, from := range tc.from {
				if got[op] != from {
					t.Errorf("operation %s resolved from %q, want %q", op, got[op], from)
				}
			}
		})
	}
}

func errorList(err error) specs.ErrorList {
	var ce *CompilationError
	if errors.As(err, &ce) {
		return ce.Errors
	}
	return nil
}

func TestResolveURL(t *testing.T) {
	big := strings.Repeat("#", 2048) + "\n" + trainComponent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/train.yaml":
			_, _ = w.Write([]byte(trainComponent))
		case "/big.yaml":
			_, _ = w.Write([]byte(big))
		case "/slow.yaml":
			time.Sleep(300 * time.Millisecond)
			_, _ = w.Write([]byte(trainComponent))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	fetcher := &HTTPFetcher{Timeout: 100 * time.Millisecond, MaxBytes: 1024}
	cases := map[string]struct{ path, msg string }{
		"ok":        {path: "/train.yaml"},
		"not found": {path: "/nope.yaml", msg: "404 Not Found"},
		"too large": {path: "/big.yaml", msg: "larger than 1024 bytes"},
		"too slow":  {path: "/slow.yaml", msg: "deadline exceeded"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := "version: 1.1\nkind: operation\nname: op\nurlRef: " + srv.URL + tc.path + "\nparams: {lr: {value: 0.1}}\n"
			files, err := specs.Parse("op.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Resolve(context.Background(), files[0], "", Sources{URL: fetcher})
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if rv := res.Of(files[0].Operation); rv == nil || rv.Component.Name != "train" {
					t.Fatalf("resolved to %+v", rv)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "urlRef") {
				t.Fatalf("got %v, want an error at urlRef mentioning %q", err, tc.msg)
			}
		})
	}
}

func TestParseHubRef(t *testing.T) {
	cases := map[string]struct {
		want HubRef
		bad  bool
	}{
		"kaniko":                {want: HubRef{"polyaxon", "kaniko", "latest"}},
		"kaniko:1.2":            {want: HubRef{"polyaxon", "kaniko", "1.2"}},
		"acme/notebook:v2":      {want: HubRef{"acme", "notebook", "v2"}},
		"acme.tensorboard":      {want: HubRef{"acme", "tensorboard", "latest"}},
		"a:b:c":                 {bad: true},
		"kaniko:":               {bad: true},
		"/kaniko":               {bad: true},
		"acme/team/tensorboard": {bad: true},
	}
	for in, tc := range cases {
		got, err := ParseHubRef(in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: got %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %v, %v; want %v", in, got, err, tc.want)
		}
	}
}

// TestCheck: params are checked against components found through
// references, with the command line's params on the file's operation.
func TestCheck(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"train.yaml": trainComponent,
		"op.yaml":    "version: 1.1\nkind: operation\npathRef: train.yaml\nparams:\n  lr: {value: fast}\n  epochs: {value: 3}\n",
		"dag.yaml": `version: 1.1
kind: component
run:
  kind: dag
  operations:
    - {name: a, pathRef: train.yaml}
    - {name: b, hubRef: kaniko, params: {destination: {value: "img:1", connection: registry}}}
    - {name: c, hubRef: kaniko, runPatch: {ports: [80]}}
`,
	})
	src := Sources{Hub: StubHub()}
	check := func(name string, extra map[string]specs.Param) []string {
		f := parseOne(t, filepath.Join(dir, name))
		errs, _ := Check(context.Background(), f, dir, extra, src)
		var out []string
		for _, e := range errs {
			out = append(out, string(e.Path))
		}
		return out
	}
	if diff := cmp.Diff([]string{"params.epochs", "params.lr.value"}, check("op.yaml", nil)); diff != "" {
		t.Errorf("op.yaml (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"params.epochs"}, check("op.yaml", map[string]specs.Param{"lr": {Value: "0.5"}})); diff != "" {
		t.Errorf("op.yaml with -P lr=0.5 (-want +got):\n%s", diff)
	}
	want := []string{"run.operations[0].params.lr", "run.operations[2].runPatch.ports"}
	if diff := cmp.Diff(want, check("dag.yaml", nil)); diff != "" {
		t.Errorf("dag.yaml (-want +got):\n%s", diff)
	}
}

// TestCheckMergedComponent: check compiles the operation onto its
// component, so what only the merge shows is reported.
func TestCheckMergedComponent(t *testing.T) {
	src := "version: 1.1\nkind: operation\nrunPatch:\n  container: {resources: {limits: {cpu: 1}}}\ncomponent:\n  run: {container: {command: [train]}}\n"
	files, err := specs.Parse("op.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	errs, _ := Check(context.Background(), files[0], "", nil, Sources{})
	if len(errs) != 1 || errs[0].Path != "run.container.image" || !strings.Contains(errs[0].Error(), "after merging") {
		t.Fatalf("got %v, want the merged component's missing image", errs)
	}
}

// TestStubNames: the stub hub's names, as its errors list them.
func TestStubNames(t *testing.T) {
	want := "polyaxon/kaniko:latest, polyaxon/tensorboard:latest"
	if got := strings.Join(stubNames(), ", "); got != want {
		t.Errorf("stub hub names %q, want %q", got, want)
	}
}
