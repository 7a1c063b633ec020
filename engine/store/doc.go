// Package store keeps Plexus's state in etcd (DESIGN §4): a record per run
// under `runs/`, the `active/` index of runs not yet final (what the leader
// reconciles), the `children/` index of each parent's runs, and the
// `created/` index of the runs no other run started, by creation time
// (created.go: what lists them newest first). Every
// update is optimistic (it writes only if the run did not change since it
// was read, else it reads again); a leader's writes are fenced (they also
// require its election key to be unchanged), so a deposed leader's late
// write never lands. StartEmbedded runs etcd in-process, the default when
// no endpoints are configured, sized to start under an address-space limit
// (a 256 MiB map; docs/limits.md) and failing with an error, not a panic,
// when it cannot start; Connect opens a client of an external etcd,
// with TLS and auth as etcdctl takes them, and checks it gets in.
package store
