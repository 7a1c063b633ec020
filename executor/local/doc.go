// Package local runs compiled operations as host processes: each attempt
// of a run in the run's directory under a root (`$PLEXUS_HOME/runs`), with
// the container's command, args and environment plus the run's context
// variables, its output in a log file, and its outputs read from the file
// PLEXUS_OUTPUTS_PATH names. The image is not used. Stop and timeouts kill
// the process group; when the main process exits, what it left in its
// group is ended too.
//
// One run, one live attempt. Each step's processes run in a session of
// their own (so a group: no terminal's signals reach them, stdin is
// /dev/null, output goes to the attempt's log), recorded in the run's
// directory (attempt-N.proc: the group, its leader's start time so that
// a reused pid is not mistaken for it, the step, the executor's process,
// the run's deadline), and the main command runs under a small shell
// wrapper that writes its exit code to attempt-N.exit. Dispatch of an
// attempt first ends every other attempt of the run, its own and any
// group another executor recorded (SIGTERM, then SIGKILL after the
// grace), and starts nothing while one of them lives.
//
// An executor ends in one of three ways:
//
//   - Close stops every attempt (plexus run, which owns its runs:
//     Ctrl-C means stop).
//   - Detach (detach.go) lets the main processes go on and records that
//     nobody watches them (plexus server, stopped to be upgraded or
//     restarted). An attempt still in its init steps is handed to a
//     supervisor (supervise.go: plexus local-attempt, in a session of its
//     own) that runs its steps from the interrupted one, run again from
//     its start, then its main process; without Config.Supervisor the
//     step is ended and the attempt fails as Lost.
//   - Killed with its process (kill -9, a crash), it leaves its groups
//     running as they were.
//
// The next executor on the same root, asked about such a run (Status,
// Stop, Dispatch), adopts what is left (adopt.go): a main process is
// watched to its end through /proc and reported as usual (exit code,
// outputs, log), one that ended while no executor ran is reported from
// its exit code and outputs, an attempt a supervisor runs is followed
// to the end the supervisor keeps, and an init step a crashed executor
// left is ended and its attempt fails as Lost.
//
// Every attempt's end is kept in attempt-N.status.json, and an ended
// attempt is dropped from memory once its end has reached the engine
// (forget.go): the executor holds the attempts that run, not every one it
// ran, and Status of a forgotten attempt answers from its files, as it
// does for another executor's.
package local
