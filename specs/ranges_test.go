package specs

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/specs/corpus"
)

// hostileNumbers holds Polyaxonfiles whose numbers do not fit what they
// become, each with its verdict in its header.
const hostileNumbers = "../testdata/hostile/numbers"

func TestBoundCheck(t *testing.T) {
	cases := map[string]struct {
		b    Bound
		v    int
		want string // "" for no error
	}{
		"zero":                 {BoundMaxRetries, 0, ""},
		"max int32":            {BoundMaxRetries, math.MaxInt32, ""},
		"max int32 + 1":        {BoundMaxRetries, math.MaxInt32 + 1, "must be at most 2147483647 (backoffLimit is int32), got 2147483648"},
		"max uint32":           {BoundMaxRetries, math.MaxUint32, "must be at most 2147483647 (backoffLimit is int32), got 4294967295"},
		"max int64":            {BoundTTL, math.MaxInt64, "must be at most 2147483647 (ttlSecondsAfterFinished is int32), got 9223372036854775807"},
		"negative":             {BoundTTL, -1, "must not be negative, got -1"},
		"min int64":            {BoundTimeout, math.MinInt64, "must not be negative, got -9223372036854775808"},
		"most seconds":         {BoundTimeout, int(MaxSeconds), ""},
		"one second too many":  {BoundTimeout, int(MaxSeconds) + 1, "must be at most 9223372036 (the most seconds a time.Duration holds), got 9223372037"},
		"frequency 0":          {BoundFrequency, 0, "must be at least 1, got 0"},
		"port 65536":           {BoundPort, 65536, "must be at most 65535 (a port is 16 bits), got 65536"},
		"slotsPerWorker 1":     {BoundSlotsPerWorker, 1, ""},
		"slotsPerWorker wraps": {BoundSlotsPerWorker, 1 << 32, "must be at most 2147483647 (slotsPerWorker is int32), got 4294967296"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := tc.b.Check("a.b", tc.v)
			switch {
			case tc.want == "" && e != nil:
				t.Fatalf("Check(%d) = %v, want no error", tc.v, e)
			case tc.want == "":
			case e == nil:
				t.Fatalf("Check(%d) = nil, want %q", tc.v, tc.want)
			case e.Path != "a.b" || e.Type != ErrInvalid || e.Message() != tc.want || e.BadValue != tc.v:
				t.Fatalf("Check(%d) = %#v, want a.b: Invalid value %d: %s", tc.v, e, tc.v, tc.want)
			}
		})
	}
}

// TestBoundsFitTheirFields: a bound that says int32 never lets a value
// through that an int32 does not hold, and a bound of seconds never one a
// time.Duration does not hold.
func TestBoundsFitTheirFields(t *testing.T) {
	for name, b := range map[string]Bound{
		"maxRetries": BoundMaxRetries, "ttl": BoundTTL, "replicas": BoundReplicas,
		"minAvailable": BoundMinAvailable, "slotsPerWorker": BoundSlotsPerWorker, "port": BoundPort,
	} {
		if !strings.Contains(b.Why, "int32") && !strings.Contains(b.Why, "16 bits") {
			t.Errorf("%s: Why = %q does not say the field's type", name, b.Why)
		}
		if b.Min < 0 || b.Max > math.MaxInt32 || int64(int32(b.Max)) != b.Max {
			t.Errorf("%s: %+v does not fit an int32 with no negative values", name, b)
		}
	}
	for name, b := range map[string]Bound{
		"timeout": BoundTimeout, "cache ttl": BoundCacheTTL, "frequency": BoundFrequency, "sidecar": BoundSidecarInterval,
	} {
		d := time.Duration(b.Max) * time.Second
		if b.Min < 0 || d <= 0 || d/time.Second != time.Duration(b.Max) {
			t.Errorf("%s: %d seconds overflow a time.Duration (%v)", name, b.Max, d)
		}
	}
}

func TestSeconds(t *testing.T) {
	cases := map[int]time.Duration{
		0:                    0,
		1:                    time.Second,
		-1:                   -time.Second,
		3600:                 time.Hour,
		int(MaxSeconds):      time.Duration(MaxSeconds) * time.Second,
		int(MaxSeconds) + 1:  math.MaxInt64,
		18446744074:          math.MaxInt64, // wraps to 0.3 s when multiplied
		math.MaxInt64:        math.MaxInt64,
		-int(MaxSeconds):     -time.Duration(MaxSeconds) * time.Second,
		-int(MaxSeconds) - 1: math.MinInt64,
		math.MinInt64:        math.MinInt64,
	}
	for n, want := range cases {
		if got := Seconds(n); got != want {
			t.Errorf("Seconds(%d) = %v, want %v", n, got, want)
		}
	}
	n := 18446744074
	if wrapped := time.Duration(n) * time.Second; wrapped > time.Second {
		t.Fatalf("the case this guards against no longer wraps: %v", wrapped)
	}
}

