package specs

import "testing"

func vtPipeline(ops ...string) string {
	lines := append([]string{"  operations:"}, ops...)
	lines = append(lines,
		"  components:",
		"  - name: producer",
		"    outputs: [{name: name, type: str}, {name: loss, type: metric}, {name: count, type: int}, {name: ids, type: int, isList: true}]",
		"    run: {container: {image: a}}",
		"  - name: consumer",
		"    inputs: [{name: n, type: int}, {name: x, type: int, isOptional: true, value: 0}, {name: f, type: float, isOptional: true, value: 0}]",
		"    run: {container: {image: a}}")
	return vtDAG(lines...)
}

func TestValidateDAG(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"pipeline": {src: vtPipeline(
			"  - {name: up, dagRef: producer}",
			"  - name: down",
			"    dagRef: consumer",
			"    trigger: all_done",
			"    params:",
			"      n: {ref: ops.up, value: outputs.count}",
			"      f: {ref: ops.up, value: outputs.loss}",
			"      x: {ref: dag, value: inputs.x, contextOnly: true}",
			"  - {name: last, hubRef: notifier, dependencies: [up, down]}")},
		"inline, hub and path operations": {src: vtDAG(
			"  concurrency: 2",
			"  operations:",
			"  - {name: a, component: {run: {container: {image: a}}}}",
			"  - {name: b, hubRef: kaniko, dependencies: [a]}",
			"  - {name: c, pathRef: ./c.yaml, dependencies: [a, b]}")},
		"no operations": {
			src:  vtDAG("  concurrency: 1"),
			want: []vtErr{{"run.operations", "a dag needs at least one operation", 4}},
		},
		"duplicate names": {
			src:  vtDAG("  operations:", "  - {name: a, hubRef: x}", "  - {name: a, hubRef: y}"),
			want: []vtErr{{"run.operations[1].name", `duplicate value "a": operations[0] has the same name`, 7}},
		},
		"operation without name": {
			src:  vtDAG("  operations:", "  - {hubRef: x}"),
			want: []vtErr{{"run.operations[0].name", "every operation of a dag needs a name", 6}},
		},
		"unknown dependency with a suggestion": {
			src:  vtDAG("  operations:", "  - {name: train, hubRef: x}", "  - {name: evaluate, hubRef: y, dependencies: [trian]}"),
			want: []vtErr{{"run.operations[1].dependencies[0]", `unknown operation "trian" (did you mean "train"?)`, 7}},
		},
		"dependency listed twice": {
			src:  vtDAG("  operations:", "  - {name: a, hubRef: x}", "  - {name: b, hubRef: y, dependencies: [a, a]}"),
			want: []vtErr{{"run.operations[1].dependencies[1]", "the dependency is listed twice", 7}},
		},
		"self-dependency is one error": {
			src:  vtDAG("  operations:", "  - {name: a, hubRef: x, dependencies: [a]}"),
			want: []vtErr{{"run.operations[0].dependencies[0]", `operation "a" depends on itself`, 6}},
		},
		"cycle": {
			src:  vtDAG("  operations:", "  - {name: a, hubRef: x, dependencies: [b]}", "  - {name: b, hubRef: y, dependencies: [a]}"),
			want: []vtErr{{"run.operations[0]", "the dag has a cycle: a -> b -> a", 6}},
		},
		"cycle of three through a param and an event": {
			src: vtDAG("  operations:",
				"  - {name: a, hubRef: x, dependencies: [c]}",
				"  - {name: b, hubRef: y, params: {p: {ref: ops.a, value: outputs.p}}}",
				"  - {name: c, hubRef: z, events: [{kinds: [run_status_done], ref: ops.b}]}"),
			want: []vtErr{{"run.operations[0]", "the dag has a cycle: a -> b -> c -> a", 6}},
		},
		"unknown dagRef": {
			src:  vtPipeline("  - {name: a, dagRef: produce}"),
			want: []vtErr{{"run.operations[0].dagRef", `the dag has no component named "produce" (did you mean "producer"?)`, 6}},
		},
		"duplicate component names": {
			src: vtDAG("  operations: [{name: a, dagRef: c}]", "  components:",
				"  - {name: c, run: {container: {image: a}}}", "  - {name: c, run: {container: {image: b}}}"),
			want: []vtErr{{"run.components[1].name", `duplicate value "c": the dag has two components with this name`, 8}},
		},
		"component without name": {
			src:  vtDAG("  operations: [{name: a, hubRef: x}]", "  components:", "  - {run: {container: {image: a}}}"),
			want: []vtErr{{"run.components[0].name", "a dag component needs a name, which dagRef uses", 7}},
		},
		"errors inside a dag component": {
			src:  vtDAG("  operations: [{name: a, dagRef: c}]", "  components:", "  - {name: c, run: {container: {image: a, imagePullPolicy: Often}}}"),
			want: []vtErr{{"run.components[0].run.container.imagePullPolicy", `unsupported value "Often"`, 7}},
		},
		"ref to an output the upstream does not declare": {
			src: vtPipeline("  - {name: up, dagRef: producer}",
				"  - {name: down, dagRef: consumer, params: {n: {ref: ops.up, value: outputs.missing}}}"),
			want: []vtErr{{"run.operations[1].params.n.value", `operation "up" has no output named "missing"`, 7}},
		},
		"ref str to int": {
			src: vtPipeline("  - {name: up, dagRef: producer}",
				"  - {name: down, dagRef: consumer, params: {n: {ref: ops.up, value: outputs.name}}}"),
			want: []vtErr{{"run.operations[1].params.n.value", `outputs.name of operation "up" is str, which cannot feed "n" (int)`, 7}},
		},
		"ref list to scalar": {
			src: vtPipeline("  - {name: up, dagRef: producer}",
				"  - {name: down, dagRef: consumer, params: {n: {ref: ops.up, value: outputs.ids}}}"),
			want: []vtErr{{"run.operations[1].params.n.value", "is a list of int, which cannot feed", 7}},
		},
		"ref metric to float and int to int": {src: vtPipeline("  - {name: up, dagRef: producer}",
			"  - {name: down, dagRef: consumer, params: {n: {ref: ops.up, value: '{{ outputs.count }}'}, f: {ref: ops.up, value: outputs.loss}}}")},
		"ref to an unknown operation": {
			src: vtPipeline("  - {name: up, dagRef: producer}",
				"  - {name: down, dagRef: consumer, params: {n: {ref: ops.upp, value: outputs.count}}}"),
			want: []vtErr{{"run.operations[1].params.n.ref", `unknown operation "upp" (did you mean "up"?)`, 7}},
		},
		"dag outputs": {
			src:  vtPipeline("  - {name: down, dagRef: consumer, params: {n: {ref: dag, value: outputs}}}"),
			want: []vtErr{{"run.operations[0].params.n.value", "the outputs of the current dag cannot be used", 6}},
		},
		"missing required input inside a dag": {
			src:  vtPipeline("  - {name: down, dagRef: consumer}"),
			want: []vtErr{{"run.operations[0].params.n", `input "n" is required`, 12}},
		},
		"unexpected param inside a dag": {
			src:  vtPipeline("  - {name: down, dagRef: consumer, params: {n: {value: 1}, nn: {value: 2}}}"),
			want: []vtErr{{"run.operations[0].params.nn", `unexpected param "nn"`, 6}},
		},
		"wrong type inside a dag": {
			src:  vtPipeline("  - {name: down, dagRef: consumer, params: {n: {value: '1.5'}}}"),
			want: []vtErr{{"run.operations[0].params.n.value", `"n" is int`, 6}},
		},
		"concurrency 0": {
			src:  vtDAG("  concurrency: 0", "  operations: [{name: a, hubRef: x}]"),
			want: []vtErr{{"run.concurrency", "must be at least 1, got 0", 5}},
		},
		"runPatch of a dag operation is checked against its component": {
			src:  vtDAG("  operations:", "  - name: a", "    component: {run: {container: {image: a}}}", "    runPatch: {ports: [80]}"),
			want: []vtErr{{"run.operations[0].runPatch.ports", `runPatch must fit the component's run kind "job"`, 8}},
		},
	})
}

