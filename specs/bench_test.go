package specs

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// bigDAG returns a dag of n operations: each depends on up to three
// earlier ones, some take an upstream output through a param ref, and all
// run one of two components.
func bigDAG(n int) []byte {
	var b strings.Builder
	b.WriteString(`version: 1.1
kind: component
name: big-pipeline
run:
  kind: dag
  concurrency: 50
  components:
    - name: step
      inputs:
        - {name: lr, type: float, value: 0.1, isOptional: true}
        - {name: upstream_loss, type: float, isOptional: true}
      outputs:
        - {name: loss, type: metric}
      termination: {maxRetries: 2, timeout: 600}
      run:
        kind: job
        environment:
          nodeSelector: {pool: cpu}
        container:
          image: python:3.12-slim
          command: [python, train.py]
          args: ["--lr={{ lr }}", "--upstream={{ upstream_loss }}"]
          resources: {requests: {cpu: 500m, memory: 256Mi}}
    - name: report
      inputs:
        - {name: loss, type: float}
      run:
        kind: job
        container: {image: alpine, command: [echo, "{{ loss }}"]}
  operations:
`)
	for i := range n {
		fmt.Fprintf(&b, "    - name: op-%d\n", i)
		switch {
		case i > 0 && i%10 == 0:
			fmt.Fprintf(&b, "      dagRef: report\n      params:\n        loss: {ref: ops.op-%d, value: outputs.loss}\n", i-1)
		default:
			fmt.Fprintf(&b, "      dagRef: step\n      params:\n        lr: {value: %g}\n", 0.001*float64(i%7+1))
			if i > 1 {
				up := i - 1
				if up%10 == 0 {
					up-- // a report op has no loss output
				}
				fmt.Fprintf(&b, "        upstream_loss: {ref: ops.op-%d, value: outputs.loss}\n", up)
			}
		}
		if i > 2 {
			fmt.Fprintf(&b, "      dependencies: [op-%d, op-%d]\n", i-2, i-3)
		}
		if i%25 == 0 && i > 0 {
			b.WriteString("      trigger: all_done\n      conditions: \"{{ lr > 0.001 and lr < 1 }}\"\n")
		}
	}
	return []byte(b.String())
}

func TestBigDAGIsValid(t *testing.T) {
	files, err := Parse("big.yaml", bigDAG(1000))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(files[0].Component.Run.(*DAG).Operations); got != 1000 {
		t.Fatalf("got %d operations, want 1000", got)
	}
}

// BenchmarkParseComponent: parse + validate a typical component.
func BenchmarkParseComponent(b *testing.B) {
	data, err := os.ReadFile("../examples/train.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("train.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDAG1000: parse + validate a 1,000-operation dag.
func BenchmarkParseDAG1000(b *testing.B) {
	data := bigDAG(1000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("big.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
