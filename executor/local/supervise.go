package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// An attempt's init steps need the executor that runs them: when it
// detaches (its server stops), an attempt in its init steps is handed to
// a supervisor, a process of its own (Config.Supervisor: plexus
// local-attempt) in a session of its own, which runs the attempt's steps
// from the interrupted one on — run again from its start, as Kubernetes
// runs a pod's init containers again — then its main process, records
// them as this executor does, and keeps the attempt's end in its status
// file. The next executor on the root follows it there
// (attempt-N.supervisor names the process): its status from the steps
// it records, its end from the file; Stop asks it to stop. A supervisor
// that dies leaves its records to be adopted as a crashed executor's.

// supervisedStep is the step of an attempt a supervisor runs.
const supervisedStep = "supervised"

// handedOff hands a to a supervisor if Detach said so; it reports
// whether it did: then the attempt is no longer this executor's.
func (e *Executor) handedOff(a *attempt) bool {
	e.mu.Lock()
	h := a.handoff
	e.mu.Unlock()
	if !h {
		return false
	}
	if err := e.handOff(a); err != nil {
		e.mu.Lock()
		a.lost += " (" + err.Error() + ")"
		e.mu.Unlock()
		return false
	}
	close(a.done)
	return true
}

// steps is what an attempt runs: its init steps, then its main
// container; all a supervisor needs, without the compiled operation.
type steps struct {
	Init        []specs.Init       `json:"-"`
	Connections compiler.Catalogue `json:"connections,omitempty"`
	Main        *corev1.Container  `json:"main"`
	// Env is the main container's Plexus variables.
	Env  []corev1.EnvVar `json:"env,omitempty"`
	Port int             `json:"port,omitempty"` // a service's, 0 for a job
	// Timeout is the run's; Deadline, when set, when it ends.
	Timeout  time.Duration `json:"timeout,omitempty"`
	Deadline time.Time     `json:"deadline,omitzero"`
}

func stepsOf(c *compiler.Compiled, r *specs.Replica, ref executor.RunRef, dir string) *steps {
	s := &steps{Init: r.Init, Connections: c.Connections, Main: r.Container, Port: servicePort(c),
		Env: c.Env(ref.Attempt, filepath.Join(dir, "context"), outputsPath(dir, ref.Attempt))}
	if t := c.Component.Termination; t != nil && t.Timeout != nil && t.Timeout.Value > 0 {
		s.Timeout = specs.Seconds(t.Timeout.Value) // saturates: a rendered template may exceed a Duration
	}
	return s
}

// plan is what a supervisor is given (attempt-N.plan.json, readable by
// its owner only: it holds the run's environment). The executor's base
// environment is the supervisor's own, kept off the disk.
type plan struct {
	Run       executor.RunRef   `json:"run"`
	Root      string            `json:"root"`
	StopGrace time.Duration     `json:"stopGrace"`
	Plexus    string            `json:"plexus,omitempty"`
	From      int               `json:"from"`
	Init      []json.RawMessage `json:"init,omitempty"`
	Steps     *steps            `json:"steps"`
}

func planPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.plan.json", attempt))
}

func supervisorPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.supervisor", attempt))
}

// handOff starts a supervisor for what is left of a, from its current
// init step on. It returns an error if none could be started: then the
// attempt is lost.
func (e *Executor) handOff(a *attempt) error {
	if len(e.cfg.Supervisor) == 0 || a.steps == nil {
		return errors.New("no supervisor")
	}
	p := plan{Run: a.ref, Root: e.cfg.Root, StopGrace: e.cfg.StopGrace, Plexus: e.cfg.Plexus,
		From: a.initIndex, Steps: a.steps}
	for _, in := range a.steps.Init {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding an init step: %w", err)
		}
		p.Init = append(p.Init, raw)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding the plan: %w", err)
	}
	path := planPath(a.dir, a.ref.Attempt)
	if err := writeFileAtomicMode(path, data, 0o600); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	log, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	argv := append(append([]string(nil), e.cfg.Supervisor...), path)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Env = log, log, e.cfg.BaseEnv
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the supervisor: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reaped if it ends before this process
	id := procID{PID: cmd.Process.Pid}
	id.Start, _, _, _ = procStat(id.PID)
	data, _ = json.Marshal(id)
	if err := writeFileAtomic(supervisorPath(a.dir, a.ref.Attempt), data); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("recording the supervisor: %w", err)
	}
	_ = os.Remove(recordPath(a.dir, a.ref.Attempt)) // the step it ended
	return nil
}

