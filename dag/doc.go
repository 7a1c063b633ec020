// Package dag holds the pure logic of pipelines: the graph of a dag's
// operations (Build), when an operation may start given its trigger rule,
// its events edges and its upstreams' statuses (Decide, Event: the
// reference scheduler's rules, spec §6.2–6.3), the state of one run of a
// dag as its operations end (State), conditions (Condition) and the dag's
// own final status (Final). It reads no store and runs nothing; the
// engine asks it.
package dag
