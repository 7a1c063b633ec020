package local

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/executor"
)

// held counts the attempts the executor holds in memory.
func (e *Executor) held() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.runs)
}

// TestEndedAttemptsAreForgotten: after many short attempts the executor
// holds none of them, and a forgotten attempt still answers from its
// files: its end, its log; it is not run again nor stopped.
func TestEndedAttemptsAreForgotten(t *testing.T) {
	const attempts, parallel = 2000, 16
	e := newExecutor(t)
	// A watcher that takes every update, as the engine's does; the test
	// waits for each end through Status, which a watcher's full channel
	// cannot make it miss.
	updates, _ := e.Watch(t.Context())
	go func() {
		for range updates {
		}
	}()
	counter := filepath.Join(t.TempDir(), "count")
	c := compile(t, e, "forget", `run: {container: {image: x, command: [sh, -c, 'echo "attempt $PLEXUS_ATTEMPT"; echo "{\"attempt\": $PLEXUS_ATTEMPT}" > "$PLEXUS_OUTPUTS_PATH"; echo x >> `+counter+`']}}`+"\n", nil)
	var wg sync.WaitGroup
	next := make(chan int)
	for range parallel {
		wg.Go(func() {
			for n := range next {
				// Attempts of different runs, so that none supersedes
				// another.
				ref := executor.RunRef{UUID: fmt.Sprintf("forget%04d", n), Attempt: n}
				if err := e.Dispatch(t.Context(), ref, c); err != nil {
					t.Error(err)
					continue
				}
				for end := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
					u, err := e.Status(t.Context(), ref)
					if err == nil && u.Status.Final() {
						if u.Status != executor.Succeeded {
							t.Errorf("%v ended %+v", ref, u)
						}
						break
					}
					if err != nil || time.Now().After(end) {
						t.Errorf("%v: %+v, %v", ref, u, err)
						break
					}
				}
			}
		})
	}
	for n := 1; n <= attempts; n++ {
		next <- n
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if n := e.held(); n != 0 {
		t.Errorf("after %d ended attempts the executor holds %d", attempts, n)
	}

	ref := executor.RunRef{UUID: "forget0042", Attempt: 42}
	u, err := e.Status(t.Context(), ref)
	if err != nil || u.Status != executor.Succeeded || u.Outputs["attempt"] != 42.0 || u.ExitCode == nil || *u.ExitCode != 0 {
		t.Fatalf("status of a forgotten attempt: %+v, %v", u, err)
	}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(t.Context(), ref); err != nil {
		t.Errorf("stopping a forgotten attempt: %v", err)
	}
	logs, err := e.Logs(t.Context(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	buf := make([]byte, 100)
	n, _ := logs.Read(buf)
	if string(buf[:n]) != "attempt 42\n" {
		t.Errorf("log %q", buf[:n])
	}
	data, _ := os.ReadFile(counter)
	if len(data) != 2*attempts {
		t.Errorf("the commands ran %d times for %d attempts", len(data)/2, attempts)
	}
	if n := e.held(); n != 0 {
		t.Errorf("the executor holds %d attempts after asking a forgotten one", n)
	}

	// Another executor on the root knows how it ended.
	other, err := New(Config{Root: e.cfg.Root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	if u2, err := other.Status(t.Context(), ref); err != nil || u2.Status != u.Status || u2.Outputs["attempt"] != 42.0 {
		t.Errorf("another executor: %+v, %v", u2, err)
	}
}
