package triggers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

func TestHookFires(t *testing.T) {
	final := []string{"succeeded", "failed", "stopped", "skipped", "upstream_failed"}
	notFinal := []string{"", "created", "queued", "running", "stopping", "retrying", "warning", "unknown", "done"}
	cases := map[string]struct {
		trigger specs.HookTrigger
		fires   []string // of final and notFinal, the statuses it fires on
	}{
		"unset fires on any final status": {"", final},
		"done fires on any final status":  {"done", final},
		"succeeded":                       {"succeeded", []string{"succeeded"}},
		"failed":                          {"failed", []string{"failed"}},
		"stopped":                         {"stopped", []string{"stopped"}},
		"skipped":                         {"skipped", []string{"skipped"}},
		"upstream_failed":                 {"upstream_failed", []string{"upstream_failed"}},
		"a trigger the specs refuse":      {"running", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, status := range append(append([]string(nil), final...), notFinal...) {
				if HookFires(tc.trigger, status) {
					got = append(got, status)
				}
			}
			if diff := cmp.Diff(tc.fires, got); diff != "" {
				t.Errorf("statuses it fires on (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHookFiresEveryTrigger: each trigger the specs accept fires on at
// least one final status.
func TestHookFiresEveryTrigger(t *testing.T) {
	for _, trigger := range specs.HookTriggers {
		fires := false
		for _, status := range finalStatuses {
			fires = fires || HookFires(trigger, status)
		}
		if !fires {
			t.Errorf("trigger %q fires on no final status", trigger)
		}
	}
}

func TestHookParams(t *testing.T) {
	created := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	started := created.Add(3 * time.Second)
	finished := started.Add(12*time.Second + 345678*time.Microsecond)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	run := HookRun{
		Name: "train", UUID: "8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b", Kind: "job", Project: "speech",
		Status: "failed", Condition: "the container exited with 1",
		Inputs: map[string]any{"lr": 0.1}, Outputs: map[string]any{"loss": 0.25},
		CreatedAt: created, StartedAt: started, FinishedAt: finished,
	}
	ctx := func(v any) specs.Param { return specs.Param{Value: v, ContextOnly: true} }
	defaults := func(duration any) map[string]specs.Param {
		return map[string]specs.Param{
			"name":        ctx("train"),
			"uuid":        ctx("8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b"),
			"kind":        ctx("job"),
			"project":     ctx("speech"),
			"status":      ctx("failed"),
			"condition":   ctx("the container exited with 1"),
			"inputs":      ctx(map[string]any{"lr": 0.1}),
			"outputs":     ctx(map[string]any{"loss": 0.25}),
			"duration":    ctx(duration),
			"created_at":  ctx("2026-11-28T12:00:00Z"),
			"finished_at": ctx("2026-11-28T12:00:15Z"),
		}
	}
	with := func(m map[string]specs.Param, name string, p specs.Param) map[string]specs.Param {
		m[name] = p
		return m
	}
	url := specs.Param{Value: "https://hooks.example/x"}
	cases := map[string]struct {
		hook specs.Hook
		run  func(HookRun) HookRun
		want map[string]specs.Param
	}{
		"defaults": {
			want: defaults(12.346),
		},
		"the hook's params with the defaults": {
			hook: specs.Hook{Params: map[string]specs.Param{"url": url}},
			want: with(defaults(12.346), "url", url),
		},
		"the hook's params win": {
			hook: specs.Hook{Params: map[string]specs.Param{"status": {Value: "custom"}, "name": {Value: "n", ContextOnly: true}}},
			want: with(with(defaults(12.346), "status", specs.Param{Value: "custom"}), "name", specs.Param{Value: "n", ContextOnly: true}),
		},
		"disableDefaults: only the hook's params": {
			hook: specs.Hook{DisableDefaults: true, Params: map[string]specs.Param{"url": url}},
			want: map[string]specs.Param{"url": url},
		},
		"disableDefaults and no params": {
			hook: specs.Hook{DisableDefaults: true},
			want: map[string]specs.Param{},
		},
		"never started: the duration counts from creation": {
			run:  func(r HookRun) HookRun { r.StartedAt = time.Time{}; return r },
			want: defaults(15.346),
		},
		"not finished: no duration nor finish time": {
			run:  func(r HookRun) HookRun { r.FinishedAt = time.Time{}; return r },
			want: with(defaults(nil), "finished_at", ctx(nil)),
		},
		"times in another zone are shown in UTC": {
			run: func(r HookRun) HookRun {
				r.CreatedAt, r.StartedAt, r.FinishedAt = created.In(paris), started.In(paris), finished.In(paris)
				return r
			},
			want: defaults(12.346),
		},
		"no inputs nor outputs: empty objects": {
			run:  func(r HookRun) HookRun { r.Inputs, r.Outputs = nil, nil; return r },
			want: with(with(defaults(12.346), "inputs", ctx(map[string]any{})), "outputs", ctx(map[string]any{})),
		},
		"a finish before the start counts as no time": {
			run:  func(r HookRun) HookRun { r.FinishedAt = started.Add(-time.Second); return r },
			want: with(defaults(0.0), "finished_at", ctx("2026-11-28T12:00:02Z")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := run
			if tc.run != nil {
				r = tc.run(r)
			}
			got := HookParams(tc.hook, r)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHookParamsCopies: the params share no map with the run or the hook.
func TestHookParamsCopies(t *testing.T) {
	r := HookRun{Outputs: map[string]any{"loss": 1}}
	h := specs.Hook{Params: map[string]specs.Param{"url": {Value: "u"}}}
	got := HookParams(h, r)
	got["outputs"].Value.(map[string]any)["loss"] = 2
	delete(got, "url")
	if r.Outputs["loss"] != 1 || len(h.Params) != 1 {
		t.Errorf("HookParams shares maps: run outputs %v, hook params %v", r.Outputs, h.Params)
	}
}

// TestHookParamsReachTheNotifiers compiles the built-in hub's notifier
// components as a hook's operation with HookParams: every default param
// reaches the notifier as a non-empty --field, and none does with
// disableDefaults.
func TestHookParamsReachTheNotifiers(t *testing.T) {
	created := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	run := HookRun{
		Name: "train", UUID: "8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b", Kind: "job", Project: "speech", Status: "succeeded",
		Outputs: map[string]any{"loss": 0.25}, CreatedAt: created, StartedAt: created, FinishedAt: created.Add(time.Minute),
	}
	for _, hubRef := range []string{"webhook", "slack"} {
		for _, disable := range []bool{false, true} {
			hook := specs.Hook{HubRef: hubRef, DisableDefaults: disable, Params: map[string]specs.Param{"url": {Value: "https://hooks.example/x"}}}
			files, err := specs.Parse("hook.yaml", []byte("version: 1.1\nkind: operation\nhubRef: "+hubRef+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			op := files[0].Operation
			op.Params = HookParams(hook, run)
			res, err := compiler.Resolve(context.Background(), files[0], "", compiler.Sources{Hub: hub.Builtin()})
			if err != nil {
				t.Fatal(err)
			}
			c, err := compiler.Compile(op, res.Of(op).Component, compiler.Options{})
			if err != nil {
				t.Fatalf("%s, disableDefaults %v: %v", hubRef, disable, err)
			}
			given := map[string]bool{}
			for _, arg := range c.Component.Run.(*specs.Job).Container.Args {
				if f, ok := strings.CutPrefix(arg, "--field="); ok {
					name, value, _ := strings.Cut(f, "=")
					given[name] = value != ""
				}
			}
			for _, name := range []string{"name", "uuid", "kind", "project", "status", "condition", "inputs", "outputs", "duration", "created_at", "finished_at"} {
				if have, ok := given[name]; !ok || have == disable {
					t.Errorf("%s, disableDefaults %v: --field=%s= given %v, passed %v", hubRef, disable, name, ok, have)
				}
			}
		}
	}
}
