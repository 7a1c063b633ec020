package specs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// compileSchema compiles the output of JSONSchema; compiling checks it
// against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := JSONSchema()
	if err != nil {
		t.Fatalf("JSONSchema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the schema is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatalf("AddResource: %v", err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// yamlInstance reads a YAML document as a JSON instance for the validator.
func yamlInstance(t *testing.T, src []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatalf("YAMLToJSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatalf("UnmarshalJSON: %v", err)
	}
	return inst
}

func TestJSONSchemaIsValid(t *testing.T) {
	b, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not valid JSON: %v", err)
	}
	if m["$schema"] != "https://json-schema.org/draft/2020-12/schema" || m["$id"] != SchemaID {
		t.Errorf("$schema = %v, $id = %v", m["$schema"], m["$id"])
	}
	for _, k := range []string{"title", "description", "oneOf", "$defs"} {
		if m[k] == nil {
			t.Errorf("the schema has no %s", k)
		}
	}
	b2, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Error("JSONSchema is not deterministic")
	}
	compileSchema(t)
	t.Logf("schema size: %d bytes", len(b))
}

// Every polymorphic section the decoder knows has its concrete types
// listed, and every run kind is covered.
func TestJSONSchemaVariants(t *testing.T) {
	for it := range interfaceDecoders {
		if _, ok := schemaVariants[it]; !ok {
			t.Errorf("schemaVariants lacks %s", it)
		}
	}
	for _, k := range RunKinds {
		if newRun(k) == nil {
			t.Errorf("run kind %s has no type", k)
		}
	}
	b, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Defs map[string]struct {
			OneOf []map[string]any `json:"oneOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for it, mk := range schemaVariants {
		types := map[reflect.Type]bool{}
		for _, v := range mk() {
			types[reflect.TypeOf(v)] = true
		}
		if got := len(m.Defs[it.Name()].OneOf); got != len(types) {
			t.Errorf("%s: oneOf has %d entries, want %d", it.Name(), got, len(types))
		}
	}
}

// Every Polyaxonfile of the corpus and the examples that check accepts is
// valid under the schema.
func TestJSONSchemaConformance(t *testing.T) {
	sch := compileSchema(t)
	for p, src := range acceptedCorpus(t) {
		t.Run(filepath.Base(p), func(t *testing.T) {
			if err := sch.Validate(yamlInstance(t, src)); err != nil {
				t.Errorf("rejected by the schema:\n%v", err)
			}
		})
	}
}

// The schema and the parser agree on small documents: the valid ones pass
// both, the invalid ones fail both.
func TestJSONSchemaAgreesWithParser(t *testing.T) {
	sch := compileSchema(t)
	cases := []struct {
		name  string
		valid bool
		doc   string
	}{
		{"minimal component", true, `
version: 1.1
kind: component
run:
  kind: job
  container: {image: busybox}
`},
		{"run kind left out, k8s quirks", true, `
version: "1.1"
kind: component
run:
  container:
    image: busybox
    command: python main.py
    volume_mounts: [{name: data, mount_path: /data}]
    env: {name: A, value: b}
  volumes: [{name: data, emptyDir: {}}]
  environment: {nodeSelector: {gpu: true}, labels: {n: 1}}
`},
		{"preset", true, `
isPreset: true
runPatch: {environment: {nodeSelector: {gpu: true}}}
`},
		{"dag operation", true, `
version: 1.1
kind: operation
trigger: all_done
component:
  run:
    kind: dag
    operations:
    - name: a
      dagRef: c
    - name: b
      dagRef: c
      dependencies: [a]
      trigger: one_failed
    components:
    - name: c
      inputs: [{name: x, type: int, isOptional: true, value: 3}]
      run: {kind: tfjob, worker: {replicas: "{{ n }}", container: {image: tf}}}
`},
		{"matrix", true, `
version: 1.1
kind: operation
hubRef: tensorboard
matrix:
  kind: random
  numRuns: 4
  params: {lr: {kind: linspace, value: 0:1:5}}
  earlyStopping: [{kind: failure_early_stopping, percent: 50}]
`},
		{"unknown top-level key runPach", false, `
version: 1.1
kind: operation
hubRef: tensorboard
runPach: {}
`},
		{"trigger sometimes", false, `
version: 1.1
kind: operation
hubRef: tensorboard
trigger: sometimes
`},
		{"IO type string", false, `
version: 1.1
kind: component
inputs: [{name: x, type: string}]
run: {kind: job, container: {image: busybox}}
`},
		{"unknown run kind", false, `
version: 1.1
kind: component
run: {kind: sparkle}
`},
		{"missing version", false, `
kind: component
run: {container: {image: busybox}}
`},
		{"version 1.0", false, `
version: 1.0
kind: component
run: {container: {image: busybox}}
`},
		{"missing kind", false, `
version: 1.1
hubRef: tensorboard
`},
		{"component without run", false, `
version: 1.1
kind: component
`},
		{"param without value", false, `
version: 1.1
kind: operation
hubRef: tensorboard
params: {x: {ref: ops.a}}
`},
		{"matrix without kind", false, `
version: 1.1
kind: operation
hubRef: tensorboard
matrix: {params: {lr: {kind: choice, value: [1, 2]}}}
`},
		{"unknown hyper-param kind", false, `
version: 1.1
kind: operation
hubRef: tensorboard
matrix: {kind: grid, params: {lr: {kind: activation, value: [1, 2]}}}
`},
		{"job field on a tfjob", false, `
version: 1.1
kind: component
run: {kind: tfjob, container: {image: busybox}}
`},
		{"ports not a list", false, `
version: 1.1
kind: component
run: {kind: service, ports: 8888, container: {image: busybox}}
`},
		{"maxRetries not an integer", false, `
version: 1.1
kind: component
termination: {maxRetries: many}
run: {container: {image: busybox}}
`},
	}
	for _, c := range cases {
		schemaErr := sch.Validate(yamlInstance(t, []byte(c.doc)))
		_, parseErr := Parse(c.name, []byte(c.doc))
		if (schemaErr == nil) != c.valid {
			t.Errorf("%s: schema says valid=%v, want %v:\n%v", c.name, schemaErr == nil, c.valid, schemaErr)
		}
		if (parseErr == nil) != c.valid {
			t.Errorf("%s: parser says valid=%v, want %v: %v", c.name, parseErr == nil, c.valid, parseErr)
		}
	}
}

// The corpus files rejected for their structure are rejected by the schema
// too (the others fail on what a schema cannot say: cycles, unresolved
// refs, params against inputs).
func TestJSONSchemaRejectsBadStructure(t *testing.T) {
	sch := compileSchema(t)
	for _, name := range schemaRejects {
		src, err := os.ReadFile(filepath.Join(ownCorpus, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(yamlInstance(t, src)); err == nil {
			t.Errorf("%s: accepted by the schema", name)
		}
	}
}

// schemaRejects are the corpus files whose fault is one of structure.
var schemaRejects = []string{
	"bad-connection-not-string.yaml", "bad-early-stopping-median-top-level.yaml", "bad-empty.yaml",
	"bad-events-unknown-kind.yaml", "bad-hooks-unknown-trigger.yaml", "bad-io-unknown-type.yaml",
	"bad-kind-missing.yaml", "bad-kind-unknown.yaml", "bad-legacy-sections.yaml",
	"bad-matrix-mapping-not-dicts.yaml", "bad-matrix-random-no-numruns.yaml",
	"bad-matrix-unknown-distribution.yaml", "bad-patch-strategy.yaml", "bad-run-kind-unknown.yaml",
	"bad-run-missing.yaml", "bad-schedule-interval-no-frequency.yaml",
	"bad-schedule-unknown-kind.yaml", "bad-service-port.yaml", "bad-several-errors.yaml",
	"bad-trigger-unknown.yaml", "bad-type-inputs-mapping.yaml", "bad-type-termination-string.yaml",
	"bad-unknown-key-suggestion.yaml", "bad-version-0-4.yaml", "bad-version-1.yaml",
	"bad-version-2.yaml", "bad-version-missing.yaml",
}
