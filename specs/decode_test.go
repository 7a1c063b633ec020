package specs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAnchorsAndMergeKeys: YAML anchors, aliases and merge keys work the
// way YAML users share settings between operations.
func TestAnchorsAndMergeKeys(t *testing.T) {
	src := `version: 1.1
kind: component
run:
  kind: dag
  operations:
    - &base
      name: a
      dagRef: step
      params: {lr: {value: 0.1}}
      termination: {maxRetries: 2}
    - <<: *base
      name: b
      params: {lr: {value: 0.2}}
  components:
    - name: step
      inputs: [{name: lr, type: float}]
      run: {container: {image: a}}
`
	files, err := Parse("anchors.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ops := files[0].Component.Run.(*DAG).Operations
	if got := []string{ops[0].Name, ops[1].Name}; !cmp.Equal(got, []string{"a", "b"}) {
		t.Fatalf("names %v", got)
	}
	if ops[1].DagRef != "step" || ops[1].Termination.MaxRetries.Value != 2 {
		t.Errorf("b did not get a's merged fields: %+v", ops[1])
	}
	if ops[1].Params["lr"].Value != 0.2 {
		t.Errorf("b's own params must win over the merged ones, got %v", ops[1].Params["lr"].Value)
	}
}

// TestErrorLinesForQuotedKeys: a path through a key that is not a plain
// identifier still finds its line.
func TestErrorLinesForQuotedKeys(t *testing.T) {
	src := "version: 1.1\nkind: operation\nhubRef: x\nparams:\n  \"learning.rate\":\n    ref: nowhere\n    value: outputs.lr\n"
	_, err := Parse("q.yaml", []byte(src))
	list, _ := err.(ErrorList)
	if len(list) != 1 || list[0].Path != `params["learning.rate"].ref` || list[0].Line != 6 {
		t.Fatalf("got %v, want one error at params[\"learning.rate\"].ref on line 6", err)
	}
}

func TestDuplicateKeys(t *testing.T) {
	src := "version: 1.1\nkind: component\nname: a\nname: b\nrun: {container: {image: a}}\n"
	_, err := Parse("dup.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "name: duplicate value") || !strings.Contains(err.Error(), "already set on line 3") {
		t.Fatalf("got %v", err)
	}
}

// TestIntOrRefAndListOrRef: both hold a literal or a template, and write
// back what they hold.
func TestIntOrRefAndListOrRef(t *testing.T) {
	term := &Termination{MaxRetries: Int(3), Timeout: Ref("{{ timeout }}")}
	svc := &Service{Kind: RunService, Ports: List(8080, 9090)}
	tmpl := &Service{Kind: RunService, Ports: ListOrRef[int]{Template: "{{ ports }}"}}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{term, "maxRetries: 3\ntimeout: '{{ timeout }}'\n"},
		{svc, "kind: service\nports:\n  - 8080\n  - 9090\n"},
		{tmpl, "kind: service\nports: '{{ ports }}'\n"},
	} {
		out, err := MarshalYAML(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, string(out)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
	if term.MaxRetries.String() != "3" || term.Timeout.String() != "{{ timeout }}" || !term.Timeout.IsTemplate() {
		t.Errorf("String/IsTemplate: %q %q", term.MaxRetries, term.Timeout)
	}
}

// nested is a flow value of n lists, one inside the other, around 1.
func nested(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }

// TestDepthLimit: a value nests at most MaxDepth levels, counted from the
// value; deeper is an error naming the value's path (and decodes to
// nothing), so that no record the engine writes nests beyond what
// encoding/json reads back.
func TestDepthLimit(t *testing.T) {
	spec := func(value string) string {
		return "version: 1.1\nkind: component\ninputs: [{name: x, type: list, isOptional: true, value: " + value + "}]\nrun: {container: {image: a}}\n"
	}
	if _, err := Parse("ok.yaml", []byte(spec(nested(MaxDepth)))); err != nil {
		t.Fatalf("a value of %d levels: %v", MaxDepth, err)
	}
	for _, n := range []int{MaxDepth + 1, 9000} {
		files, err := Parse("deep.yaml", []byte(spec(nested(n))))
		list, _ := err.(ErrorList)
		if len(list) != 1 || list[0].Path != "inputs[0].value" || !strings.Contains(list[0].Error(), "nested deeper than 100 levels") {
			t.Fatalf("%d levels: got %v, want one error at inputs[0].value", n, err)
		}
		if v := files[0].Component.Inputs[0].Value; v != nil {
			t.Errorf("%d levels: the value decoded to %T, want nothing", n, v)
		}
	}
	// The structure around values: dags in dags, past the limit.
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: component\nrun: ")
	for range 30 {
		b.WriteString("{kind: dag, operations: [{name: a, component: {run: ")
	}
	b.WriteString("{container: {image: a}}")
	for range 30 {
		b.WriteString("}}]}")
	}
	_, err := Parse("dags.yaml", []byte(b.String()+"\n"))
	list, _ := err.(ErrorList)
	if len(list) != 1 || !strings.Contains(list[0].Error(), "nested deeper than 100 levels") || !strings.HasPrefix(string(list[0].Path), "run.operations[0].component.run") {
		t.Fatalf("30 dags in one another: got %v, want one error", err)
	}
	// Given beside the file (the API's params): the same limit.
	var v any = 1.0
	for range MaxDepth {
		v = []any{v}
	}
	if e := CheckDepth("params.x.value", v); e != nil {
		t.Errorf("%d levels: %v", MaxDepth, e)
	}
	if e := CheckDepth("params.x.value", map[string]any{"a": v}); e == nil || e.Error() != "params.x.value: nested deeper than 100 levels" {
		t.Errorf("%d levels: got %v", MaxDepth+1, e)
	}
}
