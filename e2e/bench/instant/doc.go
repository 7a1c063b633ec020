// Package instant is the executor of the engine's benchmarks: it
// succeeds every attempt the moment it is dispatched (or, when asked,
// after a time that holds no CPU), and notes when, so that what is
// measured is the engine and its store alone.
package instant
