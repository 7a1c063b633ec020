package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

type opsOptions struct {
	server string
	token  string
	tlsCA  string
	output string
}

// apiClient is the API's client for a server, trusting the CA in caFile
// beside the system's when it is given.
func apiClient(server, token, caFile string) (*api.Client, error) {
	hc, err := api.HTTPClient(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	return &api.Client{BaseURL: server, Token: token, HTTP: hc}, nil
}

func newOpsCmd() *cobra.Command {
	var o opsOptions
	cmd := &cobra.Command{
		Use:   "ops",
		Short: "List, inspect, follow and stop runs on a server",
		Long: `Ops talks to a server's API: --server URL, or PLEXUS_SERVER (and a bearer
token from --token or PLEXUS_TOKEN). With no server, ls, get and logs read
the local history that plexus run leaves under $PLEXUS_HOME, and resume
runs the new attempt here, as plexus run does.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.server, "server", os.Getenv("PLEXUS_SERVER"), "the server's URL (default $PLEXUS_SERVER)")
	pf.StringVar(&o.token, "token", os.Getenv("PLEXUS_TOKEN"), "the bearer token (default $PLEXUS_TOKEN)")
	pf.StringVar(&o.tlsCA, "tls-ca", os.Getenv("PLEXUS_TLS_CA"), "trust a server whose certificate this CA `FILE` (PEM) signed, beside the system's CAs (default $PLEXUS_TLS_CA)")
	pf.StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	client := func() (*api.Client, error) {
		if o.server == "" {
			return nil, errors.New("this needs a server, where runs run: pass --server URL or set PLEXUS_SERVER")
		}
		return apiClient(o.server, o.token, o.tlsCA)
	}
	// reader reads from the server, or with none from the local history
	// of `plexus run` under $PLEXUS_HOME.
	reader := func() (history, func(), error) {
		if o.output != "table" && o.output != "json" && o.output != "yaml" {
			return nil, nil, fmt.Errorf("--output must be table, json or yaml, got %q", o.output)
		}
		if o.server != "" {
			c, err := apiClient(o.server, o.token, o.tlsCA)
			return c, func() {}, err
		}
		home, err := plexusHome()
		if err != nil {
			return nil, nil, err
		}
		h, err := openLocalHistory(home)
		if err != nil {
			return nil, nil, err
		}
		return h, h.close, nil
	}

	var status, project, parent string
	var limit int
	var schedules bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, done, err := reader()
			if err != nil {
				return err
			}
			defer done()
			kind := ""
			if schedules {
				kind = "schedule"
			}
			page, err := c.List(cmd.Context(), api.ListOptions{Status: status, Project: project, Parent: parent, Limit: limit, Kind: kind})
			if err != nil {
				return err
			}
			if o.output != "table" {
				return printValue(cmd.OutOrStdout(), o.output, page)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			if schedules {
				// When each fires, how often it did, and when it fires next.
				fmt.Fprintln(tw, "UUID\tNAME\tSTATUS\tSCHEDULE\tFIRED\tNEXT")
				for _, r := range page.Runs {
					g, err := c.Graph(cmd.Context(), r.UUID)
					if err != nil {
						return err
					}
					next := "-"
					if len(g.Schedule.Coming) > 0 {
						next = g.Schedule.Coming[0].UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.UUID, r.Name, r.Status, g.Schedule.Description, g.Schedule.State.Fired, next)
				}
				return tw.Flush()
			}
			if parent != "" {
				// A dag's children: the operation each runs, and the
				// attempt of the dag that made it.
				fmt.Fprintln(tw, "UUID\tNODE\tSTATUS\tATTEMPT\tDAG-ATTEMPT\tCREATED")
				for _, r := range page.Runs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", r.UUID, r.Node, r.Status, r.Attempt, r.ParentAttempt, r.CreatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			}
			fmt.Fprintln(tw, "UUID\tNAME\tPROJECT\tSTATUS\tATTEMPT\tCREATED")
			for _, r := range page.Runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.UUID, r.Name, r.Project, r.Status, r.Attempt, r.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	ls.Flags().StringVarP(&status, "status", "s", "", "only runs with this status")
	ls.Flags().StringVar(&project, "project", "", "only runs of this project")
	ls.Flags().StringVar(&parent, "parent", "", "only the children of this run (a dag's: the runs of its operations)")
	ls.Flags().IntVarP(&limit, "limit", "l", 50, "at most this many runs")
	ls.Flags().BoolVar(&schedules, "schedules", false, "only schedules, each with when it fires, how often it did and its next fire")

	var graph bool
	get := &cobra.Command{
		Use:   "get UUID",
		Short: "Show a run: its status, conditions, attempt and outputs (a sweep's trials; --graph: a dag's operations)",
		Long: `Get shows a run: its status, conditions, attempt and outputs. With --graph,
it shows a dag's operations in topological order, each with its status and
its run: an operation with one upstream is drawn under it, one with several
lists them after an arrow (← a, b), one with no run yet shows - not run.
Of a sweep (an operation with a matrix), it lists the trials so far: each
one's params, metric, status and run, sorted by the metric, the best first
and marked *.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := reader()
			if err != nil {
				return err
			}
			defer done()
			if graph {
				g, err := c.Graph(cmd.Context(), args[0])
				if errors.Is(err, engine.ErrNotPipeline) {
					return fmt.Errorf("--graph shows the operations of a dag: %w", err)
				}
				if err != nil {
					return err
				}
				if o.output != "table" {
					g.Run.Compiled = nil // internal
					return printValue(cmd.OutOrStdout(), o.output, g)
				}
				if g.Matrix != nil {
					return printMatrix(cmd.Context(), cmd.OutOrStdout(), c, g)
				}
				if g.Schedule != nil {
					return printSchedule(cmd.OutOrStdout(), g)
				}
				if g.Subscription != nil {
					return printSubscription(cmd.OutOrStdout(), g)
				}
				return printGraph(cmd.Context(), cmd.OutOrStdout(), g, c.Graph)
			}
			r, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if o.output != "table" {
				r.Compiled = nil // internal
				return printValue(cmd.OutOrStdout(), o.output, r)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "uuid:     %s\nname:     %s\nproject:  %s\nstatus:   %s\nattempt:  %d\n", r.UUID, r.Name, r.Project, r.Status, r.Attempt)
			if len(r.Outputs) > 0 {
				out, _ := json.Marshal(r.Outputs)
				fmt.Fprintf(w, "outputs:  %s\n", out)
			}
			fmt.Fprintln(w, "conditions:")
			for _, cond := range r.Conditions {
				line := fmt.Sprintf("  %s  %-15s %s %s", cond.Time.Format(time.RFC3339), cond.Type, cond.Reason, cond.Message)
				fmt.Fprintln(w, strings.TrimRight(line, " "))
			}
			if r.Events {
				// A subscription: what it listens to, what it started.
				g, err := c.Graph(cmd.Context(), r.UUID)
				if err != nil {
					return err
				}
				return printSubscription(w, g)
			}
			if r.Schedule != "" {
				// A schedule: its fires, and the next ones.
				g, err := c.Graph(cmd.Context(), r.UUID)
				if err != nil {
					return err
				}
				return printSchedule(w, g)
			}
			if r.Matrix != "" {
				// A sweep: its trials, the best first.
				g, err := c.Graph(cmd.Context(), r.UUID)
				if err != nil {
					return err
				}
				if g.Matrix != nil {
					return printMatrix(cmd.Context(), w, c, g)
				}
			}
			return nil
		},
	}
	get.Flags().BoolVar(&graph, "graph", false, "show a dag's operations as a graph, each with its status")

	var followLogs bool
	var attempt int
	logs := &cobra.Command{
		Use:   "logs UUID",
		Short: "Print a run's log (-f follows it); a dag's, its operations' logs",
		Long: `Logs prints a run's log; -f follows it until the run ends. For a dag, it
prints the logs of its operations' runs (of nested dags' too), each line
prefixed with the operation ([train] epoch 1, [inner/a] ...); -f streams
them as the operations run, with the dag's progress on stderr. --attempt
picks an attempt of the run (of a dag: the runs of that attempt).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := reader()
			if err != nil {
				return err
			}
			defer done()
			g, err := c.Graph(cmd.Context(), args[0])
			switch {
			case err == nil:
				out := &console{logs: cmd.OutOrStdout(), status: cmd.ErrOrStderr()}
				// A dag that ended, or the local history, where nothing
				// runs, has nothing to follow.
				if followLogs && o.server != "" && !g.Run.Status.Final() && (attempt == 0 || attempt == g.Run.Attempt) {
					_, err := newDagFollower(c, out).follow(cmd.Context(), args[0], nil)
					return err
				}
				return printDagLogs(cmd.Context(), c, g, attempt, out)
			case !errors.Is(err, engine.ErrNotPipeline):
				return err
			}
			rd, err := c.Logs(cmd.Context(), args[0], attempt, followLogs)
			if err != nil {
				return err
			}
			defer rd.Close()
			_, err = io.Copy(cmd.OutOrStdout(), rd)
			return err
		},
	}
	logs.Flags().BoolVarP(&followLogs, "follow", "f", false, "keep printing until the run ends")
	logs.Flags().IntVar(&attempt, "attempt", 0, "the attempt (default: the current one)")

	verb := func(use, short string, do func(*api.Client, context.Context, string) (*store.Run, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " UUID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := client()
				if err != nil {
					return err
				}
				r, err := do(c, cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "run %s %s\n", r.UUID, r.Status)
				return nil
			},
		}
	}
	var watchResume bool
	resume := &cobra.Command{
		Use:   "resume UUID",
		Short: "Start a new attempt of a failed or stopped run; of a dag, run again its operations that did not succeed",
		Long: `Resume starts a new attempt of a run that failed, was stopped or had an
upstream fail. A resumed dag runs again only its operations whose run did
not succeed; those that succeeded keep their runs. With a server, resume
asks it, and --watch follows the run to its end as plexus run --watch
does. With none, the new attempt runs here, in an engine in this process
with the state under $PLEXUS_HOME, as plexus run does, to its end; the
exit status says whether it succeeded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.server == "" {
				return resumeHere(cmd, args[0])
			}
			c, err := apiClient(o.server, o.token, o.tlsCA)
			if err != nil {
				return err
			}
			return resumeRemote(cmd, c, args[0], watchResume)
		},
	}
	resume.Flags().BoolVarP(&watchResume, "watch", "w", false, "with a server: follow the run to its end")

	cmd.AddCommand(ls, get, logs, resume, newServiceCmd(&o, reader),
		verb("stop", "Stop a run", (*api.Client).Stop),
		verb("approve", "Approve a run that waits for approval (isApproved: false)", (*api.Client).Approve),
		verb("restart", "Run a run's submission again, as a new run", (*api.Client).Restart))
	return cmd
}

