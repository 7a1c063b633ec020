// Package procstat is what the benchmarks under e2e/bench read of their
// own process and machine: the Go heap (sampled for its peak, with heap
// profiles as it grows), the resident set from /proc/self/status (and its
// peak, which can be started again), the load average, and profiles
// written to files.
package procstat
