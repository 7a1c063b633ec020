// Package k8s is the Kubernetes executor: it dispatches a compiled job as
// a batch/v1 Job and a service as a Deployment with a Service, one set of
// objects per attempt, named after the run and the attempt so that a second
// dispatch creates nothing. One shared informer factory, filtered on the
// plexus.io/run label, turns Job, Pod and Deployment changes into status
// updates (pending, starting, running, warning, unschedulable, succeeded,
// failed, stopped) with the pod's reason, and reads a run's outputs from its
// main container's termination message. Logs come from the pod log API;
// Stop deletes with background propagation.
package k8s
