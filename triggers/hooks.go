package triggers

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/plexus-ml/plexus/specs"
)

// finalStatuses are the statuses a run ends with (§11 of the reference):
// the ones a hook can fire on.
var finalStatuses = []string{"succeeded", "failed", "stopped", "skipped", "upstream_failed"}

// HookFires says whether a hook with trigger fires for a run that ended
// with status. done fires on any final status, and so does an empty
// trigger: the reference (§6.5) fires a hook with no trigger on any final
// status. A status that is not final fires nothing.
func HookFires(trigger specs.HookTrigger, status string) bool {
	if !slices.Contains(finalStatuses, status) {
		return false
	}
	return trigger == "" || trigger == "done" || string(trigger) == status
}

// HookRun is what a hook is told of the run that ended.
type HookRun struct {
	Name, UUID, Kind, Project, Status string
	// Condition is the message of the run's last condition.
	Condition string
	// Inputs and Outputs are the run's resolved inputs and outputs.
	Inputs, Outputs map[string]any
	// The zero time means "never" (a run that never started).
	CreatedAt, StartedAt, FinishedAt time.Time
}

// HookParams are the params of a hook's operation: the hook's own, and,
// unless it sets disableDefaults, these context-only params about the run
// that ended: name, uuid, kind, project, status and condition (strings),
// inputs and outputs (objects, empty when the run has none), duration
// (seconds from start, or from creation when the run never started, to
// finish, rounded to the millisecond; nil when the run has not finished),
// created_at and finished_at (RFC 3339 in UTC, nil for the zero time). The
// hook's own params win over defaults of the same name.
func HookParams(h specs.Hook, r HookRun) map[string]specs.Param {
	params := make(map[string]specs.Param, len(h.Params)+11)
	if !h.DisableDefaults {
		for name, v := range map[string]any{
			"name":        r.Name,
			"uuid":        r.UUID,
			"kind":        r.Kind,
			"project":     r.Project,
			"status":      r.Status,
			"condition":   r.Condition,
			"inputs":      cloneObject(r.Inputs),
			"outputs":     cloneObject(r.Outputs),
			"duration":    hookDuration(r),
			"created_at":  rfc3339(r.CreatedAt),
			"finished_at": rfc3339(r.FinishedAt),
		} {
			params[name] = specs.Param{Value: v, ContextOnly: true}
		}
	}
	maps.Copy(params, h.Params)
	return params
}

// hookDuration is how long the run took, in seconds rounded to the
// millisecond, or nil when it is not known.
func hookDuration(r HookRun) any {
	start := r.StartedAt
	if start.IsZero() {
		start = r.CreatedAt
	}
	if start.IsZero() || r.FinishedAt.IsZero() {
		return nil
	}
	d := max(r.FinishedAt.Sub(start), 0)
	return math.Round(d.Seconds()*1000) / 1000
}

func rfc3339(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// cloneObject copies m, shallowly, so that the params do not share the
// run's map; nil gives an empty object.
func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}
