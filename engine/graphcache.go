package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

// A dag's graph, looked at again and again (a page following it): its
// shape never changes, so it is decoded and built once, and its
// children are read once, then only those changed since. Without this a
// look at a dag of 100,000 operations decodes its 7 MB of YAML each
// time, about a second.

// graphCacheNodes bounds the nodes the cache holds, all dags together;
// the least recently looked at go first. A node with its run takes about
// 330 bytes (measured with names of 6 characters): some 80 MB at most.
const graphCacheNodes = 250_000

type graphCache struct {
	mu      sync.Mutex
	entries map[string]*cachedGraph
	nodes   int
	tick    uint64
}

// cachedGraph is one dag's shape, and what is known of its children at
// rev.
type cachedGraph struct {
	mu       sync.Mutex
	shape    []GraphNode // no run nor status
	used     uint64
	rev      int64
	children map[string]*cachedChild // by uuid
}

// cachedChild is what a dag's graph reads of a child run: a tenth of its
// record in memory.
type cachedChild struct {
	uuid, node, cacheOf string
	parentAttempt       int
	status              store.Status
}

// dagGraph is run's graph, its statuses as of now.
func (e *Engine) dagGraph(ctx context.Context, run *store.Run) (*Graph, error) {
	c, err := e.graphs.shape(run, func() ([]GraphNode, error) { return e.dagShape(ctx, run) })
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	changed, rev, err := e.cfg.Store.ChildRunsSince(ctx, run.UUID, c.rev)
	if err != nil && !errors.Is(err, store.ErrUnreadable) { // an unreadable child shows as not run yet
		return nil, err
	}
	for _, ch := range changed {
		c.children[ch.UUID] = &cachedChild{uuid: ch.UUID, node: ch.Node, cacheOf: ch.CacheOf, parentAttempt: ch.ParentAttempt, status: ch.Status}
	}
	c.rev = rev
	all := make([]*cachedChild, 0, len(c.children))
	for _, ch := range c.children {
		all = append(all, ch)
	}
	newest := currentOf(all, run.Attempt, func(ch *cachedChild) childKey { return childKey{ch.node, ch.parentAttempt, ch.status} })
	out := &Graph{Run: run, Nodes: make([]GraphNode, len(c.shape))}
	for i, n := range c.shape {
		if ch := newest[n.Name]; ch != nil {
			n.Run, n.Status, n.CacheOf = ch.uuid, ch.status, ch.cacheOf
		}
		out.Nodes[i] = n
	}
	return out, nil
}

// dagShape decodes run's dag and builds its nodes, in topological order.
func (e *Engine) dagShape(ctx context.Context, run *store.Run) ([]GraphNode, error) {
	d, err := e.dagOf(ctx, run, 0)
	if err != nil {
		return nil, err
	}
	g, err := dag.Stored(d) // Build took it when it was submitted
	if err != nil {
		return nil, err
	}
	ops := map[string]*specs.Operation{}
	for i := range d.Operations {
		ops[d.Operations[i].Name] = &d.Operations[i]
	}
	var nodes []GraphNode
	for _, name := range g.Order() {
		n := GraphNode{Name: name, Upstream: g.Upstream(name), Trigger: string(ops[name].Trigger)}
		if comp := componentOf(ops[name], d); comp != nil {
			_, n.Pipeline = comp.Run.(*specs.DAG)
		}
		n.Pipeline = n.Pipeline || ops[name].Matrix != nil
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// shape is run's cached graph, built by build the first time.
func (gc *graphCache) shape(run *store.Run, build func() ([]GraphNode, error)) (*cachedGraph, error) {
	gc.mu.Lock()
	gc.tick++
	if c := gc.entries[run.UUID]; c != nil {
		c.used = gc.tick
		gc.mu.Unlock()
		return c, nil
	}
	gc.mu.Unlock()
	nodes, err := build() // not under the lock: another dag's look need not wait
	if err != nil {
		return nil, err
	}
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if c := gc.entries[run.UUID]; c != nil { // built meanwhile
		return c, nil
	}
	c := &cachedGraph{shape: nodes, used: gc.tick, children: map[string]*cachedChild{}}
	if len(nodes) > graphCacheNodes {
		return c, nil // served, not kept
	}
	if gc.entries == nil {
		gc.entries = map[string]*cachedGraph{}
	}
	for gc.nodes+len(nodes) > graphCacheNodes && len(gc.entries) > 0 {
		var oldest string
		for uuid, c := range gc.entries {
			if oldest == "" || c.used < gc.entries[oldest].used {
				oldest = uuid
			}
		}
		gc.nodes -= len(gc.entries[oldest].shape)
		delete(gc.entries, oldest)
	}
	gc.entries[run.UUID] = c
	gc.nodes += len(nodes)
	return c, nil
}
