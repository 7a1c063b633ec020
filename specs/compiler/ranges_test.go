package compiler

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/corpus"
)

// hostileNumbers holds Polyaxonfiles whose numbers do not fit what they
// become, each with its verdict in its header.
const hostileNumbers = "../../testdata/hostile/numbers"

// The property test of this file finds every number a Polyaxonfile may
// write by reflection over the spec types (from specs.Operation down, with
// its inline component, every run kind, matrix, schedule, early stopping
// and policy), writes each one in turn into an otherwise valid operation
// with boundary values, and checks what check, compile and lowering make
// of it: a refusal names the field, and what is accepted reaches the
// Kubernetes objects unchanged (never wrapped) and, for seconds, fits a
// time.Duration.

type m = map[string]any

func job(image string) m { return m{"container": m{"image": image}} }

// rangeVariants are the concrete types of the spec's polymorphic sections,
// each with a valid value of its kind to write a number into.
var rangeVariants = map[reflect.Type][]struct {
	typ     reflect.Type
	fixture m
}{
	reflect.TypeFor[specs.Run](): {
		{reflect.TypeFor[specs.Job](), m{"kind": "job", "container": m{"image": "busybox"}}},
		{reflect.TypeFor[specs.Service](), m{"kind": "service", "ports": []any{8080}, "container": m{"image": "nginx"}}},
		{reflect.TypeFor[specs.DAG](), m{"kind": "dag", "operations": []any{m{"name": "a", "component": m{"run": job("busybox")}}}}},
		{reflect.TypeFor[specs.TFJob](), m{"kind": "tfjob", "worker": job("tf")}},
		{reflect.TypeFor[specs.PyTorchJob](), m{"kind": "pytorchjob", "master": job("torch")}},
		{reflect.TypeFor[specs.MPIJob](), m{"kind": "mpijob", "worker": job("mpi")}},
		{reflect.TypeFor[specs.MXJob](), m{"kind": "mxjob", "worker": job("mx")}},
		{reflect.TypeFor[specs.XGBoostJob](), m{"kind": "xgbjob", "master": job("xgb")}},
		{reflect.TypeFor[specs.PaddleJob](), m{"kind": "paddlejob", "master": job("paddle")}},
		{reflect.TypeFor[specs.Spark](), m{"kind": "spark", "driver": job("spark")}},
		{reflect.TypeFor[specs.Dask](), m{"kind": "dask", "container": m{"image": "dask"}}},
		{reflect.TypeFor[specs.Flink](), m{"kind": "flink", "spec": m{}}},
		{reflect.TypeFor[specs.Ray](), m{"kind": "ray", "spec": m{}}},
	},
	reflect.TypeFor[specs.Matrix](): {
		{reflect.TypeFor[specs.GridMatrix](), m{"kind": "grid", "params": m{"lr": m{"kind": "choice", "value": []any{0.1, 0.2}}}}},
		{reflect.TypeFor[specs.RandomMatrix](), m{"kind": "random", "numRuns": 2, "params": m{"lr": m{"kind": "choice", "value": []any{0.1, 0.2}}}}},
		{reflect.TypeFor[specs.HyperbandMatrix](), m{"kind": "hyperband", "maxIterations": 9, "eta": 3,
			"resource": m{"name": "epochs", "type": "int"}, "metric": m{"name": "loss", "optimization": "minimize"},
			"params": m{"lr": m{"kind": "choice", "value": []any{0.1, 0.2}}}}},
		{reflect.TypeFor[specs.BayesMatrix](), m{"kind": "bayes", "numInitialRuns": 2, "maxIterations": 2,
			"metric": m{"name": "loss", "optimization": "minimize"}, "params": m{"lr": m{"kind": "uniform", "value": m{"low": 0, "high": 1}}}}},
		{reflect.TypeFor[specs.HyperoptMatrix](), m{"kind": "hyperopt", "numRuns": 2,
			"metric": m{"name": "loss", "optimization": "minimize"}, "params": m{"lr": m{"kind": "choice", "value": []any{0.1, 0.2}}}}},
		{reflect.TypeFor[specs.IterativeMatrix](), m{"kind": "iterative", "maxIterations": 2, "tuner": m{"hubRef": "tuner"},
			"params": m{"lr": m{"kind": "choice", "value": []any{0.1, 0.2}}}}},
		{reflect.TypeFor[specs.MappingMatrix](), m{"kind": "mapping", "values": []any{m{"lr": 0.1}}}},
	},
	reflect.TypeFor[specs.Schedule](): {
		{reflect.TypeFor[specs.CronSchedule](), m{"kind": "cron", "cron": "0 0 * * *"}},
		{reflect.TypeFor[specs.IntervalSchedule](), m{"kind": "interval", "frequency": 60}},
		{reflect.TypeFor[specs.DateTimeSchedule](), m{"kind": "datetime", "startAt": "2026-01-01T00:00:00"}},
	},
	reflect.TypeFor[specs.EarlyStopping](): {
		{reflect.TypeFor[specs.MetricEarlyStopping](), m{"kind": "metric_early_stopping", "metric": "loss", "value": 0.1, "optimization": "minimize"}},
		{reflect.TypeFor[specs.FailureEarlyStopping](), m{"kind": "failure_early_stopping", "percent": 50}},
	},
	reflect.TypeFor[specs.StoppingPolicy](): {
		{reflect.TypeFor[specs.MedianStoppingPolicy](), m{"kind": "median", "evaluationInterval": 1}},
		{reflect.TypeFor[specs.TruncationStoppingPolicy](), m{"kind": "truncation", "percent": 10, "evaluationInterval": 1}},
		{reflect.TypeFor[specs.DiffStoppingPolicy](), m{"kind": "diff", "percent": 10, "evaluationInterval": 1}},
	},
}

