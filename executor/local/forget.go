package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/plexus-ml/plexus/executor"
)

// An executor that runs for months must not hold every attempt it ever
// ran. Each attempt's end is kept in its run's directory
// (attempt-N.status.json, written before the end is published), and
// the attempt is dropped from memory once its end is known to have
// reached the engine: every watcher took it, or Status was asked after
// it. A watcher that missed it, its channel being full, learns it from
// Status, which answers for a forgotten attempt from its status file —
// as it does for an attempt an earlier executor on the root ran, so a
// new leader asking gets the truth. Dispatch does not run a forgotten
// attempt again, and Stop has nothing of it to stop.

// statusPath is the file that keeps an attempt's end.
func statusPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.status.json", attempt))
}

// writeStatus keeps an attempt's final status in its run's directory.
func writeStatus(dir string, attempt int, u executor.StatusUpdate) error {
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(statusPath(dir, attempt), data); err != nil {
		return fmt.Errorf("keeping the end of attempt %d: %w", attempt, err)
	}
	return nil
}

// ended returns the end an attempt's status file keeps, if it has one.
func (e *Executor) ended(ref executor.RunRef) (executor.StatusUpdate, bool) {
	data, err := os.ReadFile(statusPath(e.RunDir(ref.UUID), ref.Attempt))
	if err != nil {
		return executor.StatusUpdate{}, false
	}
	var u executor.StatusUpdate
	if json.Unmarshal(data, &u) != nil || u.Run != ref || !u.Status.Final() {
		return executor.StatusUpdate{}, false
	}
	return u, true
}

// forget drops an ended attempt whose end is saved. The executor's lock
// is held.
func (e *Executor) forget(a *attempt) {
	if a.saved && e.runs[a.ref] == a {
		delete(e.runs, a.ref)
	}
}
