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
//
// No run can stop the engine. recover.go holds the boundaries where the
// leader starts handling one run (a worker's turn, the watch, a dag
// observing a child or dispatching what it created, the sweep, a
// compilation): a panic there fails that run with a condition (reason
// Panic), logged with its stack, and the others go on; a record that
// cannot be read, or a write that would make one, fails its run (reason
// UnreadableRecord). precompile.go renders at submission what can be: a
// dag's operations that depend on nothing but the dag compile there, and
// what fails refuses the submission at the operation's path.
package engine
