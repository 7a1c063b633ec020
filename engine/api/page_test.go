package api

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

// pageFiles stands for the built page.
var pageFiles = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>Plexus</title><script src=/app.js></script>")},
	"app.js":     {Data: []byte("console.log('plexus')")},
	"app.css":    {Data: []byte("body{margin:0}")},
}

// TestPageServedWithoutTokenDataNot: the page's files come to anyone,
// with their type, a revalidating ETag and a policy keeping the page to
// its own scripts; the API behind it still takes a token; a path that is
// neither a file of the page nor a route is a 404, under /api too.
func TestPageServedWithoutTokenDataNot(t *testing.T) {
	s := &Server{UI: pageFiles}
	s.SetTokens(NewTokenSet(map[string]Identity{"tok-read": {User: "rita", Role: RoleRead, Projects: []string{"vision"}}}))
	srv, _, _ := serveWith(t, s)

	for path, ctype := range map[string]string{"/": "text/html", "/app.js": "javascript", "/app.css": "text/css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), ctype) || etag == "" ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: %d %q etag %q csp %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), etag, resp.Header.Get("Content-Security-Policy"))
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s again with its ETag: %d, want 304", path, resp.StatusCode)
		}
	}
	// Gzipped for a client that takes it, the same file once unzipped.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/app.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req) // not unzipped for us
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(resp.Body)
	var js []byte
	if err == nil {
		js, err = io.ReadAll(zr)
	}
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" || string(js) != string(pageFiles["app.js"].Data) ||
		!strings.HasSuffix(resp.Header.Get("ETag"), `-gz"`) || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("app.js gzipped: %v, encoding %q, etag %q, %q", err, resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"), js)
	}
	for _, path := range []string{"/index.html/x", "/nope.js", "/api/v1/nope", "/api/v2/runs", "/runs"} {
		if code, body := call(t, srv.URL, "tok-read", http.MethodGet, path, ""); code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", path, code, body)
		}
	}
	if code, body := call(t, srv.URL, "", http.MethodGet, "/api/v1/runs", ""); code != http.StatusUnauthorized {
		t.Errorf("the runs without a token: %d %s", code, body)
	}
	if code, body := call(t, srv.URL, "", http.MethodGet, "/api/v1/whoami", ""); code != http.StatusUnauthorized {
		t.Errorf("whoami without a token: %d %s", code, body)
	}
	if code, body := call(t, srv.URL, "bad", http.MethodGet, "/api/v1/whoami", ""); code != http.StatusUnauthorized || !strings.Contains(body, "a valid bearer token is required") {
		t.Errorf("whoami with a bad token: %d %s", code, body)
	}
	code, body := call(t, srv.URL, "tok-read", http.MethodGet, "/api/v1/whoami", "")
	var who Whoami
	if err := json.Unmarshal([]byte(body), &who); err != nil || code != http.StatusOK || who.User != "rita" || who.Role != RoleRead ||
		fmt.Sprint(who.Projects) != "[vision]" || who.Open {
		t.Errorf("whoami: %d %s", code, body)
	}

	// No UI: no page, the API as before.
	bare, _ := serve(t, nil)
	if code, _ := call(t, bare.URL, "", http.MethodGet, "/", ""); code != http.StatusNotFound {
		t.Errorf("GET / without a page: %d", code)
	}
	code, body = call(t, bare.URL, "", http.MethodGet, "/api/v1/whoami", "")
	if code != http.StatusOK || !strings.Contains(body, `"open":true`) || !strings.Contains(body, `"role":"admin"`) {
		t.Errorf("whoami of an open API: %d %s", code, body)
	}
}

