package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs/compiler"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// serve runs an engine with the local executor behind the API.
func serve(t *testing.T, tokens map[string]string) (*httptest.Server, *store.Store) {
	t.Helper()
	srv, _, st := serveWith(t, &Server{Tokens: tokens})
	return srv, st
}

// serveWith runs an engine with the local executor behind s, as
// s.HTTPServer serves it (its timeouts included).
func serveWith(t *testing.T, s *Server) (*httptest.Server, *Server, *store.Store) {
	t.Helper()
	return serveConfig(t, s, engine.Config{})
}

// serveConfig is serveWith with an engine made from cfg (its policy,
// connections), the store and executor set.
func serveConfig(t *testing.T, s *Server, cfg engine.Config) (*httptest.Server, *Server, *store.Store) {
	t.Helper()
	cli := storetest.Client(t)
	ex, err := local.New(local.Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(cli, storetest.Prefix(t), nil)
	cfg.Store, cfg.Executor, cfg.Resync = st, ex, 200*time.Millisecond
	cfg.RunInfo = func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
		ri.ContextPath = ex.ContextPath(r.UUID)
		return ri
	}
	eng, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	s.Engine, s.Store, s.Executor = eng, st, ex
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = s.HTTPServer()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		_ = ex.Close()
	})
	return srv, s, st
}

const hello = `version: 1.1
kind: component
name: hello
inputs: [{name: who, type: str}]
run:
  container:
    image: alpine
    command: [sh, -c, 'echo "hello {{ who }}"; sleep 0.2; echo bye']
`

func waitStatus(t *testing.T, c *Client, uuid string, final bool) *store.Run {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		r, err := c.Get(t.Context(), uuid)
		if err != nil {
			t.Fatal(err)
		}
		if !final || r.Status.Final() {
			return r
		}
	}
	t.Fatalf("run %s did not finish", uuid)
	return nil
}

func TestSubmitGetListLogs(t *testing.T) {
	srv, _ := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"who": "api"}})
	if err != nil {
		t.Fatal(err)
	}
	logs, err := c.Logs(t.Context(), run.UUID, 0, true)
	for err != nil { // not dispatched yet
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != http.StatusNotFound {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		logs, err = c.Logs(t.Context(), run.UUID, 0, true)
	}
	data, _ := io.ReadAll(logs)
	logs.Close()
	if string(data) != "hello api\nbye\n" {
		t.Errorf("followed logs %q", data)
	}
	r := waitStatus(t, c, run.UUID, true)
	if r.Status != store.Succeeded {
		t.Fatalf("status %s", r.Status)
	}
	list, err := c.List(t.Context(), ListOptions{Status: "succeeded"})
	if err != nil || len(list.Runs) != 1 || list.Runs[0].UUID != run.UUID {
		t.Fatalf("list %+v, %v", list, err)
	}
	if list, _ := c.List(t.Context(), ListOptions{Status: "failed"}); len(list.Runs) != 0 {
		t.Errorf("filtered list %+v", list.Runs)
	}
	if _, err := c.Get(t.Context(), "nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("get unknown: %v", err)
	}
}

func TestBadSubmissionIs400WithEveryError(t *testing.T) {
	srv, st := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	_, err := c.Submit(t.Context(), SubmitRequest{Spec: "version: 1.1\nkind: component\nrun: {kind: jbo}\nruns: 1\n"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusBadRequest || len(ae.Body.Errors) != 2 {
		t.Fatalf("got %v", err)
	}
	_, err = c.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"whom": "x"}})
	if !errors.As(err, &ae) || ae.Code != http.StatusBadRequest || ae.Body.Stage != "params" {
		t.Fatalf("got %v", err)
	}
	if page, _ := st.List(t.Context(), "", 10, nil); len(page.Runs) != 0 {
		t.Errorf("stored %d runs", len(page.Runs))
	}
}

func TestTokens(t *testing.T) {
	srv, st := serve(t, map[string]string{"s3cret": "alice"})
	anon := &Client{BaseURL: srv.URL}
	_, err := anon.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"who": "x"}})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized {
		t.Fatalf("no token: %v", err)
	}
	if _, err := (&Client{BaseURL: srv.URL, Token: "wrong"}).List(t.Context(), ListOptions{}); !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized {
		t.Fatalf("bad token: %v", err)
	}
	if page, _ := st.List(t.Context(), "", 10, nil); len(page.Runs) != 0 {
		t.Fatal("an unauthenticated request stored a run")
	}
	alice := &Client{BaseURL: srv.URL, Token: "s3cret"}
	if _, err := alice.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"who": "x"}}); err != nil {
		t.Fatal(err)
	}
	// Health needs no token.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
}

