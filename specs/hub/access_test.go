package hub

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestCheckAccess: the public catalogue is for everyone, a private
// component for its owner, its owner's team and whom the policy grants
// its project.
func TestCheckAccess(t *testing.T) {
	policy := &compiler.Policy{Rules: []compiler.Rule{
		{Users: []string{"ana"}, Projects: []string{"speech", "acme/trainer"}},
		{Teams: []string{"vision"}, Projects: []string{"acme/*"}},
		{Users: []string{"root"}, Projects: []string{"*"}},
		{Users: []string{"*"}, Projects: []string{"shared/tools"}},
	}}
	cases := map[string]struct {
		policy *compiler.Policy
		caller compiler.Caller
		ref    string
		ok     bool
	}{
		"no policy":                            {nil, compiler.Caller{User: "bob"}, "acme/trainer", true},
		"the public catalogue":                 {policy, compiler.Caller{User: "bob"}, "tensorboard", true},
		"the public catalogue, with no rules":  {&compiler.Policy{}, compiler.Caller{}, "polyaxon/kaniko", true},
		"a private component, no grant":        {policy, compiler.Caller{User: "bob"}, "acme/trainer", false},
		"no rules":                             {&compiler.Policy{}, compiler.Caller{User: "bob"}, "acme/trainer", false},
		"its owner":                            {policy, compiler.Caller{User: "acme"}, "acme/trainer", true},
		"its owner's team":                     {policy, compiler.Caller{User: "bob", Teams: []string{"acme"}}, "acme/trainer:v2", true},
		"granted by name":                      {policy, compiler.Caller{User: "ana"}, "acme/trainer:v1", true},
		"granted another":                      {policy, compiler.Caller{User: "ana"}, "acme/deployer", false},
		"granted the owner's all, by team":     {policy, compiler.Caller{User: "bob", Teams: []string{"vision"}}, "acme.deployer", true},
		"granted everything":                   {policy, compiler.Caller{User: "root"}, "other/thing", true},
		"granted to any user":                  {policy, compiler.Caller{User: "bob"}, "shared/tools", true},
		"granted to any user, not anonymously": {policy, compiler.Caller{}, "shared/tools", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckAccess(tc.policy, tc.caller, ref(t, tc.ref))
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrForbidden) {
				t.Errorf("got %v, want allowed=%v", err, tc.ok)
			}
		})
	}
}

// TestFor: a hub seen by a caller refuses, before reading anything, what
// the policy does not grant, and compiles through the compiler like any
// hub.
func TestFor(t *testing.T) {
	src := &countingSource{Source: Dir(writeHub(t, map[string]string{"acme/echo/latest.yaml": echoJob("Say hello.")}))}
	h := New(src)
	policy := &compiler.Policy{Rules: []compiler.Rule{{Users: []string{"ana"}, Projects: []string{"default", "acme/echo"}}}}

	_, err := h.For(policy, compiler.Caller{User: "bob"}).Component(context.Background(), ref(t, "acme/echo"))
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "bob may not use the component acme/echo") {
		t.Errorf("bob: got %v", err)
	}
	_, err = h.For(policy, compiler.Caller{User: "bob"}).Component(context.Background(), ref(t, "acme/nothing"))
	if !errors.Is(err, ErrForbidden) {
		t.Errorf("bob, a component that does not exist: got %v, want the same refusal", err)
	}
	if n := src.reads.Load(); n != 0 {
		t.Errorf("read %d files for a refused caller", n)
	}
	c, _ := compileRef(t, h.For(policy, compiler.Caller{User: "ana"}), "acme/echo", nil)
	if c.Component.Description != "Say hello." {
		t.Errorf("ana got %q", c.Component.Description)
	}

	// Through the compiler, a refusal is an error at the hubRef.
	_, err = compileErr(h.For(policy, compiler.Caller{User: "bob"}), "acme/echo")
	if err == nil || !strings.Contains(err.Error(), "hubRef: cannot resolve hubRef: hub: access denied: bob may not use the component acme/echo") {
		t.Errorf("resolving for bob: got %v", err)
	}
}

