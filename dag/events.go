package dag

import (
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// Event decides an edge that an operation's `events` draw from an
// upstream (`ref: ops.x, kinds: [run_status_running]`): the operation may
// start as soon as the upstream has gone through one of the kinds' statuses
// (run_status_done: any final one), not when it ends. history is the
// statuses the upstream went through, oldest first. An upstream that ended
// without going through any can no longer meet it.
func Event(kinds []specs.EventKind, history []Status) Decision {
	for _, s := range history {
		for _, k := range kinds {
			want, ok := strings.CutPrefix(string(k), "run_status_")
			if !ok {
				continue // not a run status event: never met by a status
			}
			if Status(want) == s || want == "done" && s.Final() {
				return Ready
			}
		}
	}
	if len(history) > 0 && history[len(history)-1].Final() {
		return Unmet
	}
	return Wait
}
