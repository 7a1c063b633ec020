package specs

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// bigDag is an operation running a dag of n operations in the styles a
// large file mixes: flow items with params and dependencies, block items
// with a nested component, a block scalar and comments between items.
// bad, when set, is written into the item it names.
func bigDag(n int, bad map[int]string) string {
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: operation\nname: big\ncomponent:\n  name: big\n  run:\n    kind: dag\n    operations:  # every one\n")
	for i := range n {
		switch {
		case i%97 == 5:
			fmt.Fprintf(&b, "      # item %d\n\n      - name: op%d\n        component:\n          name: inline%d\n          inputs: [{name: lr, type: float}]\n          run:\n            kind: job\n            container:\n              image: alpine\n              command: [sh, -c]\n              args:\n                - |\n                  echo %d\n                  echo done\n        params:\n          lr: {value: 0.%d}\n", i, i, i, i, i)
		default:
			fmt.Fprintf(&b, "      - {name: op%d, dagRef: noop, params: {i: {value: %d}}", i, i)
			if i > 0 {
				fmt.Fprintf(&b, ", dependencies: [op%d]", i-1)
			}
			b.WriteString("}\n")
		}
		if s, ok := bad[i]; ok {
			b.WriteString(s)
		}
	}
	b.WriteString("    components:\n      - {name: noop, inputs: [{name: i, type: int}], run: {kind: job, container: {image: alpine}}}\n")
	return b.String()
}

// TestStreamedParseReadsAsWhole: a file whose list of operations is read a
// chunk at a time decodes to what the whole parse makes, and its errors
// have the same paths and lines.
func TestStreamedParseReadsAsWhole(t *testing.T) {
	for name, bad := range map[string]map[int]string{
		"valid": nil,
		// An unknown field (decoding) and an unknown dependency
		// (validation), in items of different chunks.
		"errors": {
			1200: "      - {name: typo, dagRef: noop, paramz: {}}\n",
			4800: "      - {name: late, dagRef: noop, dependencies: [nowhere]}\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			data := []byte(bigDag(6000, bad))
			skeleton, ops := splitOperations(data)
			if ops == nil {
				t.Fatalf("a %d KiB list was not split", len(data)>>10)
			}
			if len(ops.chunks) < 2 || ops.count != 6000+len(bad) {
				t.Fatalf("split into %d chunks of %d items in all, want several of %d", len(ops.chunks), ops.count, 6000+len(bad))
			}
			if strings.Count(string(skeleton), "\n") != strings.Count(string(data), "\n") {
				t.Fatal("the skeleton does not keep the file's lines")
			}
			streamed, serr := Parse("big.yaml", data)
			whole, werr := parseWhole("big.yaml", data, false)
			if len(streamed) != 1 || streamed[0].stream == nil || !streamed[0].stream.decoded {
				t.Fatal("the file was not read a chunk at a time")
			}
			if len(whole) != 1 || whole[0].stream != nil {
				t.Fatal("parseWhole streamed")
			}
			a, _ := json.Marshal(streamed[0].Spec())
			b, _ := json.Marshal(whole[0].Spec())
			if string(a) != string(b) {
				t.Fatalf("streamed and whole parses differ (%d and %d bytes of JSON)", len(a), len(b))
			}
			if fmt.Sprint(serr) != fmt.Sprint(werr) {
				t.Fatalf("errors differ:\nstreamed: %v\nwhole:    %v", serr, werr)
			}
			if bad != nil {
				for _, want := range []string{"component.run.operations[1201].paramz", "component.run.operations[4802].dependencies[0]"} {
					if !strings.Contains(fmt.Sprint(serr), want) {
						t.Errorf("errors do not name %s: %v", want, serr)
					}
				}
				for _, e := range serr.(ErrorList) {
					if e.Line == 0 {
						t.Errorf("error without a line: %v", e)
					}
				}
			}
			// An error found after parsing is located in its item again.
			f, w := streamed[0], whole[0]
			for _, p := range []Path{"component.run.operations[5].component.run.container.args[0]", "component.run.operations[5999].params.i", "component.run.operations[3000].nope"} {
				got := f.Locate(ErrorList{Invalid(p, nil, "x")})[0]
				want := w.Locate(ErrorList{Invalid(p, nil, "x")})[0]
				if got.Line == 0 || got.Line != want.Line || got.Column != want.Column {
					t.Errorf("%s located at %d:%d, the whole parse says %d:%d", p, got.Line, got.Column, want.Line, want.Column)
				}
			}
		})
	}
}

