package main

// How `plexus run` and `plexus ops get` show a schedule: each fire's log
// lines are prefixed with its nominal time ([2026-12-03T02:00:00Z] ...),
// the progress line counts the fires, and `ops get` lists the fires and
// the next ones to come.

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

// scheduleNodes are the fires of a schedule view that have a run, oldest
// first.
func scheduleNodes(v *dagView) []engine.GraphNode {
	out := make([]engine.GraphNode, 0, len(v.nodes))
	for node, r := range v.nodes {
		pipe := v.graph.Schedule != nil && v.graph.Schedule.Pipeline || v.graph.Subscription != nil && v.graph.Subscription.Pipeline
		out = append(out, engine.GraphNode{Name: node, Run: r.UUID, Status: r.Status, CacheOf: r.CacheOf, Pipeline: pipe})
	}
	slices.SortFunc(out, func(a, b engine.GraphNode) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// scheduleProgress sums a schedule up in one line: "schedule NAME: 3
// fires (2 succeeded, 1 running)".
func scheduleProgress(v *dagView, counts string, fired int) string {
	s := "s"
	if fired == 1 {
		s = ""
	}
	line := fmt.Sprintf("schedule %s: %d fire%s", v.name(), fired, s)
	if v.graph.Subscription != nil {
		line = fmt.Sprintf("subscription %s: %d run%s", v.name(), fired, s)
	}
	if counts != "" {
		line += " (" + counts + ")"
	}
	return line
}

// printScheduleSummary writes a table of a schedule's fires, oldest
// first: each one's nominal time, status, how long it ran and its run.
func printScheduleSummary(w io.Writer, v *dagView) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	first := "FIRE"
	if v.graph.Subscription != nil {
		first = "NAME" // a run an event started
	}
	fmt.Fprintln(tw, first+"\tSTATUS\tDURATION\tRUN")
	for _, n := range scheduleNodes(v) {
		r := v.nodes[n.Name]
		name := n.Name
		if v.graph.Subscription != nil {
			name = r.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, r.Status, runDuration(r), r.UUID)
	}
	return tw.Flush()
}

// printSchedule writes what `plexus ops get` shows of a schedule run
// after its conditions: when it fires, what it fired and what comes next.
func printSchedule(w io.Writer, g *engine.Graph) error {
	info := g.Schedule
	fmt.Fprintf(w, "schedule: %s, %d fired", info.Description, info.State.Fired)
	if info.State.Skipped > 0 {
		fmt.Fprintf(w, ", %d dropped by the catch-up policy", info.State.Skipped)
	}
	if !info.State.Last.IsZero() {
		fmt.Fprintf(w, ", last %s", info.State.Last.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if len(info.Coming) > 0 {
		fmt.Fprintln(w, "next fires:")
		for _, t := range info.Coming {
			fmt.Fprintf(w, "  %s\n", t.UTC().Format(time.RFC3339))
		}
	} else if g.Run.Status == store.OnSchedule {
		fmt.Fprintln(w, "next fires: none (it waits for its running fire, or has fired all it will)")
	}
	if len(g.Nodes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRE\tSTATUS\tRUN")
	for _, n := range g.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Name, n.Status, n.Run)
	}
	return tw.Flush()
}

// printSubscription writes what `plexus ops get` shows of an event
// subscription after its conditions: what it listens to, how many runs
// its events started, the last event, and those runs.
func printSubscription(w io.Writer, g *engine.Graph) error {
	info := g.Subscription
	fmt.Fprintf(w, "subscription: %s, %d runs started\n", info.Listening, info.Cursor.Delivered)
	if ev := info.Cursor.Last; ev != nil {
		fmt.Fprintf(w, "last event: run %s (%s) %s at %s\n", ev.Run, ev.Name, ev.Status, ev.Time.UTC().Format(time.RFC3339))
	}
	if len(g.Nodes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tOF RUN\tSTATUS\tRUN")
	for _, n := range g.Nodes {
		at, of := eventOf(n.Name)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", at, of, n.Status, n.Run)
	}
	return tw.Flush()
}

// eventOf reads an event's key (NANOSECONDS.RUN.INDEX) as when it came
// and the run it is a change of.
func eventOf(key string) (at, run string) {
	parts := strings.SplitN(key, ".", 3)
	if len(parts) != 3 {
		return key, "-"
	}
	ns, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return key, parts[1]
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339), parts[1]
}
