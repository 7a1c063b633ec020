package local

import "errors"

// errDetached is how a main process's watch ends when Detach lets the
// process go on.
var errDetached = errors.New("local executor: detached")

// Detach lets go of every attempt and returns once none of the
// executor's goroutines acts on them: for an executor whose process
// ends while its runs go on (plexus server stopped to be upgraded or
// restarted). Main processes keep running in their own sessions, their
// records saying nobody watches them; the next executor on the root
// adopts them and reports their real end (adopt.go). An attempt still
// in its init steps, or waiting for an earlier attempt to end, has its
// step ended and is handed to a supervisor that runs the rest
// (supervise.go); without Config.Supervisor, or if none starts, it fails
// as Lost (retried if the run has retries left). Watchers' channels
// close. Close after Detach stops nothing more.
func (e *Executor) Detach() error {
	e.mu.Lock()
	if !e.detached {
		e.detached = true
		close(e.detach)
	}
	for _, a := range e.runs {
		if a.step != mainStep && a.step != supervisedStep && !a.stopped && a.lost == "" && !a.last.Status.Final() {
			a.lost = a.detachedDuring()
			a.handoff = len(e.cfg.Supervisor) > 0
			a.cancel()
		}
	}
	e.mu.Unlock()
	e.wg.Wait()
	e.closeOnce.Do(func() { close(e.close) })
	return nil
}

// enter moves the attempt to its step, unless the executor detached or
// the attempt was stopped: then it reports false.
func (e *Executor) enter(a *attempt, step string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.detached && !a.stopped && a.lost == "" {
		a.lost = a.detachedDuring()
		a.handoff = len(e.cfg.Supervisor) > 0
	}
	if a.lost != "" || a.stopped {
		return false
	}
	a.step = step
	return true
}

// detachedDuring says why Detach loses the attempt. The executor's lock
// is held.
func (a *attempt) detachedDuring() string {
	step := a.step
	if step == "" {
		step = "setup"
	}
	return "the executor detached (its server stopped) during the attempt's " + step + " step, which cannot go on without it"
}
