package engine_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

// privateEcho is acme's component in the private hub.
const privateEcho = `version: 1.1
kind: component
name: echo
run:
  kind: job
  container: {image: alpine:3.20, command: [echo, hello]}
`

// callersHub is a private hub that remembers whom it was asked to check.
type callersHub struct {
	*hub.Hub
	mu      sync.Mutex
	callers []compiler.Caller
}

func (h *callersHub) For(p *compiler.Policy, c compiler.Caller) compiler.Hub {
	h.mu.Lock()
	h.callers = append(h.callers, c)
	h.mu.Unlock()
	return h.Hub.For(p, c)
}

func (h *callersHub) last() compiler.Caller {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.callers) == 0 {
		return compiler.Caller{}
	}
	return h.callers[len(h.callers)-1]
}

// policyEngine is an engine (not running: submissions only) on a fresh
// prefix whose hub holds acme/echo before the built-in hub.
func policyEngine(t *testing.T, policy *compiler.Policy) (*engine.Engine, *store.Store, *callersHub) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "acme", "echo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme", "echo", "latest.yaml"), []byte(privateEcho), 0o644); err != nil {
		t.Fatal(err)
	}
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	h := &callersHub{Hub: hub.New(hub.Dir(dir))}
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	e, err := engine.New(engine.Config{Store: st, Executor: ex, Sources: compiler.Sources{Hub: h}, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	return e, st, h
}

func storedRuns(t *testing.T, st *store.Store) int {
	t.Helper()
	page, err := st.List(context.Background(), "", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Runs)
}

// TestSubmitRefusesHubComponent: under a policy, a submission whose
// hubRef (its own, or a dag operation's) names a private component its
// caller may not use fails at the resolve stage, at the hubRef, wrapping
// hub.ErrForbidden, and stores nothing.
func TestSubmitRefusesHubComponent(t *testing.T) {
	e, st, h := policyEngine(t, &compiler.Policy{Rules: []compiler.Rule{{Users: []string{"ana"}, Projects: []string{"acme/*"}}}})
	dag := `version: 1.1
kind: operation
component:
  name: pipeline
  run:
    kind: dag
    operations:
      - {name: board, hubRef: tensorboard}
      - {name: echo, hubRef: acme/echo}
`
	cases := map[string]struct {
		spec, project string
		caller        compiler.Caller
		path          specs.Path
		want          compiler.Caller // as the hub was asked to check
	}{
		"the operation's hubRef": {"version: 1.1\nkind: operation\nhubRef: acme/echo\n", "", compiler.Caller{User: "bob"}, "hubRef",
			compiler.Caller{User: "bob", Project: compiler.DefaultProject}},
		"a dag operation's hubRef": {dag, "vision", compiler.Caller{User: "bob", Teams: []string{"vision"}}, "component.run.operations[1].hubRef",
			compiler.Caller{User: "bob", Teams: []string{"vision"}, Project: "vision"}},
		"no caller": {"version: 1.1\nkind: operation\nhubRef: acme.echo\n", "", compiler.Caller{Project: "mine"}, "hubRef",
			compiler.Caller{Project: "mine"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.Submit(t.Context(), engine.Submission{Source: "op.yaml", Spec: tc.spec, Project: tc.project, Caller: tc.caller})
			var ce *compiler.CompilationError
			if !errors.As(err, &ce) || ce.Stage != compiler.StageResolve || len(ce.Errors) != 1 || ce.Errors[0].Path != tc.path {
				t.Fatalf("got %v, want one resolve error at %s", err, tc.path)
			}
			if !errors.Is(err, hub.ErrForbidden) || !strings.Contains(err.Error(), "may not use the component acme/echo") {
				t.Errorf("got %v, want it to wrap hub.ErrForbidden", err)
			}
			if got := h.last(); got.User != tc.want.User || got.Project != tc.want.Project || !slices.Equal(got.Teams, tc.want.Teams) {
				t.Errorf("the hub checked %+v, want %+v", got, tc.want)
			}
			if n := storedRuns(t, st); n != 0 {
				t.Errorf("stored %d runs", n)
			}
		})
	}
}

// TestSubmitHubWithoutPolicy: with no policy, the hub is read as it is.
func TestSubmitHubWithoutPolicy(t *testing.T) {
	e, st, h := policyEngine(t, nil)
	run, err := e.Submit(t.Context(), engine.Submission{Source: "op.yaml", Spec: "version: 1.1\nkind: operation\nhubRef: acme/echo\n", Caller: compiler.Caller{User: "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Name != "echo" || storedRuns(t, st) != 1 || len(h.callers) != 0 {
		t.Errorf("got %q, %d runs stored, the hub asked to check %v: want echo, 1, none", run.Name, storedRuns(t, st), h.callers)
	}
}

// TestAPISubmitCaller: the API submits as the user its token names, so a
// submission naming a component that user may not use is answered 400 at
// the hubRef.
func TestAPISubmitCaller(t *testing.T) {
	e, st, h := policyEngine(t, &compiler.Policy{})
	srv := httptest.NewServer((&api.Server{Engine: e, Store: st, Tokens: map[string]string{"t-bob": "bob"}}).HTTPServer().Handler)
	t.Cleanup(srv.Close)
	c := &api.Client{BaseURL: srv.URL, Token: "t-bob"}
	_, err := c.Submit(t.Context(), api.SubmitRequest{Spec: "version: 1.1\nkind: operation\nhubRef: acme/echo\n", Project: "speech"})
	if err == nil || !strings.Contains(err.Error(), "hubRef: cannot resolve hubRef: hub: access denied: bob may not use the component acme/echo") {
		t.Errorf("got %v, want bob refused acme/echo at the hubRef", err)
	}
	if got := h.last(); got.User != "bob" || got.Project != "speech" {
		t.Errorf("the hub checked %+v, want bob in speech", got)
	}
	if n := storedRuns(t, st); n != 0 {
		t.Errorf("stored %d runs", n)
	}
}
