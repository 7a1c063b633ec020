package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// Plexus is a path that runs this program. A command naming the
	// plexus binary of its image (`plexus`, `/usr/local/bin/plexus`: the
	// built-in hub's notifiers) runs it instead; empty runs the command
	// as written.
	Plexus string
	// Supervisor is the command (a path and its first arguments; the
	// plan's path follows) that runs what is left of an attempt in its
	// init steps when the executor detaches: plexus local-attempt
	// (supervise.go). Without one, such an attempt is lost.
	Supervisor []string
	// ListenWarning is how long a service's process may run without
	// answering at its port before the attempt is in warning, saying so
	// (default 10s); it runs once it answers.
	ListenWarning time.Duration
}

// Executor runs attempts as process groups. It is safe for concurrent use.
type Executor struct {
	cfg Config
	// self is this process, the owner of the groups it records.
	self procID

	mu sync.Mutex
	// portsMu keeps two services from being given the same ports.
	portsMu sync.Mutex
	// runs holds the attempts this executor watches, and those that
	// ended until their end is known to have reached the engine
	// (forget.go).
	runs map[executor.RunRef]*attempt
	subs map[chan executor.StatusUpdate]struct{}
	wg   sync.WaitGroup
	// detach is closed by Detach: the main processes go on unwatched.
	detach    chan struct{}
	detached  bool
	close     chan struct{}
	closeOnce sync.Once
}

type attempt struct {
	ref     executor.RunRef
	dir     string // the run's directory
	logPath string
	last    executor.StatusUpdate
	cancel  context.CancelFunc
	stopped bool
	// supersededBy is the attempt of the same run whose dispatch stopped
	// this one; zero when a Stop or Close did.
	supersededBy int
	// step is the step the attempt is in: "" while it sets up or waits
	// for earlier attempts to end, then "init[i]", then "main".
	step string
	// lost, when set, says why the executor's end ended the attempt: it
	// fails as Lost, to be retried if the run has retries left.
	lost string
	// steps is what the attempt runs; initIndex the init step it is in.
	steps     *steps
	initIndex int
	// handoff says Detach hands the attempt to a supervisor.
	handoff bool
	// missed says a watcher did not get the attempt's end (its channel
	// was full); saved that the end is in the attempt's status file.
	missed, saved bool
	done          chan struct{}
}

// stoppedStatus is how a stopped attempt ends: stopped by request, or by
// another attempt of its run, or lost with the executor's end. The
// executor's lock is held.
func (a *attempt) stoppedStatus() (status executor.Status, reason, message string) {
	switch {
	case a.lost != "":
		return executor.Failed, "Lost", a.lost
	case a.supersededBy != 0:
		return executor.Stopped, "Superseded", fmt.Sprintf("attempt %d of the run superseded it", a.supersededBy)
	}
	return executor.Stopped, "Stopped", "stopped by request"
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
	if cfg.ListenWarning <= 0 {
		cfg.ListenWarning = 10 * time.Second
	}
	return &Executor{cfg: cfg, self: self(), runs: map[executor.RunRef]*attempt{}, subs: map[chan executor.StatusUpdate]struct{}{},
		detach: make(chan struct{}), close: make(chan struct{})}, nil
}

// RunDir is where a run's files live: its context (artifacts, init
// steps' output), and a log and an outputs file per attempt.
func (e *Executor) RunDir(uuid string) string { return filepath.Join(e.cfg.Root, uuid) }

// ContextPath is the run's context directory, which the engine compiles
// runs for (RunInfo.ContextPath) so that templates name real paths.
func (e *Executor) ContextPath(uuid string) string { return filepath.Join(e.RunDir(uuid), "context") }

