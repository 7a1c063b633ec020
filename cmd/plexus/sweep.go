package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/matrix"
)

// A matrix run is followed as a dag is, its trials as the operations:
// each trial's log lines are prefixed with its params ([lr=0.01
// optimizer=adam] ...), the progress line counts the trials and names the
// best so far, and the summary lists the trials sorted by the metric.

// viewNodes are the nodes of a view: a dag's operations, or the trials of
// a matrix that have a run, by index.
func viewNodes(v *dagView) []engine.GraphNode {
	if v.graph.Schedule != nil || v.graph.Subscription != nil {
		return scheduleNodes(v)
	}
	if v.graph.Matrix == nil {
		return v.graph.Nodes
	}
	out := make([]engine.GraphNode, 0, len(v.nodes))
	for node, r := range v.nodes {
		out = append(out, engine.GraphNode{Name: node, Run: r.UUID, Status: r.Status, CacheOf: r.CacheOf})
	}
	slices.SortFunc(out, func(a, b engine.GraphNode) int { return cmp.Compare(atoi(a.Name), atoi(b.Name)) })
	return out
}

func atoi(s string) int {
	i, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return i
}

// label names a node in log prefixes and tables: a trial by its params.
func (v *dagView) label(node string) string {
	if r := v.nodes[node]; v.graph.Subscription != nil && r != nil {
		return v.qualify(r.Name) // its node is its event's key
	}
	if _, tuner := engine.TunerNode(node); v.graph.Matrix == nil || tuner {
		return v.qualify(node)
	}
	r := v.nodes[node]
	if r == nil || len(r.Params) == 0 {
		return v.qualify("#" + node)
	}
	return v.qualify(trialParams(r.Params))
}

// trialParams writes a trial's params by name: "lr=0.01 optimizer=adam".
func trialParams(params map[string]any) string {
	names := slices.Sorted(maps.Keys(params))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%v", n, params[n])
	}
	return strings.Join(parts, " ")
}

// metricOf is a trial's metric, when it gave one.
func metricOf(info *engine.MatrixInfo, r *store.Run) (float64, bool) {
	if info.Metric == "" || r == nil || r.Status != store.Succeeded {
		return 0, false
	}
	return matrix.Number(r.Outputs[info.Metric])
}

// bestTrial is the trial with the best metric so far, "" when none gave
// one.
func bestTrial(info *engine.MatrixInfo, nodes map[string]*store.Run) (string, float64) {
	best, bestV := "", 0.0
	for _, node := range slices.SortedFunc(maps.Keys(nodes), func(a, b string) int { return cmp.Compare(atoi(a), atoi(b)) }) {
		v, ok := metricOf(info, nodes[node])
		if ok && (best == "" || info.Maximize && v > bestV || !info.Maximize && v < bestV) {
			best, bestV = node, v
		}
	}
	return best, bestV
}

// matrixProgress sums a matrix up in one line: "matrix NAME: 5/8 done (4
// succeeded, 1 failed, 1 running), best loss=0.012 (trial 3: lr=0.01)".
func matrixProgress(v *dagView, counts string, done int) string {
	total := ""
	if t := v.graph.Matrix.Total; t > 0 {
		total = "/" + strconv.Itoa(t)
	}
	if counts == "" {
		counts = "none suggested yet"
	}
	line := fmt.Sprintf("matrix %s: %d%s done (%s)", v.name(), done, total, counts)
	if best, val := bestTrial(v.graph.Matrix, v.nodes); best != "" {
		line += fmt.Sprintf(", best %s=%v (trial %s: %s)", v.graph.Matrix.Metric, val, best, trialParams(v.nodes[best].Params))
	}
	return line
}

// printMatrixSummary writes a table of a matrix's trials: sorted by the
// metric, best first (the best marked *), when it optimises one, else by
// index; those without a metric last. Of more than summaryRows trials it
// lists the first summaryRows.
func printMatrixSummary(w io.Writer, info *engine.MatrixInfo, nodes map[string]*store.Run, run *store.Run) error {
	nodes, _ = splitTuners(nodes)
	keys := slices.Collect(maps.Keys(nodes))
	slices.SortFunc(keys, func(a, b string) int {
		va, oka := metricOf(info, nodes[a])
		vb, okb := metricOf(info, nodes[b])
		switch {
		case oka && okb && va != vb:
			if info.Maximize {
				return cmp.Compare(vb, va)
			}
			return cmp.Compare(va, vb)
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Compare(atoi(a), atoi(b))
	})
	best, _ := bestTrial(info, nodes)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "TRIAL\tPARAMS\tSTATUS\tDURATION\tRUN"
	if info.Metric != "" {
		header = "TRIAL\tPARAMS\t" + strings.ToUpper(info.Metric) + "\tSTATUS\tDURATION\tRUN"
	}
	fmt.Fprintln(tw, header)
	for i, k := range keys {
		if i == summaryRows {
			break
		}
		r := nodes[k]
		mark := k
		if k == best {
			mark += " *"
		}
		metric := ""
		if info.Metric != "" {
			metric = "-\t"
			if v, ok := metricOf(info, r); ok {
				metric = fmt.Sprintf("%v\t", v)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%s\n", mark, trialParams(r.Params), metric, r.Status, runDuration(r), r.UUID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if left := len(keys) - summaryRows; left > 0 {
		_, err := fmt.Fprintf(w, "%d more trials not listed: plexus ops ls --parent %s lists their runs\n", left, run.UUID)
		return err
	}
	return nil
}

// printMatrix writes a matrix run's trials as `plexus ops get --graph`
// shows them.
func printMatrix(ctx context.Context, w io.Writer, src history, g *engine.Graph) error {
	children, err := childRuns(ctx, src, g.Run.UUID)
	if err != nil {
		return err
	}
	nodes := engine.CurrentChildren(children, g.Run.Attempt)
	trials, tuners := splitTuners(nodes)
	total := ""
	if g.Matrix.Total > 0 {
		total = fmt.Sprintf(" of up to %d", g.Matrix.Total)
	}
	fmt.Fprintf(w, "%s matrix %s (%s): %s, attempt %d, %d trials%s\n", g.Matrix.Kind, g.Run.Name, g.Run.UUID, g.Run.Status, g.Run.Attempt, len(trials), total)
	if len(tuners) > 0 {
		fmt.Fprintf(w, "its tuner ran %d times (iteration:status): %s\n", len(tuners), strings.Join(tuners, " "))
	}
	return printMatrixSummary(w, g.Matrix, trials, g.Run)
}

// splitTuners separates a tuned matrix's trials from its tuners' runs,
// which it lists as "ITERATION:STATUS" in order.
func splitTuners(nodes map[string]*store.Run) (map[string]*store.Run, []string) {
	trials := make(map[string]*store.Run, len(nodes))
	var ks []int
	status := map[int]store.Status{}
	for node, r := range nodes {
		if k, ok := engine.TunerNode(node); ok {
			ks = append(ks, k)
			status[k] = r.Status
			continue
		}
		trials[node] = r
	}
	slices.Sort(ks)
	tuners := make([]string, len(ks))
	for i, k := range ks {
		tuners[i] = fmt.Sprintf("%d:%s", k, status[k])
	}
	return trials, tuners
}
