package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a buffer the server writes and the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

// TestAuditLog: every call that changes something is a line of the audit
// log, refused or not, with who made it, what it named and the answer;
// reads are not; neither tokens nor specs are written.
func TestAuditLog(t *testing.T) {
	var log syncBuffer
	srv, _, _ := serveWith(t, &Server{Tokens: map[string]string{"tok-a": "alice"}, Audit: &log})
	c := &Client{BaseURL: srv.URL, Token: "tok-a"}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"who": "audit"}})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, run.UUID, true)
	if _, err := c.Stop(t.Context(), run.UUID); err == nil {
		t.Fatal("stopping an ended run succeeded")
	}
	if _, err := (&Client{BaseURL: srv.URL, Token: "wrong"}).Stop(t.Context(), run.UUID); err == nil {
		t.Fatal("a wrong token stopped a run")
	}
	if _, err := c.Submit(t.Context(), SubmitRequest{Spec: "version: 1.1\nkind: nope\n"}); err == nil {
		t.Fatal("an invalid submission was taken")
	}
	var recs []AuditRecord
	for _, l := range log.lines() {
		var r AuditRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if strings.Contains(l, "tok-a") || strings.Contains(l, "wrong") || strings.Contains(l, "echo") {
			t.Errorf("a token or a spec in the audit log: %s", l)
		}
		recs = append(recs, r)
	}
	want := []struct {
		user, method, route, run string
		code                     int
		errPart                  string
	}{
		{"alice", "POST", "/api/v1/runs", run.UUID, http.StatusCreated, ""},
		{"alice", "POST", "/api/v1/runs/{uuid}/stop", run.UUID, http.StatusConflict, "is succeeded already"},
		{"", "POST", "/api/v1/runs/{uuid}/stop", run.UUID, http.StatusUnauthorized, "a valid bearer token is required"},
		{"alice", "POST", "/api/v1/runs", "", http.StatusBadRequest, "the submission is not valid"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d audit records, want %d (GETs are not audited):\n%s", len(recs), len(want), strings.Join(log.lines(), "\n"))
	}
	for i, w := range want {
		r := recs[i]
		if r.User != w.user || r.Method != w.method || r.Route != w.route || r.Run != w.run || r.Code != w.code ||
			!strings.Contains(r.Error, w.errPart) || r.Time.IsZero() || r.Remote == "" {
			t.Errorf("record %d: %+v, want %+v", i, r, w)
		}
	}
	if recs[0].Status == "" {
		t.Errorf("the submission's record has no status: %+v", recs[0])
	}
}
