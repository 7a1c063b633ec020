package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// stopGrace is how long a process has between SIGTERM and SIGKILL.
const stopGrace = 10 * time.Second

// process is one child: its command, its log file and its exit.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File

	done chan struct{} // closed once the process has exited and been reaped
	err  error         // cmd.Wait's result; read only after done is closed
}

// startProcess starts bin with args in its own process group, its output
// going to dir/name.log. The fork happens on the spawner's thread, so that
// Pdeathsig (Linux) fires only when the test binary itself goes away.
func startProcess(sp *spawner, dir, name, bin string, args, env []string) (*process, error) {
	logPath := dir + "/" + name + ".log"
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cluster: starting %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = sysProcAttr()
	sp.do(func() { err = cmd.Start() })
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("cluster: starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after grace. It returns
// once the process is reaped, with an error only if the process had already
// died before stop was called (the cluster lost a piece under the test).
func (p *process) stop(grace time.Duration) error {
	defer p.log.Close()
	pgid := p.pid() // Setpgid: the group id is the leader's pid
	if gone, err := p.exited(); gone {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // anything the leader left behind
		return fmt.Errorf("cluster: %s had exited before Stop: %v; log: %s", p.name, err, p.logPath)
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

// tail returns the last n lines of the process's log, for error messages.
func (p *process) tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	data = bytes.TrimRight(data, "\n")
	for i, cut := len(data)-1, 0; i >= 0; i-- {
		if data[i] == '\n' {
			if cut++; cut == n {
				data = data[i+1:]
				break
			}
		}
	}
	return string(data)
}

// errDied describes a process that exited while the cluster was starting.
func (p *process) errDied(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = ee
	}
	return fmt.Errorf("cluster: %s exited while starting (%v); last lines of %s:\n%s", p.name, err, p.logPath, p.tail(15))
}

// spawner runs functions on one goroutine locked to its OS thread. Children
// started there get Pdeathsig tied to that thread, which lives as long as the
// cluster: a thread that another goroutine had locked and then abandoned
// would exit and take the children with it.
type spawner struct {
	reqs chan func()
	quit chan struct{}
	gone chan struct{}
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan func()), quit: make(chan struct{}), gone: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	// Never unlocked: when the loop returns, after every child has been
	// stopped, the runtime ends the thread, and with it any child that was
	// somehow left.
	runtime.LockOSThread()
	defer close(s.gone)
	for {
		select {
		case f := <-s.reqs:
			f()
		case <-s.quit:
			return
		}
	}
}

// do runs f on the spawner's thread and waits for it.
func (s *spawner) do(f func()) {
	done := make(chan struct{})
	s.reqs <- func() { defer close(done); f() }
	<-done
}

// close ends the loop and waits for it.
func (s *spawner) close() {
	close(s.quit)
	<-s.gone
}