// rangeFixtures are valid values of the structs that need more than the
// number written into them.
var rangeFixtures = map[reflect.Type]m{
	reflect.TypeFor[specs.DockerfileType](): {"image": "python:3"},
	reflect.TypeFor[specs.Join]():           {"query": "status: succeeded"},
	reflect.TypeFor[specs.Build]():          {"hubRef": "kaniko"},
	// ucb, the default acquisition function, needs kappa.
	reflect.TypeFor[specs.UtilityFunction](): {"acquisitionFunction": "ei", "eps": 0.1},
}

// rangeOperation is the operation every number is written into: a job
// with the inputs the matrices search over.
func rangeOperation() m {
	return m{"version": 1.1, "kind": "operation", "component": m{
		"inputs": []any{
			m{"name": "lr", "type": "float", "isOptional": true, "value": 0.1},
			m{"name": "epochs", "type": "int", "isOptional": true, "value": 1},
		},
		"run": m{"kind": "job", "container": m{"image": "busybox"}},
	}}
}

// A rangeStep goes from a value to one inside it: a struct field (key),
// the first item of a list (index), or a polymorphic section's concrete
// kind (variant, whose fixture replaces a value of another kind).
type rangeStep struct {
	key     string
	index   bool
	variant m
	into    reflect.Type // the struct stepped into, for its fixture
}

// A rangeSite is one number of the spec.
type rangeSite struct {
	path  specs.Path
	steps []rangeStep
	typ   reflect.Type // the field's type: specs.IntOrRef, or a Go number
	// owner names the Go field, `specs.Termination.MaxRetries`.
	owner string
}

func (s rangeSite) isFloat() bool {
	k := s.typ.Kind()
	return k == reflect.Float32 || k == reflect.Float64
}