// TestStreamedParseFallsBack: what the split cannot be sure of is parsed
// whole, with the same result.
func TestStreamedParseFallsBack(t *testing.T) {
	big := bigDag(6000, nil)
	for name, data := range map[string]string{
		"anchor":         strings.Replace(big, "{name: op7, dagRef: noop", "{name: op7, dagRef: &ref noop", 1),
		"two documents":  big + "---\nversion: 1.1\nkind: component\nrun: {kind: job, container: {image: alpine}}\n",
		"tab":            strings.Replace(big, "      - {name: op9,", "      -\t{name: op9,", 1),
		"unclosed quote": strings.Replace(big, "{name: op9, dagRef: noop", "{name: \"op9, dagRef: noop", 1),
	} {
		t.Run(name, func(t *testing.T) {
			streamed, serr := Parse("big.yaml", []byte(data))
			whole, werr := parseWhole("big.yaml", []byte(data), false)
			if fmt.Sprint(serr) != fmt.Sprint(werr) || len(streamed) != len(whole) {
				t.Fatalf("errors differ:\nstreamed: %v\nwhole:    %v", serr, werr)
			}
			for i := range streamed {
				if streamed[i].stream != nil {
					t.Errorf("document %d was streamed", i)
				}
				a, _ := json.Marshal(streamed[i].Spec())
				b, _ := json.Marshal(whole[i].Spec())
				if string(a) != string(b) {
					t.Errorf("document %d differs", i)
				}
			}
		})
	}
}

// TestStreamedUnmarshalJSON: a stored dag (JSON) of many operations decodes
// to what the whole decode makes, its list read a chunk at a time.
func TestStreamedUnmarshalJSON(t *testing.T) {
	files, err := Parse("big.yaml", []byte(bigDag(6000, nil)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(files[0].Operation.Component)
	if err != nil {
		t.Fatal(err)
	}
	skeleton, ops := splitJSONOperations(data)
	if ops == nil || ops.count != 6000 || len(ops.chunks) < 2 {
		t.Fatalf("the %d KiB list was not split", len(data)>>10)
	}
	if len(skeleton) > 4096 {
		t.Fatalf("the skeleton holds %d bytes", len(skeleton))
	}
	var streamed, whole Component
	if err := Unmarshal(data, &streamed); err != nil {
		t.Fatal(err)
	}
	if err, _ := unmarshal(data, reflect.ValueOf(&whole), nil); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(&streamed)
	if string(a) != string(data) {
		t.Fatalf("streamed decode differs from what was encoded (%d and %d bytes)", len(a), len(data))
	}
	b, _ := json.Marshal(&whole)
	if string(a) != string(b) {
		t.Fatal("streamed and whole decodes differ")
	}
	// Check decodes every item and keeps none.
	var checked Component
	if err := Check(data, &checked); err != nil {
		t.Fatal(err)
	}
	if d, ok := checked.Run.(*DAG); !ok || len(d.Operations) != 0 || len(d.Components) != 1 {
		t.Fatalf("Check kept %#v", checked.Run)
	}
	// An unknown field in an item is the error the whole decode gives.
	bad := strings.Replace(string(data), `"name":"op4000"`, `"name":"op4000","paramz":1`, 1)
	var c Component
	serr := Unmarshal([]byte(bad), &c)
	werr, _ := unmarshal([]byte(bad), reflect.ValueOf(&Component{}), nil)
	if serr == nil || fmt.Sprint(serr) != fmt.Sprint(werr) || !strings.Contains(serr.Error(), "run.operations[4000].paramz") {
		t.Fatalf("errors differ:\nstreamed: %v\nwhole:    %v", serr, werr)
	}
	if cerr := Check([]byte(bad), &Component{}); fmt.Sprint(cerr) != fmt.Sprint(werr) {
		t.Fatalf("Check says %v, the whole decode %v", cerr, werr)
	}
}
