package local

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startGroup starts a shell script as the leader of a new process group.
func startGroup(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// TestProcStatReadsOddNames: a command name with spaces and parentheses
// does not shift the fields that follow it.
func TestProcStatReadsOddNames(t *testing.T) {
	if !procMounted() {
		t.Skip("no /proc")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	odd := filepath.Join(t.TempDir(), "a) b (c")
	src, err := os.Open(sleep)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(odd, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(dst, src)
	src.Close()
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(odd, "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if !strings.Contains(string(data), "(a) b (c)") {
		t.Fatalf("the name is not the odd one: %s", data)
	}
	start, pgrp, state, err := procStat(cmd.Process.Pid)
	if err != nil || pgrp != cmd.Process.Pid || dead(state) || start == 0 {
		t.Fatalf("start %d, pgrp %d (want %d), state %c, %v", start, pgrp, cmd.Process.Pid, state, err)
	}
	if !leaderAlive(pgrp, start) || leaderAlive(pgrp, start+1) {
		t.Errorf("the leader is known by its start time: alive(%d) = %v, alive(%d) = %v",
			start, leaderAlive(pgrp, start), start+1, leaderAlive(pgrp, start+1))
	}
}

// TestGroupAliveAfterItsLeader: a group lives while any member does,
// after its leader has exited; a pid used again by another leader is not
// the group; endGroup ends the members.
func TestGroupAliveAfterItsLeader(t *testing.T) {
	if !procMounted() {
		t.Skip("no /proc")
	}
	cmd := startGroup(t, "sleep 30 & exit 0")
	pgid := cmd.Process.Pid
	start, _, _, err := procStat(pgid)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil { // the leader, reaped
		t.Fatal(err)
	}
	if !groupAlive(pgid, start) {
		t.Fatal("the group's sleep is alive, the group is not")
	}
	if groupAlive(os.Getpid(), 1) {
		t.Error("a live process with another start time is not the group's leader")
	}
	began := time.Now()
	if !endGroup(pgid, start, false, 2*time.Second) {
		t.Fatal("the group did not end")
	}
	if groupAlive(pgid, start) {
		t.Error("alive after endGroup")
	}
	if d := time.Since(began); d > 1500*time.Millisecond {
		t.Errorf("took %v: sleep ends on SIGTERM, no SIGKILL needed", d)
	}
}

// TestEndGroupKillsWhatIgnoresSIGTERM.
func TestEndGroupKillsWhatIgnoresSIGTERM(t *testing.T) {
	cmd := startGroup(t, "trap '' TERM; while :; do sleep 0.05; done")
	pgid := cmd.Process.Pid
	start, _, _, _ := procStat(pgid)
	time.Sleep(100 * time.Millisecond) // the trap is set
	began := time.Now()
	if !endGroup(pgid, start, false, 300*time.Millisecond) {
		t.Fatal("the group did not end")
	}
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("ended after %v: before the grace, though it ignores SIGTERM", d)
	}
	_ = cmd.Wait()
	if groupAlive(pgid, start) {
		t.Error("alive after SIGKILL")
	}
}

// TestRecordsRoundTrip: what process writes, readRecords reads; damaged
// records name nothing.
func TestRecordsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := procRecord{PGID: 1234, Start: 99, Step: mainStep, Owner: procID{PID: 77, Start: 5}, Deadline: time.Unix(1700000000, 0).UTC()}
	if err := writeRecord(recordPath(dir, 3), want); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"attempt-4.proc": "{", "attempt-x.proc": "{}", "attempt-5.proc": `{"pgid": 1}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := readRecords(dir)
	if len(got) != 1 || got[3] != want {
		t.Fatalf("got %+v, want {3: %+v}", got, want)
	}
}
