package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A cluster's own temporary folder is named dirPrefix*, holds the pid of the
// process that started it in ownerFile, and holds keptFile once KeepDir
// was called.
const (
	dirPrefix = "plexus-k8s-"
	ownerFile = "owner.pid"
	keptFile  = "KEPT"
)

// sweepStale removes the temporary folders (~120 MB each, mostly etcd's
// preallocated WAL) of clusters whose test binary died without stopping
// them -- killed, timed out, panicked -- whose processes the kernel killed
// already (Pdeathsig). Folders kept on purpose, or whose owner still runs,
// stay. Best effort: errors are ignored.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, keptFile)); err == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being created
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || processExists(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// markOwner records this process as the owner of a cluster folder.
func markOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// markKept protects a cluster folder from sweepStale.
func markKept(dir string) error {
	return os.WriteFile(filepath.Join(dir, keptFile), []byte("kept for debugging; remove it by hand\n"), 0o644)
}
