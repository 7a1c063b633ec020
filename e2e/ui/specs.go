package ui

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The runs the browser looks at.

// diamondSpec is a dag whose right branch fails: its nodes end
// succeeded, failed and upstream_failed.
const diamondSpec = `version: 1.1
kind: operation
name: diamond
component:
  name: diamond
  run:
    kind: dag
    operations:
      - {name: prepare, dagRef: say, params: {word: {value: prepared}}}
      - {name: left, dagRef: say, dependencies: [prepare], params: {word: {value: left}}}
      - {name: right, dagRef: fail, dependencies: [prepare]}
      - {name: join, dagRef: say, dependencies: [left, right], params: {word: {value: joined}}}
    components:
      - name: say
        inputs: [{name: word, type: str}]
        run: {kind: job, container: {image: alpine, command: [sh, -c, 'echo "said {{ word }}"']}}
      - name: fail
        run: {kind: job, container: {image: alpine, command: [sh, -c, 'echo "no luck" >&2; exit 3']}}
`

// longSpec is a dag whose first operation runs for a minute: stopped
// from the page.
const longSpec = `version: 1.1
kind: operation
name: long-dag
component:
  name: long
  run:
    kind: dag
    operations:
      - {name: slow, dagRef: sleep}
      - {name: after, dagRef: sleep, dependencies: [slow]}
    components:
      - {name: sleep, run: {kind: job, container: {image: alpine, command: [sh, -c, 'echo sleeping; sleep 60']}}}
`

// approvalSpec waits for someone to approve it before it runs.
const approvalSpec = `version: 1.1
kind: component
name: needs-approval
isApproved: false
run: {kind: job, container: {image: alpine, command: [sh, -c, 'echo approved and ran']}}
`

// sweepSpec is a grid of 6 trials, each giving a loss from its params.
const sweepSpec = `version: 1.1
kind: operation
name: lr-grid
matrix:
  kind: grid
  concurrency: 3
  params:
    lr: {kind: choice, value: [0.01, 0.1, 0.3]}
    batch: {kind: choice, value: [16, 64]}
  earlyStopping:
    - {kind: metric_early_stopping, metric: loss, value: -1, optimization: minimize}
component:
  name: train
  inputs: [{name: lr, type: float}, {name: batch, type: int}]
  outputs: [{name: loss, type: float}]
  run:
    kind: job
    container:
      image: alpine
      command: [sh, -c, 'echo "{\"loss\": $(awk "BEGIN { print ({{ lr }} - 0.1) ^ 2 + 1 / {{ batch }} }")}" > "$PLEXUS_OUTPUTS_PATH"']
`

// scheduleSpec fires every 2 seconds, up to 100 times: its page shows the
// past fires and the coming ones.
const scheduleSpec = `version: 1.1
kind: operation
name: every-2s
schedule: {kind: interval, frequency: 2, maxRuns: 100}
component:
  name: tick
  run: {kind: job, container: {image: alpine, command: [sh, -c, 'echo tick']}}
`

// layeredSpec is a dag of n operations in layers of 100, each after 1 to
// 3 of the layer before, 2 at a time, each sleeping a minute: a large dag
// under way, most of it waiting.
func layeredSpec(n int) string {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1.1\nkind: operation\nname: layered-%d\ncomponent:\n  name: layered\n  run:\n    kind: dag\n    concurrency: 2\n    operations:\n", n)
	var prev []string
	for done, layer := 0, 0; done < n; layer++ {
		var cur []string
		for i := 0; i < 100 && done < n; i++ {
			name := fmt.Sprintf("l%d-%d", layer, i)
			fmt.Fprintf(&b, "      - {name: %s, dagRef: op", name)
			if len(prev) > 0 {
				k := min(1+rng.IntN(3), len(prev))
				var ups []string
				for _, j := range rng.Perm(len(prev))[:k] {
					ups = append(ups, prev[j])
				}
				fmt.Fprintf(&b, ", dependencies: [%s]", strings.Join(ups, ", "))
			}
			b.WriteString("}\n")
			cur = append(cur, name)
			done++
		}
		prev = cur
	}
	b.WriteString("    components:\n      - {name: op, cache: {disable: true}, run: {kind: job, container: {image: alpine, command: [sh, -c, 'sleep 60']}}}\n")
	return b.String()
}
