package specs_test

import (
	"fmt"

	"github.com/plexus-ml/plexus/specs"
	corev1 "k8s.io/api/core/v1"
)

// Components can be written in Go as well as in YAML: the types are the
// authoring API, and Validate reports what Parse would.
func Example_authoring() {
	train := &specs.Component{
		Base: specs.Base{Kind: specs.KindComponent, Name: "train",
			Termination: &specs.Termination{MaxRetries: specs.Int(2)}},
		Inputs: []specs.IO{{Name: "lr", Type: specs.IOTypeFloat, Value: 0.01, IsOptional: true}},
		Run: &specs.Job{Kind: specs.RunJob, Replica: specs.Replica{
			Container: &corev1.Container{Image: "python:3.12", Command: []string{"python", "train.py", "--lr={{ lr }}"}},
		}},
	}
	if errs := train.Validate(); len(errs) > 0 {
		fmt.Println(errs)
	}
	out, _ := specs.MarshalYAML(train)
	fmt.Print(string(out))
	// Output:
	// kind: component
	// name: train
	// termination:
	//   maxRetries: 2
	// inputs:
	//   - name: lr
	//     type: float
	//     value: 0.01
	//     isOptional: true
	// run:
	//   kind: job
	//   container:
	//     name: ""
	//     image: python:3.12
	//     command:
	//       - python
	//       - train.py
	//       - --lr={{ lr }}
	//     resources: {}
}

// Parse reports every problem at once, with paths and lines.
func ExampleParse() {
	_, err := specs.Parse("sweep.yaml", []byte(`version: 1.1
kind: operation
hubRef: train
matrix:
  kind: grid
  params:
    lr: {kind: uniform, value: [0, 1]}
trigger: sometimes
`))
	fmt.Println(err)
	// Output:
	// matrix.params.lr.kind: uniform defines a distribution, and it cannot be used with grid search (line 7)
	// trigger: unsupported value "sometimes": must be one of "all_succeeded", "all_failed", "all_done", "one_succeeded", "one_failed", "one_done" (line 8)
}
