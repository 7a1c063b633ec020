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

	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

type opsOptions struct {
	server string
	token  string
	output string
}

func newOpsCmd() *cobra.Command {
	var o opsOptions
	cmd := &cobra.Command{
		Use:   "ops",
		Short: "List, inspect, follow and stop runs on a server",
		Long: `Ops talks to a server's API: --server URL, or PLEXUS_SERVER (and a bearer
token from --token or PLEXUS_TOKEN). With no server, ls, get and logs read
the local history that plexus run leaves under $PLEXUS_HOME.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.server, "server", os.Getenv("PLEXUS_SERVER"), "the server's URL (default $PLEXUS_SERVER)")
	pf.StringVar(&o.token, "token", os.Getenv("PLEXUS_TOKEN"), "the bearer token (default $PLEXUS_TOKEN)")
	pf.StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	client := func() (*api.Client, error) {
		if o.server == "" {
			return nil, errors.New("this needs a server, where runs run: pass --server URL or set PLEXUS_SERVER")
		}
		return &api.Client{BaseURL: o.server, Token: o.token}, nil
	}
	// reader reads from the server, or with none from the local history
	// of `plexus run` under $PLEXUS_HOME.
	reader := func() (history, func(), error) {
		if o.output != "table" && o.output != "json" && o.output != "yaml" {
			return nil, nil, fmt.Errorf("--output must be table, json or yaml, got %q", o.output)
		}
		if o.server != "" {
			return &api.Client{BaseURL: o.server, Token: o.token}, func() {}, nil
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
			page, err := c.List(cmd.Context(), api.ListOptions{Status: status, Project: project, Parent: parent, Limit: limit})
			if err != nil {
				return err
			}
			if o.output != "table" {
				return printValue(cmd.OutOrStdout(), o.output, page)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "UUID\tNAME\tPROJECT\tSTATUS\tATTEMPT\tCREATED")
			for _, r := range page.Runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.UUID, r.Name, r.Project, r.Status, r.Attempt, r.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	ls.Flags().StringVarP(&status, "status", "s", "", "only runs with this status")
	ls.Flags().StringVar(&project, "project", "", "only runs of this project")
	ls.Flags().StringVar(&parent, "parent", "", "only the children of this run")
	ls.Flags().IntVarP(&limit, "limit", "l", 50, "at most this many runs")

	get := &cobra.Command{
		Use:   "get UUID",
		Short: "Show a run: its status, conditions, attempt and outputs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := reader()
			if err != nil {
				return err
			}
			defer done()
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
			return nil
		},
	}

	var followLogs bool
	var attempt int
	logs := &cobra.Command{
		Use:   "logs UUID",
		Short: "Print a run's log (-f follows it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, done, err := reader()
			if err != nil {
				return err
			}
			defer done()
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
	cmd.AddCommand(ls, get, logs,
		verb("stop", "Stop a run", (*api.Client).Stop),
		verb("approve", "Approve a run that waits for approval (isApproved: false)", (*api.Client).Approve),
		verb("resume", "Start a new attempt of a failed or stopped run", (*api.Client).Resume),
		verb("restart", "Run a run's submission again, as a new run", (*api.Client).Restart))
	return cmd
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
