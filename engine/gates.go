package engine

// Gates: a dag's operation whose `events` name a run outside the dag
// (`runs.<uuid>`) or the dag itself (`dag`) starts only once that run has
// gone through one of the kinds' statuses, besides what its upstreams in
// the dag decide. The dag package decides the edges between the dag's
// operations; a gate is the engine's, as the run it waits on is not in
// the graph. An operation the dag decides ready waits here until its
// gates open, and is decided upstream_failed when the run it waits on
// ended without reaching any of the kinds (or does not exist).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

// gate is one event of an operation on a run outside its dag's graph.
type gate struct {
	run   string // the run's uuid; the dag's own for `dag`
	ref   string // as written
	kinds []specs.EventKind
}

// gatesOf are the gates of operation node of a dag.
func (p *pipeline) gatesOf(node string) []gate {
	op := p.ops[node]
	if op == nil || p.sweep != nil {
		return nil
	}
	var gates []gate
	for _, e := range op.Events {
		switch {
		case e.Ref == "dag":
			gates = append(gates, gate{run: p.uuid, ref: e.Ref, kinds: e.Kinds})
		case strings.HasPrefix(e.Ref, "runs."):
			run := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(e.Ref, "runs.")), "-", "")
			gates = append(gates, gate{run: run, ref: e.Ref, kinds: e.Kinds})
		}
	}
	return gates
}

// openGates decides the operations that wait on their gates: ready once
// every gate opened, upstream_failed once one cannot. The runs they still
// wait on bring the dag back when they change.
func (l *leading) openGates(ctx context.Context, p *pipeline) error {
	p.mu.Lock()
	if len(p.gated) == 0 {
		p.mu.Unlock()
		return nil
	}
	gated := make(map[string][]gate, len(p.gated))
	for node, gates := range p.gated {
		gated[node] = gates
	}
	p.mu.Unlock()
	for node, gates := range gated {
		dec, why := dag.Ready, ""
		for _, g := range gates {
			r, err := l.current(ctx, g.run)
			if errors.Is(err, store.ErrNotFound) {
				dec, why = dag.Unmet, fmt.Sprintf("its event %s names no run", g.ref)
				break
			}
			if err != nil {
				return err
			}
			history := make([]dag.Status, len(r.Conditions))
			for i, c := range r.Conditions {
				history[i] = dag.Status(c.Type)
			}
			switch dag.Event(g.kinds, history) {
			case dag.Unmet:
				dec, why = dag.Unmet, fmt.Sprintf("%s ended %s without reaching any of %v", g.ref, r.Status, g.kinds)
			case dag.Wait:
				dec = dag.Wait
				l.mu.Lock()
				if l.waiters[g.run] == nil {
					l.waiters[g.run] = map[string]bool{}
				}
				l.waiters[g.run][p.uuid] = true
				l.mu.Unlock()
			}
			if dec != dag.Ready {
				break
			}
		}
		if dec == dag.Wait {
			continue
		}
		p.mu.Lock()
		if _, still := p.gated[node]; still {
			delete(p.gated, node)
			if dec == dag.Ready {
				p.ready = append(p.ready, node)
			} else {
				p.ends = append(p.ends, dag.Change{Node: node, Decision: dag.Unmet, Reason: why})
				p.failed++
			}
		}
		p.mu.Unlock()
	}
	return nil
}
