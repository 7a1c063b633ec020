package specs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Validation of operations, events, and of files as a whole: several
// documents, JSON, syntax errors, every error in one pass, rendering.

func TestValidateOperation(t *testing.T) {
	inline := func(lines ...string) string {
		return vtOperation(append([]string{"component:", "  run: {container: {image: a}}"}, lines...)...)
	}
	vtRun(t, map[string]vtCase{
		"runPatch of a job": {src: inline("runPatch:", "  environment: {nodeSelector: {pool: gpu}}", "  container: {image: b}")},
		"runPatch of a service": {src: vtOperation(
			"component: {run: {kind: service, ports: [80], container: {image: a}}}",
			"runPatch: {ports: [8888], rewritePath: true}")},
		"runPatch of one replica of a tfjob": {src: vtOperation(
			"component: {run: {kind: tfjob, worker: {replicas: 1, container: {image: a}}}}",
			"runPatch: {replicas: 2, container: {image: b}}")},
		"runPatch ports on a job": {
			src:  inline("runPatch:", "  ports: [8888]"),
			want: []vtErr{{"runPatch.ports", `unknown field "ports"; valid fields are connections, container, environment, init, kind, sidecars, volumes (runPatch must fit the component's run kind "job")`, 6}},
		},
		"runPatch of an unknown component": {
			src:  vtOperation("hubRef: notebook", "runPatch:", "  ports: [8888]", "  portz: 1"),
			want: []vtErr{{"runPatch.portz", `unknown field "portz"`, 6}},
		},
		"runPatch environment typo": {
			src:  inline("runPatch:", "  environment: {node_selector: {a: b}}"),
			want: []vtErr{{"runPatch.environment.node_selector", `did you mean "nodeSelector"?`, 6}},
		},
		"patchStrategy": {src: inline("patchStrategy: pre_merge")},
		"patchStrategy enum": {
			src:  inline("patchStrategy: merge"),
			want: []vtErr{{"patchStrategy", `unsupported value "merge": must be one of "replace", "isnull", "post_merge", "pre_merge"`, 5}},
		},
		"trigger": {src: inline("trigger: one_done")},
		"trigger enum": {
			src: inline("trigger: always"),
			want: []vtErr{{"trigger",
				`unsupported value "always": must be one of "all_succeeded", "all_failed", "all_done", "one_succeeded", "one_failed", "one_done"`, 5}},
		},
		"conditions":                     {src: inline(`conditions: "{{ lr > 0.1 and act == 'relu' and not skip }}"`)},
		"conditions without braces":      {src: inline(`conditions: "lr > 0.1"`)},
		"conditions with Jinja literals": {src: inline(`conditions: "{{ flag == True or x == None }}"`)},
		"conditions do not compile": {
			src:  inline(`conditions: "{{ a == }}"`),
			want: []vtErr{{"conditions", `condition "{{ a == }}" does not compile`, 5}},
		},
		"conditions with two templates": {
			src:  inline(`conditions: "{{ a }} and {{ b }}"`),
			want: []vtErr{{"conditions", `must be one expression, written "{{ expr }}"`, 5}},
		},
		"conditions not closed": {
			src:  inline(`conditions: "{{ a == 'x'"`),
			want: []vtErr{{"conditions", "opens {{ without closing it", 5}},
		},
		"no reference": {
			src:  vtOperation("name: orphan"),
			want: []vtErr{{"", "an operation needs exactly one of component, hubRef, dagRef, urlRef or pathRef", 1}},
		},
		"two references": {
			src:  vtOperation("hubRef: a", "urlRef: https://example.com/c.yaml"),
			want: []vtErr{{"urlRef", "only one reference may be set, got hubRef and urlRef", 4}},
		},
		"hubRef with an inline component": {src: inline("hubRef: trainer")},
		"hubRef forms":                    {src: vtOperation("hubRef: acme.tensorboard:single-run")},
		"bad hubRef": {
			src:  vtOperation("hubRef: a/b/c"),
			want: []vtErr{{"hubRef", "hubRef must be [owner/]name[:tag]", 3}},
		},
		"urlRef not http": {
			src:  vtOperation("urlRef: ftp://example.com/c.yaml"),
			want: []vtErr{{"urlRef", "urlRef must be an http(s) URL", 3}},
		},
		"pathRef": {src: vtOperation("pathRef: ../components/train.yaml")},
		"dagRef outside a dag": {
			src:  vtOperation("dagRef: train"),
			want: []vtErr{{"dagRef", "dagRef only works for operations inside a dag", 3}},
		},
		"dependencies outside a dag": {
			src:  vtOperation("hubRef: a", "dependencies: [b]"),
			want: []vtErr{{"dependencies[0]", "dependencies only apply to operations inside a dag", 4}},
		},
		"inline component of another kind": {
			src:  vtOperation("component: {kind: operation, run: {container: {image: a}}}"),
			want: []vtErr{{"component.kind", `kind must be "component" here`, 3}},
		},
		"inline component needs no version": {src: vtOperation("component: {name: c, run: {container: {image: a}}}")},
		"image may come from runPatch":      {src: vtOperation("component: {run: {container: {command: [x]}}}", "runPatch: {container: {image: b}}")},
		"image may come from presets":       {src: vtOperation("component: {run: {container: {command: [x]}}}", "presets: [gpu]")},
	})
}

