package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/plexus-ml/plexus/executor"
)

// adoptPoll is how often an adopted process is looked at: it is not this
// process's child, so nothing tells its end but /proc.
const adoptPoll = 200 * time.Millisecond

// adoptUnknown adopts what is left of ref's run when this executor does
// not know ref.
func (e *Executor) adoptUnknown(ref executor.RunRef) {
	e.mu.Lock()
	_, known := e.runs[ref]
	e.mu.Unlock()
	if !known {
		e.followSupervised(ref.UUID)
		e.adoptRun(ref.UUID)
	}
}

// adoptRun takes over the attempts of a run whose process groups an
// executor that is gone with its process recorded (a crash, kill -9):
//
//   - a main process still running is watched to its end and reported
//     as if this executor had started it: its exit code from the file its
//     wrapper writes, its outputs, its log followed; Stop, Close, the
//     run's timeout (recorded) and a later attempt's dispatch end it;
//   - a main process that ended meanwhile is reported from its exit code
//     and outputs;
//   - an init step cannot be resumed where it was: its group is ended and
//     the attempt fails as Lost (retried if the run has retries left).
//
// Records of a live executor, this one or another process's, are left to
// it; a record with no owner is one an executor let go of (Detach).
// Adopting rewrites the record with this executor as its owner, so that
// another one does not adopt the attempt too.
func (e *Executor) adoptRun(uuid string) {
	dir := e.RunDir(uuid)
	for n, rec := range readRecords(dir) {
		if rec.Owner == e.self || rec.Owner != (procID{}) && rec.Owner.alive() {
			continue
		}
		ref := executor.RunRef{UUID: uuid, Attempt: n}
		if _, ended := e.ended(ref); ended {
			// Its executor reported the end and was gone before it
			// removed the record: no process of it is left.
			_ = os.Remove(recordPath(dir, n))
			continue
		}
		e.mu.Lock()
		if _, known := e.runs[ref]; known {
			e.mu.Unlock()
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		a := &attempt{ref: ref, dir: dir, cancel: cancel, done: make(chan struct{}), step: rec.Step,
			logPath: filepath.Join(dir, fmt.Sprintf("attempt-%d.log", n))}
		e.runs[ref] = a
		e.mu.Unlock()
		rec.Owner = e.self
		_ = writeRecord(recordPath(dir, n), rec) // if it fails, it is still ours in this process
		status, msg := executor.Running, "the executor restarted and watches the process an earlier one started"
		if rec.Step != mainStep {
			status, msg = executor.Starting, "the executor restarted during the "+rec.Step+" step"
		}
		e.publish(a, executor.StatusUpdate{Run: ref, Status: status, Reason: "Reattached", Message: msg, Time: e.cfg.Now()})
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.watchAdopted(ctx, a, rec)
		}()
	}
}

// watchAdopted follows an adopted process group to its end, and reports
// it.
func (e *Executor) watchAdopted(ctx context.Context, a *attempt, rec procRecord) {
	if rec.Step != mainStep {
		endGroup(rec.PGID, rec.Start, false, e.cfg.StopGrace)
		e.finish(a, executor.Failed, "Lost", fmt.Sprintf("the executor running its %s step is gone: the step's processes were ended", rec.Step), nil, nil)
		return
	}
	var timeout <-chan time.Time
	if !rec.Deadline.IsZero() {
		t := time.NewTimer(time.Until(rec.Deadline))
		defer t.Stop()
		timeout = t.C
	}
	tick := time.NewTicker(adoptPoll)
	defer tick.Stop()
	detach := e.detach
	for leaderAlive(rec.PGID, rec.Start) {
		if ctx.Err() != nil {
			detach = nil // stopped: it ends even as the executor detaches
		}
		select {
		case <-ctx.Done():
			endGroup(rec.PGID, rec.Start, false, e.cfg.StopGrace)
			e.mu.Lock()
			status, reason, msg := a.stoppedStatus()
			e.mu.Unlock()
			e.finish(a, status, reason, msg, nil, nil)
			return
		case <-timeout:
			endGroup(rec.PGID, rec.Start, false, e.cfg.StopGrace)
			e.finish(a, executor.Failed, "DeadlineExceeded", "main ran past the run's timeout", nil, nil)
			return
		case <-detach:
			if ctx.Err() != nil {
				continue
			}
			rec.Owner = procID{}
			_ = writeRecord(recordPath(a.dir, a.ref.Attempt), rec)
			return
		case <-tick.C:
		}
	}
	// What the command left behind ends with it, as for a process this
	// executor started.
	endGroup(rec.PGID, rec.Start, false, e.cfg.StopGrace)
	code, err := readExitCode(exitPath(a.dir, a.ref.Attempt))
	switch {
	case err != nil:
		e.finish(a, executor.Failed, "Lost", "main ended while no executor watched it, without an exit code (killed?)"+tail(a.logPath), nil, nil)
	case code != 0:
		e.finish(a, executor.Failed, "Error", fmt.Sprintf("main exited with code %d%s", code, tail(a.logPath)), nil, &code)
	default:
		e.succeeded(a, code)
	}
}
