// Command plexus is the Plexus command line: `check` parses, validates and
// checks Polyaxonfiles; `compile` prints an operation compiled with the
// Kubernetes objects it becomes; `init` performs a run's built-in init step
// inside its init container; `schema` prints the Polyaxonfile JSON Schema.
// Later issues add run, server, ops and hub. Commands are thin: they parse
// flags and call the packages that own the work (specs, specs/compiler,
// executor/inits).
package main
