package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

// printGraph writes a dag's operations as a tree, in topological order:
// an operation with one upstream is drawn under it (├─, └─); one with none
// or several starts a line of its own, its upstreams listed after an
// arrow (← train-adam, train-sgd). Each shows its status (- for an
// operation that has no run) and its run; a dag nested in an operation
// follows it, indented, its operations named from the top (inner/a).
// graphOf reads the graph of a nested dag's run.
func printGraph(ctx context.Context, w io.Writer, g *engine.Graph, graphOf func(context.Context, string) (*engine.Graph, error)) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "dag %s (%s): %s, attempt %d, %d operations\n", g.Run.Name, g.Run.UUID, g.Run.Status, g.Run.Attempt, len(g.Nodes))
	fmt.Fprintln(tw, "NODE\tSTATUS\tRUN\tUPSTREAM")
	if err := graphRows(ctx, tw, g, "", "", graphOf); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(buf.String()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " \n")); err != nil {
			return err
		}
	}
	return nil
}

// graphRows writes the rows of a dag, each line led by indent, its
// operations' names prefixed with path.
func graphRows(ctx context.Context, w io.Writer, g *engine.Graph, indent, path string, graphOf func(context.Context, string) (*engine.Graph, error)) error {
	byName := map[string]engine.GraphNode{}
	under := map[string][]string{}
	var roots []string
	for _, n := range g.Nodes {
		byName[n.Name] = n
		if len(n.Upstream) == 1 {
			under[n.Upstream[0]] = append(under[n.Upstream[0]], n.Name)
		} else {
			roots = append(roots, n.Name)
		}
	}
	qualify := func(name string) string { return path + name }
	// lead is drawn before the operation's name, cont before what hangs
	// under it.
	var row func(name, lead, cont string) error
	row = func(name, lead, cont string) error {
		n := byName[name]
		status, run := "- not run", "-"
		if n.Run != "" {
			status, run = statusMark(n.Status)+" "+string(n.Status), n.Run
			if n.CacheOf != "" {
				status += " (cached)"
			}
		}
		var upstream []string
		if len(n.Upstream) > 1 {
			qualified := make([]string, len(n.Upstream))
			for i, u := range n.Upstream {
				qualified[i] = qualify(u)
			}
			upstream = append(upstream, "← "+strings.Join(qualified, ", "))
		}
		if n.Trigger != "" {
			upstream = append(upstream, "(trigger "+n.Trigger+")")
		}
		fmt.Fprintf(w, "%s%s%s\t%s\t%s\t%s\n", indent, lead, qualify(name), status, run, strings.Join(upstream, " "))
		kids := under[name]
		if n.Pipeline && n.Run != "" {
			nested, err := graphOf(ctx, n.Run)
			if err != nil {
				return fmt.Errorf("reading the dag of operation %s: %w", qualify(name), err)
			}
			bar := "   "
			if len(kids) > 0 {
				bar = "│  "
			}
			if err := graphRows(ctx, w, nested, indent+cont+bar, qualify(name)+"/", graphOf); err != nil {
				return err
			}
		}
		for i, k := range kids {
			l, c := "├─ ", "│  "
			if i == len(kids)-1 {
				l, c = "└─ ", "   "
			}
			if err := row(k, cont+l, cont+c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := row(r, "", ""); err != nil {
			return err
		}
	}
	return nil
}

// statusMark is a status at a glance.
func statusMark(s store.Status) string {
	switch s {
	case store.Succeeded:
		return "✓"
	case store.Failed, store.UpstreamFailed:
		return "✗"
	case store.Skipped:
		return "○"
	case store.Stopped:
		return "■"
	}
	return "●"
}
