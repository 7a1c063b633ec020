package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/inits"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Config configures an Executor.
type Config struct {
	// Root holds a directory per run (`$PLEXUS_HOME/runs`).
	Root string
	// BaseEnv is the environment processes start from (default: this
	// process's), before the container's and the run's variables.
	BaseEnv []string
	// StopGrace is how long a stopped process has between SIGTERM and
	// SIGKILL (default 5s).
	StopGrace time.Duration
	// Now is the clock of status updates (default time.Now).
	Now func() time.Time
}

// Executor runs attempts as process groups. It is safe for concurrent use.
type Executor struct {
	cfg Config

	mu    sync.Mutex
	runs  map[executor.RunRef]*attempt
	subs  map[chan executor.StatusUpdate]struct{}
	wg    sync.WaitGroup
	close chan struct{}
}

type attempt struct {
	ref     executor.RunRef
	dir     string // the run's directory
	logPath string
	last    executor.StatusUpdate
	cancel  context.CancelFunc
	stopped bool
	done    chan struct{}
}

// New returns an executor rooted at cfg.Root.
func New(cfg Config) (*Executor, error) {
	if cfg.Root == "" {
		return nil, errors.New("local executor: no root directory")
	}
	if err := os.MkdirAll(cfg.Root, 0o755); err != nil {
		return nil, fmt.Errorf("local executor: %w", err)
	}
	if cfg.BaseEnv == nil {
		cfg.BaseEnv = os.Environ()
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Executor{cfg: cfg, runs: map[executor.RunRef]*attempt{}, subs: map[chan executor.StatusUpdate]struct{}{}, close: make(chan struct{})}, nil
}

// RunDir is where a run's files live: its context (artifacts, init
// steps' output), and a log and an outputs file per attempt.
func (e *Executor) RunDir(uuid string) string { return filepath.Join(e.cfg.Root, uuid) }

// ContextPath is the run's context directory, which the engine compiles
// runs for (RunInfo.ContextPath) so that templates name real paths.
func (e *Executor) ContextPath(uuid string) string { return filepath.Join(e.RunDir(uuid), "context") }

// Dispatch starts the attempt: its init steps, then its main process.
// An attempt already dispatched is left alone.
func (e *Executor) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	job, ok := c.Component.Run.(*specs.Job)
	var replica *specs.Replica
	switch {
	case ok:
		replica = &job.Replica
	default:
		if svc, isSvc := c.Component.Run.(*specs.Service); isSvc {
			replica = &svc.Replica
		}
	}
	if replica == nil {
		return fmt.Errorf("local executor: %s runs cannot run locally (jobs and services can)", runKind(c.Component.Run))
	}
	if replica.Container == nil || len(replica.Container.Command)+len(replica.Container.Args) == 0 {
		return errors.New("local executor: the container has no command: locally the command runs on the host, the image is not used")
	}
	e.mu.Lock()
	if _, dup := e.runs[ref]; dup {
		e.mu.Unlock()
		return nil
	}
	dir := e.RunDir(ref.UUID)
	runCtx, cancel := context.WithCancel(context.Background())
	a := &attempt{ref: ref, dir: dir, cancel: cancel, done: make(chan struct{}),
		logPath: filepath.Join(dir, fmt.Sprintf("attempt-%d.log", ref.Attempt))}
	e.runs[ref] = a
	e.mu.Unlock()

	if err := os.MkdirAll(filepath.Join(dir, "context", "artifacts"), 0o755); err != nil {
		e.finish(a, executor.Failed, "SetupFailed", err.Error(), nil, nil)
		return nil
	}
	e.publish(a, executor.StatusUpdate{Run: ref, Status: executor.Starting, Time: e.cfg.Now()})
	timeout := time.Duration(0)
	if t := c.Component.Termination; t != nil && t.Timeout != nil && t.Timeout.Value > 0 {
		timeout = time.Duration(t.Timeout.Value) * time.Second
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.run(runCtx, a, c, replica, timeout)
	}()
	return nil
}

