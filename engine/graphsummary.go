package engine

import "github.com/plexus-ml/plexus/engine/store"

// A large graph at a glance: how many nodes are in each status, and the
// nodes that want looking at first.

// GraphSummary counts a graph's nodes by status; a node with no run yet
// counts as Waiting.
type GraphSummary struct {
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
}

// Waiting is the status a graph's summary gives a node with no run yet.
const Waiting = "waiting"

// SummaryNodes is how many nodes a summarised graph lists.
const SummaryNodes = 100

// Summarize sets g's summary and, when g has more than max nodes, keeps
// only SummaryNodes of them (Truncated): the failed ones first, then the
// running ones, then the others, each group in g's order. Their upstreams
// may name nodes left out.
func Summarize(g *Graph, max int) {
	sum := &GraphSummary{Total: len(g.Nodes), Counts: map[string]int{}}
	for _, n := range g.Nodes {
		sum.Counts[nodeStatus(n)]++
	}
	g.Summary = sum
	if len(g.Nodes) <= max {
		return
	}
	kept := make([]GraphNode, 0, SummaryNodes)
	for rank := range 3 {
		for _, n := range g.Nodes {
			if len(kept) == SummaryNodes {
				break
			}
			if summaryRank(n.Status) == rank {
				kept = append(kept, n)
			}
		}
	}
	g.Nodes, g.Truncated = kept, true
}

func nodeStatus(n GraphNode) string {
	if n.Status == "" {
		return Waiting
	}
	return string(n.Status)
}

// summaryRank orders a summary's nodes: 0 failed, 1 under way, 2 the rest.
func summaryRank(s store.Status) int {
	switch s {
	case store.Failed, store.UpstreamFailed, store.Unschedulable, store.Warning:
		return 0
	case store.Starting, store.Running, store.Processing, store.Retrying, store.Stopping, store.Resuming:
		return 1
	}
	return 2
}