// Dispatch starts the attempt: its init steps, then its main process.
// An attempt already dispatched is left alone, one that an executor gone
// with its process started is taken over (adopt.go), and the other
// attempts of the run end before this one starts: a run has at most one
// live process group.
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
	if u, ok := e.ended(ref); ok {
		// It ran to its end and was forgotten: not run again.
		e.broadcast(u)
		return nil
	}
	e.adoptUnknown(ref)
	e.mu.Lock()
	if _, dup := e.runs[ref]; dup {
		e.mu.Unlock()
		return nil
	}
	dir := e.RunDir(ref.UUID)
	runCtx, cancel := context.WithCancel(context.Background())
	a := &attempt{ref: ref, dir: dir, cancel: cancel, done: make(chan struct{}),
		logPath: filepath.Join(dir, fmt.Sprintf("attempt-%d.log", ref.Attempt))}
	var others []*attempt
	for r, b := range e.runs {
		if r.UUID != ref.UUID {
			continue
		}
		select {
		case <-b.done:
		default:
			if !b.stopped {
				b.stopped, b.supersededBy = true, ref.Attempt
			}
			others = append(others, b)
		}
	}
	e.runs[ref] = a
	e.mu.Unlock()
	for _, b := range others {
		b.cancel()
	}

	if err := os.MkdirAll(filepath.Join(dir, "context", "artifacts"), 0o755); err != nil {
		e.finish(a, executor.Failed, "SetupFailed", err.Error(), nil, nil)
		return nil
	}
	if c.Run.CloningKind == "copy" && c.Run.OriginalUUID != "" {
		// A copy (a hyperband trial that continues an earlier one) starts
		// from the artifacts its original left.
		if err := e.copyArtifacts(c.Run.OriginalUUID, ref.UUID); err != nil {
			e.finish(a, executor.Failed, "SetupFailed", err.Error(), nil, nil)
			return nil
		}
	}
	e.publish(a, executor.StatusUpdate{Run: ref, Status: executor.Starting, Time: e.cfg.Now()})
	a.steps = stepsOf(c, replica, ref, dir)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.endOthers(runCtx, a, others); err != nil {
			if !errors.Is(err, context.Canceled) {
				e.finish(a, executor.Failed, "EarlierAttemptAlive", err.Error(), nil, nil)
				return
			}
			if e.handedOff(a) {
				return
			}
			e.mu.Lock()
			status, reason, msg := a.stoppedStatus()
			e.mu.Unlock()
			e.finish(a, status, reason, msg, nil, nil)
			return
		}
		e.run(runCtx, a, 0)
	}()
	return nil
}

// endOthers waits until no other attempt of a's run has a process: the
// attempts this executor runs (told to stop) end, and the groups that
// other executors recorded for the run are ended. It returns ctx's error
// if a was stopped meanwhile.
func (e *Executor) endOthers(ctx context.Context, a *attempt, others []*attempt) error {
	for _, b := range others {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for n, rec := range readRecords(a.dir) {
		if n == a.ref.Attempt {
			continue
		}
		if !endGroup(rec.PGID, rec.Start, false, e.cfg.StopGrace) {
			return fmt.Errorf("attempt %d's process group %d did not end on SIGKILL: starting this one would run the run twice", n, rec.PGID)
		}
		if !rec.Owner.alive() {
			_ = os.Remove(recordPath(a.dir, n))
		}
	}
	return ctx.Err()
}

func runKind(r specs.Run) specs.RunKind {
	if r == nil {
		return ""
	}
	return r.RunKind()
}

// run performs the init steps from the from-th on, and the main process,
// and reports the end.
func (e *Executor) run(ctx context.Context, a *attempt, from int) {
	s := a.steps
	log, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.finish(a, executor.Failed, "SetupFailed", err.Error(), nil, nil)
		return
	}
	defer log.Close()
	contextPath := filepath.Join(a.dir, "context")
	if s.Deadline.IsZero() && s.Timeout > 0 {
		s.Deadline = time.Now().Add(s.Timeout)
	}
	deadline := s.Deadline
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	for i, in := range s.Init {
		if i < from {
			continue
		}
		a.initIndex = i
		if !e.enter(a, fmt.Sprintf("init[%d]", i)) {
			e.end(ctx, a, fmt.Sprintf("init[%d]", i), context.Canceled, log)
			return
		}
		if in.Container != nil {
			step := proc{step: fmt.Sprintf("init[%d]", i), dir: contextPath, deadline: deadline}
			if _, err := e.process(ctx, a, in.Container, step, log); err != nil {
				e.end(ctx, a, fmt.Sprintf("init[%d]", i), err, log)
				return
			}
			continue
		}
		step := &inits.Step{Init: in, ContextPath: contextPath, Log: log, Store: e.storePath}
		if conn, ok := s.Connections[in.Connection]; ok {
			step.Connection, step.ConnectionKind = conn.Schema, conn.Kind
		}
		if err := step.Run(ctx); err != nil {
			e.end(ctx, a, fmt.Sprintf("init[%d]", i), err, log)
			return
		}
	}
	a.initIndex = len(s.Init)
	if !e.enter(a, mainStep) {
		e.end(ctx, a, mainStep, context.Canceled, log)
		return
	}
	extra := s.Env
	probed := make(chan struct{})
	probeCtx, endProbe := context.WithCancel(ctx)
	if port := s.Port; port > 0 {
		// A service runs once it answers.
		go func() { defer close(probed); e.whenListening(probeCtx, a, port) }()
	} else {
		close(probed)
		e.publish(a, executor.StatusUpdate{Run: a.ref, Status: executor.Running, Time: e.cfg.Now()})
	}
	mainProc := proc{step: mainStep, extra: extra, dir: contextPath, deadline: deadline, exitFile: exitPath(a.dir, a.ref.Attempt)}
	code, err := e.process(ctx, a, s.Main, mainProc, log)
	endProbe()
	<-probed
	if errors.Is(err, errDetached) {
		return // it goes on; the next executor on the root adopts it
	}
	if err != nil {
		e.end(ctx, a, "main", err, log)
		return
	}
	e.succeeded(a, code)
}