func runKind(r specs.Run) specs.RunKind {
	if r == nil {
		return ""
	}
	return r.RunKind()
}

// run performs the init steps and the main process, and reports the end.
func (e *Executor) run(ctx context.Context, a *attempt, c *compiler.Compiled, r *specs.Replica, timeout time.Duration) {
	log, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.finish(a, executor.Failed, "SetupFailed", err.Error(), nil, nil)
		return
	}
	defer log.Close()
	contextPath := filepath.Join(a.dir, "context")
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	for i, in := range r.Init {
		if in.Container != nil {
			if _, err := e.process(ctx, a, in.Container, nil, contextPath, log); err != nil {
				e.end(ctx, a, fmt.Sprintf("init[%d]", i), err, log)
				return
			}
			continue
		}
		step := &inits.Step{Init: in, ContextPath: contextPath, Log: log}
		if conn, ok := c.Connections[in.Connection]; ok {
			step.Connection, step.ConnectionKind = conn.Schema, conn.Kind
		}
		if err := step.Run(ctx); err != nil {
			e.end(ctx, a, fmt.Sprintf("init[%d]", i), err, log)
			return
		}
	}
	outputs := filepath.Join(a.dir, fmt.Sprintf("attempt-%d.outputs.json", a.ref.Attempt))
	extra := c.Env(a.ref.Attempt, contextPath, outputs)
	e.publish(a, executor.StatusUpdate{Run: a.ref, Status: executor.Running, Time: e.cfg.Now()})
	code, err := e.process(ctx, a, r.Container, extra, contextPath, log)
	if err != nil {
		e.end(ctx, a, "main", err, log)
		return
	}
	values, err := readOutputs(outputs)
	if err != nil {
		e.finish(a, executor.Failed, "InvalidOutputs", err.Error(), nil, &code)
		return
	}
	e.finish(a, executor.Succeeded, "Completed", "", values, &code)
}

// end reports a failed step: stopped, timed out, or failed with its code.
func (e *Executor) end(ctx context.Context, a *attempt, step string, err error, log *os.File) {
	e.mu.Lock()
	stopped := a.stopped
	e.mu.Unlock()
	var exit *exec.ExitError
	var code *int
	if errors.As(err, &exit) {
		c := exit.ExitCode()
		code = &c
	}
	switch {
	case stopped:
		e.finish(a, executor.Stopped, "Stopped", "stopped by request", nil, code)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.finish(a, executor.Failed, "DeadlineExceeded", step+" ran past the run's timeout", nil, code)
	case code != nil:
		e.finish(a, executor.Failed, "Error", fmt.Sprintf("%s exited with code %d%s", step, *code, tail(a.logPath)), nil, code)
	default:
		e.finish(a, executor.Failed, "Error", fmt.Sprintf("%s: %v", step, err), nil, code)
	}
}

// process runs a container's command as a process group and waits for it.
func (e *Executor) process(ctx context.Context, a *attempt, c *corev1.Container, extra []corev1.EnvVar, dir string, log io.Writer) (int, error) {
	argv := append(append([]string(nil), c.Command...), c.Args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	if c.WorkingDir != "" {
		cmd.Dir = c.WorkingDir
	}
	env := append([]string(nil), e.cfg.BaseEnv...)
	for _, v := range c.Env {
		if v.ValueFrom != nil {
			return -1, fmt.Errorf("env %s: valueFrom (secrets, config maps, fields) needs Kubernetes", v.Name)
		}
		env = append(env, v.Name+"="+v.Value)
	}
	for _, v := range extra {
		env = append(env, v.Name+"="+v.Value)
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return -1, err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			return cmd.ProcessState.ExitCode(), err
		}
		return 0, nil
	case <-ctx.Done():
	}
	// Stopped or timed out: ask the group to end, then make it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-waited:
		return exitCode(cmd), orCtx(err, ctx)
	case <-time.After(e.cfg.StopGrace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err := <-waited
		return exitCode(cmd), orCtx(err, ctx)
	}
}

