package hub

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

var update = flag.Bool("update", false, "rewrite the .golden files under testdata")

// testRun is the run every golden compilation is for.
var testRun = compiler.RunInfo{
	UUID:       "8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b",
	Name:       "golden",
	Namespace:  "ml",
	CreatedAt:  time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
	CompiledAt: time.Date(2026, 11, 28, 12, 0, 1, 0, time.UTC),
}

// testConnections hold the registry the build jobs push to.
var testConnections = compiler.Catalogue{
	"registry": {Name: "registry", Kind: "registry", Schema: map[string]any{"url": "registry.local:5000"},
		Secret: &compiler.K8sResource{Name: "registry-auth", MountPath: "/kaniko/.docker"}},
}

// builtinParams are the params each built-in file is compiled with, by
// `name:tag`: what it requires, and for some more, to show what they do.
var builtinParams = map[string]map[string]specs.Param{
	"tensorboard:single-run": {"uuid": {Value: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}},
	"tensorboard:multi-runs": {"uuids": {Value: []any{"0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d", "1b2c3d4e5f6a4b7c8d9e0f1a2b3c4d5e"}}},
	"tensorboard:path":       {"path": {Value: "/data/logs"}},
	"tensorboard:s3-path":    {"path": {Value: "s3://ml-logs/speech/run-7"}},
	"tensorboard:gcs-path":   {"path": {Value: "gs://ml-logs/speech/run-7"}},
	"tensorboard:wasb-path":  {"path": {Value: "wasbs://logs@mlstore.blob.core.windows.net/speech/run-7"}},

	"jupyterlab:latest":     {},
	"jupyterlab:tensorflow": {"token": {Value: "s3cret"}},
	"jupyterlab:scipy":      {},
	"jupyterlab:pyspark":    {},
	"jupyterlab:all-spark":  {"port": {Value: 9999}},

	"jupyter-notebook:latest":     {},
	"jupyter-notebook:tensorflow": {},
	"jupyter-notebook:scipy":      {"token": {Value: "s3cret"}},
	"jupyter-notebook:pyspark":    {},
	"jupyter-notebook:all-spark":  {},

	"vscode:latest":    {"password": {Value: "s3cret"}},
	"streamlit:latest": {"app": {Value: "dashboard/app.py"}},
	"papermill:latest": {"notebook": {Value: "notebooks/train.ipynb"}, "parameters": {Value: map[string]any{"lr": 0.1, "epochs": 3}}},
	"kaniko:latest":    {"destination": {Value: "speech/train:1.2", Connection: "registry"}},
	"dockerizer:latest": {"destination": {Value: "speech/train:1.2", Connection: "registry"},
		"nocache": {Value: true}},
	"slack:latest":   {"url": {Value: "https://hooks.slack.example/T0/B0/x"}, "status": {Value: "failed", ContextOnly: true}},
	"webhook:latest": {"url": {Value: "https://hooks.example/runs"}, "status": {Value: "succeeded", ContextOnly: true}},
}

// builtinRefs lists the built-in files, as `name:tag`.
func builtinRefs(t *testing.T) []string {
	t.Helper()
	refs, err := Builtin().sources[0].Refs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range refs {
		if r.Owner != compiler.DefaultHubOwner {
			t.Errorf("built-in %s: every built-in component is the default owner's", r)
		}
		out = append(out, r.Name+":"+r.Tag)
	}
	sort.Strings(out)
	return out
}