func TestValidateEvents(t *testing.T) {
	const uuid = "0123456789abcdef0123456789abcdef"
	events := func(lines ...string) string {
		return vtOperation(append([]string{"hubRef: a", "events:"}, lines...)...)
	}
	vtRun(t, map[string]vtCase{
		"run and dag refs": {src: events(
			"- {kinds: [run_status_running, run_status_done], ref: runs."+uuid+"}",
			"- {kinds: [run_status_succeeded], ref: dag}")},
		"unknown kind": {
			src:  events("- {kinds: [run_status_succeeded, run_status_initializing], ref: dag}"),
			want: []vtErr{{"events[0].kinds[1]", `unsupported value "run_status_initializing": must be one of "run_status_created"`, 5}},
		},
		"no kinds": {
			src:  events("- {kinds: [], ref: dag}"),
			want: []vtErr{{"events[0].kinds", "an event needs at least one kind", 5}},
		},
		"kinds missing": {
			src:  events("- {ref: dag}"),
			want: []vtErr{{"events[0].kinds", "`kinds` is required", 5}},
		},
		"ref missing": {
			src:  events("- kinds: [run_status_done]"),
			want: []vtErr{{"events[0].ref", "`ref` is required", 5}},
		},
		"runs with a bad uuid": {
			src:  events("- {kinds: [run_status_done], ref: runs.123}"),
			want: []vtErr{{"events[0].ref", `runs.<uuid> needs a valid run uuid, got "runs.123"`, 5}},
		},
		"ops outside a dag": {
			src:  events("- {kinds: [run_status_done], ref: ops.train}"),
			want: []vtErr{{"events[0].ref", "a ref to `ops.` only works for operations inside a dag", 5}},
		},
		"untyped list of strings (before v1.5)": {
			src:  events("- run_status_done"),
			want: []vtErr{{"events[0]", "expected a mapping, got a string", 5}},
		},
		"ref forms inside a dag": {
			src: vtDAG(
				"  operations:",
				"  - {name: train, hubRef: x}",
				"  - name: board",
				"    hubRef: tensorboard",
				"    events:",
				"    - {kinds: [run_status_running], ref: ops.train}",
				`    - {kinds: [run_status_running], ref: "{{ ops.train }}"}`,
				"    - {kinds: [run_status_running], ref: train}",
				"    - {kinds: [run_status_running], ref: ops.trian}"),
			want: []vtErr{
				{"run.operations[1].events[1].ref", "event ref must be exactly `ops.<operation>`, `runs.<uuid>` or `dag`, got \"{{ ops.train }}\" (did you mean \"ops.train\"?)", 11},
				{"run.operations[1].events[2].ref", `got "train" (did you mean "ops.train"?)`, 12},
				{"run.operations[1].events[3].ref", `unknown operation "trian" (did you mean "train"?)`, 13},
			},
		},
	})
}

func TestValidateMultiDocument(t *testing.T) {
	src := vtComponent(vtJob) + "---\n" + vtLines("version: 2", "kind: component", vtJob) + "---\n" + vtOperation("hubRef: a")
	files, errs := vtParse(t, src)
	vtCheck(t, src, errs, []vtErr{{"version", "version 2 is not supported", 5}})
	if len(files) != 3 {
		t.Fatalf("got %d files, want 3", len(files))
	}
	type doc struct {
		Index  int
		Kind   Kind
		Errors []string
	}
	var got []doc
	for _, f := range files {
		d := doc{Index: f.Index, Kind: f.Kind()}
		for _, e := range f.Errors {
			d.Errors = append(d.Errors, e.Error())
		}
		got = append(got, d)
	}
	want := []doc{
		{Index: 0, Kind: KindComponent},
		{Index: 1, Kind: KindComponent, Errors: []string{"version: version 2 is not supported: Plexus reads Polyaxonfile version 1.1 (line 5)"}},
		{Index: 2, Kind: KindOperation},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
}

func TestValidateMultiDocumentSkipsEmptyDocuments(t *testing.T) {
	src := "---\n" + vtComponent(vtJob) + "---\n# nothing here\n---\n" + vtComponent("name: b", vtJob)
	files, errs := vtParse(t, src)
	vtCheck(t, src, errs, nil)
	if len(files) != 2 || files[1].Index != 1 || files[1].Component.Name != "b" {
		t.Errorf("got %d files, want 2 with the second named b at index 1", len(files))
	}
}

func TestValidateJSON(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"component": {src: `{"version": 1.1, "kind": "component", "inputs": [{"name": "lr", "type": "float"}],
 "run": {"kind": "job", "container": {"image": "a", "command": ["python", "train.py"]}}}`},
		"version as a string": {src: `{"version": "1.1", "kind": "operation", "hubRef": "kaniko"}`},
		"unknown key with its line": {
			src:  "{\n  \"version\": 1.1,\n  \"kind\": \"component\",\n  \"run\": {\n    \"container\": {\"image\": \"a\"},\n    \"kindd\": \"job\"\n  }\n}\n",
			want: []vtErr{{"run.kindd", `unknown field "kindd", did you mean "kind"?`, 6}},
		},
		"wrong type with its line": {
			src:  "{\n  \"version\": 1.1,\n  \"kind\": \"component\",\n  \"termination\": {\"maxRetries\": -1},\n  \"run\": {\"container\": {\"image\": \"a\"}}\n}\n",
			want: []vtErr{{"termination.maxRetries", "must not be negative", 4}},
		},
	})
}