// rangeSites walks the spec types from t and returns every number.
func rangeSites(t reflect.Type) []rangeSite {
	var out []rangeSite
	var walk func(t reflect.Type, p specs.Path, steps []rangeStep, owner string, on []reflect.Type)
	walk = func(t reflect.Type, p specs.Path, steps []rangeStep, owner string, on []reflect.Type) {
		if t == reflect.TypeFor[specs.IntOrRef]() {
			out = append(out, rangeSite{path: p, steps: slices.Clone(steps), typ: t, owner: owner})
			return
		}
		if strings.HasPrefix(t.Name(), "ListOrRef[") {
			f, _ := t.FieldByName("Items")
			walk(f.Type, p, steps, owner, on)
			return
		}
		switch t.Kind() {
		case reflect.Pointer:
			walk(t.Elem(), p, steps, owner, on)
		case reflect.Slice:
			walk(t.Elem(), p.Index(0), append(slices.Clone(steps), rangeStep{index: true, into: t.Elem()}), owner, on)
		case reflect.Map:
			walk(t.Elem(), p.Key("k"), append(slices.Clone(steps), rangeStep{key: "k", into: t.Elem()}), owner, on)
		case reflect.Interface:
			for _, v := range rangeVariants[t] {
				walk(v.typ, p, append(slices.Clone(steps), rangeStep{variant: v.fixture, into: v.typ}), owner, on)
			}
		case reflect.Struct:
			if !strings.HasPrefix(t.PkgPath(), "github.com/plexus-ml/plexus/") || slices.Contains(on, t) {
				return // Kubernetes types are decoded into their own Go numbers; a dag's operations are operations
			}
			on = append(slices.Clone(on), t)
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "-" {
					continue
				}
				fo := t.Name() + "." + f.Name
				if (f.Anonymous && name == "") || opts == "inline" {
					walk(f.Type, p, steps, fo, on)
					continue
				}
				if name == "" {
					name = f.Name
				}
				walk(f.Type, p.Child(name), append(slices.Clone(steps), rangeStep{key: name, into: f.Type}), fo, on)
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			out = append(out, rangeSite{path: p, steps: slices.Clone(steps), typ: t, owner: owner})
		}
	}
	walk(t, "", nil, "", nil)
	return out
}

// structOf is the struct a step's type holds, through pointers, lists and
// maps.
func structOf(t reflect.Type) reflect.Type {
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map) {
		t = t.Elem()
	}
	return t
}