// Supervise runs what is left of an attempt as its plan (handOff) says,
// until its end, which it keeps in the attempt's status file. SIGTERM or
// SIGINT stops the attempt.
func Supervise(planFile string) error {
	data, err := os.ReadFile(planFile)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	var p plan
	if err := json.Unmarshal(data, &p); err != nil || p.Steps == nil {
		return fmt.Errorf("supervisor: %s is not a plan: %v", planFile, err)
	}
	for i, raw := range p.Init {
		var in specs.Init
		if err := specs.Unmarshal(raw, &in); err != nil {
			return fmt.Errorf("supervisor: init[%d]: %w", i, err)
		}
		p.Steps.Init = append(p.Steps.Init, in)
	}
	e, err := New(Config{Root: p.Root, StopGrace: p.StopGrace, Plexus: p.Plexus}) // the base environment is this process's
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := e.RunDir(p.Run.UUID)
	a := &attempt{ref: p.Run, dir: dir, cancel: cancel, done: make(chan struct{}), steps: p.Steps,
		logPath: filepath.Join(dir, fmt.Sprintf("attempt-%d.log", p.Run.Attempt))}
	e.runs[p.Run] = a
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = e.Stop(context.Background(), p.Run)
	}()
	e.publish(a, executor.StatusUpdate{Run: p.Run, Status: executor.Starting, Time: e.cfg.Now()})
	if err := e.endOthers(ctx, a, nil); err != nil {
		status, reason, msg := a.stoppedStatus()
		if !errors.Is(err, context.Canceled) {
			status, reason, msg = executor.Failed, "EarlierAttemptAlive", err.Error()
		}
		e.finish(a, status, reason, msg, nil, nil)
	} else {
		e.run(ctx, a, p.From)
	}
	_ = os.Remove(supervisorPath(dir, p.Run.Attempt))
	_ = os.Remove(planFile)
	return nil
}

// supervised returns the live supervisor of an attempt, if it has one.
func supervised(dir string, attempt int) (procID, bool) {
	data, err := os.ReadFile(supervisorPath(dir, attempt))
	if err != nil {
		return procID{}, false
	}
	var id procID
	if json.Unmarshal(data, &id) != nil || id.PID <= 1 || !id.alive() {
		return procID{}, false
	}
	return id, true
}

// followSupervised takes up the attempts of a run that a supervisor runs:
// they are reported from the supervisor's records and status file.
func (e *Executor) followSupervised(uuid string) {
	dir := e.RunDir(uuid)
	paths, _ := filepath.Glob(filepath.Join(dir, "attempt-*.supervisor"))
	for _, path := range paths {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "attempt-"), ".supervisor"))
		if err != nil {
			continue
		}
		sup, ok := supervised(dir, n)
		if !ok {
			continue
		}
		ref := executor.RunRef{UUID: uuid, Attempt: n}
		e.mu.Lock()
		if _, known := e.runs[ref]; known {
			e.mu.Unlock()
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		a := &attempt{ref: ref, dir: dir, cancel: cancel, done: make(chan struct{}), step: supervisedStep,
			logPath: filepath.Join(dir, fmt.Sprintf("attempt-%d.log", n))}
		e.runs[ref] = a
		e.mu.Unlock()
		e.publish(a, executor.StatusUpdate{Run: ref, Status: executor.Starting, Reason: "Supervised",
			Message: "the executor restarted during the attempt's init steps: a supervisor runs its steps", Time: e.cfg.Now()})
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.watchSupervisor(ctx, a, sup)
		}()
	}
}

// watchSupervisor follows a supervised attempt to its end.
func (e *Executor) watchSupervisor(ctx context.Context, a *attempt, sup procID) {
	tick := time.NewTicker(adoptPoll)
	defer tick.Stop()
	running := false
	var stopping <-chan time.Time
	for {
		if u, ok := e.ended(a.ref); ok {
			e.mu.Lock()
			superseded := u.Status == executor.Stopped && a.supersededBy != 0
			if superseded {
				u.Reason, u.Message = "Superseded", fmt.Sprintf("attempt %d of the run superseded it", a.supersededBy)
			}
			e.mu.Unlock()
			if superseded {
				_ = writeStatus(a.dir, a.ref.Attempt, u)
			}
			e.publish(a, u)
			e.mu.Lock()
			a.saved = true
			if !a.missed {
				e.forget(a)
			}
			e.mu.Unlock()
			close(a.done)
			return
		}
		if !sup.alive() {
			// Gone without an end: its steps are adopted as a crashed
			// executor's.
			_ = os.Remove(supervisorPath(a.dir, a.ref.Attempt))
			e.mu.Lock()
			delete(e.runs, a.ref)
			e.mu.Unlock()
			close(a.done)
			e.adoptRun(a.ref.UUID)
			return
		}
		if rec, ok := readRecords(a.dir)[a.ref.Attempt]; ok && rec.Step == mainStep && !running && rec.Owner == sup {
			running = true
			e.publish(a, executor.StatusUpdate{Run: a.ref, Status: executor.Running, Reason: "Supervised",
				Message: "a supervisor runs the attempt's main process", Time: e.cfg.Now()})
		}
		done := ctx.Done()
		if stopping != nil {
			done = nil
		}
		select {
		case <-done:
			_ = syscall.Kill(sup.PID, syscall.SIGTERM)
			stopping = time.After(3*e.cfg.StopGrace + 10*time.Second)
		case <-stopping:
			// It does not end: end it and what it runs.
			if rec, ok := readRecords(a.dir)[a.ref.Attempt]; ok {
				endGroup(rec.PGID, rec.Start, false, 0)
			}
			endGroup(sup.PID, sup.Start, false, 0)
			stopping = nil
		case <-e.detach:
			return
		case <-tick.C:
		}
	}
}