// TestListNewestFirst: order=newest lists the submitted runs, not their
// children, newest first and page by page; it does not go with parent.
func TestListNewestFirst(t *testing.T) {
	srv, _ := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	var want []string
	for i := range 5 {
		sub := SubmitRequest{Spec: hello, Params: map[string]any{"who": "x"}}
		if i == 2 {
			sub = SubmitRequest{Spec: diamond}
		}
		r, err := c.Submit(t.Context(), sub)
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{r.UUID}, want...)
	}
	waitStatus(t, c, want[2], true) // the dag: its children exist
	var got []string
	for after := ""; ; {
		page, err := c.List(t.Context(), ListOptions{Order: OrderNewest, Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Runs {
			got = append(got, r.UUID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("newest first:\n got %v\nwant %v", got, want)
	}
	for q, msg := range map[string]string{
		"order=newest&parent=" + want[2]: "does not go with parent",
		"order=oldest":                   "order is uuid or newest",
	} {
		if code, body := call(t, srv.URL, "", http.MethodGet, "/api/v1/runs?"+q, ""); code != http.StatusBadRequest || !strings.Contains(body, msg) {
			t.Errorf("?%s: %d %s", q, code, body)
		}
	}
}

// TestGraphSummary: ?max counts a graph's nodes by status, and a graph
// larger than max comes as its counts and the nodes that matter first.
func TestGraphSummary(t *testing.T) {
	srv, _ := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: diamond})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, run.UUID, true)
	get := func(q string) (int, engine.Graph) {
		code, body := call(t, srv.URL, "", http.MethodGet, "/api/v1/runs/"+run.UUID+"/graph"+q, "")
		var g engine.Graph
		if code == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &g); err != nil {
				t.Fatal(err)
			}
		}
		return code, g
	}
	code, whole := get("?max=4")
	if code != http.StatusOK || whole.Truncated || len(whole.Nodes) != 4 || whole.Summary == nil || whole.Summary.Total != 4 ||
		fmt.Sprint(whole.Summary.Counts) != "map[failed:1 succeeded:2 upstream_failed:1]" {
		t.Errorf("?max=4: %d truncated %v, %d nodes, summary %+v", code, whole.Truncated, len(whole.Nodes), whole.Summary)
	}
	code, cut := get("?max=3")
	if code != http.StatusOK || !cut.Truncated || cut.Summary.Total != 4 || len(cut.Nodes) != 4 ||
		cut.Nodes[0].Status != store.Failed || cut.Nodes[1].Status != store.UpstreamFailed || cut.Nodes[2].Name != "prepare" {
		t.Errorf("?max=3: %d truncated %v, nodes %+v", code, cut.Truncated, cut.Nodes)
	}
	if _, plain := get(""); plain.Summary != nil || len(plain.Nodes) != 4 {
		t.Errorf("no max: summary %+v, %d nodes", plain.Summary, len(plain.Nodes))
	}
	if code, _ := get("?max=x"); code != http.StatusBadRequest {
		t.Errorf("?max=x: %d", code)
	}
}

// TestSummarizeKeepsWhatMatters: a graph over the limit keeps
// SummaryNodes nodes, failed ones first, then running ones, then the rest
// in order, and counts nodes with no run as waiting.
func TestSummarizeKeepsWhatMatters(t *testing.T) {
	g := &engine.Graph{}
	for i := range 1000 {
		n := engine.GraphNode{Name: fmt.Sprint(i)}
		switch {
		case i%100 == 99:
			n.Status = store.Failed
		case i%50 == 7:
			n.Status = store.Running
		case i < 500:
			n.Status = store.Succeeded
		}
		g.Nodes = append(g.Nodes, n)
	}
	engine.Summarize(g, 999)
	if !g.Truncated || len(g.Nodes) != engine.SummaryNodes {
		t.Fatalf("truncated %v with %d nodes", g.Truncated, len(g.Nodes))
	}
	if g.Nodes[0].Name != "99" || g.Nodes[9].Name != "999" || g.Nodes[10].Name != "7" || g.Nodes[29].Name != "957" || g.Nodes[30].Name != "0" {
		t.Errorf("order: %v %v %v %v %v", g.Nodes[0].Name, g.Nodes[9].Name, g.Nodes[10].Name, g.Nodes[29].Name, g.Nodes[30].Name)
	}
	if c := g.Summary.Counts; g.Summary.Total != 1000 || c["failed"] != 10 || c["running"] != 20 || c[engine.Waiting] != 485 || c["succeeded"] != 485 {
		t.Errorf("summary %+v", g.Summary)
	}
}