// TestForResolve: compiler.Resolve reads the hub (a private directory
// before the built-in hub) through For when its sources carry a policy:
// a caller reads their own components, their team's, those a rule grants
// them and the public catalogue; any other is an error at its hubRef that
// wraps ErrForbidden.
func TestForResolve(t *testing.T) {
	h := New(Dir(writeHub(t, map[string]string{
		"acme/echo/latest.yaml":  echoJob("acme's echo"),
		"acme/echo/v2.yaml":      echoJob("acme's echo v2"),
		"beta/echo/latest.yaml":  echoJob("beta's echo"),
		"gamma/echo/latest.yaml": echoJob("gamma's echo"),
	})))
	policy := &compiler.Policy{Rules: []compiler.Rule{
		{Users: []string{"ana"}, Projects: []string{"beta/*"}},
		{Teams: []string{"ops"}, Projects: []string{"beta/echo"}},
	}}
	// resolve resolves spec for caller under p, and returns its document.
	resolve := func(t *testing.T, p *compiler.Policy, caller compiler.Caller, spec string) (*specs.File, *compiler.Resolution, error) {
		t.Helper()
		files, err := specs.Parse("op.yaml", []byte(spec))
		if err != nil {
			t.Fatal(err)
		}
		res, err := compiler.Resolve(context.Background(), files[0], "", compiler.Sources{Hub: h, Policy: p, Caller: caller})
		return files[0], res, err
	}
	cases := map[string]struct {
		policy *compiler.Policy
		caller compiler.Caller
		ref    string
		want   string // the component's description; "" for a refusal
	}{
		"the owner":                       {policy, compiler.Caller{User: "acme"}, "acme/echo:v2", "acme's echo v2"},
		"the owner's team":                {policy, compiler.Caller{User: "bob", Teams: []string{"acme"}}, "acme.echo", "acme's echo"},
		"another owner's":                 {policy, compiler.Caller{User: "acme"}, "beta/echo", ""},
		"no caller":                       {policy, compiler.Caller{}, "acme/echo", ""},
		"a rule granting owner/*":         {policy, compiler.Caller{User: "ana"}, "beta/echo", "beta's echo"},
		"a rule granting another owner's": {policy, compiler.Caller{User: "ana"}, "acme/echo", ""},
		"a rule granting it, by team":     {policy, compiler.Caller{User: "bob", Teams: []string{"ops"}}, "beta/echo:latest", "beta's echo"},
		"the public catalogue":            {policy, compiler.Caller{User: "bob"}, "tensorboard", "*"},
		"the public catalogue, no one":    {&compiler.Policy{}, compiler.Caller{}, "polyaxon/kaniko", "*"},
		"no policy":                       {nil, compiler.Caller{User: "bob"}, "beta/echo", "beta's echo"},
		"refused, though it is missing":   {policy, compiler.Caller{User: "bob"}, "beta/nothing", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, res, err := resolve(t, tc.policy, tc.caller, "version: 1.1\nkind: operation\nhubRef: "+tc.ref+"\n")
			if tc.want == "" {
				var ce *compiler.CompilationError
				if !errors.Is(err, ErrForbidden) || !errors.As(err, &ce) || len(ce.Errors) != 1 || ce.Errors[0].Path != "hubRef" {
					t.Fatalf("got %v, want a refusal at hubRef wrapping ErrForbidden", err)
				}
				if want := "may not use the component"; !strings.Contains(ce.Errors[0].Error(), want) {
					t.Errorf("got %q, want it to say %q", ce.Errors[0].Error(), want)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want it allowed", err)
			}
			if got := res.Of(f.Operation).Component.Description; tc.want != "*" && got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	// A dag's operations are checked one by one, each refusal at its path.
	dag := `version: 1.1
kind: component
name: pipeline
run:
  kind: dag
  operations:
    - {name: board, hubRef: tensorboard}
    - {name: mine, hubRef: acme/echo}
    - {name: granted, hubRef: beta.echo}
    - {name: theirs, hubRef: gamma/echo}
    - {name: missing, hubRef: gamma/nothing}
`
	ops := compiler.Caller{User: "acme", Teams: []string{"ops"}}
	_, _, err := resolve(t, policy, ops, dag)
	var ce *compiler.CompilationError
	if !errors.As(err, &ce) || !errors.Is(err, ErrForbidden) {
		t.Fatalf("the dag, for acme: got %v, want refusals", err)
	}
	var paths []string
	for _, fe := range ce.Errors {
		paths = append(paths, string(fe.Path))
	}
	if want := []string{"run.operations[3].hubRef", "run.operations[4].hubRef"}; !slices.Equal(paths, want) {
		t.Errorf("the dag, for acme: refused at %v, want %v", paths, want)
	}
	if want := "resolve: run.operations[3].hubRef: cannot resolve hubRef: hub: access denied: acme may not use the component gamma/echo (line 10)"; !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to say %q", err, want)
	}
	// In gamma's team, the missing component is reported as missing.
	ops.Teams = append(ops.Teams, "gamma")
	_, _, err = resolve(t, policy, ops, dag)
	if !errors.As(err, &ce) || len(ce.Errors) != 1 || ce.Errors[0].Path != "run.operations[4].hubRef" ||
		errors.Is(err, ErrForbidden) || !errors.Is(err, compiler.ErrComponentNotFound) {
		t.Errorf("the dag, for acme in gamma's team: got %v, want gamma/nothing not found", err)
	}
}
