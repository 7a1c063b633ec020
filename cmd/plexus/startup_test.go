package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/e2e/plexusbin"
)

const helloJob = `version: 1.1
kind: component
run:
  container: {image: alpine, command: [sh, -c, 'echo hello']}
`

// plexusUnder runs the plexus command (this test binary, as TestMain
// installs it in $PATH) in a shell that first runs setup (ulimit -v ...),
// with PLEXUS_HOME set to home, and returns its exit code, stdout and
// stderr.
func plexusUnder(t *testing.T, setup, home string, args ...string) (int, string, string) {
	t.Helper()
	if _, err := exec.LookPath("plexus"); err != nil {
		t.Fatalf("the plexus command is not in $PATH: %v", err)
	}
	return binUnder(t, "plexus", setup, home, args...)
}

// binUnder is plexusUnder for the plexus binary bin.
func binUnder(t *testing.T, bin, setup, home string, args ...string) (int, string, string) {
	t.Helper()
	script := `exec "$PLEXUS_BIN" "$@"`
	if setup != "" {
		script = setup + " && " + script
	}
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.Env = append(os.Environ(), "PLEXUS_BIN="+bin, "PLEXUS_HOME="+home, "PLEXUS_SERVER=", "PLEXUS_TOKEN=")
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// oneLineError checks a failed start: exit code 1 and one line on stderr
// that says why, with no Go panic or stack trace.
func oneLineError(t *testing.T, code int, stderr, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") || !strings.Contains(stderr, want) ||
		strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("exit code %d, stderr (%d lines):\n%s\nwant exit code 1 and one line saying %q", code, len(lines), stderr, want)
	}
}

