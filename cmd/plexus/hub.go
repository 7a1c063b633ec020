package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

// hubEnv names the private hub sources every command searches before the
// built-in hub: directories and http(s) base URLs, separated by commas.
const hubEnv = "PLEXUS_HUB"

// newHub is the hub commands resolve hubRefs with: the sources of the
// flags, in order, then those of PLEXUS_HUB, then the built-in hub.
func newHub(flags []hub.Source) (*hub.Hub, error) {
	env, err := hub.ParseSources(os.Getenv(hubEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hubEnv, err)
	}
	return hub.New(append(flags, env...)...), nil
}

// envHub is the hub of every command that has no hub flags (run, check,
// compile, server): PLEXUS_HUB's sources before the built-in hub. When
// PLEXUS_HUB cannot be read, every hubRef fails with the reason.
func envHub() compiler.Hub {
	h, err := newHub(nil)
	if err != nil {
		return brokenHub{err}
	}
	return h
}

// brokenHub answers every lookup with why there is no hub.
type brokenHub struct{ err error }

func (b brokenHub) Component(context.Context, compiler.HubRef) (*specs.Component, error) {
	return nil, b.err
}

// hubOperation is the operation `plexus run --hub REF` submits: the hub
// component REF names, its params given apart (-P) as with -f.
func hubOperation(ref string) (string, error) {
	if _, err := compiler.ParseHubRef(ref); err != nil {
		return "", fmt.Errorf("--hub: %w", err)
	}
	v := specs.Version(specs.SpecVersion)
	op := &specs.Operation{HubRef: ref}
	op.Version, op.Kind = &v, specs.KindOperation
	out, err := specs.MarshalYAML(op)
	if err != nil {
		return "", fmt.Errorf("--hub %s: %w", ref, err)
	}
	return string(out), nil
}

// hubSourceFlag adds a --hub-dir or --hub-url to a list shared by both,
// so the sources keep the order of the command line.
type hubSourceFlag struct {
	url  bool
	list *[]hub.Source
}

func (f hubSourceFlag) String() string { return "" }

func (f hubSourceFlag) Type() string {
	if f.url {
		return "url"
	}
	return "dir"
}

func (f hubSourceFlag) Set(v string) error {
	if !f.url {
		*f.list = append(*f.list, hub.Dir(v))
		return nil
	}
	s, err := hub.URL(v)
	if err != nil {
		return err
	}
	*f.list = append(*f.list, s)
	return nil
}

func newHubCmd() *cobra.Command {
	var sources []hub.Source
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "List and show the components hubRefs name",
		Long: `Hub lists and shows the components an operation's hubRef
([owner/]name[:tag]) finds. Private sources come first, in order: the
--hub-dir and --hub-url flags, then PLEXUS_HUB (directories and http(s)
URLs, separated by commas), which run, check, compile and server read too.
The built-in hub comes last. A source holds <owner>/<name>/<tag>.yaml; an
http(s) source lists its components in index.json, which "plexus hub index"
writes for a directory.`,
	}
	pf := cmd.PersistentFlags()
	pf.Var(hubSourceFlag{list: &sources}, "hub-dir", "a private hub directory, searched before the built-in hub (repeatable)")
	pf.Var(hubSourceFlag{url: true, list: &sources}, "hub-url", "a private hub's http(s) base URL, searched before the built-in hub (repeatable)")
	open := func() (*hub.Hub, error) { return newHub(sources) }
	cmd.AddCommand(newHubLsCmd(open), newHubGetCmd(open), newHubIndexCmd())
	return cmd
}

