// Package leader elects one engine among those sharing an etcd: an
// Elector campaigns on the `leader` prefix (concurrency.Election) and, once
// elected, runs the leader's work with a context that ends when the
// leadership does (the session's lease is lost, or the engine resigns) and
// with the fence every leader write must carry: a comparison of the
// election key's create revision, so a deposed leader's late write fails.
package leader
