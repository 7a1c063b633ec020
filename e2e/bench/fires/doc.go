// Command fires measures how late the engine fires its schedules. It
// submits -schedules interval schedules (frequency -frequency seconds,
// maxRuns -fires each: 1,000 fires by default) to an engine on an
// embedded etcd whose executor succeeds every attempt as it is
// dispatched (e2e/bench/instant), so that what is measured is the
// engine's fire path and its store alone: at each fire's nominal time the
// leader's timer wakes the schedule, a worker plans it and creates the
// fire's child in the transaction that advances the schedule's state.
//
// Every schedule starts at the same whole second, -lead after the
// benchmark starts submitting (its startAt), so that every fire is one
// the leader's timer wakes for, and the fires of all the schedules fall
// due together, once a frequency. With -lead 0 the schedules have no
// startAt: each starts at its creation truncated to the second, and its
// first fire, due before the schedule existed, is reported apart (from
// the schedule's creation, not from its nominal time).
//
// A watch of etcd of the benchmark's own, opened before the first
// submission, notes when each child is first seen. It follows the index
// key the store puts in the transaction that creates a child,
// children/{schedule}/{child}, whose events carry no value, on an etcd
// client of its own: on the engine's, it would share the stream of the
// engine's watch of runs/, which a tick's burst of records fills, and
// etcd serves every watch of a full stream late (up to its 100 ms
// resync). The end of the runs is found by counting the keys of active/,
// every 100 ms. For every fire it reports, p50, p90, p99 and max:
//
//   - created − nominal: the child's CreatedAt (the leader's clock when
//     it decided the fire) less its FireAt (the nominal time): the
//     timer's wake, the queue and the plan;
//   - seen − nominal: when the watch delivered the child's creation less
//     its FireAt: the above, the etcd transaction's commit and the
//     watch's delivery;
//   - seen − created, the commit and delivery alone;
//
// and the worst of each nominal time (tick), the slowest fires, the wall
// time from the first submission to the last schedule's end, the etcd
// writes, the CPU time of the process (engine, embedded etcd and the
// watch: they share it) and its peak resident set (VmHWM, reset once etcd
// and the engine have started). The target, p99 of seen − nominal at most
// 100 ms, is printed with whether it was met; it fails nothing.
//
// It fails (exit status 1) unless the store holds exactly schedules ×
// fires children, one for each nominal time of each schedule, none with
// the nominal time of another (a duplicate), each seen by the watch, none
// committed more than a frequency after it was due, and every schedule
// succeeded.
//
//	go run ./e2e/bench/fires -schedules 10
//	go run ./e2e/bench/fires -repeat 3
//	go run ./e2e/bench/fires -schedules 1000 -fires 5
//	go run ./e2e/bench/fires -lead 0
//
// -repeat runs it that many times, each on a fresh etcd and engine, and
// ends with a table of every run and the medians. -workers and -resync
// set the engine's (0: its defaults, as `plexus server` runs it).
// -cpuprofile and -trace write a CPU profile and an execution trace of
// the runs (the trace shows each timer's wake, the worker that took the
// schedule and the etcd round trips).
package main
