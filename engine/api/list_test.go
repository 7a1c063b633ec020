package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/local"
)

// TestListReportsUnreadable: a record that cannot be decoded fails no
// listing: GET /api/v1/runs (all, or a parent's children, or what changed
// since) answers 200 with the other runs, and names it in `unreadable`.
func TestListReportsUnreadable(t *testing.T) {
	cli := storetest.Client(t)
	prefix := storetest.Prefix(t)
	st := store.New(cli, prefix, nil)
	for _, r := range []*store.Run{{UUID: "a", Parent: "p"}, {UUID: "c"}} {
		if err := st.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	// Nested past what encoding/json reads: written by hand, or by an
	// older version. No engine runs, so nobody repairs it meanwhile.
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	for k, v := range map[string]string{"runs/b": `{"uuid":"b","parent":"p","status":"running","outputs":{"x":` + deep + `}}`,
		"children/p/b": "", "active/b": ""} {
		if _, err := cli.Put(t.Context(), prefix+k, v); err != nil {
			t.Fatal(err)
		}
	}
	ex, err := local.New(local.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ex.Close() })
	eng, err := engine.New(engine.Config{Store: st, Executor: ex})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Engine: eng, Store: st}).Handler())
	t.Cleanup(srv.Close)

	for _, q := range []string{"", "?parent=p", "?parent=p&since=1"} {
		resp, err := http.Get(srv.URL + "/api/v1/runs" + q)
		if err != nil {
			t.Fatal(err)
		}
		var body ListResponse
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d, %v", q, resp.StatusCode, err)
		}
		var uuids []string
		for _, r := range body.Runs {
			uuids = append(uuids, r.UUID)
		}
		want := map[string]string{"": "a,c", "?parent=p": "a", "?parent=p&since=1": "a"}[q]
		if strings.Join(uuids, ",") != want || len(body.Unreadable) != 1 || !strings.HasPrefix(body.Unreadable[0], "b: ") {
			t.Errorf("GET %s: runs %v, unreadable %q; want %s and b", q, uuids, body.Unreadable, want)
		}
	}
}