func newHubLsCmd(open func() (*hub.Hub, error)) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the components of the hub, with their tags",
		Long: `Ls lists every component of every source, with its tags, its run's kind
and its description (those of its latest tag). A component that is shadowed
by one of an earlier source is shown once, as hubRefs find it. A file that
is not a valid component is reported with its source and path, after the
list, and the command then fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" && output != "yaml" {
				return fmt.Errorf("--output must be table, json or yaml, got %q", output)
			}
			h, err := open()
			if err != nil {
				return err
			}
			entries, listErr := h.List(cmd.Context())
			if output != "table" {
				if err := printValue(cmd.OutOrStdout(), output, entries); err != nil {
					return err
				}
			} else if err := printEntries(cmd.OutOrStdout(), entries); err != nil {
				return err
			}
			return reportAll(cmd.ErrOrStderr(), listErr)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

// printEntries writes the listing as a table. The default owner's
// components go by their name alone, as hubRefs may name them.
func printEntries(w io.Writer, entries []hub.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTAGS\tKIND\tDESCRIPTION")
	for _, e := range entries {
		name := e.Name
		if e.Owner != compiler.DefaultHubOwner {
			name = e.Owner + "/" + e.Name
		}
		if len(e.Aliases) > 0 {
			name += " (" + strings.Join(e.Aliases, ", ") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, strings.Join(e.Tags, ", "), e.Kind, e.Description)
	}
	return tw.Flush()
}

// reportAll writes each problem err joins on a line of its own and
// returns errSilent, or returns nil when there is none.
func reportAll(w io.Writer, err error) error {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		fmt.Fprintln(w, "Error:", e)
	}
	return errSilent
}

func newHubGetCmd(open func() (*hub.Hub, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "get [owner/]NAME[:TAG]",
		Short: "Show a component of the hub and its inputs",
		Long: `Get prints the file of the component a hubRef finds, after a comment
saying where it was found, then its inputs as a table (and its outputs, if
it has any): name, type, default and description.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := compiler.ParseHubRef(args[0])
			if err != nil {
				return err
			}
			h, err := open()
			if err != nil {
				return err
			}
			f, err := h.Find(cmd.Context(), ref)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "# %s, from %s\n", f.Ref, f.Location)
			if _, err := w.Write(f.Text); err != nil {
				return err
			}
			if !bytes.HasSuffix(f.Text, []byte("\n")) {
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w)
			if err := printIO(w, "NAME", f.Component.Inputs); err != nil {
				return err
			}
			if len(f.Component.Outputs) == 0 {
				return nil
			}
			fmt.Fprintln(w)
			return printIO(w, "OUTPUT", f.Component.Outputs)
		},
	}
}

// printIO writes inputs or outputs as a table: name, type, default and
// description.
func printIO(w io.Writer, first string, ios []specs.IO) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tTYPE\tDEFAULT\tDESCRIPTION\n", first)
	for _, x := range ios {
		typ := string(x.Type)
		if typ == "" {
			typ = "any"
		}
		switch {
		case x.IsList:
			typ = "list[" + typ + "]"
		case x.IsFlag:
			typ += " (flag)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Name, typ, ioDefault(x), x.Description)
	}
	return tw.Flush()
}

// ioDefault shows what an IO takes when no param gives it a value.
func ioDefault(x specs.IO) string {
	switch {
	case !x.IsOptional:
		return "(required)"
	case x.Value == nil:
		return "none"
	}
	if s, ok := x.Value.(string); ok && s != "" {
		return s
	}
	out, err := json.Marshal(x.Value)
	if err != nil {
		return fmt.Sprint(x.Value)
	}
	return string(out)
}

func newHubIndexCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "index DIR",
		Short: "Write the index.json that lists a hub directory's components",
		Long: `Index checks every component of a hub directory and writes DIR/index.json,
the listing an http(s) source serves at its base URL so that "plexus hub
ls --hub-url" can list it. Nothing is written unless every component is
valid.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			idx, err := hub.IndexOf(cmd.Context(), hub.Dir(args[0]))
			if err != nil {
				return reportAll(cmd.ErrOrStderr(), err)
			}
			out, err := json.MarshalIndent(idx, "", "  ")
			if err != nil {
				return err
			}
			path := filepath.Join(args[0], hub.IndexFile)
			if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
				return fmt.Errorf("writing the hub index: %w", err)
			}
			n := 0
			for _, c := range idx.Components {
				n += len(c.Tags)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d components, %d files\n", path, len(idx.Components), n)
			return nil
		},
	}
}