func TestStopAndMetrics(t *testing.T) {
	srv, _ := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: "version: 1.1\nkind: component\nrun: {container: {image: a, command: [sh, -c, 'sleep 30 & wait']}}\n"})
	if err != nil {
		t.Fatal(err)
	}
	for r := waitStatus(t, c, run.UUID, false); r.Status != store.Running; r = waitStatus(t, c, run.UUID, false) {
		time.Sleep(50 * time.Millisecond)
	}
	resp, _ := http.Get(srv.URL + "/metrics")
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`plexus_active_runs{status="running"} 1`, "plexus_leader 1",
		`plexus_run_transitions_total{status="running"}`, "plexus_dispatch_latency_seconds_count 1", "plexus_reconcile_queue_depth"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	if _, err := c.Stop(t.Context(), run.UUID); err != nil {
		t.Fatal(err)
	}
	if r := waitStatus(t, c, run.UUID, true); r.Status != store.Stopped {
		t.Fatalf("status %s", r.Status)
	}
	var ae *APIError
	if _, err := c.Stop(t.Context(), run.UUID); !errors.As(err, &ae) || ae.Code != http.StatusConflict {
		t.Errorf("stopping again: %v", err)
	}
}

func TestApproveResumeRestart(t *testing.T) {
	srv, _ := serve(t, map[string]string{"tok": "alice"})
	c := &Client{BaseURL: srv.URL, Token: "tok"}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: "version: 1.1\nkind: component\nisApproved: false\nrun: {container: {image: a, command: [sh, -c, 'exit 1']}}\n"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if r, _ := c.Get(t.Context(), run.UUID); r.Status != store.Compiled {
		t.Fatalf("an unapproved run is %s", r.Status)
	}
	if r, err := c.Approve(t.Context(), run.UUID); err != nil || r.ApprovedBy != "alice" {
		t.Fatalf("approve: %+v, %v", r, err)
	}
	if r := waitStatus(t, c, run.UUID, true); r.Status != store.Failed {
		t.Fatalf("status %s", r.Status)
	}
	if r, err := c.Resume(t.Context(), run.UUID); err != nil || r.Attempt != 2 {
		t.Fatalf("resume: %+v, %v", r, err)
	}
	if r := waitStatus(t, c, run.UUID, true); r.Status != store.Failed || r.Attempt != 2 {
		t.Fatalf("after resume: %s attempt %d", r.Status, r.Attempt)
	}
	again, err := c.Restart(t.Context(), run.UUID)
	if err != nil || again.UUID == run.UUID || again.RestartOf != run.UUID {
		t.Fatalf("restart: %+v, %v", again, err)
	}
	var ae *APIError
	if _, err := c.Approve(t.Context(), "nope"); !errors.As(err, &ae) || ae.Code != 404 {
		t.Errorf("approve unknown: %v", err)
	}
}

// diamond is a dag whose last operation has several upstreams and fails,
// so that one operation is upstream_failed.
const diamond = `version: 1.1
kind: operation
name: diamond
component:
  run:
    kind: dag
    operations:
      - name: prepare
        component: {run: {kind: job, container: {image: a, command: [sh, -c, 'echo prepared']}}}
      - name: left
        dependencies: [prepare]
        component: {run: {kind: job, container: {image: a, command: [sh, -c, 'echo left']}}}
      - name: right
        dependencies: [prepare]
        component: {run: {kind: job, container: {image: a, command: [sh, -c, 'exit 3']}}}
      - name: join
        dependencies: [left, right, prepare]
        component: {run: {kind: job, container: {image: a, command: [sh, -c, 'echo joined']}}}
`

