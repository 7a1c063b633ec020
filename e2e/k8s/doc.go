// Package k8s holds the end-to-end tests of the engine with the Kubernetes
// executor on a real control plane (e2e/cluster): Jobs that succeed, fail
// and are retried, time out, are stopped, cannot be scheduled or pulled,
// and a leader killed with Jobs in flight.
package k8s
