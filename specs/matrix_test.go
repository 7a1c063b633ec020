package specs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSearchSpaceKeepsDeclarationOrder: a grid expands its params in the
// order the file declares them, so the order survives parsing and
// marshalling.
func TestSearchSpaceKeepsDeclarationOrder(t *testing.T) {
	src := `version: 1.1
kind: operation
hubRef: train
matrix:
  kind: grid
  params:
    optimizer: {kind: choice, value: [adam, sgd]}
    lr: {kind: linspace, value: "0.1:1:3"}
    batch: {kind: choice, value: [32, 64]}
`
	files, err := Parse("grid.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	names := func(s SearchSpace) []string {
		var out []string
		for _, np := range s {
			out = append(out, np.Name)
		}
		return out
	}
	want := []string{"optimizer", "lr", "batch"}
	space := files[0].Operation.Matrix.SearchSpace()
	if diff := cmp.Diff(want, names(space)); diff != "" {
		t.Fatalf("parsed order (-want +got):\n%s", diff)
	}
	out, err := MarshalYAML(files[0].Operation)
	if err != nil {
		t.Fatal(err)
	}
	if i, j, k := strings.Index(string(out), "optimizer:"), strings.Index(string(out), "lr:"), strings.Index(string(out), "batch:"); !(i < j && j < k) {
		t.Fatalf("marshalled order lost:\n%s", out)
	}
	again, err := Parse("again.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, names(again[0].Operation.Matrix.SearchSpace())); diff != "" {
		t.Fatalf("order after a round trip (-want +got):\n%s", diff)
	}
	if hp, ok := space.Get("lr"); !ok || hp.Kind != HPLinspace {
		t.Fatalf("Get(lr) = %v, %v", hp, ok)
	}
}

func TestSearchSpaceDuplicateName(t *testing.T) {
	src := "version: 1.1\nkind: operation\nhubRef: x\nmatrix:\n  kind: grid\n  params:\n    lr: {kind: choice, value: [1]}\n    lr: {kind: choice, value: [2]}\n"
	_, err := Parse("dup.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "matrix.params.lr: duplicate value") {
		t.Fatalf("got %v, want a duplicate error at matrix.params.lr", err)
	}
}
