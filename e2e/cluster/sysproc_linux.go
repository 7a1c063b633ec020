package cluster

import "syscall"

// sysProcAttr puts a child in its own process group (so Stop can signal it
// and anything it forks) and has the kernel SIGKILL it if the thread that
// started it dies, which is the test binary exiting, however it exits.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
