// Package local runs compiled operations as host processes: each attempt
// of a run in the run's directory under a root (`$PLEXUS_HOME/runs`), with
// the container's command, args and environment plus the run's context
// variables, its output in a log file, and its outputs read from the file
// PLEXUS_OUTPUTS_PATH names. The image is not used. Stop and timeouts kill
// the process group; when the main process exits, what it left in its
// group is ended too.
//
// One run, one live attempt. Each process group is recorded in the run's
// directory (attempt-N.proc: the group, its leader's start time so that a
// reused pid is not mistaken for it, the step, the executor's process, the
// run's deadline), and the main command runs under a small shell wrapper
// that writes its exit code to attempt-N.exit. An executor killed with its
// process (kill -9, a crash) leaves its groups running; the next executor
// on the same root, asked about the run (Status, Stop, Dispatch), adopts
// them (adopt.go): a main process is watched to its end through /proc and
// reported as usual (exit code, outputs, log), an init step is ended and
// its attempt fails as Lost. Dispatch of an attempt first ends every other
// attempt of the run, its own and any group another executor recorded
// (SIGTERM, then SIGKILL after the grace), and starts nothing while one
// of them lives. Close ends every attempt, adopted ones too.
package local