// copyDoc copies a document made of maps, lists and scalars.
func copyDoc(v any) any {
	switch x := v.(type) {
	case m:
		out := m{}
		for k, e := range x {
			out[k] = copyDoc(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyDoc(e)
		}
		return out
	}
	return v
}

// fixtureOf is a valid empty value of the struct t (through pointers).
func fixtureOf(t reflect.Type) any {
	if f, ok := rangeFixtures[structOf(t)]; ok {
		return copyDoc(f)
	}
	return m{}
}

// set writes leaf at the end of steps into cur, a copy of the document.
func set(cur any, steps []rangeStep, leaf any) any {
	if len(steps) == 0 {
		return leaf
	}
	s := steps[0]
	switch {
	case s.variant != nil:
		if c, ok := cur.(m); !ok || c["kind"] != s.variant["kind"] {
			cur = copyDoc(s.variant)
		}
		return set(cur, steps[1:], leaf)
	case s.index:
		item := fixtureOf(s.into)
		if l, ok := cur.([]any); ok && len(l) > 0 {
			item = l[0]
		}
		return []any{set(item, steps[1:], leaf)}
	default:
		c, ok := cur.(m)
		if !ok {
			c = m{}
		}
		child, ok := c[s.key]
		if !ok && len(steps) > 1 {
			child = fixtureOf(s.into)
		}
		c[s.key] = set(child, steps[1:], leaf)
		return c
	}
}

// rangeOutcome is what check, compile and lowering made of a document.
type rangeOutcome struct {
	stage  string // "check", "compile", "lower", or "" when all passed
	errs   specs.ErrorList
	err    error
	file   *specs.File
	objs   *Objects
	lowers bool // the run was lowered (not a pipeline or a kind lowering leaves out)
}

func (o rangeOutcome) names(p specs.Path) bool {
	for _, e := range o.errs {
		if e.Path == p || e.Path == specs.Path(strings.TrimPrefix(string(p), "component.")) {
			return true
		}
	}
	return false
}

func (o rangeOutcome) String() string {
	if o.stage == "" {
		return "accepted"
	}
	return fmt.Sprintf("refused at %s: %v", o.stage, o.err)
}

// stubJoins finds no runs.
type stubJoins struct{}

func (stubJoins) ResolveJoin(JoinQuery) ([]JoinedRun, error) { return nil, nil }

// loweredKinds are the run kinds Lower turns into objects.
var loweredKinds = []specs.RunKind{specs.RunJob, specs.RunNotifier, specs.RunCleaner, specs.RunTuner, specs.RunService,
	specs.RunTFJob, specs.RunPyTorchJob, specs.RunMPIJob, specs.RunMXJob, specs.RunXGBoostJob, specs.RunPaddleJob}

// checkCompileLower does what `plexus check` then `plexus compile` do with
// a document.
func checkCompileLower(t *testing.T, doc m) rangeOutcome {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	files, err := specs.Parse("range.yaml", data)
	if err != nil {
		var errs specs.ErrorList
		if !errors.As(err, &errs) {
			t.Fatalf("Parse: %v", err)
		}
		return rangeOutcome{stage: "check", errs: errs, err: err}
	}
	f := files[0]
	out := rangeOutcome{file: f}
	fail := func(stage string, err error) rangeOutcome {
		out.stage, out.err = stage, err
		if ce := (*CompilationError)(nil); errors.As(err, &ce) {
			out.errs = ce.Errors
		}
		return out
	}
	c, err := Compile(f.Operation, f.Operation.Component, Options{Run: testRun, Connections: testConnections, Joins: stubJoins{}})
	if err != nil {
		return fail("compile", err)
	}
	if isPipeline(c.Operation, c.Component) || !slices.Contains(loweredKinds, c.Component.Run.RunKind()) {
		return out
	}
	out.lowers = true
	if out.objs, err = Lower(c, testRun, LowerOptions{Attempt: 1}); err != nil {
		return fail("lower", err)
	}
	return out
}

// loweredAs returns the value the Kubernetes objects hold for the number
// at p (a path in the component), whether they hold one, and whether
// Kubernetes allows it to be negative (a pod's priority).
func loweredAs(objs *Objects, p string) (v int64, found, signed bool) {
	custom := func(fields ...string) (int64, bool) {
		if objs.Custom == nil {
			return 0, false
		}
		n, ok, _ := unstructured.NestedFieldNoCopy(objs.Custom.Object, fields...)
		i, isInt := n.(int64)
		return i, ok && isInt
	}
	deref32 := func(n *int32) (int64, bool) {
		if n == nil {
			return 0, false
		}
		return int64(*n), true
	}
	deref64 := func(n *int64) (int64, bool) {
		if n == nil {
			return 0, false
		}
		return *n, true
	}
	role := func() (string, string, bool) {
		parts := strings.Split(p, ".")
		if len(parts) < 3 || parts[0] != "run" || objs.Custom == nil {
			return "", "", false
		}
		kind, _, _ := unstructured.NestedString(objs.Custom.Object, "kind")
		for _, kf := range kubeflowKinds {
			if kf.kind == kind {
				return kf.specsKey, roleName(parts[1]), true
			}
		}
		return "", "", false
	}
	switch {
	case p == "termination.maxRetries":
		if objs.Job != nil {
			v, found = deref32(objs.Job.Spec.BackoffLimit)
			return v, found, false
		}
		v, found = custom("spec", "runPolicy", "backoffLimit")
	case p == "termination.ttl":
		if objs.Job != nil {
			v, found = deref32(objs.Job.Spec.TTLSecondsAfterFinished)
			return v, found, false
		}
		v, found = custom("spec", "runPolicy", "ttlSecondsAfterFinished")
	case p == "termination.timeout":
		switch {
		case objs.Job != nil:
			v, found = deref64(objs.Job.Spec.ActiveDeadlineSeconds)
		case objs.Deployment != nil:
			v, found = deref64(objs.Deployment.Spec.Template.Spec.ActiveDeadlineSeconds)
		default:
			v, found = custom("spec", "runPolicy", "activeDeadlineSeconds")
		}
	case p == "run.replicas" && objs.Deployment != nil:
		v, found = deref32(objs.Deployment.Spec.Replicas)
	case p == "run.ports[0]" && objs.Service != nil && len(objs.Service.Spec.Ports) > 0:
		port := objs.Service.Spec.Ports[0]
		if port.TargetPort.IntVal != port.Port {
			return -1, true, false // a port and its target disagree: never equal to the input
		}
		v, found = int64(port.Port), true
	case p == "run.environment.priority":
		switch {
		case objs.Job != nil:
			v, found = deref32(objs.Job.Spec.Template.Spec.Priority)
		case objs.Deployment != nil:
			v, found = deref32(objs.Deployment.Spec.Template.Spec.Priority)
		}
		return v, found, true
	case p == "run.schedulingPolicy.minAvailable":
		v, found = custom("spec", "runPolicy", "schedulingPolicy", "minAvailable")
	case p == "run.slotsPerWorker":
		v, found = custom("spec", "slotsPerWorker")
	case strings.HasSuffix(p, ".environment.priority"):
		if key, r, ok := role(); ok {
			v, found = custom("spec", key, r, "template", "spec", "priority")
		}
		return v, found, true
	case strings.HasSuffix(p, ".replicas"):
		if key, r, ok := role(); ok {
			v, found = custom("spec", key, r, "replicas")
		}
	}
	return v, found, false
}

// durationFields are the numbers of seconds something turns into a
// time.Duration (paths in the component or operation).
var durationFields = []string{"termination.timeout", "cache.ttl", "build.cache.ttl", "schedule.frequency",
	"plugins.sidecar.sleepInterval", "plugins.sidecar.syncInterval"}

// fitsDuration reports whether n seconds make a time.Duration exactly.
func fitsDuration(n int64) bool {
	d := time.Duration(n) * time.Second
	return d/time.Second == time.Duration(n) && (n < 0) == (d < 0)
}

// The boundary values written into every number: around int32, uint32
// and int64, negative, a time.Duration's most seconds and one more, the
// tester's 18446744074 seconds, beyond int64, and huge floats.
var (
	intBoundaries = []string{"0", "-1", "2147483647", "2147483648", "4294967295", "9223372036", "9223372037",
		"18446744074", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e300"}
	floatBoundaries = []string{"0", "-1", "1e308", "-1e308", "9223372036854775807", "4294967295.5"}
)

// saneValue is a value each number is valid with, to show its document
// is accepted but for the number.
func saneValue(s rangeSite) json.Number {
	switch {
	case s.path == "version":
		return "1.1"
	case strings.HasSuffix(string(s.path), "ports[0]") || strings.HasSuffix(string(s.path), ".port"):
		return "8080"
	case s.isFloat():
		return "0.5"
	}
	return "2"
}

// TestNumbersInRangeProperty: every number of the spec, set to each
// boundary value, is refused with an error naming it, or reaches the
// Kubernetes objects unchanged and not negative, and as seconds fits a
// time.Duration.
func TestNumbersInRangeProperty(t *testing.T) {
	sites := rangeSites(reflect.TypeFor[specs.Operation]())
	if len(sites) < 60 {
		t.Fatalf("found only %d numbers in the spec types", len(sites))
	}
	loweredChecked := map[string]int{}
	refused := map[string]int{}
	for _, s := range sites {
		t.Run(string(s.path), func(t *testing.T) {
			compPath := strings.TrimPrefix(string(s.path), "component.")
			sane := checkCompileLower(t, set(rangeOperation(), s.steps, saneValue(s)).(m))
			if sane.stage == "check" {
				t.Fatalf("the document for %s (%s) is refused with a valid number: %v", s.path, s.owner, sane.err)
			}
			values := intBoundaries
			if s.isFloat() {
				values = floatBoundaries
			}
			for _, v := range append([]string{string(saneValue(s))}, values...) {
				got := checkCompileLower(t, set(rangeOperation(), s.steps, json.Number(v)).(m))
				if got.stage != "" && got.stage != sane.stage {
					// Refused where the valid number went further: the
					// number is what is wrong, and the error must say so.
					if !got.names(s.path) {
						t.Errorf("%s = %s: %s; no error names %s", s.path, v, got, s.path)
					}
					refused[string(s.path)]++
					continue
				}
				if got.stage != "" && got.err.Error() != sane.err.Error() && !got.names(s.path) {
					t.Errorf("%s = %s: %s\nwith a valid number: %s", s.path, v, got, sane)
				}
				n, isInt := parseInt64(v)
				if slices.Contains(durationFields, compPath) && (!isInt || n < 0 || !fitsDuration(n)) {
					t.Errorf("%s = %s is accepted, and %s seconds do not fit a time.Duration", s.path, v, v)
				}
				if got.objs == nil {
					continue
				}
				lowered, found, signed := loweredAs(got.objs, compPath)
				if !found {
					continue
				}
				loweredChecked[compPath]++
				if !isInt || lowered != n || (lowered < 0 && !signed) {
					t.Errorf("%s = %s is lowered as %d", s.path, v, lowered)
				}
			}
		})
	}
	// Each number Lower writes into a Kubernetes field was seen there.
	for _, p := range []string{"termination.maxRetries", "termination.ttl", "termination.timeout", "run.replicas",
		"run.ports[0]", "run.environment.priority", "run.worker.replicas", "run.master.replicas",
		"run.schedulingPolicy.minAvailable", "run.slotsPerWorker"} {
		if loweredChecked[p] == 0 {
			t.Errorf("%s never reached the Kubernetes objects", p)
		}
	}
	// The reported cases are refused.
	for _, p := range []string{"component.termination.maxRetries", "component.termination.ttl", "component.termination.timeout",
		"termination.maxRetries", "cache.ttl", "schedule.frequency", "component.run.replicas", "component.run.ports[0]"} {
		if refused[p] == 0 {
			t.Errorf("no value of %s was refused", p)
		}
	}
	if t.Failed() {
		var names []string
		for _, s := range sites {
			names = append(names, fmt.Sprintf("%s (%s)", s.path, s.owner))
		}
		sort.Strings(names)
		t.Logf("the numbers of the spec:\n%s", strings.Join(names, "\n"))
	}
}

// parseInt64 reads a boundary value as a whole number, when it is one.
func parseInt64(s string) (int64, bool) {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s {
		return 0, false
	}
	return n, true
}

// TestRangeVariantsComplete: the property test writes into every run kind
// and matrix kind there is.
func TestRangeVariantsComplete(t *testing.T) {
	have := map[string]bool{}
	for _, vs := range rangeVariants {
		for _, v := range vs {
			have[v.fixture["kind"].(string)] = true
		}
	}
	for _, k := range specs.RunKinds {
		switch k {
		case specs.RunNotifier, specs.RunCleaner, specs.RunTuner:
			continue // jobs
		}
		if !have[string(k)] {
			t.Errorf("run kind %s has no variant", k)
		}
	}
	for _, k := range specs.MatrixKinds {
		if !have[string(k)] {
			t.Errorf("matrix kind %s has no variant", k)
		}
	}
	// Each variant's fixture is of its type.
	for iface, vs := range rangeVariants {
		for _, v := range vs {
			if !reflect.PointerTo(v.typ).Implements(iface) {
				t.Errorf("%s does not implement %s", v.typ, iface)
			}
		}
	}
}

// TestLowerRefusesRenderedNumbers: a number a template renders out of
// range is refused when lowering, with its path, for every kind of object.
func TestLowerRefusesRenderedNumbers(t *testing.T) {
	cases := map[string]struct {
		run    string
		field  string // the templated field, under termination or run
		value  string
		path   string
		detail string
	}{
		"job maxRetries uint32": {"{kind: job, container: {image: a}}", "termination: {maxRetries: \"{{ n }}\"}", "4294967295",
			"termination.maxRetries", "must be at most 2147483647 (backoffLimit is int32), got 4294967295"},
		"job ttl int64": {"{kind: job, container: {image: a}}", "termination: {ttl: \"{{ n }}\"}", "9223372036854775807",
			"termination.ttl", "must be at most 2147483647 (ttlSecondsAfterFinished is int32), got 9223372036854775807"},
		"job timeout wraps a duration": {"{kind: job, container: {image: a}}", "termination: {timeout: \"{{ n }}\"}", "18446744074",
			"termination.timeout", "must be at most 9223372036 (the most seconds a time.Duration holds), got 18446744074"},
		"job negative timeout": {"{kind: job, container: {image: a}}", "termination: {timeout: \"{{ n }}\"}", "-1",
			"termination.timeout", "must not be negative, got -1"},
		"service timeout": {"{kind: service, ports: [80], container: {image: a}}", "termination: {timeout: \"{{ n }}\"}", "-3",
			"termination.timeout", "must not be negative, got -3"},
		"service replicas": {"{kind: service, ports: [80], replicas: \"{{ n }}\", container: {image: a}}", "", "2147483648",
			"run.replicas", "must be at most 2147483647 (replicas is int32), got 2147483648"},
		"service negative replicas": {"{kind: service, ports: [80], replicas: \"{{ n }}\", container: {image: a}}", "", "-1",
			"run.replicas", "must not be negative, got -1"},
		"tfjob maxRetries": {"{kind: tfjob, worker: {container: {image: a}}}", "termination: {maxRetries: \"{{ n }}\"}", "2147483648",
			"termination.maxRetries", "must be at most 2147483647 (backoffLimit is int32), got 2147483648"},
		"tfjob ttl": {"{kind: tfjob, worker: {container: {image: a}}}", "termination: {ttl: \"{{ n }}\"}", "-7",
			"termination.ttl", "must not be negative, got -7"},
		"tfjob timeout": {"{kind: tfjob, worker: {container: {image: a}}}", "termination: {timeout: \"{{ n }}\"}", "9223372037",
			"termination.timeout", "must be at most 9223372036 (the most seconds a time.Duration holds), got 9223372037"},
		"pytorchjob replicas": {"{kind: pytorchjob, master: {replicas: \"{{ n }}\", container: {image: a}}}", "", "4294967296",
			"run.master.replicas", "must be at most 2147483647 (replicas is int32), got 4294967296"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := "version: 1.1\nkind: component\ninputs: [{name: n, type: int}]\nrun: " + tc.run + "\n" + tc.field + "\n"
			files, err := specs.Parse("rendered.yaml", []byte(src))
			if err != nil {
				t.Fatalf("check refuses what only compiling can see: %v", err)
			}
			c, err := Compile(&specs.Operation{}, files[0].Component, Options{Run: testRun,
				Params: map[string]specs.Param{"n": {Value: tc.value}}})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			objs, err := Lower(c, testRun, LowerOptions{Attempt: 1})
			var ce *CompilationError
			if !errors.As(err, &ce) || ce.Stage != StageLower {
				t.Fatalf("Lower = %v, %v; want a lowering error (objects: %v)", objs, err, objs != nil)
			}
			want := string(StageLower) + ": " + tc.path + ": " + tc.detail
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("Lower: %v\nwant it to say %q", err, want)
			}
		})
	}
}

