// Package dag holds the pure logic of pipelines: when an operation of a
// dag may start, given its trigger rule and its upstreams' statuses (the
// reference scheduler's rules, spec §6.3). It reads no store and runs
// nothing; the engine asks it.
package dag
