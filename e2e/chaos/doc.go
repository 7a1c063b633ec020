// Package chaos proves the engine's invariants (DESIGN §4) under random,
// repeated faults, and checks the whole history afterwards, the way etcd's
// robustness tests do.
//
// A run starts a real control plane (e2e/cluster) whose API server keeps
// an audit log of every create and delete of Jobs, Pods, Deployments and
// Services; an etcd cluster of 3 members, each a process; a fault proxy
// on loopback in front of kube-apiserver; and 3 `plexus server` processes
// with the Kubernetes executor reaching the cluster through the proxy. It
// submits a workload through the API — a pipeline, single runs with
// retries (every third fails all its attempts), a grid sweep, an
// interval schedule, a subscription to the singles' ends and one to the
// schedule's — and then, in a seeded random order with random gaps:
//
//   - kills the leader with SIGKILL, waits for a new one, and starts the
//     killed server again;
//   - pauses the leader with SIGSTOP until a new one is elected, then
//     wakes it with SIGCONT: it wakes up deposed;
//   - kills an etcd member with SIGKILL and starts it again on its data;
//   - turns the proxy's faults on for 5 to 15 s: 429s and 500s without
//     reaching the API server, answers of changes that were made replaced
//     by 500s, delays, and watches cut.
//
// Once every run has ended it reads every run from etcd and every Job
// create from the audit log, and checks: every run final; every submitted
// run there; exactly one Job created per (run, attempt), ever; a Job for
// every attempt a run records; no Job created after its run ended or for
// an attempt past its last; no Job of an unknown run; one schedule fire per
// nominal time, none missing; every event delivered once. The report
// prints the counts and the time from each kill or pause to the new
// leader's election.
//
// `make chaos` runs the full schedule (50 kills); `make test` a short one.
package chaos
