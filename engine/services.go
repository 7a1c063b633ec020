package engine

import (
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// serviceOf is how to reach the attempt ref of a compiled service, as its
// executor says, recorded with the attempt when it is scheduled; nil for
// a run that is not a service, or an executor that does not run them.
func serviceOf(ex executor.Executor, ref executor.RunRef, c *compiler.Compiled) *store.Service {
	x, ok := ex.(executor.Exposer)
	if !ok {
		return nil
	}
	ep, ok := x.Endpoint(ref, c)
	if !ok {
		return nil
	}
	return &store.Service{URL: ep.URL, Namespace: ep.Namespace, Name: ep.Name, Ports: ep.Ports, Path: ep.Path}
}
