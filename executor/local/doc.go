// Package local runs compiled operations as host processes: each attempt
// of a run in the run's directory under a root (`$PLEXUS_HOME/runs`), with
// the container's command, args and environment plus the run's context
// variables, its output in a log file, and its outputs read from the file
// PLEXUS_OUTPUTS_PATH names. The image is not used. Stop and timeouts kill
// the process group. Processes end with the executor's process: a new one
// starts from what the engine records.
package local
