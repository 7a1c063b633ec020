// Package hostile proves that hostile input never takes Plexus down
// (DESIGN §4, invariant 6), against a real `plexus server` process on the
// embedded default (etcd in-process, the local executor): each poison of
// testdata/hostile/poison is submitted through the API, and is either
// refused with a 4xx naming what is wrong, or accepted and its run ends,
// failed or succeeded, while the server stays up; the server is then
// restarted twice on the same data, and comes back answering, with every
// accepted run final.
//
// A poison is a Polyaxonfile whose header says what is expected of it
// (`# expect: refused`, `failed`, `succeeded` or `final`); NAME.params.json
// beside it holds params sent with it. PLEXUS_POISON=NAME,NAME runs only
// those. A poison that kills or hangs the server is reported by name,
// with whether a restart on its data comes back, and the next poisons run
// on fresh data. Such a poison costs a minute (the client's timeout) or
// more: give `go test` a -timeout to match.
package hostile
