package cluster

import (
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Processes starts a test's own child processes (servers under test, the
// members of an etcd cluster) the way the cluster starts its components:
// each in its own process group, its output appended to DIR/NAME.log, and
// killed by the kernel if the test binary goes away, however it goes.
// Close stops those still running. It is safe for concurrent use.
type Processes struct {
	dir string
	sp  *spawner

	mu     sync.Mutex
	procs  []*Process
	closed bool
}

// NewProcesses returns a starter whose children log into dir.
func NewProcesses(dir string) *Processes {
	return &Processes{dir: dir, sp: newSpawner()}
}

// Process is a child started by Processes.
type Process struct{ p *process }

// Start runs bin with args (and env added to the test's environment),
// logging to DIR/name.log; starting a name again appends to its log.
func (ps *Processes) Start(name, bin string, args, env []string) (*Process, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return nil, fmt.Errorf("cluster: starting %s: the processes are closed", name)
	}
	p, err := startProcess(ps.sp, ps.dir, name, bin, args, env)
	if err != nil {
		return nil, err
	}
	proc := &Process{p: p}
	ps.procs = append(ps.procs, proc)
	return proc, nil
}

// Close stops every process still running (SIGTERM, SIGKILL after grace),
// last started first, and ends the thread that started them.
func (ps *Processes) Close(grace time.Duration) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return
	}
	ps.closed = true
	for i := len(ps.procs) - 1; i >= 0; i-- {
		p := ps.procs[i].p
		if gone, _ := p.exited(); gone {
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			p.log.Close()
			continue
		}
		_ = p.stop(grace)
	}
	ps.sp.close()
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.p.name }

// PID is the process's id, also its process group's.
func (p *Process) PID() int { return p.p.pid() }

// LogPath is the file its output goes to.
func (p *Process) LogPath() string { return p.p.logPath }

// Tail is the last n lines of its log.
func (p *Process) Tail(n int) string { return p.p.tail(n) }

// Done is closed once the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.p.done }

// Signal sends sig to the process alone (SIGSTOP, SIGCONT, SIGHUP, ...).
func (p *Process) Signal(sig syscall.Signal) error {
	if err := syscall.Kill(p.PID(), sig); err != nil {
		return fmt.Errorf("cluster: signalling %s (pid %d): %w", p.Name(), p.PID(), err)
	}
	return nil
}

// Kill ends the process group with SIGKILL and waits until the process is
// reaped.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	<-p.p.done
	p.p.log.Close()
}

// Stop ends the process group: SIGTERM, then SIGKILL after grace; it
// returns once the process is reaped.
func (p *Process) Stop(grace time.Duration) { _ = p.p.stop(grace) }

// Exited says whether the process has ended, and how.
func (p *Process) Exited() (bool, error) { return p.p.exited() }

// Remove forgets a process that has ended, so Close no longer looks at it.
func (ps *Processes) Remove(p *Process) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, q := range ps.procs {
		if q == p {
			ps.procs = append(ps.procs[:i], ps.procs[i+1:]...)
			return
		}
	}
}