// outputsPath is the file PLEXUS_OUTPUTS_PATH names for an attempt.
func outputsPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.outputs.json", attempt))
}

// succeeded reports an attempt whose main process exited with code 0,
// with its outputs.
func (e *Executor) succeeded(a *attempt, code int) {
	values, err := readOutputs(outputsPath(a.dir, a.ref.Attempt))
	if err != nil {
		e.finish(a, executor.Failed, "InvalidOutputs", err.Error(), nil, &code)
		return
	}
	e.finish(a, executor.Succeeded, "Completed", "", values, &code)
}

// end reports a failed step: stopped, timed out, or failed with its code.
func (e *Executor) end(ctx context.Context, a *attempt, step string, err error, log *os.File) {
	if e.handedOff(a) {
		return
	}
	e.mu.Lock()
	ended := a.stopped || a.lost != ""
	status, reason, msg := a.stoppedStatus()
	e.mu.Unlock()
	var exit *exec.ExitError
	var code *int
	if errors.As(err, &exit) {
		c := exit.ExitCode()
		code = &c
	}
	switch {
	case ended:
		e.finish(a, status, reason, msg, nil, code)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.finish(a, executor.Failed, "DeadlineExceeded", step+" ran past the run's timeout", nil, code)
	case code != nil:
		e.finish(a, executor.Failed, "Error", fmt.Sprintf("%s exited with code %d%s", step, *code, tail(a.logPath)), nil, code)
	case errors.Is(err, exec.ErrNotFound):
		e.finish(a, executor.Failed, "Error", fmt.Sprintf("%s: %v (locally the container's command runs on this host, without its image: install it here, or run on Kubernetes)", step, err), nil, code)
	default:
		e.finish(a, executor.Failed, "Error", fmt.Sprintf("%s: %v", step, err), nil, code)
	}
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

// finish reports the attempt's end, once no process of it is left: it
// keeps the end in the attempt's status file, for any executor asked
// later, then removes its record: from now on no executor needs to find
// its group. An end every watcher got is forgotten (forget.go).
func (e *Executor) finish(a *attempt, s executor.Status, reason, msg string, outputs map[string]any, code *int) {
	u := executor.StatusUpdate{Run: a.ref, Status: s, Reason: reason, Message: msg, Outputs: outputs, ExitCode: code, Time: e.cfg.Now()}
	saved := writeStatus(a.dir, a.ref.Attempt, u) == nil
	e.publish(a, u)
	_ = os.Remove(recordPath(a.dir, a.ref.Attempt))
	e.mu.Lock()
	a.saved = saved
	if !a.missed {
		e.forget(a)
	}
	e.mu.Unlock()
	close(a.done)
}

// publish records the attempt's latest status and sends it to watchers.
func (e *Executor) publish(a *attempt, u executor.StatusUpdate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a.last = u
	if !e.send(u) {
		a.missed = true
	}
}

// broadcast sends an update to the watchers. It reports whether every
// one got it.
func (e *Executor) broadcast(u executor.StatusUpdate) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.send(u)
}

