package compiler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// errRefused stands for a hub's refusal (the hub package's ErrForbidden).
var errRefused = errors.New("fake hub: access denied")

// guardedHub is a GuardedHub holding trainComponent under every ref: a
// caller may read the default owner's components and their own.
type guardedHub struct {
	plain int      // lookups through the hub itself
	views []Caller // the callers For was asked for
	seen  []string // the refs the views were asked for
}

func (h *guardedHub) Component(_ context.Context, ref HubRef) (*specs.Component, error) {
	h.plain++
	return h.read(ref)
}

func (h *guardedHub) read(ref HubRef) (*specs.Component, error) {
	if ref.Name == "missing" {
		return nil, fmt.Errorf("%w: %s", ErrComponentNotFound, ref)
	}
	files, err := specs.Parse("hub:"+ref.String(), []byte(trainComponent))
	if err != nil {
		return nil, err
	}
	return files[0].Component, nil
}

func (h *guardedHub) For(p *Policy, c Caller) Hub {
	h.views = append(h.views, c)
	return guardedView{h: h, policy: p, caller: c}
}

type guardedView struct {
	h      *guardedHub
	policy *Policy
	caller Caller
}

func (v guardedView) Component(_ context.Context, ref HubRef) (*specs.Component, error) {
	v.h.seen = append(v.h.seen, ref.String())
	if v.policy == nil {
		return nil, errors.New("For was given no policy")
	}
	if ref.Owner != DefaultHubOwner && ref.Owner != v.caller.User {
		return nil, fmt.Errorf("%w: %s may not use %s/%s", errRefused, v.caller.User, ref.Owner, ref.Name)
	}
	return v.h.read(ref)
}

// plainHub is a hub that cannot check who reads it.
type plainHub struct{ h *guardedHub }

func (p plainHub) Component(ctx context.Context, ref HubRef) (*specs.Component, error) {
	return p.h.Component(ctx, ref)
}

// dagWithHubRefs is a dag whose second and third operations are acme's.
const dagWithHubRefs = `version: 1.1
kind: component
name: pipeline
run:
  kind: dag
  operations:
    - {name: public, hubRef: "train", params: {lr: {value: 0.1}}}
    - {name: private, hubRef: "acme/train:v2", params: {lr: {value: 0.1}}}
    - {name: dotted, hubRef: "acme.train", params: {lr: {value: 0.1}}}
`

