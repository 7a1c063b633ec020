package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// proc says how to run one of an attempt's processes.
type proc struct {
	step  string // "main" or "init[i]", for the record
	extra []corev1.EnvVar
	dir   string
	// deadline is the run's timeout, recorded for an executor that takes
	// the process over.
	deadline time.Time
	// exitFile, when set, is where a shell wrapper writes the command's
	// exit code: an executor that is not the process's parent cannot wait
	// for it and reads it there.
	exitFile string
}

// exitWrapper runs "$@" and writes its exit code to $1 (shifted away).
const exitWrapper = `f=$1; shift; "$@"; c=$?; echo "$c" > "$f"; exit "$c"`

// imagePlexus is where the plexus image keeps the binary (Dockerfile).
const imagePlexus = "/usr/local/bin/plexus"

// process runs a container's command as a process group, records the
// group in the run's directory, and waits until no process of the group
// is left: after the command ends, what it left behind is ended too.
func (e *Executor) process(ctx context.Context, a *attempt, c *corev1.Container, p proc, log io.Writer) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	argv := append(append([]string(nil), c.Command...), c.Args...)
	if e.cfg.Plexus != "" && (argv[0] == "plexus" || argv[0] == imagePlexus) {
		argv[0] = e.cfg.Plexus
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if cmd.Err != nil {
		return -1, cmd.Err
	}
	if p.exitFile != "" {
		if err := os.Remove(p.exitFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return -1, err
		}
		cmd.Args = append([]string{"sh", "-c", exitWrapper, "plexus-attempt", p.exitFile, cmd.Path}, argv[1:]...)
		cmd.Path = "/bin/sh"
	}
	cmd.Dir = p.dir
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
	for _, v := range p.extra {
		env = append(env, v.Name+"="+v.Value)
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	// A session of its own (its group too): no terminal's signals reach
	// it, and it outlives this process when Detach lets it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return -1, err
	}
	pgid := cmd.Process.Pid
	start, _, _, _ := procStat(pgid) // the child is not reaped before Wait
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	rec := procRecord{PGID: pgid, Start: start, Step: p.step, Owner: e.self, Deadline: p.deadline}
	if err := writeRecord(recordPath(a.dir, a.ref.Attempt), rec); err != nil {
		// Unrecorded, a crash would leave it running unseen: end it.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-waited
		endGroup(pgid, start, true, 0)
		return -1, err
	}
	var detach <-chan struct{}
	if p.step == mainStep {
		detach = e.detach
	}
	var err error
	select {
	case <-detach:
		if ctx.Err() == nil {
			// Nobody watches it now: any executor on the root may
			// adopt it.
			rec.Owner = procID{}
			_ = writeRecord(recordPath(a.dir, a.ref.Attempt), rec)
			return -1, errDetached
		}
		err = e.endStopped(ctx, pgid, start, waited) // stopped as it detached
	case err = <-waited:
		endGroup(pgid, start, false, e.cfg.StopGrace)
	case <-ctx.Done():
		err = e.endStopped(ctx, pgid, start, waited)
	}
	if err != nil {
		return exitCode(cmd), err
	}
	return 0, nil
}

// endStopped ends a group whose attempt was stopped or timed out: it asks
// the group to end, then makes it, and returns what the leader's wait
// said, or ctx's error.
func (e *Executor) endStopped(ctx context.Context, pgid int, start uint64, waited <-chan error) error {
	termAt := time.Now()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	var err error
	select {
	case err = <-waited:
	case <-time.After(e.cfg.StopGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = <-waited
	}
	endGroup(pgid, start, true, e.cfg.StopGrace-time.Since(termAt))
	return orCtx(err, ctx)
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
