package specs

import (
	"strings"
	"testing"
)

// TestJoinParams: a join param must name a list input of the component
// (or be contextOnly).
func TestJoinParams(t *testing.T) {
	base := `version: 1.1
kind: operation
joins:
  - query: "kind: job"
    params:
%s
component:
  inputs:
    - {name: losses, type: float, isList: true}
    - {name: best, type: float, isOptional: true}
  run: {container: {image: a}}
`
	cases := map[string]struct {
		params string
		want   string // "" = valid
	}{
		"list input":       {params: "      losses: {value: outputs.loss}", want: ""},
		"context only":     {params: "      losses: {value: outputs.loss}\n      other: {value: outputs.x, contextOnly: true}", want: ""},
		"not a list input": {params: "      losses: {value: outputs.loss}\n      best: {value: outputs.loss}", want: `joins[0].params.best: a join gives a list`},
		"unknown":          {params: "      losses: {value: outputs.loss}\n      lossez: {value: outputs.loss}", want: `joins[0].params.lossez: unexpected join param "lossez"`},
		"missing input":    {params: "      other: {value: outputs.x, contextOnly: true}", want: `params.losses: input "losses" is required`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files, err := Parse("join.yaml", []byte(strings.Replace(base, "%s", tc.params, 1)))
			if err != nil {
				t.Fatal(err)
			}
			errs := files[0].CheckParams(nil)
			switch {
			case tc.want == "" && len(errs) > 0:
				t.Fatalf("want no errors, got:\n%v", errs)
			case tc.want != "" && !strings.Contains(errs.Error(), tc.want):
				t.Fatalf("want %q, got:\n%v", tc.want, errs)
			}
		})
	}
}