func TestValidateSyntaxError(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"tab indentation": {
			src:  vtComponent("run:", "\tcontainer: {image: a}"),
			want: []vtErr{{"", "invalid YAML", 4}},
		},
		"bad indentation": {
			src:  vtComponent("run:", "  container:", "    image: a", "   command: [x]"),
			want: []vtErr{{"", "invalid YAML", 6}},
		},
		"unclosed flow mapping": {
			src:  vtComponent("run: {container: {image: a}"),
			want: []vtErr{{"", "invalid YAML", 3}},
		},
	})
}

// TestValidateSyntaxErrorKeepsEarlierDocuments checks that the documents
// before a syntax error are returned, and that the error names its line.
func TestValidateSyntaxErrorKeepsEarlierDocuments(t *testing.T) {
	src := vtComponent(vtJob) + "---\n" + vtComponent("name: b", "run: [a")
	files, errs := vtParse(t, src)
	vtCheck(t, src, errs, []vtErr{{"", "invalid YAML", 8}}) // `run: [a` is line 8
	if len(files) != 1 || len(files[0].Errors) != 0 {
		t.Errorf("got %d files, want the valid first document", len(files))
	}
}

func TestValidateEmptyInput(t *testing.T) {
	for name, src := range map[string]string{
		"empty":            "",
		"only a comment":   "# a Polyaxonfile\n",
		"only separators":  "---\n---\n",
		"only whitespace":  "\n\n   \n",
		"an explicit null": "null\n",
	} {
		t.Run(name, func(t *testing.T) {
			files, errs := vtParse(t, src)
			vtCheck(t, src, errs, []vtErr{{"", "no Polyaxonfile found: the input is empty", 0}})
			if len(files) != 0 {
				t.Errorf("got %d files, want none", len(files))
			}
		})
	}
}

// TestValidateAllErrorsInOnePass checks that independent problems in
// different sections are all reported by one Parse, each with its line.
func TestValidateAllErrorsInOnePass(t *testing.T) {
	src := vtLines(
		"version: 1.05",                         // 1
		"kind: component",                       // 2
		"name: train:v1",                        // 3
		"environment: {}",                       // 4
		"termination: {maxRetries: -1}",         // 5
		"inputs:",                               // 6
		"- {name: lr, type: double}",            // 7
		"- {name: lr, type: float, value: 0.1}", // 8
		"run:",                                  // 9
		"  kind: service",                       // 10
		"  ports: [0]",                          // 11
		"  environment: {restartPolicy: Sometimes}", // 12
		"  container:",               // 13
		"    imagePullPolicy: Often", // 14
		"    image_name: a",          // 15
	)
	_, errs := vtParse(t, src)
	vtCheck(t, src, errs, []vtErr{
		{"version", "version 1.05 is not supported", 1},
		{"name", "may only contain", 3},
		{"environment", "unexpected section `environment`", 4},
		{"termination.maxRetries", "must not be negative", 5},
		{"inputs[0].type", `unsupported value "double"`, 7},
		{"inputs[1].name", `duplicate value "lr"`, 8},
		{"inputs[1].value", "is not optional and has a default value", 8},
		{"run.ports[0]", "a port is between 1 and 65535", 11},
		{"run.environment.restartPolicy", `unsupported value "Sometimes"`, 12},
		{"run.container.imagePullPolicy", `unsupported value "Often"`, 14},
		{"run.container.image_name", `unknown field "image_name"`, 15},
		{"run.container.image", "the container needs an image", 14},
	})
}

// TestValidateErrorRendering checks the `path: message (line N)` form and
// that errors.As finds each *FieldError in the list.
func TestValidateErrorRendering(t *testing.T) {
	_, err := Parse("test.yaml", []byte(vtComponent("cost: -1", vtJob)))
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v, *FieldError) = false", err)
	}
	if got, want := err.Error(), "cost: cost must not be negative (line 3)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if fe.Line != 3 || fe.Column != 7 {
		t.Errorf("position = %d:%d, want 3:7", fe.Line, fe.Column)
	}
}
