package api

// The audit log: a JSON line for every call that changes something (every
// method but GET), refused or not: when, who (the token's user), from
// where, what (method, route, the run it names), and the answer (its code,
// the run it made or changed, or its error). Tokens and bodies are not
// written: a submission's spec may hold what only its run should see.

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user,omitempty"`
	Remote string    `json:"remote,omitempty"`
	Method string    `json:"method"`
	Route  string    `json:"route"`
	// Run is the run the call named, or the one it made.
	Run    string `json:"run,omitempty"`
	Code   int    `json:"code"`
	Status string `json:"status,omitempty"` // the run's, after the call
	Error  string `json:"error,omitempty"`
}

// auditLog writes records to w, a line each, one at a time.
type auditLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (a *auditLog) write(rec AuditRecord) {
	if a == nil || a.w == nil {
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, _ = a.w.Write(append(line, '\n'))
}

// audit records a call that changes something, with its answer.
func (s *Server) audit(r *http.Request, route string, code int, body any) {
	if r.Method == http.MethodGet || s.Audit == nil {
		return
	}
	rec := AuditRecord{Time: time.Now().UTC(), User: s.user(r), Remote: r.RemoteAddr, Method: r.Method, Route: route,
		Run: r.PathValue("uuid"), Code: code}
	switch b := body.(type) {
	case *store.Run:
		rec.Run, rec.Status = b.UUID, string(b.Status)
	case Error:
		rec.Error = b.Error
	case *Error:
		rec.Error = b.Error
	}
	s.auditLog.write(rec)
}