func TestValidateJoins(t *testing.T) {
	joins := func(lines ...string) string {
		return vtOperation(append([]string{"hubRef: a", "joins:"}, lines...)...)
	}
	vtRun(t, map[string]vtCase{
		"join": {src: joins(
			"- query: 'metrics.loss:<0.01, kind: job'",
			"  sort: -metrics.accuracy",
			"  limit: 5000",
			"  offset: 10",
			"  params: {losses: {value: outputs.loss}, files: {value: {files: [model.bin]}}, ids: {value: globals.uuid}}")},
		"templated limit": {src: joins(`- {query: "kind: job", limit: "{{ n }}"}`)},
		"query missing": {
			src:  joins("- {sort: name}"),
			want: []vtErr{{"joins[0].query", "`query` is required", 5}},
		},
		"query empty": {
			src:  joins(`- {query: "  "}`),
			want: []vtErr{{"joins[0].query", "a join needs a query", 5}},
		},
		"limit above 5000": {
			src:  joins("- {query: 'kind: job', limit: 5001}"),
			want: []vtErr{{"joins[0].limit", "limit must be between 0 and 5000", 5}},
		},
		"negative offset": {
			src:  joins("- {query: 'kind: job', offset: -1}"),
			want: []vtErr{{"joins[0].offset", "offset must not be negative", 5}},
		},
		"join params take no ref": {
			src:  joins("- query: 'kind: job'", "  params: {x: {ref: ops.a, value: outputs.x}}"),
			want: []vtErr{{"joins[0].params.x.ref", "join params take no ref", 6}},
		},
		"join params are selectors": {
			src:  joins("- query: 'kind: job'", "  params: {x: {value: 3}}"),
			want: []vtErr{{"joins[0].params.x.value", "the value must be a selector string", 6}},
		},
		"second join": {
			src:  joins("- {query: a}", "- {query: b, limit: -1}"),
			want: []vtErr{{"joins[1].limit", "limit must be between 0 and 5000", 6}},
		},
	})
}
