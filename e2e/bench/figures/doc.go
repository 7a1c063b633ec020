// Package figures owns how the benchmarks under e2e/bench compute what
// they print: percentiles of sorted latencies and the store's revision
// (to count the writes a phase made).
package figures
