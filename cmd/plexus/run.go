package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

type runOptions struct {
	file    string
	hub     string
	params  []string
	name    string
	project string
	urlRefs bool
	server  string
	token   string
	tlsCA   string
	watch   bool
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run (-f FILE | --hub [owner/]NAME[:TAG]) [-P name=value]...",
		Short: "Run an operation to its end on this machine, showing its status and logs",
		Long: `Run starts an engine in this process — an embedded etcd and the local
executor, with their state under $PLEXUS_HOME (default ~/.plexus) — submits
the operation, streams its logs and status, and exits 0 only if it succeeds.
Ctrl-C stops the run. Jobs run as host processes: the command runs, the
image is not used. --hub runs a component of the hub (see plexus hub) with
the -P params, as a file holding only its hubRef would.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "the Polyaxonfile to run")
	f.StringVar(&o.hub, "hub", "", "run the hub component [owner/]NAME[:TAG] instead of a file (PLEXUS_HUB names private hubs)")
	f.StringArrayVarP(&o.params, "param", "P", nil, "param as name=value (repeatable)")
	f.StringVar(&o.name, "name", "", "the run's name")
	f.StringVar(&o.project, "project", "", "the project")
	f.BoolVar(&o.urlRefs, "url-refs", true, "fetch the components urlRefs name (HTTP GET); false refuses them")
	f.StringVar(&o.server, "server", os.Getenv("PLEXUS_SERVER"), "submit to this server instead of running here (default $PLEXUS_SERVER)")
	f.StringVar(&o.token, "token", os.Getenv("PLEXUS_TOKEN"), "the server's bearer token (default $PLEXUS_TOKEN)")
	f.StringVar(&o.tlsCA, "tls-ca", os.Getenv("PLEXUS_TLS_CA"), "trust a server whose certificate this CA `FILE` (PEM) signed, beside the system's CAs (default $PLEXUS_TLS_CA)")
	f.BoolVarP(&o.watch, "watch", "w", false, "with --server: follow the run to its end")
	return cmd
}

// plexusHome is where a laptop's engine keeps its state.
func plexusHome() (string, error) {
	if h := os.Getenv("PLEXUS_HOME"); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no PLEXUS_HOME and no home directory: %w", err)
	}
	return filepath.Join(home, ".plexus"), nil
}

func runRun(cmd *cobra.Command, o runOptions) error {
	params, err := parseParamFlags(o.params)
	if err != nil {
		return err
	}
	// The submission: the file, or an operation naming the hub component.
	var spec, dir string
	switch {
	case o.file != "" && o.hub != "":
		return errors.New("-f and --hub cannot be used together: --hub runs a hub component, -f a file")
	case o.hub != "":
		if spec, err = hubOperation(o.hub); err != nil {
			return err
		}
		o.file = "--hub " + o.hub // what errors name
	case o.file != "":
		data, err := os.ReadFile(o.file)
		if err != nil {
			return err
		}
		spec, dir = string(data), filepath.Dir(o.file)
	default:
		return errors.New("nothing to run: pass -f FILE or --hub NAME[:TAG]")
	}
	if o.server != "" {
		return submitRemote(cmd, o, spec, params)
	}
	return runHere(cmd, o.urlRefs, func(ctx context.Context, le *localEngine, stderr io.Writer) (*store.Run, error) {
		run, err := le.eng.Submit(ctx, engine.Submission{Spec: spec, Source: o.file, Dir: dir,
			Params: params, Name: o.name, Project: o.project})
		if err != nil {
			var list specs.ErrorList
			if errors.As(err, &list) {
				stage := ""
				var ce *compiler.CompilationError
				if errors.As(err, &ce) {
					stage = string(ce.Stage) + ": "
				}
				for _, e := range list {
					fmt.Fprintf(stderr, "%s: %s%s\n", o.file, stage, e.Error())
				}
				return nil, errSilent
			}
			return nil, err
		}
		if run.Name != "" {
			fmt.Fprintf(stderr, "run %s (%s) created\n", run.UUID, run.Name)
		} else {
			fmt.Fprintf(stderr, "run %s created\n", run.UUID)
		}
		return run, nil
	})
}

// runHere starts an engine in this process — an embedded etcd and the
// local executor, their state under $PLEXUS_HOME — lets start submit or
// resume a run, and follows the run to its end, as followHere does. An
// interrupt stops the run. It returns errSilent unless the run succeeded.
func runHere(cmd *cobra.Command, urlRefs bool, start func(context.Context, *localEngine, io.Writer) (*store.Run, error)) error {
	home, err := plexusHome()
	if err != nil {
		return err
	}
	stderr, stdout := cmd.ErrOrStderr(), cmd.OutOrStdout()
	ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	le, err := openLocalEngine(home, store.ClientConfig{}, engine.Config{Sources: sources(urlRefs), Resync: time.Second})
	if err != nil {
		return err
	}
	defer le.Close()
	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = le.eng.Run(engCtx) }()
	defer func() { stopEngine(); <-engDone }()

	run, err := start(ctx, le, stderr)
	if err != nil {
		return err
	}
	return followHere(ctx, le, run, stdout, stderr)
}

// followHere follows a run of the engine in this process to its end. A
// run's logs go to stdout, its status changes to stderr. A dag's
// operations' logs come each line prefixed with the operation, with the
// dag's progress, and a table of its operations at the end; after a
// resume, only what runs again. It returns errSilent unless the run
// succeeded.
func followHere(ctx context.Context, le *localEngine, run *store.Run, stdout, stderr io.Writer) error {
	// The conditions and logs before a resume were shown when they
	// happened.
	seen, first := 0, 1
	if n := len(run.Conditions); run.Status == store.Resuming && n > 0 {
		seen, first = n-1, run.Attempt
	}
	stop := func() error {
		_, err := le.eng.Stop(context.Background(), run.UUID)
		if errors.Is(err, engine.ErrInvalidTransition) {
			return nil // it ended meanwhile
		}
		return err
	}
	f := newDagFollower(liveHistory{le}, &console{logs: stdout, status: stderr})
	f.conditions, f.seen, f.fresh = true, seen, true
	view, err := f.follow(ctx, run.UUID, stop)
	var final *store.Run
	switch {
	case errors.Is(err, engine.ErrNotPipeline):
		if final, err = follow(ctx, le.eng, le.st, le.ex, run.UUID, seen, first, stdout, stderr); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		final = view.run
		if err := printSummary(stderr, view); err != nil {
			return err
		}
	}
	if err := followHooks(ctx, le, final, &console{logs: stdout, status: stderr}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "run %s %s", final.UUID, final.Status)
	if len(final.Outputs) > 0 {
		fmt.Fprintf(stderr, " with outputs %v", final.Outputs)
	}
	fmt.Fprintln(stderr)
	if final.Status != store.Succeeded {
		if n := len(final.Conditions); n > 0 && final.Conditions[n-1].Message != "" {
			fmt.Fprintf(stderr, "  %s\n", final.Conditions[n-1].Message)
		}
		return errSilent
	}
	return nil
}

// follow shows the run's status changes (after the first seen of its
// conditions) and streams the log of each of its attempts from first on
// until the run ends; an interrupt stops the run first.
func follow(ctx context.Context, eng *engine.Engine, st *store.Store, ex executor.Executor, uuid string, seen, first int, stdout, stderr io.Writer) (*store.Run, error) {
	out := &console{logs: stdout, status: stderr}
	streams := newLogStreams(out, func(ctx context.Context, uuid string, attempt int) (io.ReadCloser, error) {
		return ex.Logs(ctx, executor.RunRef{UUID: uuid, Attempt: attempt}, true)
	})
	defer streams.wait()
	done := ctx.Done()
	announced := 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r, _, err := st.Get(context.Background(), uuid)
		if err != nil {
			return nil, err
		}
		for ; seen < len(r.Conditions); seen++ {
			c := r.Conditions[seen]
			out.statusf("  %-10s %s\n", c.Type, c.Message)
		}
		announced = announceService(out, r, announced)
		streams.update(r, first, "")
		if r.Status.Final() {
			return r, nil
		}
		select {
		case <-done:
			done = nil
			out.statusf("stopping the run\n")
			if _, err := eng.Stop(context.Background(), uuid); err != nil && !errors.Is(err, engine.ErrInvalidTransition) {
				return nil, err
			}
		case <-tick.C:
		}
	}
}

// submitRemote submits to a server and, with --watch, follows the run.
func submitRemote(cmd *cobra.Command, o runOptions, spec string, params map[string]specs.Param) error {
	c, err := apiClient(o.server, o.token, o.tlsCA)
	if err != nil {
		return err
	}
	values := map[string]any{}
	for k, p := range params {
		values[k] = p.Value
	}
	run, err := c.Submit(cmd.Context(), api.SubmitRequest{Spec: spec, Params: values, Name: o.name, Project: o.project})
	var ae *api.APIError
	if errors.As(err, &ae) && len(ae.Body.Errors) > 0 {
		for _, e := range ae.Body.Errors {
			stage := ""
			if ae.Body.Stage != "" {
				stage = ae.Body.Stage + ": "
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s%s\n", o.file, stage, e.Error())
		}
		return errSilent
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), run.UUID)
	if !o.watch {
		return nil
	}
	return watchRemote(cmd.Context(), c, run, cmd.ErrOrStderr())
}

// watchRemote follows a server's run to its end, its logs and status on w:
// a dag's as followHere shows them. It returns errSilent unless the run
// succeeded.
func watchRemote(ctx context.Context, c *api.Client, run *store.Run, w io.Writer) error {
	out := &console{logs: w, status: w}
	f := newDagFollower(c, out)
	f.fresh = true
	view, err := f.follow(ctx, run.UUID, nil)
	var final *store.Run
	switch {
	case errors.Is(err, engine.ErrNotPipeline):
		first := 1
		if run.Status == store.Resuming {
			first = run.Attempt // the earlier attempts' logs were shown then
		}
		if final, err = followRemote(ctx, c, run.UUID, first, out); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		final = view.run
		if err := printSummary(w, view); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "run %s %s\n", final.UUID, final.Status)
	if final.Status != store.Succeeded {
		if n := len(final.Conditions); n > 0 && final.Conditions[n-1].Message != "" {
			fmt.Fprintf(w, "  %s\n", final.Conditions[n-1].Message)
		}
		return errSilent
	}
	return nil
}

// followRemote streams the log of each attempt of a server's run from
// first on until the run ends.
func followRemote(ctx context.Context, c *api.Client, uuid string, first int, out *console) (*store.Run, error) {
	streams := newLogStreams(out, func(ctx context.Context, uuid string, attempt int) (io.ReadCloser, error) {
		return c.Logs(ctx, uuid, attempt, true)
	})
	defer streams.wait()
	announced := 0
	for {
		r, err := c.Get(ctx, uuid)
		if err != nil {
			return nil, err
		}
		announced = announceService(out, r, announced)
		streams.update(r, first, "")
		if r.Status.Final() {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// followHooks waits for the hook runs of a run that ended, streaming
// their logs (prefixed `hook NAME`) and saying how each ended, so that
// `plexus run` does not stop the engine under them. An interrupt stops
// waiting.
func followHooks(ctx context.Context, le *localEngine, r *store.Run, out *console) error {
	if r.Hooks == 0 {
		return nil
	}
	streams := newLogStreams(out, func(ctx context.Context, uuid string, attempt int) (io.ReadCloser, error) {
		return le.ex.Logs(ctx, executor.RunRef{UUID: uuid, Attempt: attempt}, true)
	})
	defer streams.wait()
	said := map[string]bool{}
	for {
		hooks, more, err := le.eng.HooksOf(context.WithoutCancel(ctx), r)
		if err != nil {
			return err
		}
		ended := 0
		for _, h := range hooks {
			streams.update(h, 1, "hook "+h.Name)
			if !h.Status.Final() {
				continue
			}
			ended++
			if !said[h.UUID] {
				said[h.UUID] = true
				msg := ""
				if n := len(h.Conditions); n > 0 && h.Status != store.Succeeded {
					msg = ": " + h.Conditions[n-1].Message
				}
				out.statusf("hook %s %s%s\n", h.Name, h.Status, msg)
			}
		}
		if !more && ended == len(hooks) {
			return nil
		}
		select {
		case <-ctx.Done():
			out.statusf("not waiting for the hooks of run %s\n", r.UUID)
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
