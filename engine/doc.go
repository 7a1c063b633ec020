// Package engine runs operations to their end: the reconciler and the run
// state machine, queues and concurrency, retries, pipelines, joins and
// submission. Its state lives in etcd (engine/store), written only by the
// elected leader (engine/leader) through fenced transactions.
//
// transitions.go holds the one table of legal status moves: every status
// write goes through Transition, an illegal move is an error (a bug,
// reported, never applied), and nothing moves a final run except an
// explicit resume.
//
// pipeline.go drives dag runs: each operation becomes a child run when
// package dag decides it (ready, skipped or upstream_failed), compiled
// with its upstreams' outputs; a leader rebuilds a dag from its children
// alone. joins.go resolves an operation's joins from the run history.
package engine
