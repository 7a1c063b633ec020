package executor

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/plexus-ml/plexus/specs/compiler"
)

// RunRef names one attempt of a run.
type RunRef struct {
	UUID    string `json:"uuid"`
	Attempt int    `json:"attempt"`
}

// Status is what an executor says of an attempt.
type Status string

// Executor statuses. The engine maps them onto its run statuses.
const (
	Pending       Status = "pending"
	Starting      Status = "starting"
	Running       Status = "running"
	Succeeded     Status = "succeeded"
	Failed        Status = "failed"
	Stopped       Status = "stopped"
	Warning       Status = "warning"
	Unschedulable Status = "unschedulable"
)

// Final reports whether nothing follows the status.
func (s Status) Final() bool { return s == Succeeded || s == Failed || s == Stopped }

// StatusUpdate is one observation of an attempt.
type StatusUpdate struct {
	Run    RunRef `json:"run"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Message says more, such as the last lines of a failed run's log.
	Message string `json:"message,omitempty"`
	// Outputs are the values the run wrote to PLEXUS_OUTPUTS_PATH, once it
	// has finished.
	Outputs map[string]any `json:"outputs,omitempty"`
	// ExitCode is the main process's, for final statuses.
	ExitCode *int      `json:"exitCode,omitempty"`
	Time     time.Time `json:"time"`
}

// Executor runs compiled operations.
type Executor interface {
	// Dispatch starts the attempt. It is idempotent: an attempt already
	// dispatched is not started again.
	Dispatch(ctx context.Context, run RunRef, c *compiler.Compiled) error
	// Stop stops the attempt; it ends as Stopped.
	Stop(ctx context.Context, run RunRef) error
	// Status returns the latest status of the attempt, or ErrUnknownRun
	// when the executor has no trace of it (it was never dispatched, or
	// was lost with what ran it).
	Status(ctx context.Context, run RunRef) (StatusUpdate, error)
	// Watch streams status updates of every attempt until ctx ends.
	Watch(ctx context.Context) (<-chan StatusUpdate, error)
	// Logs returns the attempt's log; with follow, the reader blocks for
	// more until the attempt ends or ctx is done.
	Logs(ctx context.Context, run RunRef, follow bool) (io.ReadCloser, error)
}

// Lister is an executor that can list the attempts it holds objects for
// (Jobs on a cluster): the leader reconciles them against its store.
type Lister interface {
	Attempts(ctx context.Context) ([]RunRef, error)
}

// ErrUnknownRun is returned for an attempt the executor does not know.
var ErrUnknownRun = errors.New("executor: unknown run")

// ErrTransient is wrapped by an error that trying the same call again
// later may mend: the cluster throttled, failed for a moment or could not
// be reached. Dispatch returning it has not failed the attempt: the engine
// keeps the run scheduled and dispatches it again after a back-off.
var ErrTransient = errors.New("executor: a transient failure, to try again")

// Endpoint says how to reach a service's attempt.
type Endpoint struct {
	// URL is where the service answers from the engine's host, when it
	// can be reached from there as it is (the local executor's port on
	// 127.0.0.1); empty on a cluster.
	URL string `json:"url,omitempty"`
	// Namespace and Name are those of the Kubernetes Service in front of
	// it, whose Ports are the service's ports.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Ports     []int  `json:"ports,omitempty"`
	// Path is the path the service answers at (compiler.Compiled's
	// ServicePath).
	Path string `json:"path,omitempty"`
}

// Exposer is an executor that runs services and says how to reach them.
type Exposer interface {
	// Endpoint says how to reach the attempt of a compiled service; false
	// for a run that is not a service.
	Endpoint(run RunRef, c *compiler.Compiled) (Endpoint, bool)
}
