package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

// What `plexus ops get --graph` and the API's graph show of a parent run:
// a dag's operations in topological order, or a matrix's trials
// (matrixGraph, sweep.go).

// GraphNode is one operation of a dag as `plexus ops get --graph` shows
// it: its upstreams, and the run it has in the dag's current attempt.
type GraphNode struct {
	Name     string   `json:"name"`
	Upstream []string `json:"upstream,omitempty"`
	Trigger  string   `json:"trigger,omitempty"`
	// Run is its child run ("" when it has none yet), Status that run's
	// status.
	Run    string       `json:"run,omitempty"`
	Status store.Status `json:"status,omitempty"`
	// CacheOf is the run whose result that run reused, if it did.
	CacheOf string `json:"cacheOf,omitempty"`
	// Pipeline says the operation is itself a dag.
	Pipeline bool `json:"pipeline,omitempty"`
}

// Graph is a dag run's operations in topological order, or a matrix
// run's trials so far by index (Matrix set).
type Graph struct {
	Run    *store.Run  `json:"run"`
	Nodes  []GraphNode `json:"nodes"`
	Matrix *MatrixInfo `json:"matrix,omitempty"`
	// Schedule is set for a schedule run, whose nodes are its fires by
	// nominal time (RFC 3339, UTC).
	Schedule *ScheduleInfo `json:"schedule,omitempty"`
	// Subscription is set for an event subscription, whose nodes are the
	// keys of the events that started its runs, oldest first.
	Subscription *SubscriptionInfo `json:"subscription,omitempty"`
	// Summary counts the nodes by status, and Truncated says Nodes holds
	// only some of them (Summarize, graphsummary.go).
	Summary   *GraphSummary `json:"summary,omitempty"`
	Truncated bool          `json:"truncated,omitempty"`
}

// ErrNotPipeline: the run is neither a dag nor a matrix.
var ErrNotPipeline = errors.New("engine: the run is not a dag")

// Graph returns a dag run's graph with the status of each operation.
func (e *Engine) Graph(ctx context.Context, uuid string) (*Graph, error) {
	run, _, err := e.cfg.Store.Get(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if run.Schedule != "" {
		return e.scheduleGraph(ctx, run)
	}
	if run.Events {
		return e.subscriptionGraph(ctx, run)
	}
	if run.Matrix != "" {
		// A sweep (the record says so: a dag's graph is not decoded twice).
		m, err := e.matrixOf(ctx, run)
		if err != nil {
			return nil, err
		}
		if m != nil {
			return e.matrixGraph(ctx, run, m)
		}
	}
	return e.dagGraph(ctx, run) // graphcache.go
}

// componentOf is the component a dag's operation runs.
func componentOf(op *specs.Operation, d *specs.DAG) *specs.Component {
	if op.DagRef == "" {
		return op.Component
	}
	for i := range d.Components {
		if d.Components[i].Name == op.DagRef {
			return &d.Components[i]
		}
	}
	return nil
}

// dagOf finds the dag a run runs: its own submission's, or for a dag
// nested in another, its operation's component there.
func (e *Engine) dagOf(ctx context.Context, run *store.Run, depth int) (*specs.DAG, error) {
	if depth > 32 {
		return nil, fmt.Errorf("engine: run %s: dags nested too deep", run.UUID)
	}
	var comp *specs.Component
	if !compiledByDag(run) {
		// Its operations as submitted: the graph needs no compilation.
		c, err := e.stored(ctx, run, nil)
		if err != nil {
			return nil, err
		}
		comp = c
	} else {
		parent, _, err := e.cfg.Store.Get(ctx, run.Parent)
		if err != nil {
			return nil, err
		}
		if parent.Schedule != "" || parent.Events {
			return e.dagOf(ctx, parent, depth+1) // a fire (an event's run) runs its parent's dag
		}
		pd, err := e.dagOf(ctx, parent, depth+1)
		if err != nil {
			return nil, err
		}
		for i := range pd.Operations {
			if pd.Operations[i].Name == run.Node {
				comp = componentOf(&pd.Operations[i], pd)
			}
		}
	}
	if comp == nil {
		return nil, fmt.Errorf("run %s: %w", run.UUID, ErrNotPipeline)
	}
	d, ok := comp.Run.(*specs.DAG)
	if !ok {
		return nil, fmt.Errorf("run %s: %w", run.UUID, ErrNotPipeline)
	}
	return d, nil
}
