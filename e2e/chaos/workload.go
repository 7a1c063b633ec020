package chaos

import (
	"fmt"
	"strings"
	"time"
)

// Workload is what a chaos run submits before the faults begin.
type Workload struct {
	// Pipeline is the number of operations of the dag, in layers of
	// PipelineWidth, each operation depending on one of the layer before;
	// at most PipelineConcurrency run at once.
	Pipeline, PipelineWidth, PipelineConcurrency int
	// Singles are runs on their own, each with 2 retries; every third
	// fails each attempt (3 Jobs), the others succeed at once.
	Singles int
	// Sweep is a grid matrix of this many trials, 10 at once.
	Sweep int
	// Fires is the number of fires of an interval schedule, one every
	// FireEvery.
	Fires     int
	FireEvery time.Duration
	// PodTime is how long each pod runs (on kwok) before it ends.
	PodTime time.Duration
}

// pipelineSpec is the dag of the workload.
func (w Workload) pipelineSpec() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1.1\nkind: operation\nname: chaos-pipeline\ncomponent:\n  name: chaos-pipeline\n  run:\n    kind: dag\n    concurrency: %d\n    operations:\n", w.PipelineConcurrency)
	for i := range w.Pipeline {
		fmt.Fprintf(&b, "      - {name: op%d, dagRef: step, params: {i: {value: %d}}", i, i)
		if i >= w.PipelineWidth {
			fmt.Fprintf(&b, ", dependencies: [op%d]", (i/w.PipelineWidth-1)*w.PipelineWidth+(i*7)%w.PipelineWidth)
		}
		b.WriteString("}\n")
	}
	fmt.Fprintf(&b, "    components:\n      - name: step\n        inputs: [{name: i, type: int}]\n        cache: {disable: true}\n        run:\n          kind: job\n          environment: {annotations: {plexus.io/kwok-delay: %q}}\n          container: {image: trainer, command: [step, '{{ i }}']}\n", w.PodTime.String())
	return b.String()
}

// singleSpec is single run i: it fails every attempt when i%3 == 2.
func (w Workload) singleSpec(i int) string {
	ann := fmt.Sprintf("plexus.io/kwok-delay: %q", w.PodTime.String())
	if i%3 == 2 {
		ann += `, plexus.io/kwok-exit-code: "3"`
	}
	return fmt.Sprintf(`version: 1.1
kind: component
name: chaos-single
termination: {maxRetries: 2}
run:
  kind: job
  environment: {annotations: {%s}}
  container: {image: trainer, command: [train, "--run=%d"]}
`, ann, i)
}

// sweepSpec is the grid of Sweep trials.
func (w Workload) sweepSpec() string {
	return fmt.Sprintf(`version: 1.1
kind: operation
name: chaos-sweep
matrix:
  kind: grid
  concurrency: 10
  params:
    lr: {kind: range, value: [0, %d, 1]}
component:
  inputs: [{name: lr, type: int}]
  outputs: [{name: loss, type: float}]
  cache: {disable: true}
  run:
    kind: job
    environment: {annotations: {plexus.io/kwok-delay: %q, plexus.io/kwok-message: '{"loss": {{ lr }}.5}'}}
    container: {image: trainer, command: [train, "--lr={{ lr }}"]}
`, w.Sweep, w.PodTime.String())
}

// scheduleSpec is the interval schedule.
func (w Workload) scheduleSpec() string {
	return fmt.Sprintf(`version: 1.1
kind: operation
name: chaos-schedule
schedule: {kind: interval, frequency: %d, maxRuns: %d}
component:
  name: chaos-tick
  run:
    kind: job
    environment: {annotations: {plexus.io/kwok-delay: %q}}
    container: {image: trainer, command: [tick, "--at={{ globals.schedule_at }}"]}
`, int(w.FireEvery/time.Second), w.Fires, w.PodTime.String())
}

// subscriptionSpec starts a run for each final status of the runs ref
// names.
func subscriptionSpec(name, ref string) string {
	return fmt.Sprintf(`version: 1.1
kind: operation
name: %s
events:
  - kinds: [run_status_done]
    ref: %s
component:
  run:
    kind: job
    container: {image: trainer, command: [evaluate, "{{ event.uuid }}", "{{ event.status }}"]}
`, name, ref)
}
