// Package e2e holds Plexus's end-to-end tests: the CLI and engine driven
// against real etcd and a real Kubernetes control plane. Scale scenarios
// live in e2e/bench.
package e2e