// TestRunUnderAnAddressSpaceLimit: plexus run works under ulimit -v
// 6000000 (its embedded etcd maps 256 MiB, not etcd's default 10 GiB), and
// under a limit too low for an embedded etcd it says so in one line. It
// runs plexus as `make build` builds it: the race detector's runtime, in
// this test binary, needs so much address space of its own that under the
// low limit it can fail to start a thread before plexus has said anything.
func TestRunUnderAnAddressSpaceLimit(t *testing.T) {
	bin, err := plexusbin.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(t.TempDir(), "hello.yaml")
	if err := os.WriteFile(job, []byte(helloJob), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	code, stdout, stderr := binUnder(t, bin, "ulimit -v 6000000", home, "run", "-f", job)
	if code != 0 || stdout != "hello\n" || !strings.Contains(stderr, "succeeded") ||
		strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("under ulimit -v 6000000: exit code %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	// Again, on the history the first left.
	code, stdout, stderr = binUnder(t, bin, "ulimit -v 6000000", home, "run", "-f", job)
	if code != 0 || stdout != "hello\n" {
		t.Errorf("again under ulimit -v 6000000: exit code %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	// Low, but not so low that the Go runtime cannot start.
	code, _, stderr = binUnder(t, bin, "ulimit -v 2000000", home, "run", "-f", job)
	oneLineError(t, code, stderr, "address-space limit (ulimit -v) is 1953 MiB: an embedded etcd needs at least 2304 MiB")
}

// TestStartFailuresAreOneLine: whatever keeps plexus run or plexus server
// from starting is one line on stderr and exit code 1, never a panic.
func TestStartFailuresAreOneLine(t *testing.T) {
	root := t.TempDir()
	job := filepath.Join(root, "hello.yaml")
	if err := os.WriteFile(job, []byte(helloJob), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A home with history whose etcd database is made unusable.
	withDB := func(t *testing.T, damage func(db string)) string {
		home := t.TempDir()
		if code, _, stderr := plexusUnder(t, "", home, "run", "-f", job); code != 0 {
			t.Fatalf("the first run: %s", stderr)
		}
		damage(filepath.Join(home, "etcd", "member", "snap", "db"))
		return home
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, tc := range map[string]struct {
		home func(t *testing.T) string
		args []string
		want string
	}{
		"PLEXUS_HOME under a file": {
			home: func(*testing.T) string { return filepath.Join(file, "home") },
			want: "not a directory",
		},
		"PLEXUS_HOME on a read-only file system": {
			// sysfs refuses new directories, to root too.
			home: func(*testing.T) string { return "/sys/plexus-home" },
			want: "/sys/plexus-home",
		},
		"the database is a directory": {
			home: func(t *testing.T) string {
				return withDB(t, func(db string) {
					if err := os.Remove(db); err != nil {
						t.Fatal(err)
					}
					if err := os.Mkdir(db, 0o755); err != nil {
						t.Fatal(err)
					}
				})
			},
			want: "is a directory",
		},
		"the database is damaged": {
			home: func(t *testing.T) string {
				return withDB(t, func(db string) {
					if err := os.WriteFile(db, bytes.Repeat([]byte("not bbolt "), 10000), 0o600); err != nil {
						t.Fatal(err)
					}
				})
			},
			want: "cannot be read",
		},
		"server: the port is taken": {
			home: func(t *testing.T) string { return t.TempDir() },
			args: []string{"server", "--listen", busy.Addr().String()},
			want: "address already in use",
		},
		"server: PLEXUS_HOME under a file": {
			home: func(*testing.T) string { return filepath.Join(file, "home") },
			args: []string{"server", "--listen", "127.0.0.1:0"},
			want: "not a directory",
		},
	} {
		t.Run(name, func(t *testing.T) {
			args := tc.args
			if args == nil {
				args = []string{"run", "-f", job}
			}
			code, _, stderr := plexusUnder(t, "", tc.home(t), args...)
			oneLineError(t, code, stderr, tc.want)
		})
	}
}

// TestUnwritableHomeIsOneLine: a PLEXUS_HOME the user cannot write, new
// or holding history, is one line.
func TestUnwritableHomeIsOneLine(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes in read-only directories; TestStartFailuresAreOneLine covers a read-only file system")
	}
	job := filepath.Join(t.TempDir(), "hello.yaml")
	if err := os.WriteFile(job, []byte(helloJob), 0o644); err != nil {
		t.Fatal(err)
	}
	empty, used := t.TempDir(), t.TempDir()
	if code, _, stderr := plexusUnder(t, "", used, "run", "-f", job); code != 0 {
		t.Fatalf("the first run: %s", stderr)
	}
	for _, home := range []string{empty, used} {
		if err := filepath.Walk(home, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chmod(p, info.Mode().Perm()&^0o222)
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = filepath.Walk(home, func(p string, info os.FileInfo, err error) error {
				if err == nil {
					_ = os.Chmod(p, info.Mode().Perm()|0o200)
				}
				return nil
			})
		})
		code, _, stderr := plexusUnder(t, "", home, "run", "-f", job)
		oneLineError(t, code, stderr, "permission denied")
	}
}

// TestRunWhileAnotherUsesTheHome: a second plexus run on a home another
// one holds says so at once, instead of waiting for the first to end.
func TestRunWhileAnotherUsesTheHome(t *testing.T) {
	dir := t.TempDir()
	slow := filepath.Join(dir, "slow.yaml")
	if err := os.WriteFile(slow, []byte(strings.Replace(helloJob, "echo hello", "echo hello; sleep 60", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	first := exec.Command("plexus", "run", "-f", slow)
	first.Env = append(os.Environ(), "PLEXUS_HOME="+home, "PLEXUS_SERVER=")
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = first.Process.Signal(syscall.SIGINT) // stops its run and exits
		_ = first.Wait()
	}()
	// Its job's first line: its engine runs.
	line := make([]byte, len("hello\n"))
	if _, err := out.Read(line); err != nil || string(line) != "hello\n" {
		t.Fatalf("the first run printed %q, %v", line, err)
	}
	start := time.Now()
	code, _, stderr := plexusUnder(t, "", home, "run", "-f", slow)
	oneLineError(t, code, stderr, "in use by another process")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v to say so", d)
	}
}