// TestHostileNumbersCompile compiles and lowers the files of
// testdata/hostile/numbers that check accepts: a file refused on purpose
// fails with what its header says; the others reach the Kubernetes objects
// with every bounded number as written.
func TestHostileNumbersCompile(t *testing.T) {
	cases, err := corpus.Load(hostileNumbers)
	if err != nil {
		t.Fatal(err)
	}
	compiled := 0
	for _, c := range cases {
		if !c.Accepted() {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			files, err := specs.Parse(c.Path, data)
			if err != nil {
				t.Fatal(err)
			}
			comp := files[0].Component
			cc, err := Compile(&specs.Operation{}, comp, Options{Run: testRun, Params: corpusParams(c)})
			var objs *Objects
			if err == nil {
				objs, err = Lower(cc, testRun, LowerOptions{Attempt: 1})
			}
			if c.CompileReject != "" {
				if err == nil || !strings.Contains(err.Error(), c.CompileReject) {
					t.Fatalf("got %v, want an error saying %s", err, c.CompileReject)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			compiled++
			for _, p := range []string{"termination.maxRetries", "termination.ttl", "termination.timeout"} {
				v, found, _ := loweredAs(objs, p)
				var want int
				switch p {
				case "termination.maxRetries":
					want = comp.Termination.MaxRetries.Value
				case "termination.ttl":
					want = comp.Termination.TTL.Value
				default:
					want = comp.Termination.Timeout.Value
				}
				if !found || v != int64(want) {
					t.Errorf("%s = %d is lowered as %d (found %v)", p, want, v, found)
				}
			}
			if got := specs.Seconds(comp.Cache.TTL.Value); got != time.Duration(math.MaxInt64/int64(time.Second))*time.Second {
				t.Errorf("cache.ttl as a duration: %v", got)
			}
		})
	}
	if compiled == 0 {
		t.Fatal("no file of the hostile numbers was compiled to objects")
	}
}
