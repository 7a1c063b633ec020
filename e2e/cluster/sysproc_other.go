//go:build unix && !linux

package cluster

import "syscall"

// sysProcAttr puts a child in its own process group so Stop can signal it.
// Without Pdeathsig, children of a test binary that is killed outright
// outlive it on this platform.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
