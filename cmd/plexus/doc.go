// Command plexus is the Plexus command line: `check` parses, validates and
// checks Polyaxonfiles; `compile` prints an operation compiled with the
// Kubernetes objects it becomes; `init` performs a run's built-in init step
// inside its init container; `schema` prints the Polyaxonfile JSON Schema;
// `server` runs the engine and its API; `run` runs an operation to its end
// in an engine in this process, or submits it to a server; `ops` lists,
// shows, follows, stops and resumes runs, on a server or in the local
// history; `notify` sends a finished run's notification to a webhook or
// to Slack, in the pods of the hub's notifier components (notify.go);
// `hub` lists and shows the components of the built-in hub and of the
// private hubs given (hub.go), which `run --hub` runs.
//
// A dag run is followed through its operations' runs: their logs, each line
// prefixed with the operation (pipeline.go, logs.go), the dag's progress,
// and a table of its operations at the end; `ops get --graph` draws it
// (graph.go). Commands are thin: they parse flags and call the packages
// that own the work (specs, specs/compiler, executor/inits, engine,
// engine/api).
package main