// compileRef compiles the operation `hubRef: ref` with params through the
// compiler, as a submission does: resolve, compile, lower.
func compileRef(t *testing.T, h compiler.Hub, ref string, params map[string]specs.Param) (*compiler.Compiled, *compiler.Objects) {
	t.Helper()
	files, err := specs.Parse("op.yaml", []byte("version: 1.1\nkind: operation\nhubRef: "+ref+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	op := files[0].Operation
	res, err := compiler.Resolve(context.Background(), files[0], "", compiler.Sources{Hub: h})
	if err != nil {
		t.Fatal(err)
	}
	c, err := compiler.Compile(op, res.Of(op).Component, compiler.Options{Params: params, Run: testRun, Connections: testConnections})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := compiler.Lower(c, testRun, compiler.LowerOptions{Attempt: 1})
	if err != nil {
		t.Fatalf("lowering: %v", err)
	}
	return c, objs
}

// TestBuiltinGolden compiles every built-in file with its builtinParams
// and lowers it to Kubernetes objects, comparing the params, the compiled
// component and the objects with testdata/builtin/NAME/TAG.golden.
// `-update` rewrites the golden files.
func TestBuiltinGolden(t *testing.T) {
	refs := builtinRefs(t)
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			params, ok := builtinParams[ref]
			if !ok {
				t.Fatalf("no params for %s: add it to builtinParams", ref)
			}
			c, objs := compileRef(t, Builtin(), ref, params)
			var b bytes.Buffer
			b.WriteString("# params: name = value | as_str\n")
			for _, p := range c.Params {
				fmt.Fprintf(&b, "#   %s = %#v | %q\n", p.Name, p.Value, p.AsStr())
			}
			out, err := specs.MarshalYAML(c.Component)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(out)
			for _, o := range objs.Manifests() {
				y, err := specs.MarshalYAML(o)
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString("---\n")
				b.Write(y)
			}
			name, tag, _ := strings.Cut(ref, ":")
			checkGolden(t, filepath.Join("testdata", "builtin", name, tag+".golden"), b.Bytes())
		})
	}
	for ref := range builtinParams {
		if !strings.Contains(strings.Join(refs, " ")+" ", ref+" ") {
			t.Errorf("builtinParams has %s, which is not a built-in file", ref)
		}
	}
}

func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
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

// compileErr resolves the operation `hubRef: ref` and returns what the
// compiler says.
func compileErr(h compiler.Hub, ref string) (*compiler.Resolution, error) {
	files, err := specs.Parse("op.yaml", []byte("version: 1.1\nkind: operation\nhubRef: "+ref+"\n"))
	if err != nil {
		return nil, err
	}
	return compiler.Resolve(context.Background(), files[0], "", compiler.Sources{Hub: h})
}

// TestBuiltinConventions: every built-in file is a documented component
// named as its directory, whose inputs all have a type and a description,
// whose services say their ports, and whose image, once compiled, is
// pinned to a tag (Plexus's own image aside, which the notifiers run).
func TestBuiltinConventions(t *testing.T) {
	for _, name := range builtinRefs(t) {
		t.Run(name, func(t *testing.T) {
			f, err := Builtin().Find(context.Background(), ref(t, name))
			if err != nil {
				t.Fatal(err)
			}
			c := f.Component
			if dir, _, _ := strings.Cut(name, ":"); c.Name != dir {
				t.Errorf("named %q, want %q", c.Name, dir)
			}
			if c.Description == "" || len(c.Tags) == 0 {
				t.Errorf("description %q, tags %v: want both", c.Description, c.Tags)
			}
			for _, io := range append(append([]specs.IO{}, c.Inputs...), c.Outputs...) {
				if io.Type == "" || io.Description == "" {
					t.Errorf("%s: type %q, description %q: want both", io.Name, io.Type, io.Description)
				}
			}
			if s, ok := c.Run.(*specs.Service); ok && len(s.Ports.Items) == 0 && s.Ports.Template == "" {
				t.Error("a service without ports")
			}
			compiled, _ := compileRef(t, Builtin(), name, builtinParams[name])
			var image string
			switch r := compiled.Component.Run.(type) {
			case *specs.Job:
				image = r.Container.Image
			case *specs.Service:
				image = r.Container.Image
			default:
				t.Fatalf("run is %T, want a job or a service", r)
			}
			_, tag, ok := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
			if image != compiler.DefaultInitImage && (!ok || tag == "" || tag == "latest") {
				t.Errorf("image %q is not pinned to a tag", image)
			}
		})
	}
}