// TestResolveGuarded: with a policy, every hubRef (the file's own and a
// dag's operations', in the file or in a file a pathRef reaches) is read
// through the hub's view for the caller; a refusal is an error at the
// hubRef's path that wraps what the hub said.
func TestResolveGuarded(t *testing.T) {
	policy := &Policy{}
	dir := writeFiles(t, map[string]string{
		"op.yaml":   "version: 1.1\nkind: operation\nhubRef: acme/train\nparams: {lr: {value: 0.1}}\n",
		"dag.yaml":  dagWithHubRefs,
		"wrap.yaml": "version: 1.1\nkind: operation\npathRef: dag.yaml\n",
		"inline.yaml": "version: 1.1\nkind: operation\ncomponent:\n  name: inline\n  run:\n    kind: dag\n    operations:\n" +
			"      - {name: a, hubRef: acme/train, params: {lr: {value: 0.1}}}\n",
	})
	cases := map[string]struct {
		file   string
		caller Caller
		paths  []string // the refused hubRefs, as source:path
		seen   []string
	}{
		"the file's own hubRef": {"op.yaml", Caller{User: "bob"}, []string{"op.yaml:hubRef"}, []string{"acme/train:latest"}},
		"a dag's operations": {"dag.yaml", Caller{User: "bob"}, []string{"dag.yaml:run.operations[1].hubRef", "dag.yaml:run.operations[2].hubRef"},
			[]string{"polyaxon/train:latest", "acme/train:v2", "acme/train:latest"}},
		"a dag a pathRef reaches": {"wrap.yaml", Caller{User: "bob"}, []string{"dag.yaml:run.operations[1].hubRef", "dag.yaml:run.operations[2].hubRef"},
			[]string{"polyaxon/train:latest", "acme/train:v2", "acme/train:latest"}},
		"an inline dag": {"inline.yaml", Caller{User: "bob"}, []string{"inline.yaml:component.run.operations[0].hubRef"}, []string{"acme/train:latest"}},
		"the owner":     {"dag.yaml", Caller{User: "acme", Teams: []string{"ml"}, Project: "p"}, nil, []string{"polyaxon/train:latest", "acme/train:v2", "acme/train:latest"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := &guardedHub{}
			f := parseOne(t, filepath.Join(dir, tc.file))
			res, err := Resolve(context.Background(), f, dir, Sources{Hub: h, Policy: policy, Caller: tc.caller})
			if len(h.views) != 1 || !slices.Equal(h.views[0].Teams, tc.caller.Teams) || h.views[0].User != tc.caller.User || h.views[0].Project != tc.caller.Project {
				t.Errorf("For was asked for %+v, want once for %+v", h.views, tc.caller)
			}
			if h.plain != 0 {
				t.Errorf("%d lookups went around the caller's view", h.plain)
			}
			if !slices.Equal(h.seen, tc.seen) {
				t.Errorf("looked up %v, want %v", h.seen, tc.seen)
			}
			var got []string
			for _, p := range errorPaths(t, err) {
				got = append(got, strings.TrimPrefix(p, dir+string(filepath.Separator)))
			}
			if !slices.Equal(got, tc.paths) {
				t.Fatalf("errors at %v, want %v: %v", got, tc.paths, err)
			}
			if tc.paths == nil {
				if n := len(res.Operations()); n != len(tc.seen) {
					t.Errorf("resolved %d operations, want %d", n, len(tc.seen))
				}
				return
			}
			if !errors.Is(err, errRefused) {
				t.Errorf("the error does not wrap the hub's refusal: %v", err)
			}
			msg := "cannot resolve hubRef: fake hub: access denied: bob may not use acme/train"
			for _, fe := range errorList(err) {
				if !strings.Contains(fe.Error(), string(fe.Path)+": "+msg) {
					t.Errorf("got %q, want the path and %q", fe.Error(), msg)
				}
			}
			if !strings.HasPrefix(err.Error(), "resolve: ") {
				t.Errorf("got %q, want the resolve stage's error", err)
			}
		})
	}
}

// TestResolveUnguarded: with no policy, or a hub that cannot check its
// callers, components are looked up as they are; a hub's error is wrapped
// either way.
func TestResolveUnguarded(t *testing.T) {
	dir := writeFiles(t, map[string]string{"dag.yaml": dagWithHubRefs})
	f := parseOne(t, filepath.Join(dir, "dag.yaml"))
	for name, src := range map[string]func(*guardedHub) Sources{
		"no policy": func(h *guardedHub) Sources { return Sources{Hub: h, Caller: Caller{User: "bob"}} },
		"an unguarded hub": func(h *guardedHub) Sources {
			return Sources{Hub: plainHub{h}, Policy: &Policy{}, Caller: Caller{User: "bob"}}
		},
		"no policy, no one": func(h *guardedHub) Sources { return Sources{Hub: h} },
	} {
		t.Run(name, func(t *testing.T) {
			h := &guardedHub{}
			res, err := Resolve(context.Background(), f, dir, src(h))
			if err != nil {
				t.Fatal(err)
			}
			if len(h.views) != 0 || h.plain != 3 || len(res.Operations()) != 3 {
				t.Errorf("views %v, %d plain lookups, %d operations: want none, 3, 3", h.views, h.plain, len(res.Operations()))
			}
		})
	}

	missing := parseOne(t, filepath.Join(writeFiles(t, map[string]string{"op.yaml": "version: 1.1\nkind: operation\nhubRef: acme/missing\n"}), "op.yaml"))
	_, err := Resolve(context.Background(), missing, "", Sources{Hub: &guardedHub{}})
	if paths := errorPaths(t, err); len(paths) != 1 || !strings.HasSuffix(paths[0], ":hubRef") || !errors.Is(err, ErrComponentNotFound) {
		t.Errorf("a component not found: got %v at %v, want it at hubRef, wrapping ErrComponentNotFound", err, paths)
	}
	var ce *CompilationError
	if !errors.As(err, &ce) || ce.Stage != StageResolve {
		t.Errorf("got %T, want it to read as a *CompilationError", err)
	}
}
