package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procRecord is what the executor writes in a run's directory
// (attempt-N.proc) when it starts a process group for an attempt, and
// removes once the attempt's end is reported: enough for an executor
// that starts after a crash to recognise the group and take it over or
// end it (adopt.go).
type procRecord struct {
	// PGID is the group's id: its leader's pid.
	PGID int `json:"pgid"`
	// Start is the leader's start time (clock ticks since boot, field 22
	// of /proc/PID/stat), so that a pid used again by another process is
	// not taken for the leader.
	Start uint64 `json:"start"`
	// Step is "main", or "init[i]" for an init container.
	Step string `json:"step"`
	// Owner is the process of the executor that watches the group.
	Owner procID `json:"owner"`
	// Deadline is when the run's timeout ends it; zero without one.
	Deadline time.Time `json:"deadline,omitzero"`
}

// mainStep names the main container's process in a record.
const mainStep = "main"

// procID names a process across pid reuse.
type procID struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"`
}

func recordPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.proc", attempt))
}

// exitPath is the file the main process's wrapper writes its exit code
// to, for an executor that is not its parent and cannot wait for it.
func exitPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.exit", attempt))
}

// writeRecord writes a record whole or not at all.
func writeRecord(path string, rec procRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("recording the process group: %w", err)
	}
	return nil
}

// writeFileAtomic writes a file whole or not at all: a crash leaves
// the earlier content, never part of the new one.
func writeFileAtomic(path string, data []byte) error { return writeFileAtomicMode(path, data, 0o644) }

// writeFileAtomicMode is writeFileAtomic with the file's permissions.
func writeFileAtomicMode(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readRecords reads the records of a run's directory by attempt. A
// record that cannot be read is skipped: it names no group to act on.
func readRecords(dir string) map[int]procRecord {
	paths, _ := filepath.Glob(filepath.Join(dir, "attempt-*.proc"))
	recs := map[int]procRecord{}
	for _, p := range paths {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "attempt-"), ".proc"))
		if err != nil {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var rec procRecord
		if json.Unmarshal(data, &rec) != nil || rec.PGID <= 1 {
			continue
		}
		recs[n] = rec
	}
	return recs
}

// readExitCode reads the code the main process's wrapper wrote.
func readExitCode(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// procStat reads a process's start time, process group and state from
// /proc/PID/stat.
func procStat(pid int) (start uint64, pgrp int, state byte, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	// The command name, in parentheses, may hold spaces and parentheses:
	// the fields that follow it start after the last ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state), f[2] field 5 (pgrp), f[19] field 22
	// (starttime).
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	if pgrp, err = strconv.Atoi(f[2]); err != nil {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: pgrp: %w", pid, err)
	}
	if start, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: starttime: %w", pid, err)
	}
	return start, pgrp, f[0][0], nil
}

// dead reports whether a process in this state has ended (a zombie waits
// only to be reaped).
func dead(state byte) bool { return state == 'Z' || state == 'X' || state == 'x' }

// self names this process, for the records it owns.
func self() procID {
	id := procID{PID: os.Getpid()}
	id.Start, _, _, _ = procStat(id.PID)
	return id
}

// alive reports whether the process still runs (and is the same one).
func (id procID) alive() bool {
	start, _, state, err := procStat(id.PID)
	if errors.Is(err, fs.ErrNotExist) && !procMounted() {
		// No /proc: the pid alone says.
		return syscall.Kill(id.PID, 0) == nil
	}
	return err == nil && start == id.Start && !dead(state)
}

// procMounted reports whether /proc can be read.
func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// leaderAlive reports whether the group's leader, started at start,
// still runs.
func leaderAlive(pgid int, start uint64) bool { return procID{PID: pgid, Start: start}.alive() }

// groupAlive reports whether any process of the group whose leader
// started at start still runs. Once the leader is gone its pid cannot
// name another group while a member of this one lives, so a group led by
// another process with that pid means this one is gone.
func groupAlive(pgid int, start uint64) bool {
	if s, _, state, err := procStat(pgid); err == nil {
		if s != start {
			return false
		}
		if !dead(state) {
			return true
		}
	}
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if !procMounted() {
		return true
	}
	// Members remain, or only zombies nobody reaped yet.
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if _, pgrp, state, err := procStat(pid); err == nil && pgrp == pgid && !dead(state) {
			return true
		}
	}
	return false
}

// endGroup ends what is left of a process group: SIGTERM (unless
// termSent says the group already had it), SIGKILL once grace has
// passed, and returns when no process of the group runs, or after ten
// more seconds in which SIGKILL did not end it (a process stuck in the
// kernel). It reports whether the group is gone.
func endGroup(pgid int, start uint64, termSent bool, grace time.Duration) bool {
	const poll = 20 * time.Millisecond
	if !groupAlive(pgid, start) {
		return true
	}
	if !termSent {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
	}
	for end := time.Now().Add(grace); time.Now().Before(end); time.Sleep(poll) {
		if !groupAlive(pgid, start) {
			return true
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(poll) {
		if !groupAlive(pgid, start) {
			return true
		}
	}
	return false
}
