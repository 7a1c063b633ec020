package hub

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// hookDefaults are the context-only params the engine gives a hook's
// operation about the run that ended (triggers.HookParams).
func hookDefaults() map[string]specs.Param {
	ctx := func(v any) specs.Param { return specs.Param{Value: v, ContextOnly: true} }
	return map[string]specs.Param{
		"name":        ctx("train"),
		"uuid":        ctx("8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b"),
		"kind":        ctx("job"),
		"project":     ctx("speech"),
		"status":      ctx("failed"),
		"condition":   ctx(`exited with "1" <OOM> & it's over`),
		"inputs":      ctx(map[string]any{"lr": 0.1, "epochs": 3}),
		"outputs":     ctx(map[string]any{"loss": 0.25, "model": "s3://b/m"}),
		"duration":    ctx(12.346),
		"created_at":  ctx("2026-11-28T12:00:00Z"),
		"finished_at": ctx("2026-11-28T12:00:15Z"),
	}
}

// defaultFields are the args hookDefaults render to, in the components'
// order: each value as JSON.
var defaultFields = []string{
	`--field=name="train"`,
	`--field=uuid="8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b"`,
	`--field=kind="job"`,
	`--field=project="speech"`,
	`--field=status="failed"`,
	`--field=condition="exited with \"1\" \u003cOOM\u003e \u0026 it\u0027s over"`,
	`--field=duration=12.346`,
	`--field=created_at="2026-11-28T12:00:00Z"`,
	`--field=finished_at="2026-11-28T12:00:15Z"`,
	`--field=inputs={"epochs":3,"lr":0.1}`,
	`--field=outputs={"loss":0.25,"model":"s3://b/m"}`,
}

// noFields are the args without the defaults (disableDefaults): each
// field empty, which `plexus notify` leaves out.
var noFields = []string{
	"--field=name=", "--field=uuid=", "--field=kind=", "--field=project=", "--field=status=",
	"--field=condition=", "--field=duration=", "--field=created_at=", "--field=finished_at=",
	"--field=inputs=", "--field=outputs=",
}

// TestNotifiers compiles the built-in notifier components as a hook's
// operation, with and without the default params, and checks the command
// they run: the same as the compiler's stub hub ran.
func TestNotifiers(t *testing.T) {
	const url = "https://hooks.example/T0/B0/secret?token=s"
	with := func(params map[string]specs.Param, more map[string]specs.Param) map[string]specs.Param {
		for k, v := range more {
			params[k] = v
		}
		return params
	}
	cat := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	urlParam := map[string]specs.Param{"url": {Value: url}}
	cases := map[string]struct {
		hubRef  string
		params  map[string]specs.Param
		command []string
		args    []string
	}{
		"webhook": {
			hubRef:  "webhook",
			params:  with(hookDefaults(), urlParam),
			command: []string{"/usr/local/bin/plexus", "notify", "webhook"},
			args:    cat([]string{"--url=" + url, "--method=POST"}, defaultFields),
		},
		"webhook with a method": {
			hubRef:  "webhook",
			params:  with(hookDefaults(), map[string]specs.Param{"url": {Value: url}, "method": {Value: "PUT"}}),
			command: []string{"/usr/local/bin/plexus", "notify", "webhook"},
			args:    cat([]string{"--url=" + url, "--method=PUT"}, defaultFields),
		},
		"webhook without defaults": {
			hubRef:  "webhook",
			params:  urlParam,
			command: []string{"/usr/local/bin/plexus", "notify", "webhook"},
			args:    cat([]string{"--url=" + url, "--method=POST"}, noFields),
		},
		"slack": {
			hubRef:  "slack",
			params:  with(hookDefaults(), urlParam),
			command: []string{"/usr/local/bin/plexus", "notify", "slack"},
			args:    cat([]string{"--url=" + url}, defaultFields),
		},
		"slack without defaults": {
			hubRef:  "slack:latest",
			params:  urlParam,
			command: []string{"/usr/local/bin/plexus", "notify", "slack"},
			args:    cat([]string{"--url=" + url}, noFields),
		},
		// A param whose value is none is left out, like an absent one.
		"slack with a run that has not finished": {
			hubRef: "polyaxon/slack",
			params: with(hookDefaults(), map[string]specs.Param{
				"url":         {Value: url},
				"duration":    {Value: nil, ContextOnly: true},
				"finished_at": {Value: nil, ContextOnly: true},
				"outputs":     {Value: map[string]any{}, ContextOnly: true},
			}),
			command: []string{"/usr/local/bin/plexus", "notify", "slack"},
			args: cat([]string{"--url=" + url}, defaultFields[:6],
				[]string{"--field=duration=", defaultFields[7], "--field=finished_at=", defaultFields[9], "--field=outputs={}"}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := compileRef(t, Builtin(), tc.hubRef, tc.params)
			job, ok := c.Component.Run.(*specs.Job)
			if !ok {
				t.Fatalf("run is %T, want a job", c.Component.Run)
			}
			if job.Container.Image != compiler.DefaultInitImage {
				t.Errorf("image %q, want plexus's own %q", job.Container.Image, compiler.DefaultInitImage)
			}
			if diff := cmp.Diff(tc.command, job.Container.Command); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.args, job.Container.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNotifiersCheck: check accepts a notifier hub operation with its url
// and refuses one without.
func TestNotifiersCheck(t *testing.T) {
	for _, hubRef := range []string{"webhook", "slack"} {
		check := func(params string) []string {
			files, err := specs.Parse("op.yaml", []byte("version: 1.1\nkind: operation\nhubRef: "+hubRef+"\n"+params))
			if err != nil {
				t.Fatal(err)
			}
			errs, warnings := compiler.Check(context.Background(), files[0], "", nil, compiler.Sources{Hub: Builtin()})
			var out []string
			for _, e := range append(errs, warnings...) {
				out = append(out, string(e.Path))
			}
			return out
		}
		if got := check("params: {url: {value: 'https://hooks.example/x'}, status: {value: failed, contextOnly: true}}\n"); len(got) > 0 {
			t.Errorf("%s with a url: %v", hubRef, got)
		}
		if got := check(""); !cmp.Equal(got, []string{"params.url"}) {
			t.Errorf("%s without a url: got %v, want params.url", hubRef, got)
		}
	}
}
