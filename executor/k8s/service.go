package k8s

import (
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Endpoint says how to reach the attempt of a compiled service: the
// Service that Dispatch creates in front of its Deployment, named as the
// attempt's objects are, on the ports it declares. The cluster's own
// addresses are not reachable from everywhere, so the URL is left empty:
// `plexus ops service` prints a port-forward command and the in-cluster
// address.
func (e *Executor) Endpoint(ref executor.RunRef, c *compiler.Compiled) (executor.Endpoint, bool) {
	svc, ok := c.Component.Run.(*specs.Service)
	if !ok || len(svc.Ports.Items) == 0 {
		return executor.Endpoint{}, false
	}
	return executor.Endpoint{
		Namespace: e.ns,
		Name:      compiler.ObjectName(ref.UUID, ref.Attempt),
		Ports:     append([]int(nil), svc.Ports.Items...),
		Path:      c.ServicePath(),
	}, true
}
