package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/engine/store"
)

// TestParamFromAnotherRun: a param `ref: runs.<uuid>` takes its value from
// that run's outputs once it has succeeded; before, or for a run that does
// not exist, the submission is refused with the param's path.
func TestParamFromAnotherRun(t *testing.T) {
	e := startEngine(t)
	up, err := e.Submit(t.Context(), Submission{Source: "up.yaml", Spec: `version: 1.1
kind: component
outputs: [{name: loss, type: float}]
run: {container: {image: x, command: [sh, -c, 'echo "{\"loss\": 0.25}" > $PLEXUS_OUTPUTS_PATH; sleep 0.3']}}
`})
	if err != nil {
		t.Fatal(err)
	}
	down := func(uuid string) string {
		return fmt.Sprintf(`version: 1.1
kind: operation
params:
  lr: {ref: runs.%s, value: outputs.loss}
component:
  inputs: [{name: lr, type: float}]
  outputs: [{name: seen, type: float}]
  run: {container: {image: x, command: [sh, -c, 'echo "{\"seen\": {{ lr }}}" > $PLEXUS_OUTPUTS_PATH']}}
`, uuid)
	}
	if _, err := e.Submit(t.Context(), Submission{Source: "down.yaml", Spec: down(up.UUID)}); err == nil ||
		!strings.Contains(err.Error(), "params.lr.ref") || !strings.Contains(err.Error(), "once it has succeeded") {
		t.Fatalf("a ref to a run not yet done: %v", err)
	}
	if r := waitFinal(t, e, up.UUID); r.Status != store.Succeeded {
		t.Fatalf("upstream %s", r.Status)
	}
	run, err := e.Submit(t.Context(), Submission{Source: "down.yaml", Spec: down(up.UUID)})
	if err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, e, run.UUID); r.Status != store.Succeeded || r.Outputs["seen"] != 0.25 {
		t.Fatalf("downstream %s with outputs %v", r.Status, r.Outputs)
	}
	if _, err := e.Submit(t.Context(), Submission{Source: "down.yaml", Spec: down("0123456789abcdef0123456789abcdef")}); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Fatalf("a ref to an unknown run: %v", err)
	}
}
