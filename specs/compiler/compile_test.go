package compiler

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/specs"
)

// testRun is the run every golden compilation is for.
var testRun = RunInfo{
	UUID:       "8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b",
	Name:       "golden",
	Namespace:  "ml",
	CreatedAt:  time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
	CompiledAt: time.Date(2026, 11, 28, 12, 0, 1, 0, time.UTC),
}

var testConnections = Catalogue{
	"registry": {Name: "registry", Kind: "registry", Schema: map[string]any{"url": "registry.local:5000", "insecure": true},
		Secret: &K8sResource{Name: "registry-auth", MountPath: "/kaniko/.docker"}},
	"datasets": {Name: "datasets", Kind: "volume_claim", Schema: map[string]any{"volumeClaim": "datasets-pvc", "mountPath": "/data", "readOnly": true}},
	"aws":      {Name: "aws", Kind: "aws", Secret: &K8sResource{Name: "aws-creds"}, Env: []corev1.EnvVar{{Name: "AWS_REGION", Value: "eu-west-1"}}},
	"repo":     {Name: "repo", Kind: "git", Schema: map[string]any{"url": "https://git.local/ml/train"}, Secret: &K8sResource{Name: "git-token"}},
}

// headerParams reads `# params: a=1 b=2` from the first line of a golden
// input.
func headerParams(t *testing.T, data []byte) map[string]specs.Param {
	line, _, _ := strings.Cut(string(data), "\n")
	rest, ok := strings.CutPrefix(line, "# params:")
	if !ok {
		t.Fatal(`a golden input starts with "# params: [name=value ...]"`)
	}
	params := map[string]specs.Param{}
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		params[k] = specs.Param{Value: v}
	}
	return params
}

// TestCompileGolden compiles each testdata/compile/NAME.yaml (an operation
// with its component inline, then any presets) for testRun and compares
// the params, their context values and the compiled component with
// NAME.golden. `-update` rewrites the golden files.
func TestCompileGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/compile/*.yaml")
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	for _, in := range inputs {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			files, err := specs.Parse(in, data)
			if err != nil {
				t.Fatal(err)
			}
			var presets []*specs.Operation
			for _, f := range files[1:] {
				presets = append(presets, f.Operation)
			}
			op := files[0].Operation
			c, err := Compile(op, op.Component, Options{Presets: presets, Params: headerParams(t, data), Run: testRun, Connections: testConnections})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.WriteString("# params: name = value | as_str | as_arg\n")
			for _, p := range c.Params {
				arg, _ := p.AsArg(renderArgFormat)
				fmt.Fprintf(&b, "#   %s = %#v | %q | %q\n", p.Name, p.Value, p.AsStr(), arg)
			}
			if o := c.Operation; o.Matrix != nil || o.Schedule != nil || o.Conditions != "" || len(o.Dependencies) > 0 {
				sections, err := specs.MarshalYAML(&specs.Operation{Matrix: o.Matrix, Schedule: o.Schedule, Conditions: o.Conditions, Dependencies: o.Dependencies})
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString("# the operation's own sections, rendered\n")
				b.Write(sections)
				b.WriteString("---\n")
			}
			out, err := specs.MarshalYAML(c.Component)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(out)
			if !isPipeline(c.Operation, c.Component) {
				objs, err := Lower(c, testRun, LowerOptions{Attempt: 1})
				if err != nil {
					b.WriteString("---\n# not lowered: " + err.Error() + "\n")
					objs = &Objects{}
				}
				for _, o := range objs.Manifests() {
					y, err := specs.MarshalYAML(o)
					if err != nil {
						t.Fatal(err)
					}
					b.WriteString("---\n")
					b.Write(y)
				}
			}
			checkGolden(t, strings.TrimSuffix(in, ".yaml")+".golden", b.Bytes())
		})
	}
}

// TestCompileConcurrently: compilations share the parsed-template cache;
// run under -race, this checks they may run at once.
func TestCompileConcurrently(t *testing.T) {
	files, err := specs.ParseFile("testdata/compile/job-templating.yaml")
	if err != nil {
		t.Fatal(err)
	}
	op := files[0].Operation
	params := map[string]specs.Param{"epochs": {Value: "5"}}
	done := make(chan string)
	for i := range 8 {
		go func() {
			ri := testRun
			ri.Name = fmt.Sprintf("run-%d", i)
			c, err := Compile(op, op.Component, Options{Run: ri, Params: params})
			if err != nil {
				done <- err.Error()
				return
			}
			done <- c.Component.Run.(*specs.Job).Container.Args[0]
		}()
	}
	for range 8 {
		if got := <-done; got != "--lr=0.01" {
			t.Errorf("got %q", got)
		}
	}
}

// TestCompileDagConcurrency: a dag's concurrency written as a template is
// rendered with the dag's params; its operations are left for their runs.
func TestCompileDagConcurrency(t *testing.T) {
	files, err := specs.Parse("dag.yaml", []byte(`version: 1.1
kind: operation
params: {width: {value: 3}}
component:
  inputs: [{name: width, type: int}]
  run:
    kind: dag
    concurrency: "{{ width }}"
    operations:
      - {name: a, component: {run: {kind: job, container: {image: x, command: [echo, "{{ globals.uuid }}"]}}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	op := files[0].Operation
	c, err := Compile(op, op.Component, Options{Run: testRun})
	if err != nil {
		t.Fatal(err)
	}
	d := c.Component.Run.(*specs.DAG)
	if d.Concurrency.IsTemplate() || d.Concurrency.Value != 3 {
		t.Errorf("concurrency %+v, want 3", d.Concurrency)
	}
	job := d.Operations[0].Component.Run.(*specs.Job)
	if got := job.Container.Args; len(job.Container.Command) != 2 || job.Container.Command[1] != "{{ globals.uuid }}" {
		t.Errorf("the operation was rendered with the dag: %v %v", job.Container.Command, got)
	}
	if op.Component.Run.(*specs.DAG).Concurrency.Template == "" {
		t.Error("the operation's own component was changed")
	}
}