func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}

func orCtx(err error, ctx context.Context) error {
	if err == nil {
		return ctx.Err()
	}
	return err
}

// tail returns the last lines of a log, to say why a run failed.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return ": " + strings.Join(lines, " | ")
}

// readOutputs reads the JSON object a run wrote, if any.
func readOutputs(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("the outputs file %s is not a JSON object: %w", filepath.Base(path), err)
	}
	return out, nil
}

func (e *Executor) finish(a *attempt, s executor.Status, reason, msg string, outputs map[string]any, code *int) {
	e.publish(a, executor.StatusUpdate{Run: a.ref, Status: s, Reason: reason, Message: msg, Outputs: outputs, ExitCode: code, Time: e.cfg.Now()})
	close(a.done)
}

// publish records the attempt's latest status and sends it to watchers.
func (e *Executor) publish(a *attempt, u executor.StatusUpdate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a.last = u
	for ch := range e.subs {
		select {
		case ch <- u:
		default:
			// A watcher that does not keep up misses updates, not the
			// current state: it is replayed when it watches again.
		}
	}
}

// Stop ends the attempt's processes; it ends as Stopped.
func (e *Executor) Stop(_ context.Context, ref executor.RunRef) error {
	e.mu.Lock()
	a, ok := e.runs[ref]
	if ok {
		a.stopped = true
	}
	e.mu.Unlock()
	if !ok {
		return fmt.Errorf("stopping %s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
	}
	a.cancel()
	return nil
}

// Status returns the attempt's latest status; an attempt this executor
// did not start (before its process restarted, say) is unknown.
func (e *Executor) Status(_ context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.runs[ref]
	if !ok {
		return executor.StatusUpdate{}, fmt.Errorf("%s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
	}
	if a.last.Status == "" {
		return executor.StatusUpdate{Run: ref, Status: executor.Pending}, nil
	}
	return a.last, nil
}

// Watch replays the current status of every attempt, then streams updates
// until ctx ends.
func (e *Executor) Watch(ctx context.Context) (<-chan executor.StatusUpdate, error) {
	e.mu.Lock()
	ch := make(chan executor.StatusUpdate, len(e.runs)+1024)
	for _, a := range e.runs {
		if a.last.Status != "" {
			ch <- a.last
		}
	}
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-e.close:
		}
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
		close(ch)
	}()
	return ch, nil
}

// Logs returns the attempt's log; with follow, reads block for more until
// the attempt ends.
func (e *Executor) Logs(ctx context.Context, ref executor.RunRef, follow bool) (io.ReadCloser, error) {
	e.mu.Lock()
	a, ok := e.runs[ref]
	e.mu.Unlock()
	path := filepath.Join(e.RunDir(ref.UUID), "attempt-"+strconv.Itoa(ref.Attempt)+".log")
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && ok {
		// Not written yet: an empty log that fills as the run goes.
		// Created, never truncated: the run may have begun writing it
		// in between.
		f, err = os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("logs of %s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
		}
		return nil, err
	}
	if !follow || !ok {
		return f, nil
	}
	return &follower{ctx: ctx, f: f, done: a.done}, nil
}

// follower reads a growing file until its attempt is done.
type follower struct {
	ctx  context.Context
	f    *os.File
	done <-chan struct{}
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		if n > 0 || err != io.EOF {
			return n, err
		}
		select {
		case <-r.done:
			// One more read for what was written before the end.
			return r.f.Read(p)
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *follower) Close() error { return r.f.Close() }

// Close stops every attempt and waits for them to end.
func (e *Executor) Close() error {
	e.mu.Lock()
	for _, a := range e.runs {
		a.stopped = true
		a.cancel()
	}
	e.mu.Unlock()
	e.wg.Wait()
	close(e.close)
	return nil
}
