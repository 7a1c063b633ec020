// Package inits performs a run's built-in init steps — the `init` entries
// of a Polyaxonfile with a handler (file, dockerfile, git, paths,
// artifacts) — before its main container starts. On Kubernetes they run in
// an init container (`plexus init`, which the compiler's lowering sets up
// with the entry in PLEXUS_INIT_SPEC); locally, in the run's directory.
//
// Steps write under the run's context path (`<context>/artifacts` unless
// the entry gives a path). `artifacts` without a connection and
// `tensorboard` layouts read the executor's default artifacts store
// (Step.Store: on the local executor, the runs' own artifacts). What needs
// a service Plexus does not talk to yet (object stores, a store on
// Kubernetes, lineage, model and artifact refs) is refused with an error
// saying so, never skipped.
package inits
