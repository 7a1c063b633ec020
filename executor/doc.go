// Package executor defines how the engine runs a compiled operation: the
// Executor interface, the reference to one attempt of a run, and the
// status updates and outputs an executor reports. executor/local runs
// host processes; executor/k8s (a later issue) creates Kubernetes objects.
//
// An executor is level-triggered friendly: Dispatch is idempotent for an
// attempt (dispatching it again is not an error and starts nothing new),
// and Watch reports what is true now, so a new leader can catch up.
package executor
