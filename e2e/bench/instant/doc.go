// Package instant is the executor of the engine's benchmarks: it
// succeeds every attempt the moment it is dispatched, and notes when, so
// that what is measured is the engine and its store alone.
package instant
