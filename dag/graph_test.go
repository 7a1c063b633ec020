package dag

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func dagOf(t *testing.T, ops string) *specs.DAG {
	t.Helper()
	var d specs.DAG
	if err := specs.Unmarshal([]byte("{kind: dag, operations: "+ops+"}"), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestBuild(t *testing.T) {
	d := dagOf(t, `[
  {name: report, dependencies: [evaluate], params: {loss: {ref: ops.train, value: outputs.loss}}, hubRef: r},
  {name: prepare, hubRef: p},
  {name: train, dependencies: [prepare], hubRef: t},
  {name: board, events: [{ref: ops.train, kinds: [run_status_running]}], hubRef: b},
  {name: evaluate, dependencies: [train], hubRef: e}]`)
	g, err := Build("run", d)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g.Order(), " "); got != "prepare train board evaluate report" {
		t.Fatalf("order %s", got)
	}
	if got := fmt.Sprint(g.Upstream("report")); got != "[evaluate train]" {
		t.Fatalf("report waits for %s", got)
	}
	if got := fmt.Sprint(g.Downstream("train")); got != "[report board evaluate]" {
		t.Fatalf("train is waited for by %s", got)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct{ ops, want string }{
		{`[{name: a, hubRef: x}, {name: a, hubRef: y}]`, "run.operations[1].name"},
		{`[{name: a, dependencies: [nope], hubRef: x}]`, `run.operations[0]: operation "a" waits for "nope", which is not an operation of this dag`},
		{`[{name: a, dependencies: [a], hubRef: x}]`, `operation "a" depends on itself`},
		{`[{name: a, dependencies: [b], hubRef: x}, {name: b, dependencies: [a], hubRef: x}]`, "the operations form a cycle: a -> b -> a"},
		{`[{name: s, hubRef: x}, {name: a, dependencies: [s, c], hubRef: x}, {name: b, dependencies: [a], hubRef: x}, {name: c, params: {v: {ref: ops.b, value: outputs.v}}, hubRef: x}]`,
			"the operations form a cycle: a -> b -> c -> a"},
	} {
		_, err := Build("run", dagOf(t, tc.ops))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.ops, err, tc.want)
		}
	}
}

// TestOrderProperty: for random DAGs, every edge goes forward in the order
// and every operation is in it once.
func TestOrderProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 1 + r.IntN(40)
		var ops []string
		for i := range n {
			var deps []string
			for j := range i {
				if r.IntN(4) == 0 {
					deps = append(deps, fmt.Sprintf("o%d", j))
				}
			}
			ops = append(ops, fmt.Sprintf("{name: o%d, dependencies: [%s], hubRef: x}", i, strings.Join(deps, ", ")))
		}
		r.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		g, err := Build("run", dagOf(t, "["+strings.Join(ops, ", ")+"]"))
		if err != nil {
			t.Fatal(err)
		}
		order := g.Order()
		if len(order) != n {
			t.Fatalf("trial %d: %d in order, want %d", trial, len(order), n)
		}
		for _, name := range order {
			at := slices.Index(order, name)
			for _, up := range g.Upstream(name) {
				if slices.Index(order, up) >= at {
					t.Fatalf("trial %d: %s before its upstream %s", trial, name, up)
				}
			}
		}
	}
}

// fan100k is a start, 100,000 operations after it, and an end after all.
func fan100k(b *testing.B) *specs.DAG {
	var sb strings.Builder
	sb.WriteString("[{name: start, hubRef: x}")
	for i := range 100000 {
		fmt.Fprintf(&sb, ", {name: n%d, dependencies: [start], hubRef: x}", i)
	}
	sb.WriteString(", {name: end, trigger: all_done, dependencies: [")
	for i := range 100000 {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "n%d", i)
	}
	sb.WriteString("], hubRef: x}]")
	var d specs.DAG
	if err := specs.Unmarshal([]byte("{kind: dag, operations: "+sb.String()+"}"), &d); err != nil {
		b.Fatal(err)
	}
	return &d
}

func BenchmarkBuild100k(b *testing.B) {
	d := fan100k(b)
	for b.Loop() {
		if _, err := Build("run", d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStored100k(b *testing.B) {
	d := fan100k(b)
	for b.Loop() {
		if _, err := Stored(d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStoredIsBuild: the graph of a dag Build takes is the same made by
// Stored, order and edges, for random dags (repeated upstreams too); a
// cycle or an unknown upstream is still an error.
func TestStoredIsBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		n := 1 + rng.IntN(40)
		d := &specs.DAG{}
		for i := range n {
			op := specs.Operation{HubRef: "x"}
			op.Name = fmt.Sprintf("op%d", rng.IntN(1000)*100+i)
			for k := rng.IntN(4); k > 0 && i > 0; k-- {
				op.Dependencies = append(op.Dependencies, d.Operations[rng.IntN(i)].Name)
			}
			d.Operations = append(d.Operations, op)
		}
		rng.Shuffle(len(d.Operations), func(i, j int) { d.Operations[i], d.Operations[j] = d.Operations[j], d.Operations[i] })
		built, err := Build("run", d)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := Stored(d)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(built.Order(), stored.Order()) {
			t.Fatalf("order: Build %v, Stored %v", built.Order(), stored.Order())
		}
		for _, name := range built.Order() {
			if !slices.Equal(built.Upstream(name), stored.Upstream(name)) || !slices.Equal(built.Downstream(name), stored.Downstream(name)) {
				t.Fatalf("%s: Build %v/%v, Stored %v/%v", name, built.Upstream(name), built.Downstream(name), stored.Upstream(name), stored.Downstream(name))
			}
		}
	}
	for _, ops := range []string{"[{name: a, dependencies: [b], hubRef: x}, {name: b, dependencies: [a], hubRef: x}]", "[{name: a, dependencies: [nope], hubRef: x}]"} {
		d := dagOf(t, ops)
		if _, err := Stored(d); err == nil {
			t.Errorf("Stored took %+v", d.Operations)
		}
	}
}
