package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// usedDir returns a directory holding an embedded etcd's data, the etcd
// stopped.
func usedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	e, err := StartEmbedded(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	return dir
}

func dbPath(dir string) string { return filepath.Join(dir, "member", "snap", "db") }

// TestEmbeddedStartFailuresAreErrors: what would make etcd panic in a
// goroutine of its own, or wait forever, as it opens its database is an
// error of StartEmbedded.
func TestEmbeddedStartFailuresAreErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		dir  func(t *testing.T) string
		want string
	}{
		"the database is a directory": {
			dir: func(t *testing.T) string {
				dir := usedDir(t)
				if err := os.Remove(dbPath(dir)); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(dbPath(dir), 0o755); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			want: "is a directory",
		},
		"the database is damaged": {
			dir: func(t *testing.T) string {
				dir := usedDir(t)
				if err := os.WriteFile(dbPath(dir), bytes.Repeat([]byte("not bbolt "), 10000), 0o600); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			want: "cannot be read: invalid database",
		},
		"another etcd holds the database": {
			dir: func(t *testing.T) string {
				dir := t.TempDir()
				e, err := StartEmbedded(dir, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(e.Close)
				return dir
			},
			want: "is in use by another process",
		},
		"the directory is a file": {
			dir: func(t *testing.T) string {
				file := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(file, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return file
			},
			want: "not a directory",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := tc.dir(t)
			start := time.Now()
			e, err := StartEmbedded(dir, 10*time.Second)
			if err == nil {
				e.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("got %q, want it to name %s and say %q", err, dir, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestEmbeddedSizes: the embedded etcd maps 256 MiB at start, not etcd's
// default 10 GiB, under the default quota; and it starts again on its
// data.
func TestEmbeddedSizes(t *testing.T) {
	dir := usedDir(t)
	e, err := StartEmbedded(dir, 10*time.Second)
	if err != nil {
		t.Fatalf("again on its data: %v", err)
	}
	defer e.Close()
	if got := e.etcd.Server.Cfg.QuotaBackendBytes; got != EmbeddedQuotaBytes {
		t.Errorf("quota %d, want %d", got, EmbeddedQuotaBytes)
	}
	// The map shows in this process's mappings of the database file.
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc")
	}
	db, err := filepath.EvalSymlinks(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	var size uint64
	for _, line := range strings.Split(string(maps), "\n") {
		if !strings.HasSuffix(line, " "+db) {
			continue
		}
		var lo, hi uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err != nil {
			t.Fatal(err)
		}
		size += hi - lo
	}
	if size != EmbeddedMmapSize {
		t.Errorf("the database is mapped over %d MiB, want %d MiB", size>>20, EmbeddedMmapSize>>20)
	}
}

// The last-words helper is this test binary, starting an etcd without
// StartEmbedded's checks on a directory whose database is a directory.
const lastWordsDir = "PLEXUS_TEST_LAST_WORDS_DIR"

func TestLastWordsHelper(t *testing.T) {
	dir := os.Getenv(lastWordsDir)
	if dir == "" {
		t.Skip("run by TestEtcdPanicsAreOneLine")
	}
	e, err := embed.StartEtcd(embedConfig(dir))
	if err == nil {
		e.Close()
	}
	t.Fatalf("etcd did not panic: %v", err)
}

// TestEtcdPanicsAreOneLine: what StartEmbedded's checks miss and etcd
// panics on (here: it cannot open its database) ends the process with one
// line on stderr and exit code 1, not a stack trace.
func TestEtcdPanicsAreOneLine(t *testing.T) {
	dir := usedDir(t)
	if err := os.Remove(dbPath(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dbPath(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLastWordsHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), lastWordsDir+"="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, stdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "Error: embedded etcd: failed to open database error=") ||
		!strings.Contains(stderr.String(), "is a directory path="+dbPath(dir)) || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr:\n%s\nwant one line: Error: embedded etcd: failed to open database error=... is a directory path=%s", stderr.String(), dbPath(dir))
	}
	if strings.Contains(stdout.String()+stderr.String(), "goroutine ") {
		t.Errorf("a stack trace: %s", stdout.String())
	}
}