// resumeRemote asks a server to resume a run, says what it resumed, and
// with watch follows the run to its end.
func resumeRemote(cmd *cobra.Command, c *api.Client, uuid string, watch bool) error {
	g, err := c.Graph(cmd.Context(), uuid)
	if err != nil && !errors.Is(err, engine.ErrNotPipeline) {
		return err
	}
	r, err := c.Resume(cmd.Context(), uuid)
	if err != nil {
		return err
	}
	describeResume(cmd.OutOrStdout(), r, g)
	if !watch {
		return nil
	}
	return watchRemote(cmd.Context(), c, r, cmd.ErrOrStderr())
}

// resumeHere resumes a run of the local history in an engine in this
// process and follows it to its end.
func resumeHere(cmd *cobra.Command, uuid string) error {
	return runHere(cmd, true, func(ctx context.Context, le *localEngine, _ io.Writer) (*store.Run, error) {
		g, err := le.eng.Graph(ctx, uuid)
		if err != nil && !errors.Is(err, engine.ErrNotPipeline) {
			return nil, err
		}
		r, err := le.eng.Resume(ctx, uuid)
		if err != nil {
			return nil, err
		}
		describeResume(cmd.OutOrStdout(), r, g)
		return r, nil
	})
}

// describeResume says what a resume did: the run's new attempt and, for a
// dag (g, read before the resume; nil for another run), which operations
// run again and which keep their runs.
func describeResume(w io.Writer, r *store.Run, g *engine.Graph) {
	fmt.Fprintf(w, "run %s %s, attempt %d\n", r.UUID, r.Status, r.Attempt)
	if g == nil {
		return
	}
	var again, kept []string
	for _, n := range g.Nodes {
		if n.Status == store.Succeeded {
			kept = append(kept, n.Name)
		} else {
			again = append(again, n.Name)
		}
	}
	fmt.Fprintf(w, "  runs again %d of its %d operations: %s\n", len(again), len(g.Nodes), someOf(again))
	if len(kept) > 0 {
		fmt.Fprintf(w, "  keeps the runs of %d that succeeded: %s\n", len(kept), someOf(kept))
	}
}

// someOf lists names, the first ten of them.
func someOf(names []string) string {
	const most = 10
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

// printValue writes v as JSON or YAML.
func printValue(w io.Writer, format string, v any) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	out, err := specs.MarshalYAML(v)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
