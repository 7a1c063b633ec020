package dag

import "github.com/plexus-ml/plexus/specs"

// Event decides an edge that an operation's `events` draw from an
// upstream (`ref: ops.x, kinds: [run_status_running]`): the operation may
// start as soon as the upstream has gone through one of the kinds' statuses
// (run_status_done: any final one), not when it ends. history is the
// statuses the upstream went through, oldest first. An upstream that ended
// without going through any can no longer meet it.
func Event(kinds []specs.EventKind, history []Status) Decision {
	var reached uint32
	for _, s := range history {
		reached |= statusBit(s)
	}
	return eventMask(kinds, reached, len(history) > 0 && history[len(history)-1].Final())
}
