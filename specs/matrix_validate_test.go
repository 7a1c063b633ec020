package specs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateMatrix(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"grid": {src: vtMatrix("  kind: grid", "  numRuns: 10", "  concurrency: 2", "  params:",
			"    act: {kind: choice, value: [relu, tanh]}", "    n: {kind: range, value: [1, 10, 2]}",
			"    lr: {kind: linspace, value: 0.001:0.1:5}", "    l: {kind: logspace, value: [0, 3, 4]}",
			"    g: {kind: geomspace, value: [1, 1000, 4]}", "    d: {kind: daterange, value: ['2020-01-01', '2020-01-10', 2]}")},
		"random": {src: vtMatrix("  kind: random", "  numRuns: 20", "  seed: 1", "  params:",
			"    lr: {kind: loguniform, value: [0.0001, 0.1]}", "    m: {kind: normal, value: [0, 1]}",
			"    p: {kind: pchoice, value: [[a, 0.3], [b, 0.7]]}")},
		"bayes": {src: vtMatrix("  kind: bayes", "  numInitialRuns: 5", "  maxIterations: 10",
			"  metric: {name: loss, optimization: Minimize}",
			"  utilityFunction: {acquisitionFunction: UCB, kappa: 1.2, gaussianProcess: {kernel: matern, nu: 2.5}}",
			"  params:", "    lr: {kind: uniform, value: [0, 1]}", "    n: {kind: choice, value: [1, 2]}", "    r: {kind: range, value: [1, 5, 1]}")},
		"bayes ei": {src: vtMatrix("  kind: bayes", "  numInitialRuns: 5", "  metric: {name: acc, optimization: MAXIMIZE}",
			"  utilityFunction: {acquisitionFunction: ei, eps: 0.1}", "  params: {lr: {kind: uniform, value: '0:1'}}")},
		"hyperopt": {src: vtMatrix("  kind: hyperopt", "  numRuns: 10", "  algorithm: tpe", "  metric: {name: loss, optimization: minimize}",
			"  params: {lr: {kind: qnormal, value: [0, 1, 0.1]}}")},
		"hyperband": {src: vtMatrix("  kind: hyperband", "  maxIterations: 81", "  eta: 3", "  resource: {name: epochs, type: int}",
			"  metric: {name: loss, optimization: minimize}", "  resume: false", "  tuner: {hubRef: acme/hyperband}",
			"  params: {lr: {kind: uniform, value: [0, 1]}}")},
		"iterative": {src: vtMatrix("  kind: iterative", "  maxIterations: 5", "  tuner: {hubRef: my-tuner}",
			"  params: {lr: {kind: choice, value: [1, 2]}}")},
		"mapping":          {src: vtMatrix("  kind: mapping", "  values: [{lr: 0.1, n: 1}, {lr: 0.2, n: 2}]")},
		"mapping template": {src: vtMatrix("  kind: mapping", `  values: "{{ sweep }}"`)},
		"grid without params": {
			src:  vtMatrix("  kind: grid"),
			want: []vtErr{{"matrix.params", "`params` is required", 5}},
		},
		"grid rejects a distribution": {
			src: vtMatrix("  kind: grid", "  params:", "    lr: {kind: uniform, value: [0, 1]}", "    p: {kind: pchoice, value: [[a, 0.5]]}"),
			want: []vtErr{
				{"matrix.params.lr.kind", "uniform defines a distribution, and it cannot be used with grid search", 7},
				{"matrix.params.p.kind", "pchoice defines a distribution", 8},
			},
		},
		"grid numRuns 0": {
			src:  vtMatrix("  kind: grid", "  numRuns: 0", "  params: {a: {kind: choice, value: [1]}}"),
			want: []vtErr{{"matrix.numRuns", "must be at least 1, got 0", 6}},
		},
		"random without numRuns": {
			src:  vtMatrix("  kind: random", "  params: {a: {kind: choice, value: [1]}}"),
			want: []vtErr{{"matrix.numRuns", "`numRuns` is required", 5}},
		},
		"random numRuns not a number is one error": {
			src:  vtMatrix("  kind: random", "  numRuns: many", "  params: {a: {kind: choice, value: [1]}}"),
			want: []vtErr{{"matrix.numRuns", `expected an integer, got "many"`, 6}},
		},
		"bayes needs numInitialRuns and metric": {
			src: vtMatrix("  kind: bayes", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{
				{"matrix.numInitialRuns", "`numInitialRuns` is required", 5},
				{"matrix.metric", "`metric` is required", 5},
			},
		},
		"bayes rejects non-uniform distributions": {
			src: vtMatrix("  kind: bayes", "  numInitialRuns: 2", "  metric: {name: loss}", "  params:",
				"    a: {kind: normal, value: [0, 1]}", "    b: {kind: loguniform, value: [1, 2]}", "    c: {kind: pchoice, value: [[x, 0.5]]}"),
			want: []vtErr{
				{"matrix.params.a.kind", "normal defines a non uniform distribution, and it cannot be used with bayesian optimization", 9},
				{"matrix.params.b.kind", "loguniform defines a non uniform distribution", 10},
				{"matrix.params.c.kind", "pchoice defines a non uniform distribution", 11},
			},
		},
		"bayes ucb needs kappa": {
			src:  vtMatrix("  kind: bayes", "  numInitialRuns: 2", "  metric: {name: loss}", "  utilityFunction: {numWarmup: 2}", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{{"matrix.utilityFunction.kappa", "the ucb acquisition function needs kappa", 8}},
		},
		"bayes poi needs eps": {
			src:  vtMatrix("  kind: bayes", "  numInitialRuns: 2", "  metric: {name: loss}", "  utilityFunction: {acquisitionFunction: poi}", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{{"matrix.utilityFunction.eps", "the poi acquisition function needs eps", 8}},
		},
		"bayes acquisition function and kernel": {
			src: vtMatrix("  kind: bayes", "  numInitialRuns: 2", "  metric: {name: loss}", "  utilityFunction:",
				"    acquisitionFunction: foo", "    gaussianProcess: {kernel: poly}", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{
				{"matrix.utilityFunction.acquisitionFunction", `unsupported value "foo": must be one of "ucb", "ei", "poi"`, 9},
				{"matrix.utilityFunction.gaussianProcess.kernel", `unsupported value "poly": must be one of "rbf", "matern"`, 10},
			},
		},
		"bayes numIterations is now maxIterations": {
			src:  vtMatrix("  kind: bayes", "  numInitialRuns: 2", "  numIterations: 5", "  metric: {name: loss}", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{{"matrix.numIterations", `unknown field "numIterations"`, 7}},
		},
		"metric optimization enum": {
			src:  vtMatrix("  kind: hyperopt", "  numRuns: 2", "  metric: {name: loss, optimization: lower}", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{{"matrix.metric.optimization", `unsupported value "lower": must be one of "maximize", "minimize"`, 7}},
		},
		"hyperopt needs numRuns and metric; algorithm enum": {
			src: vtMatrix("  kind: hyperopt", "  algorithm: bayes", "  params: {lr: {kind: uniform, value: [0, 1]}}"),
			want: []vtErr{
				{"matrix.numRuns", "`numRuns` is required", 5},
				{"matrix.metric", "`metric` is required", 5},
				{"matrix.algorithm", `unsupported value "bayes": must be one of "tpe", "rand", "anneal"`, 6},
			},
		},
		"hyperband fields": {
			src: vtMatrix("  kind: hyperband", "  maxIterations: 0", "  eta: -1", "  resource: {type: str}",
				"  metric: {optimization: maximize}", "  tuner: {queue: q}"),
			want: []vtErr{
				{"matrix.maxIterations", "must be at least 1, got 0", 6},
				{"matrix.eta", "eta must not be negative", 7},
				{"matrix.resource.name", "`name` is required", 8},
				{"matrix.resource.type", `unsupported value "str": must be one of "int", "float"`, 8},
				{"matrix.metric.name", "`name` is required", 9},
				{"matrix.tuner.hubRef", "`hubRef` is required", 10},
			},
		},
		"iterative without maxIterations": {
			src:  vtMatrix("  kind: iterative", "  params: {lr: {kind: choice, value: [1]}}"),
			want: []vtErr{{"matrix.maxIterations", "`maxIterations` is required", 5}},
		},
		"iterative container was replaced by tuner": {
			src:  vtMatrix("  kind: iterative", "  maxIterations: 2", "  container: {image: a}"),
			want: []vtErr{{"matrix.container", `unknown field "container"`, 7}},
		},
		"mapping without values": {
			src:  vtMatrix("  kind: mapping", "  concurrency: 2"),
			want: []vtErr{{"matrix.values", "`values` is required", 5}},
		},
		"mapping with no values": {
			src:  vtMatrix("  kind: mapping", "  values: []"),
			want: []vtErr{{"matrix.values", "mapping needs values", 6}},
		},
		"mapping values not mappings": {
			src:  vtMatrix("  kind: mapping", "  values: [1, 2]"),
			want: []vtErr{{"matrix.values[0]", "expected a mapping", 6}, {"matrix.values[1]", "expected a mapping", 6}},
		},
		"concurrency 0": {
			src:  vtMatrix("  kind: mapping", "  concurrency: 0", "  values: [{a: 1}]"),
			want: []vtErr{{"matrix.concurrency", "must be at least 1, got 0", 6}},
		},
		"kind missing": {
			src:  vtMatrix("  params: {lr: {kind: choice, value: [1]}}"),
			want: []vtErr{{"matrix.kind", `a matrix needs a kind: "grid", "random", "hyperband", "bayes", "hyperopt", "iterative", "mapping"`, 5}},
		},
		"unknown kind": {
			src:  vtMatrix("  kind: sobol"),
			want: []vtErr{{"matrix.kind", `unsupported value "sobol"`, 5}},
		},
		"field of another kind": {
			src:  vtMatrix("  kind: grid", "  numInitialRuns: 2", "  params: {lr: {kind: choice, value: [1]}}"),
			want: []vtErr{{"matrix.numInitialRuns", `unknown field "numInitialRuns"`, 6}},
		},
	})
}

func TestValidateHyperParams(t *testing.T) {
	good := map[string]string{
		"choice":                  "{kind: choice, value: [1, a, true, null]}",
		"choice template":         `{kind: choice, value: "{{ choices }}"}`,
		"pchoice summing to 1":    "{kind: pchoice, value: [[a, 0.33], [b, 0.56], [c, 0.11]]}",
		"pchoice summing below 1": "{kind: pchoice, value: [[a, 0.2], [b, 0.3]]}",
		"range list":              "{kind: range, value: [0, 10, 2]}",
		"range dict":              "{kind: range, value: {start: 0, stop: 1, step: 0.1}}",
		"range quoted string":     `{kind: range, value: "1:10:2"}`,
		"range unquoted 1:10:2":   "{kind: range, value: 1:10:2}",
		"range numeric strings":   `{kind: range, value: ["1", "10", "2"]}`,
		"linspace":                "{kind: linspace, value: 0.1:1:5}",
		"logspace with base":      "{kind: logspace, value: [0, 3, 4, 2]}",
		"logspace string base":    `{kind: logspace, value: "0:3:4:2"}`,
		"geomspace negative":      "{kind: geomspace, value: [-1000, -1, 4]}",
		"uniform":                 "{kind: uniform, value: [0, 1]}",
		"uniform with size":       "{kind: uniform, value: [0, 1, 3]}",
		"quniform":                "{kind: quniform, value: {low: 0, high: 10, q: 2}}",
		"loguniform string":       `{kind: loguniform, value: "0.001:0.1"}`,
		"qloguniform with size":   "{kind: qloguniform, value: [1, 100, 1, 10]}",
		"normal":                  "{kind: normal, value: [0, 1]}",
		"qnormal":                 "{kind: qnormal, value: [0, 1, 0.5]}",
		"lognormal dict":          "{kind: lognormal, value: {loc: 0, scale: 1}}",
		"qlognormal":              "{kind: qlognormal, value: [0, 1, 1]}",
		"daterange":               "{kind: daterange, value: ['2020-01-01', '2020-02-01', 7]}",
		"daterange unquoted":      "{kind: daterange, value: {start: 2020-01-01, stop: 2020-02-01, step: 1}}",
		"datetimerange":           "{kind: datetimerange, value: ['2020-01-01T00:00:00Z', '2020-01-02 00:00:00', 3600]}",
	}
	cases := map[string]vtCase{}
	for name, spec := range good {
		cases[name] = vtCase{src: vtHyperParam(spec)}
	}
	bad := map[string]struct{ spec, path, msg string }{
		"uniform low = high":      {"{kind: uniform, value: [1, 1]}", "value", "uniform needs low < high (got low=1, high=1)"},
		"uniform low > high":      {"{kind: uniform, value: {low: 2, high: 1}}", "value", "uniform needs low < high (got low=2, high=1)"},
		"range with 4 values":     {"{kind: range, value: [1, 10, 2, 3]}", "value", "range takes 3 values [start, stop, step], got 4"},
		"range string of 2":       {`{kind: range, value: "1:10"}`, "value", "range takes 3 values"},
		"range start = stop":      {"{kind: range, value: [5, 5, 1]}", "value", "range needs start < stop"},
		"range step 0":            {"{kind: range, value: [0, 5, 0]}", "value", "range needs step > 0"},
		"range unknown key":       {"{kind: range, value: {start: 0, stop: 1, stp: 1}}", "value", `range has unknown key "stp"`},
		"pchoice sum above 1":     {"{kind: pchoice, value: [[x, 0.6], [y, 0.5]]}", "value", "pchoice probabilities must sum to at most 1, got 1.1"},
		"pchoice int probability": {"{kind: pchoice, value: [[relu, 1]]}", "value", `pchoice probability of "relu" must be a float`},
		"pchoice not pairs":       {"{kind: pchoice, value: [a, b]}", "value", "must be a [value, p] pair"},
		"choice not a list":       {"{kind: choice, value: 3}", "value", "choice takes a list of values, got a number"},
		"choice empty":            {"{kind: choice, value: []}", "value", "choice needs at least one value"},
		"linspace missing num":    {"{kind: linspace, value: {start: 0, stop: 1}}", "value", `linspace is missing key "num"`},
		"linspace num 0":          {"{kind: linspace, value: [0, 1, 0]}", "value", "linspace num must be a whole number of at least 1"},
		"geomspace through 0":     {"{kind: geomspace, value: [0, 10, 3]}", "value", "geomspace needs start and stop of the same sign"},
		"normal scale 0":          {"{kind: normal, value: [0, 0]}", "value", "normal needs scale > 0"},
		"quniform without q":      {"{kind: quniform, value: [0, 1]}", "value", "quniform takes 3 or 4 values"},
		"number not numeric":      {"{kind: uniform, value: [a, 1]}", "value", `uniform low must be a number, got "a"`},
		"daterange string":        {`{kind: daterange, value: "2020-01-01:2020-02-01:1"}`, "value", "daterange takes a list [start, stop, step] or a map {start, stop, step}, got a string"},
		"daterange not a date":    {"{kind: daterange, value: [monday, '2020-01-02', 1]}", "value", "daterange start must be an ISO date"},
		"kind in camelCase":       {"{kind: dateRange, value: [1, 2, 1]}", "kind", `unsupported value "dateRange"`},
		"kind capitalised":        {"{kind: Choice, value: [1]}", "kind", `unsupported value "Choice": must be one of "choice", "pchoice"`},
		"value missing":           {"{kind: range}", "value", "`value` is required"},
		"kind missing":            {"{value: [1]}", "kind", "`kind` is required"},
	}
	for name, b := range bad {
		cases[name] = vtCase{src: vtHyperParam(b.spec), want: []vtErr{{"matrix.params.p." + b.path, b.msg, 8}}}
	}
	vtRun(t, cases)
}

// TestValidateUnquotedRange checks the YAML trap of the reference: PyYAML
// reads an unquoted 1:10:2 as a base-60 integer; YAML 1.2 keeps the string,
// which is a valid range.
func TestValidateUnquotedRange(t *testing.T) {
	files, errs := vtParse(t, vtHyperParam("{kind: range, value: 1:10:2}"))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	hp, _ := files[0].Operation.Matrix.SearchSpace().Get("p")
	s, err := ParseSpace(hp.Kind, hp.Value)
	if err != nil {
		t.Fatalf("ParseSpace(%q, %#v): %v", hp.Kind, hp.Value, err)
	}
	got := []float64{s.Start, s.Stop, s.Step}
	if diff := cmp.Diff([]float64{1, 10, 2}, got); diff != "" {
		t.Errorf("range (-want +got):\n%s", diff)
	}
}

func TestValidateEarlyStopping(t *testing.T) {
	es := func(lines ...string) string {
		return vtMatrix(append([]string{"  kind: random", "  numRuns: 5", "  params: {a: {kind: choice, value: [1]}}", "  earlyStopping:"}, lines...)...)
	}
	vtRun(t, map[string]vtCase{
		"every kind and policy": {src: es(
			"  - {kind: metric_early_stopping, metric: loss, value: 0.1, optimization: MINIMIZE}",
			"  - {kind: metric_early_stopping, metric: acc, value: 0.9, optimization: maximize, policy: {kind: median, evaluationInterval: 2, minSamples: 3}}",
			"  - {kind: metric_early_stopping, metric: acc, value: 0.9, optimization: maximize, policy: {kind: truncation, percent: 20, evaluationInterval: 1}}",
			"  - {kind: metric_early_stopping, metric: acc, value: 0.9, optimization: maximize, policy: {kind: diff, percent: 5, evaluationInterval: 1}}",
			"  - {kind: failure_early_stopping, percent: 0.1}")},
		"optimization enum": {
			src:  es("  - {kind: metric_early_stopping, metric: loss, value: 0.1, optimization: lower}"),
			want: []vtErr{{"matrix.earlyStopping[0].optimization", `unsupported value "lower": must be one of "maximize", "minimize"`, 9}},
		},
		"metric fields required": {
			src: es("  - {kind: metric_early_stopping}"),
			want: []vtErr{
				{"matrix.earlyStopping[0].metric", "`metric` is required", 9},
				{"matrix.earlyStopping[0].value", "`value` is required", 9},
				{"matrix.earlyStopping[0].optimization", "`optimization` is required", 9},
			},
		},
		"percent above 100": {
			src:  es("  - {kind: failure_early_stopping, percent: 150}"),
			want: []vtErr{{"matrix.earlyStopping[0].percent", "percent is a percentage between 0 and 100", 9}},
		},
		"failure without percent": {
			src:  es("  - {kind: failure_early_stopping}"),
			want: []vtErr{{"matrix.earlyStopping[0].percent", "`percent` is required", 9}},
		},
		"a policy kind at the top level": {
			src:  es("  - {kind: median, evaluationInterval: 1}"),
			want: []vtErr{{"matrix.earlyStopping[0].kind", `unsupported value "median": must be one of "failure_early_stopping", "metric_early_stopping"`, 9}},
		},
		"kind missing": {
			src:  es("  - {metric: loss}"),
			want: []vtErr{{"matrix.earlyStopping[0].kind", "needs a kind", 9}},
		},
		"policy kind enum": {
			src: es("  - kind: metric_early_stopping", "    metric: loss", "    value: 1", "    optimization: minimize",
				"    policy: {kind: bandit}"),
			want: []vtErr{{"matrix.earlyStopping[0].policy.kind", `unsupported value "bandit": must be one of "diff", "median", "truncation"`, 13}},
		},
		"policy fields": {
			src: es("  - kind: metric_early_stopping", "    metric: loss", "    value: 1", "    optimization: minimize",
				"    policy: {kind: truncation, evaluationInterval: 0}"),
			want: []vtErr{
				{"matrix.earlyStopping[0].policy.percent", "`percent` is required", 13},
				{"matrix.earlyStopping[0].policy.evaluationInterval", "must be at least 1", 13},
			},
		},
		"median needs evaluationInterval": {
			src: es("  - kind: metric_early_stopping", "    metric: loss", "    value: 1", "    optimization: minimize",
				"    policy: {kind: median}"),
			want: []vtErr{{"matrix.earlyStopping[0].policy.evaluationInterval", "`evaluationInterval` is required", 13}},
		},
		"dag early stopping": {
			src:  vtDAG("  operations: [{name: a, hubRef: x}]", "  earlyStopping:", "  - {kind: failure_early_stopping, percent: -1}"),
			want: []vtErr{{"run.earlyStopping[0].percent", "percent is a percentage between 0 and 100", 7}},
		},
	})
}

// vtPipeline holds a producer (outputs name: str, loss: metric, count:
// int, ids: [int]) and a consumer (inputs n: int, x: int, f: float) as dag
// components, after the caller's operations (which start on line 6).