// TestNumbersInRange: each bounded field is accepted at its largest value
// and refused one past it, with its path, the bound and its line.
func TestNumbersInRange(t *testing.T) {
	const (
		i32  = "2147483647"
		i32p = "2147483648"
		secs = "9223372036"
		secp = "9223372037"
	)
	vtRun(t, map[string]vtCase{
		"termination at the limits": {src: vtComponent(
			"termination: {maxRetries: "+i32+", ttl: "+i32+", timeout: "+secs+"}", vtJob)},
		"termination one past": {
			src: vtComponent("termination:", "  maxRetries: "+i32p, "  ttl: 4294967295", "  timeout: "+secp, vtJob),
			want: []vtErr{
				{"termination.maxRetries", "must be at most 2147483647 (backoffLimit is int32), got 2147483648", 4},
				{"termination.ttl", "must be at most 2147483647 (ttlSecondsAfterFinished is int32), got 4294967295", 5},
				{"termination.timeout", "must be at most 9223372036 (the most seconds a time.Duration holds), got 9223372037", 6},
			},
		},
		"termination templates are left to the compiler": {src: vtComponent(
			`termination: {maxRetries: "{{ r }}", ttl: "{{ t }}", timeout: "{{ t }}"}`, vtJob)},
		"an operation's termination": {
			src:  vtOperation("hubRef: trainer", "termination: {maxRetries: 4294967295}"),
			want: []vtErr{{"termination.maxRetries", "must be at most 2147483647", 4}},
		},
		"an inline component's termination": {
			src:  vtOperation("component:", "  termination: {ttl: 9223372036854775807}", "  "+vtJob),
			want: []vtErr{{"component.termination.ttl", "(ttlSecondsAfterFinished is int32), got 9223372036854775807", 4}},
		},
		"cache ttl": {
			src:  vtComponent("cache: {ttl: "+secp+"}", vtJob),
			want: []vtErr{{"cache.ttl", "must be at most 9223372036", 3}},
		},
		"build cache ttl": {
			src:  vtComponent("build: {hubRef: kaniko, cache: {ttl: "+secp+"}}", vtJob),
			want: []vtErr{{"build.cache.ttl", "must be at most 9223372036", 3}},
		},
		"cache ttl at the limit": {src: vtComponent("cache: {ttl: "+secs+"}", vtJob)},
		"sidecar intervals": {
			src: vtComponent("plugins: {sidecar: {sleepInterval: "+secp+", syncInterval: "+secs+"}}", vtJob),
			want: []vtErr{
				{"plugins.sidecar.sleepInterval", "must be at most 9223372036", 3},
			},
		},
		"service replicas": {
			src:  vtRunBody("  kind: service", "  replicas: "+i32p, "  container: {image: a}"),
			want: []vtErr{{"run.replicas", "must be at most 2147483647 (replicas is int32), got 2147483648", 5}},
		},
		"service replicas at the limit": {src: vtRunBody("  kind: service", "  replicas: "+i32, "  container: {image: a}")},
		"distributed": {
			src: vtRunBody("  kind: mpijob", "  slotsPerWorker: "+i32p, "  schedulingPolicy: {minAvailable: 4294967295}",
				"  worker: {replicas: 4294967296, container: {image: a}}"),
			want: []vtErr{
				{"run.slotsPerWorker", "(slotsPerWorker is int32), got 2147483648", 5},
				{"run.schedulingPolicy.minAvailable", "(minAvailable is int32), got 4294967295", 6},
				{"run.worker.replicas", "(replicas is int32), got 4294967296", 7},
			},
		},
		"distributed at the limits": {src: vtRunBody("  kind: tfjob", "  schedulingPolicy: {minAvailable: "+i32+"}",
			"  worker: {replicas: "+i32+", container: {image: a}}")},
		"interval frequency": {
			src:  vtSchedule("{kind: interval, frequency: " + secp + "}"),
			want: []vtErr{{"schedule.frequency", "must be at most 9223372036 (the most seconds a time.Duration holds)", 4}},
		},
		"interval frequency at the limit": {src: vtSchedule("{kind: interval, frequency: " + secs + "}")},
		"a dag's operation": {
			src:  vtDAG("  operations:", "    - name: a", "      termination: {timeout: 18446744074}", "      component: {"+vtJob+"}"),
			want: []vtErr{{"run.operations[0].termination.timeout", "got 18446744074", 7}},
		},
		"beyond int64": {
			src:  vtComponent("termination: {maxRetries: 9223372036854775808}", vtJob),
			want: []vtErr{{"termination.maxRetries", `expected an integer, got "9223372036854775808"`, 3}},
		},
	})
}

// TestHostileNumbers checks each file of testdata/hostile/numbers as
// `plexus check` does: a rejected file gives every error its header names,
// each on a line of the file; an accepted one gives none (a needs-params
// one, none with its params only).
func TestHostileNumbers(t *testing.T) {
	cases, err := corpus.Load(hostileNumbers)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("only %d files in %s", len(cases), hostileNumbers)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			data, err := os.ReadFile(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			files, err := Parse(c.Path, data)
			var got ErrorList
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("Parse: %v", err)
			}
			params := map[string]Param{}
			for _, kv := range c.Params {
				k, v, _ := strings.Cut(kv, "=")
				params[k] = Param{Value: v}
			}
			if err == nil {
				for _, f := range files {
					if c.Expect == corpus.NeedsParams && len(f.CheckParams(nil)) == 0 {
						t.Errorf("accepted without its params")
					}
					got = append(got, f.CheckParams(params)...)
				}
			}
			if c.Accepted() {
				if len(got) > 0 {
					t.Fatalf("rejected:\n%v", got)
				}
				return
			}
			for _, w := range c.Errors {
				found := false
				for _, e := range got {
					if string(e.Path) == w.Path && strings.Contains(e.Error(), w.Message) {
						found = true
						if e.Line <= 3 {
							t.Errorf("%s: line %d is not in the document (%v)", w.Path, e.Line, e)
						}
					}
				}
				if !found {
					t.Errorf("no error at %s saying %q; got:\n%v", w.Path, w.Message, got)
				}
			}
			if len(got) != len(c.Errors) {
				t.Errorf("%d errors, want the %d the header names:\n%v", len(got), len(c.Errors), got)
			}
		})
	}
}
