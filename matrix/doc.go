// Package matrix decides the trials of a matrix operation (spec §5): the
// search spaces of its params and how to sample them, and one Search per
// kind (grid, random, mapping, hyperband, bayes, hyperopt) that, given
// what became of the trials so far, says which trials come next, plus the
// early-stopping policies that end a sweep.
//
// It is pure: no I/O, no clock, and every random choice comes from a
// generator seeded by the matrix's seed, so the same file, seed and
// results give the same trials. The engine rebuilds a Search from etcd
// after a leader change and asks it again: a Search's answer depends only
// on its configuration and the results it is given, never on how many
// times it was asked before.
package matrix
