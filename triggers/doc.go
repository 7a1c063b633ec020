// Package triggers decides when a scheduled operation fires. It is pure:
// it reads no store, starts no goroutine and never reads the clock; every
// function takes the time it needs, so the same inputs give the same
// answer.
//
// A Schedule is built once from a rendered specs.Schedule (NewSchedule).
// The engine keeps, per schedule run, a small State (when the schedule was
// created, the nominal time of the newest fire decided, how many children
// were created, whether one is still running) and asks Plan on every look
// at the schedule: Plan returns the nominal times to create children for
// now, the missed fires its catch-up policy drops, when to look again and
// whether the schedule is done. Decision.Advance gives the State to store
// with the children, in the same transaction. NextN lists the coming fires
// for display.
//
// The rules (first fire, endAt, maxRuns, dependsOnPast, catch-up, time
// zones and daylight saving time) are in docs/schedules.md.
//
// Hooks (hooks.go) run a hub component after a run ends: HookFires says
// whether a hook's trigger matches the run's final status, and HookParams
// gives the hook's operation its params, the hook's own and, unless it
// sets disableDefaults, context-only params describing the run (name,
// uuid, kind, project, status, condition, inputs, outputs, duration,
// created_at, finished_at), which the hub's notifier components pass to
// `plexus notify`.
//
// A Schedule is immutable and safe for concurrent use.
package triggers
