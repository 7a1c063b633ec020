package hub

import (
	"context"
	"errors"
	"strings"
	"testing"

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
