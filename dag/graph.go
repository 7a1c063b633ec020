package dag

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dominikbraun/graph"

	"github.com/plexus-ml/plexus/specs"
)

// Graph is a dag run's operations and the edges between them: explicit
// dependencies, and the implicit edges of params (`ref: ops.x`) and events
// (`ref: ops.x`). It is built once and read by many.
type Graph struct {
	order []string
	ups   map[string][]string
	downs map[string][]string
}

// Build makes the graph of a dag's operations, or returns every problem
// with its path (at p, the dag's `run`): a duplicate name, an unknown
// upstream, an operation that depends on itself, and a cycle, named in
// the direction work flows (`a -> b -> a`).
func Build(p specs.Path, d *specs.DAG) (*Graph, error) {
	ops := p.Child("operations")
	g := graph.New(graph.StringHash, graph.Directed())
	var errs specs.ErrorList
	index := map[string]int{}
	for i := range d.Operations {
		name := d.Operations[i].Name
		if first, dup := index[name]; dup {
			errs = append(errs, specs.Duplicate(ops.Index(i).Child("name"), name,
				fmt.Sprintf("operations[%d] has that name already", first)))
			continue
		}
		index[name] = i
		_ = g.AddVertex(name)
	}
	gr := &Graph{ups: map[string][]string{}, downs: map[string][]string{}}
	for i := range d.Operations {
		op := &d.Operations[i]
		if index[op.Name] != i {
			continue // a duplicate, reported
		}
		for _, up := range op.Upstream() {
			switch _, known := index[up]; {
			case up == op.Name:
				errs = append(errs, specs.Invalidf(ops.Index(i), up, "operation %q depends on itself", up))
			case !known:
				errs = append(errs, specs.Invalidf(ops.Index(i), up, "operation %q waits for %q, which is not an operation of this dag", op.Name, up))
			default:
				if err := g.AddEdge(up, op.Name); err != nil && err != graph.ErrEdgeAlreadyExists {
					return nil, fmt.Errorf("dag: %w", err)
				}
				gr.ups[op.Name] = append(gr.ups[op.Name], up)
				gr.downs[up] = append(gr.downs[up], op.Name)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	order, cycle := gr.sort(d)
	if cycle != nil {
		return nil, specs.ErrorList{specs.Invalidf(ops, strings.Join(cycle, " -> "), "the operations form a cycle: %s", strings.Join(cycle, " -> "))}
	}
	gr.order = order
	return gr, nil
}

// Stored makes the graph of a dag that Build accepted before (a stored
// run's, decoded again): the same graph, in the same order, without the
// checks' bookkeeping, which is most of Build's time on a large dag. A
// dag Build would refuse is an error still, without its paths.
func Stored(d *specs.DAG) (*Graph, error) {
	gr := &Graph{ups: make(map[string][]string, len(d.Operations)), downs: make(map[string][]string, len(d.Operations))}
	for i := range d.Operations {
		op := &d.Operations[i]
		for _, up := range op.Upstream() {
			gr.ups[op.Name] = append(gr.ups[op.Name], up)
			gr.downs[up] = append(gr.downs[up], op.Name)
		}
	}
	order, cycle := gr.sort(d)
	if cycle != nil || len(order) != len(d.Operations) {
		return nil, fmt.Errorf("dag: the stored dag is not one Build takes: a cycle %s", strings.Join(cycle, " -> "))
	}
	gr.order = order
	return gr, nil
}

// sort orders the operations so that each comes after its upstreams,
// ties broken by their order in the file (Kahn's algorithm, linear in the
// graph's size). It returns a cycle instead when there is one.
func (gr *Graph) sort(d *specs.DAG) ([]string, []string) {
	pending := map[string]int{}
	for _, op := range d.Operations {
		pending[op.Name] = len(gr.ups[op.Name])
	}
	var ready, order []string
	for _, op := range d.Operations {
		if pending[op.Name] == 0 {
			ready = append(ready, op.Name)
		}
	}
	for len(ready) > 0 {
		name := ready[0]
		ready = ready[1:]
		order = append(order, name)
		for _, down := range gr.downs[name] {
			if pending[down]--; pending[down] == 0 {
				ready = append(ready, down)
			}
		}
	}
	if len(order) == len(d.Operations) {
		return order, nil
	}
	// What is left holds a cycle: walk upstream from one of it until a
	// name comes back.
	var start string
	for _, op := range d.Operations {
		if pending[op.Name] > 0 {
			start = op.Name
			break
		}
	}
	seen := map[string]int{}
	var path []string
	for name := start; ; {
		if at, ok := seen[name]; ok {
			cyc := append(path[at:], name)
			slices.Reverse(cyc) // upstream first
			return nil, cyc
		}
		seen[name] = len(path)
		path = append(path, name)
		for _, up := range gr.ups[name] {
			if pending[up] > 0 {
				name = up
				break
			}
		}
	}
}

// Order is every operation, each after its upstreams; operations that do
// not depend on each other keep their order in the file.
func (gr *Graph) Order() []string { return gr.order }

// Upstream is what the operation waits for.
func (gr *Graph) Upstream(name string) []string { return gr.ups[name] }

// Downstream is what waits for the operation.
func (gr *Graph) Downstream(name string) []string { return gr.downs[name] }

// Len is the number of operations.
func (gr *Graph) Len() int { return len(gr.order) }
