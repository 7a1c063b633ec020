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
	params  []string
	name    string
	project string
	urlRefs bool
	server  string
	token   string
	watch   bool
}

func newRunCmd() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run -f FILE [-P name=value]...",
		Short: "Run an operation to its end on this machine, showing its status and logs",
		Long: `Run starts an engine in this process — an embedded etcd and the local
executor, with their state under $PLEXUS_HOME (default ~/.plexus) — submits
the operation, streams its logs and status, and exits 0 only if it succeeds.
Ctrl-C stops the run. Jobs run as host processes: the command runs, the
image is not used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "the Polyaxonfile to run")
	f.StringArrayVarP(&o.params, "param", "P", nil, "param as name=value (repeatable)")
	f.StringVar(&o.name, "name", "", "the run's name")
	f.StringVar(&o.project, "project", "", "the project")
	f.BoolVar(&o.urlRefs, "url-refs", true, "fetch the components urlRefs name (HTTP GET); false refuses them")
	f.StringVar(&o.server, "server", os.Getenv("PLEXUS_SERVER"), "submit to this server instead of running here (default $PLEXUS_SERVER)")
	f.StringVar(&o.token, "token", os.Getenv("PLEXUS_TOKEN"), "the server's bearer token (default $PLEXUS_TOKEN)")
	f.BoolVarP(&o.watch, "watch", "w", false, "with --server: follow the run to its end")
	_ = cmd.MarkFlagRequired("file")
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
	data, err := os.ReadFile(o.file)
	if err != nil {
		return err
	}
	if o.server != "" {
		return submitRemote(cmd, o, string(data), params)
	}
	home, err := plexusHome()
	if err != nil {
		return err
	}
	stderr, stdout := cmd.ErrOrStderr(), cmd.OutOrStdout()
	ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	le, err := openLocalEngine(home, store.ClientConfig{}, engine.Config{Sources: sources(o.urlRefs), Resync: time.Second})
	if err != nil {
		return err
	}
	defer le.Close()
	eng, st, ex := le.eng, le.st, le.ex
	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(engCtx) }()
	defer func() { stopEngine(); <-engDone }()

	run, err := eng.Submit(ctx, engine.Submission{Spec: string(data), Source: o.file, Dir: filepath.Dir(o.file),
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
			return errSilent
		}
		return err
	}
	if run.Name != "" {
		fmt.Fprintf(stderr, "run %s (%s) created\n", run.UUID, run.Name)
	} else {
		fmt.Fprintf(stderr, "run %s created\n", run.UUID)
	}
	final, err := follow(ctx, eng, st, ex, run.UUID, stdout, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "run %s %s", run.UUID, final.Status)
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

// follow shows the run's status changes and streams each attempt's log
// until the run ends; an interrupt stops the run first.
func follow(ctx context.Context, eng *engine.Engine, st *store.Store, ex executor.Executor, uuid string, stdout, stderr io.Writer) (*store.Run, error) {
	seen := 0
	streamed := map[int]chan struct{}{}
	stopping := false
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r, _, err := st.Get(context.Background(), uuid)
		if err != nil {
			return nil, err
		}
		for ; seen < len(r.Conditions); seen++ {
			c := r.Conditions[seen]
			fmt.Fprintf(stderr, "  %-10s %s\n", c.Type, c.Message)
		}
		if _, ok := streamed[r.Attempt]; !ok && r.Attempt > 0 && r.Status != store.Created && r.Status != store.Compiled && r.Status != store.Queued {
			done := make(chan struct{})
			streamed[r.Attempt] = done
			go func(attempt int) {
				defer close(done)
				logs, err := ex.Logs(context.Background(), executor.RunRef{UUID: uuid, Attempt: attempt}, true)
				if err != nil {
					return
				}
				defer logs.Close()
				_, _ = io.Copy(stdout, logs)
			}(r.Attempt)
		}
		if r.Status.Final() {
			for _, done := range streamed {
				select {
				case <-done:
				case <-time.After(2 * time.Second):
				}
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			if !stopping {
				stopping = true
				fmt.Fprintln(stderr, "stopping the run")
				if _, err := eng.Stop(context.Background(), uuid); err != nil && !errors.Is(err, engine.ErrInvalidTransition) {
					return nil, err
				}
			}
		case <-tick.C:
		}
	}
}

// submitRemote submits to a server and, with --watch, follows the run.
func submitRemote(cmd *cobra.Command, o runOptions, spec string, params map[string]specs.Param) error {
	c := &api.Client{BaseURL: o.server, Token: o.token}
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
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		for cmd.Context().Err() == nil {
			rd, err := c.Logs(cmd.Context(), run.UUID, 0, true)
			if err == nil {
				_, _ = io.Copy(cmd.ErrOrStderr(), rd)
				rd.Close()
				return
			}
			time.Sleep(100 * time.Millisecond) // not dispatched yet
		}
	}()
	for {
		r, err := c.Get(cmd.Context(), run.UUID)
		if err != nil {
			return err
		}
		if r.Status.Final() {
			select {
			case <-logsDone:
			case <-time.After(2 * time.Second):
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "run %s %s\n", r.UUID, r.Status)
			if r.Status != store.Succeeded {
				return errSilent
			}
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
