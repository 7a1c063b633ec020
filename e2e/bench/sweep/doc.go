// Command sweep measures the engine driving one matrix (hyperparameter
// sweep) run on an embedded etcd, with an executor that succeeds every
// attempt as it is dispatched (or, with -op-time, after a random time
// that holds no CPU). A matrix is a parent run whose trials are child
// runs, created as the matrix's search suggests them.
//
// Three shapes:
//
//   - grid: one grid of -n points over two range params (a × b, n = N1 ×
//     N2), no concurrency limit. It reports how long submission takes,
//     how long the matrix takes from then to its end, trials per second,
//     when a tenth, half, nine tenths and all of the trials had been
//     dispatched, the etcd writes, the Go heap, and the peak resident set
//     of the process (engine and embedded etcd both: VmHWM, reset once
//     etcd and the engine have started, so that a run does not carry the
//     one before). It then lists the matrix's children from the store, a
//     page at a time, and fails (exit status 1) unless the matrix
//     succeeded with exactly n children, one per trial index, all
//     succeeded; and reads the matrix's graph, as `plexus ops get
//     --graph` does (every child at once), with the peak resident set
//     after each.
//
//   - chain: a random matrix of -n trials with concurrency 1 (or, with
//     -search mapping, a mapping of n values), so that each trial is
//     suggested and created once the one before has ended. It reports the
//     engine's step between trials: from a trial's end (the time of its
//     final condition) to the next trial's creation (the time of its first
//     condition, created), p50, p90 and max. The step is split in two by
//     a watch of etcd of the benchmark's own: from the end decided to its
//     record seen by the watch (the write committed, and delivered), and
//     from then to the creation, the engine's own part (a little below
//     zero when the engine, told by its write's reply, is ahead of the
//     watch). Around the step: the executor's end to the success decided,
//     the creation to the dispatch, and the whole, the executor's end to
//     the next dispatch. Run it with -op-time, so that the engine is not
//     saturated.
//
//   - hyperband: a hyperband matrix (maxIterations -max-iter, eta 3), no
//     concurrency limit: a rung's trials are suggested once every trial
//     of the rung before has ended, and a bracket's once the bracket
//     before has ended. The executor gives each trial a loss, so that
//     rungs are promoted. The step is measured at each rung's start: from
//     the end of the last trial of the rung before to the creation of the
//     rung's first trial, split and surrounded as chain's.
//
// For chain and hyperband, a step is counted for every trial created when
// no trial created before it was still running: the engine was waiting
// on itself alone. Every shape checks the matrix's end as grid does
// (hyperband: as many children as its graph says it runs at most).
//
//	go run ./e2e/bench/sweep -shape grid -n 10000
//	go run ./e2e/bench/sweep -shape grid -n 100000
//	go run ./e2e/bench/sweep -shape chain -n 200 -op-time 20ms -repeat 3
//	go run ./e2e/bench/sweep -shape chain -search mapping -n 200 -op-time 20ms
//	go run ./e2e/bench/sweep -shape hyperband -max-iter 81 -op-time 20ms -repeat 3
//
// -repeat runs the matrix that many times, each on a fresh etcd and
// engine, and ends with a table of every run and the medians.
// -cpuprofile and -memprofile write profiles of the runs; the heap
// profile is taken each time the live heap has grown by a tenth, so that
// the last one written is of the largest heap. -cache=false disables the
// trials' cache (left on, each trial looks it up and misses).
package main
