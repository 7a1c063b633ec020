package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
)

// childLister lists all the children of a run at once; the histories of a
// store do, a server's API pages them.
type childLister interface {
	ChildRuns(ctx context.Context, parent string) ([]*store.Run, error)
}

// childRuns reads every child of a run.
func childRuns(ctx context.Context, src history, parent string) ([]*store.Run, error) {
	if l, ok := src.(childLister); ok {
		return l.ChildRuns(ctx, parent)
	}
	var all []*store.Run
	for after := ""; ; {
		page, err := src.List(ctx, api.ListOptions{Parent: parent, After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		all = append(all, page.Runs...)
		if page.Next == "" {
			return all, nil
		}
		after = page.Next
	}
}

// changeLister reads only the children of a run changed since a store
// revision; the histories of a store do.
type changeLister interface {
	ChildRunsSince(ctx context.Context, parent string, since int64) ([]*store.Run, int64, error)
}

// childRunsSince reads the children of a run changed after revision since
// (all of them when since is 0), and the revision to pass next time.
func childRunsSince(ctx context.Context, src history, parent string, since int64) ([]*store.Run, int64, error) {
	if l, ok := src.(changeLister); ok {
		return l.ChildRunsSince(ctx, parent, since)
	}
	var all []*store.Run
	var rev int64
	for after := ""; ; {
		page, err := src.List(ctx, api.ListOptions{Parent: parent, After: after, Limit: 1000, Since: since})
		if err != nil {
			return nil, 0, err
		}
		if rev == 0 {
			rev = page.Revision // the first page's: what changes later is read again
		}
		all = append(all, page.Runs...)
		if page.Next == "" {
			return all, rev, nil
		}
		after = page.Next
	}
}

// dagView is what a follower knows of one dag: the one it follows, or
// one nested in it.
type dagView struct {
	// path names a nested dag by its operations from the top ("inner",
	// "inner/deeper"), "" for the top; log lines are prefixed with the
	// path of their operation.
	path  string
	run   *store.Run
	graph *engine.Graph
	// nodes holds the run of each operation in the dag's attempt;
	// children every child read so far, by uuid, as of revision rev.
	nodes    map[string]*store.Run
	children map[string]*store.Run
	rev      int64
	nested   map[string]*dagView
	// kept is set for a dag an earlier attempt of its parent ran and the
	// current one keeps: its logs are not new.
	kept bool

	line    string // the progress line printed last
	printed time.Time
}

func (v *dagView) name() string {
	if v.path != "" {
		return v.path
	}
	return v.run.Name
}

// qualify names an operation of the dag from the top.
func (v *dagView) qualify(node string) string {
	if v.path == "" {
		return node
	}
	return v.path + "/" + node
}

// dagFollower follows a dag run to its end: it streams the log of each
// run of its operations (and of the operations of dags nested in it) as
// the runs start, each line prefixed with the operation, and prints the
// dag's progress when it changes.
type dagFollower struct {
	src history
	out *console
	// fresh leaves out the logs of the runs that an earlier attempt of a
	// dag made and the current attempt keeps: a resume prints only what
	// runs again.
	fresh bool
	// conditions prints the top dag's conditions as they come, after the
	// first seen.
	conditions bool
	seen       int
	// cached are the runs said to be cache hits, which have no log.
	cached map[string]bool

	streams *logStreams
}

func newDagFollower(src history, out *console) *dagFollower {
	return &dagFollower{src: src, out: out, streams: newLogStreams(out, func(ctx context.Context, uuid string, attempt int) (io.ReadCloser, error) {
		return src.Logs(ctx, uuid, attempt, true)
	})}
}

// follow polls the dag until it ends and its logs are printed, and returns
// the top view with every operation's last run. When ctx ends, interrupt
// is called once (to stop the dag) and following goes on until the dag
// ends; with no interrupt, follow returns ctx's error. For a run that is
// not a dag, the error wraps engine.ErrNotPipeline.
func (f *dagFollower) follow(ctx context.Context, uuid string, interrupt func() error) (*dagView, error) {
	defer f.streams.wait()
	g, err := f.src.Graph(ctx, uuid)
	if err != nil {
		return nil, err
	}
	top := &dagView{graph: g, run: g.Run, nested: map[string]*dagView{}}
	done := ctx.Done()
	for {
		began := time.Now()
		run, err := f.src.Get(context.WithoutCancel(ctx), uuid)
		if err != nil {
			return nil, err
		}
		top.run = run
		if f.conditions {
			for ; f.seen < len(run.Conditions); f.seen++ {
				c := run.Conditions[f.seen]
				f.out.statusf("  %-10s %s\n", c.Type, c.Message)
			}
		}
		if err := f.poll(context.WithoutCancel(ctx), top); err != nil {
			return nil, err
		}
		if run.Status.Final() {
			// The last progress line after the last logs.
			f.streams.wait()
			if line := progress(top); line != top.line {
				f.out.statusf("%s\n", line)
			}
			return top, nil
		}
		// A large dag takes a while to read: wait as long again.
		select {
		case <-done:
			if interrupt == nil {
				return nil, ctx.Err()
			}
			done = nil
			f.out.statusf("stopping the dag %s\n", uuid)
			if err := interrupt(); err != nil {
				return nil, err
			}
		case <-time.After(max(100*time.Millisecond, time.Since(began))):
		}
	}
}

// poll reads the runs of a dag's operations, streams the logs of those
// that began, follows the dags nested in it, and prints its progress when
// it changed.
func (f *dagFollower) poll(ctx context.Context, v *dagView) error {
	// Each look reads what changed since the last one.
	changed, rev, err := childRunsSince(ctx, f.src, v.run.UUID, v.rev)
	if err != nil {
		return fmt.Errorf("reading the operations of dag %s: %w", v.run.UUID, err)
	}
	if v.children == nil {
		v.children = map[string]*store.Run{}
	}
	for _, r := range changed {
		if o := v.children[r.UUID]; o == nil || r.Revision >= o.Revision {
			v.children[r.UUID] = r
		}
	}
	v.rev = rev
	children := make([]*store.Run, 0, len(v.children))
	for _, r := range v.children {
		children = append(children, r)
	}
	v.nodes = engine.CurrentChildren(children, v.run.Attempt)
	for _, n := range viewNodes(v) {
		r := v.nodes[n.Name]
		if r == nil {
			continue
		}
		kept := v.kept || f.fresh && r.ParentAttempt < v.run.Attempt
		switch {
		case n.Pipeline && r.Attempt > 0:
			nv := v.nested[n.Name]
			if nv == nil || nv.run.UUID != r.UUID {
				g, err := f.src.Graph(ctx, r.UUID)
				if err != nil {
					return fmt.Errorf("reading the dag of operation %s: %w", v.qualify(n.Name), err)
				}
				nv = &dagView{path: v.qualify(n.Name), graph: g, nested: map[string]*dagView{}}
				v.nested[n.Name] = nv
			}
			nv.run, nv.kept = r, kept
			if err := f.poll(ctx, nv); err != nil {
				return err
			}
		case !n.Pipeline && !kept && r.CacheOf != "":
			if !f.cached[r.UUID] {
				if f.cached == nil {
					f.cached = map[string]bool{}
				}
				f.cached[r.UUID] = true
				f.out.statusf("[%s] cache hit: the result of run %s\n", v.label(n.Name), r.CacheOf)
			}
		case !n.Pipeline && !kept:
			f.streams.update(r, 1, v.label(n.Name))
		}
	}
	line := progress(v)
	final := v.run.Status.Final()
	if v.path == "" && final {
		return nil // printed once the logs are
	}
	if line != v.line && (final || time.Since(v.printed) >= time.Second) {
		v.line, v.printed = line, time.Now()
		f.out.statusf("%s\n", line)
	}
	return nil
}

// progress sums a dag up in one line: "dag NAME: 3/5 done (2 succeeded,
// 1 failed, 1 running, 1 waiting)".
func progress(v *dagView) string {
	counts := map[store.Status]int{}
	done, none := 0, 0
	for _, n := range viewNodes(v) {
		r := v.nodes[n.Name]
		if r == nil {
			none++
			continue
		}
		counts[r.Status]++
		if r.Status.Final() {
			done++
		}
	}
	var parts []string
	for _, s := range statusOrder {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
			delete(counts, s)
		}
	}
	rest := make([]string, 0, len(counts))
	for s, n := range counts {
		rest = append(rest, fmt.Sprintf("%d %s", n, s))
	}
	slices.Sort(rest)
	parts = append(parts, rest...)
	if none > 0 {
		waiting := "waiting"
		if v.run.Status.Final() {
			waiting = "not run"
		}
		parts = append(parts, fmt.Sprintf("%d %s", none, waiting))
	}
	if v.graph.Matrix != nil {
		return matrixProgress(v, strings.Join(parts, ", "), done)
	}
	if v.graph.Schedule != nil || v.graph.Subscription != nil {
		return scheduleProgress(v, strings.Join(parts, ", "), len(v.nodes))
	}
	return fmt.Sprintf("dag %s: %d/%d done (%s)", v.name(), done, len(v.graph.Nodes), strings.Join(parts, ", "))
}

// statusOrder is the order of statuses in a progress line: the ends, then
// the way to them backwards.
var statusOrder = []store.Status{store.Succeeded, store.Failed, store.UpstreamFailed, store.Skipped, store.Stopped,
	store.Stopping, store.Running, store.Processing, store.Warning, store.Unschedulable, store.Starting, store.Scheduled,
	store.Retrying, store.Queued, store.Compiled, store.Resuming, store.Created}

// summaryRows is how many operations a summary lists at most: a larger
// dag's lists those that did not succeed.
const summaryRows = 100

// printSummary writes a table of a dag's operations, nested ones after
// theirs, in topological order: each one's status, how long its run ran
// and the run. Of a dag of more than summaryRows operations, it lists only
// those that did not succeed, as many, and says how many it left out.
func printSummary(w io.Writer, v *dagView) error {
	if v.graph.Matrix != nil {
		return printMatrixSummary(w, v.graph.Matrix, v.nodes, v.run)
	}
	if v.graph.Schedule != nil || v.graph.Subscription != nil {
		return printScheduleSummary(w, v)
	}
	type row struct {
		name string
		run  *store.Run
	}
	var rows []row
	var collect func(v *dagView)
	collect = func(v *dagView) {
		for _, n := range v.graph.Nodes {
			rows = append(rows, row{v.qualify(n.Name), v.nodes[n.Name]})
			if nv := v.nested[n.Name]; nv != nil {
				collect(nv)
			}
		}
	}
	collect(v)
	all, succeeded := len(rows), 0
	if all > summaryRows {
		failing := rows[:0]
		for _, r := range rows {
			if r.run != nil && r.run.Status == store.Succeeded {
				succeeded++
			} else if len(failing) < summaryRows {
				failing = append(failing, r)
			}
		}
		rows = failing
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tSTATUS\tDURATION\tRUN")
	for _, r := range rows {
		if r.run == nil {
			fmt.Fprintf(tw, "%s\tnot run\t-\t-\n", r.name)
			continue
		}
		status := string(r.run.Status)
		if r.run.CacheOf != "" {
			status += " (cached)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, status, runDuration(r.run), r.run.UUID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if left := all - len(rows); left > 0 {
		_, err := fmt.Fprintf(w, "%d more operations not listed, %d of them succeeded: plexus ops ls --parent %s lists their runs\n", left, succeeded, v.run.UUID)
		return err
	}
	return nil
}

// runDuration is how long a run ran, from its first running-group status
// to its end, or "-".
func runDuration(r *store.Run) string {
	var start, end time.Time
	for _, c := range r.Conditions {
		switch {
		case c.Type == store.Scheduled || c.Type == store.Starting || c.Type == store.Running || c.Type == store.Processing:
			if start.IsZero() {
				start = c.Time
			}
		case c.Type.Final():
			end = c.Time
		}
	}
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return "-"
	}
	d := end.Sub(start)
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// printDagLogs prints the log of each operation of a dag's attempt (0:
// its current one), in topological order, nested dags' after theirs,
// each line prefixed with its operation.
func printDagLogs(ctx context.Context, src history, g *engine.Graph, attempt int, out *console) error {
	var print func(g *engine.Graph, path string, attempt int) error
	print = func(g *engine.Graph, path string, attempt int) error {
		if attempt == 0 {
			attempt = g.Run.Attempt
		}
		children, err := childRuns(ctx, src, g.Run.UUID)
		if err != nil {
			return fmt.Errorf("reading the operations of dag %s: %w", g.Run.UUID, err)
		}
		nodes := engine.CurrentChildren(children, attempt)
		for _, n := range g.Nodes {
			r := nodes[n.Name]
			name := n.Name
			if path != "" {
				name = path + "/" + n.Name
			}
			switch {
			case r == nil || !dispatched(r):
				continue
			case n.Pipeline:
				ng, err := src.Graph(ctx, r.UUID)
				if err != nil {
					return fmt.Errorf("reading the dag of operation %s: %w", name, err)
				}
				if err := print(ng, name, 0); err != nil {
					return err
				}
				continue
			}
			rd, err := src.Logs(ctx, r.UUID, r.Attempt, false)
			if err != nil {
				out.statusf("%s: %v\n", name, err)
				continue
			}
			err = out.copyLines(name, rd)
			rd.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	return print(g, "", attempt)
}