func TestGraphAndChildren(t *testing.T) {
	srv, _ := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	single, err := c.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"who": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: diamond})
	if err != nil {
		t.Fatal(err)
	}
	if r := waitStatus(t, c, run.UUID, true); r.Status != store.Failed {
		t.Fatalf("the dag is %s", r.Status)
	}
	waitStatus(t, c, single.UUID, true)

	g, err := c.Graph(t.Context(), run.UUID)
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		upstream []string
		status   store.Status
	}
	want := map[string]node{
		"prepare": {nil, store.Succeeded},
		"left":    {[]string{"prepare"}, store.Succeeded},
		"right":   {[]string{"prepare"}, store.Failed},
		"join":    {[]string{"left", "prepare", "right"}, store.UpstreamFailed},
	}
	if g.Run.UUID != run.UUID || len(g.Nodes) != len(want) {
		t.Fatalf("graph of %s with %d nodes", g.Run.UUID, len(g.Nodes))
	}
	if g.Nodes[0].Name != "prepare" || g.Nodes[3].Name != "join" {
		t.Errorf("not in topological order: %+v", g.Nodes)
	}
	runs := map[string]string{}
	for _, n := range g.Nodes {
		up := slices.Sorted(slices.Values(n.Upstream))
		if w := want[n.Name]; !slices.Equal(up, w.upstream) || n.Status != w.status || n.Run == "" {
			t.Errorf("node %s: upstream %v, status %s, run %q; want %v, %s", n.Name, up, n.Status, n.Run, w.upstream, w.status)
		}
		runs[n.Run] = n.Name
	}

	// The children, and only them, page by page.
	var listed []*store.Run
	for after := ""; ; {
		page, err := c.List(t.Context(), ListOptions{Parent: run.UUID, Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page.Runs...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(listed) != 4 {
		t.Fatalf("listed %d children", len(listed))
	}
	for i, r := range listed {
		if runs[r.UUID] != r.Node || r.Parent != run.UUID {
			t.Errorf("child %s (node %q, parent %s) is not in the graph", r.UUID, r.Node, r.Parent)
		}
		if i > 0 && listed[i-1].UUID >= r.UUID {
			t.Errorf("children not in uuid order: %s then %s", listed[i-1].UUID, r.UUID)
		}
	}
	// A follower's next look: nothing changed since the listing's revision;
	// a bad since is refused.
	first, err := c.List(t.Context(), ListOptions{Parent: run.UUID, Limit: 10})
	if err != nil || first.Revision == 0 {
		t.Fatalf("a listing's revision: %+v, %v", first, err)
	}
	if since, err := c.List(t.Context(), ListOptions{Parent: run.UUID, Since: first.Revision}); err != nil || len(since.Runs) != 0 || since.Revision < first.Revision {
		t.Errorf("children changed since %d: %+v, %v", first.Revision, since, err)
	}
	if all, err := c.List(t.Context(), ListOptions{Parent: run.UUID, Since: 1}); err != nil || len(all.Runs) != 4 {
		t.Errorf("children changed since revision 1: %+v, %v", all, err)
	}
	if _, err := c.List(t.Context(), ListOptions{Since: 5}); err == nil || !strings.Contains(err.Error(), "goes with parent") {
		t.Errorf("since without parent: %v", err)
	}
	failed, err := c.List(t.Context(), ListOptions{Parent: run.UUID, Status: "failed"})
	if err != nil || len(failed.Runs) != 1 || failed.Runs[0].Node != "right" || failed.Next != "" {
		t.Errorf("failed children: %+v, %v", failed, err)
	}
	if none, err := c.List(t.Context(), ListOptions{Parent: single.UUID}); err != nil || len(none.Runs) != 0 {
		t.Errorf("children of a single run: %+v, %v", none, err)
	}

	_, err = c.Graph(t.Context(), single.UUID)
	var ae *APIError
	if !errors.Is(err, engine.ErrNotPipeline) || !errors.As(err, &ae) || ae.Code != http.StatusBadRequest ||
		!strings.Contains(ae.Body.Error, "is not a dag") {
		t.Errorf("graph of a job: %v", err)
	}
	if _, err := c.Graph(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "404: no run nope") {
		t.Errorf("graph of an unknown run: %v", err)
	}
}

// A server whose limits are raised for large pipelines takes them.
func TestLargeSubmissions(t *testing.T) {
	srv, _, _ := serveWith(t, &Server{Limits: Limits{MaxBody: 8 << 20, InFlight: 8 << 20}})
	c := &Client{BaseURL: srv.URL}
	// Over the old cap of 4 MiB: a pipeline of many operations is.
	padding := "# " + strings.Repeat("a long comment to make the file large ", 5<<20/38) + "\n"
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: padding + hello, Params: map[string]any{"who": "large"}})
	if err != nil {
		t.Fatalf("a %d MiB submission: %v", len(padding)>>20, err)
	}
	if r := waitStatus(t, c, run.UUID, true); r.Status != store.Succeeded {
		t.Fatalf("status %s", r.Status)
	}
	_, err = c.Submit(t.Context(), SubmitRequest{Spec: strings.Repeat(padding, 4)})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusRequestEntityTooLarge || !strings.Contains(ae.Body.Error, "larger than the limit of 8MiB (plexus server --max-body)") {
		t.Fatalf("a 20 MiB submission: %v", err)
	}
}