// send is broadcast with the executor's lock held.
func (e *Executor) send(u executor.StatusUpdate) bool {
	all := true
	for ch := range e.subs {
		select {
		case ch <- u:
		default:
			// A watcher that does not keep up misses updates, not the
			// current state: it is replayed when it watches again, and
			// Status says it.
			all = false
		}
	}
	return all
}

// Stop ends the attempt's processes; it ends as Stopped.
func (e *Executor) Stop(_ context.Context, ref executor.RunRef) error {
	e.mu.Lock()
	_, known := e.runs[ref]
	e.mu.Unlock()
	if _, ended := e.ended(ref); ended && !known {
		return nil // nothing of it is left to stop
	}
	e.adoptUnknown(ref)
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

// Status returns the attempt's latest status. An attempt that ended
// answers from its status file once forgotten, whichever executor ran
// it. Another attempt this executor did not start is unknown, unless an
// executor that is gone started it and its process group still runs, or
// ended leaving its exit code: then this executor takes it over
// (adopt.go).
func (e *Executor) Status(_ context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	if u, ok := e.remembered(ref); ok {
		return u, nil
	}
	if u, ok := e.ended(ref); ok {
		return u, nil
	}
	e.adoptUnknown(ref)
	if u, ok := e.remembered(ref); ok {
		return u, nil
	}
	return executor.StatusUpdate{}, fmt.Errorf("%s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
}

// remembered returns the status of an attempt held in memory; an ended
// one is forgotten once its status is read, its end being saved.
func (e *Executor) remembered(ref executor.RunRef) (executor.StatusUpdate, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.runs[ref]
	switch {
	case !ok:
		return executor.StatusUpdate{}, false
	case a.last.Status == "":
		return executor.StatusUpdate{Run: ref, Status: executor.Pending}, true
	case a.last.Status.Final():
		e.forget(a)
	}
	return a.last, true
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

// Close stops every attempt and waits for them to end: for an executor
// that owns its runs (plexus run, which stops them through its engine
// first). One nobody asked to stop fails as Lost, so that the next
// engine on the root retries it if the run has retries left. Detach
// (detach.go) leaves them running instead.
func (e *Executor) Close() error {
	e.mu.Lock()
	for _, a := range e.runs {
		if !a.stopped && a.lost == "" {
			a.lost = "the executor closed (its engine stopped) and ended the attempt"
		}
		a.stopped = true
		a.cancel()
	}
	e.mu.Unlock()
	e.wg.Wait()
	e.closeOnce.Do(func() { close(e.close) })
	return nil
}

// copyArtifacts copies the artifacts run from left (its
// context/artifacts/<from>) into run to's, once: a run that has some
// already (an attempt after the first) keeps them.
func (e *Executor) copyArtifacts(from, to string) error {
	src := filepath.Join(e.ContextPath(from), "artifacts", from)
	dst := filepath.Join(e.ContextPath(to), "artifacts", to)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		return nil // it left none
	}
	tmp := dst + ".copying"
	_ = os.RemoveAll(tmp)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(tmp, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			w, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, in); err != nil {
				w.Close()
				return err
			}
			return w.Close()
		}
		return nil // links and devices are not copied
	})
	if err != nil {
		return fmt.Errorf("copying the artifacts of run %s: %w", from, err)
	}
	return os.Rename(tmp, dst)
}
