package api

// Who may do what: a request's bearer token names an Identity (tokens.go);
// its role says which routes it may call, and its projects which runs it
// may see and change. A read token may only GET; a submit token may also
// submit, stop, approve, resume and restart, in its projects; an admin may
// do everything in every project. A run in a project the token may not act
// in is, to a GET, no run at all (404: its existence does not leak); to a
// change, a 403 naming its project. Listings show only the runs of the
// token's projects.

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// SetTokens replaces the tokens the API accepts, at once: a request is
// authenticated against the old set or the new one, never a mix. Nil opens
// the API to anyone, as an admin (the embedded default, on loopback); an
// empty set refuses everyone.
func (s *Server) SetTokens(ts *TokenSet) { s.tokens.Store(ts) }

type identityKey struct{}

// identity is who the request's token authenticates; nil when the API is
// open.
func identity(r *http.Request) *Identity {
	id, _ := r.Context().Value(identityKey{}).(*Identity)
	return id
}

// user is who the request's token authenticates ("" when the API is open).
func (s *Server) user(r *http.Request) string {
	if id := identity(r); id != nil {
		return id.User
	}
	return ""
}

// caller is who the compiler compiles a request's submission for.
func caller(r *http.Request, project string) compiler.Caller {
	c := compiler.Caller{Project: project}
	if id := identity(r); id != nil {
		c.User, c.Teams = id.User, id.Teams
	}
	return c
}

// authenticate checks the bearer token, and returns the request with who
// it authenticates; a code of 0 means go on.
func (s *Server) authenticate(r *http.Request) (*http.Request, int, any) {
	ts := s.tokens.Load()
	if ts == nil {
		return r, 0, nil
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && token != "" {
		var found *Identity
		for known, id := range ts.ids {
			if subtle.ConstantTimeCompare([]byte(token), []byte(known)) == 1 {
				found = id
			}
		}
		if found != nil {
			return r.WithContext(context.WithValue(r.Context(), identityKey{}, found)), 0, nil
		}
	}
	code, body := fail(http.StatusUnauthorized, "a valid bearer token is required")
	return r, code, body
}

// authorize checks that the request's token may call the route, and, for
// a route naming a run, act on that run; 0 means go on. A submission's
// project is checked when its body is read (submit), and listings keep
// only the runs the token may see (list).
func (s *Server) authorize(r *http.Request, route string) (int, any) {
	id := identity(r)
	if id == nil || id.Role == RoleAdmin {
		return 0, nil
	}
	if r.Method != http.MethodGet && id.Role != RoleSubmit {
		return fail(http.StatusForbidden, "token user %q has role %s, which may only read (GET): %s %s takes role submit or admin",
			id.User, id.Role, r.Method, route)
	}
	uuid := r.PathValue("uuid")
	if uuid == "" {
		return 0, nil
	}
	run, _, err := s.Store.Get(r.Context(), uuid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, nil // the route answers it
	case err != nil:
		return fail(http.StatusInternalServerError, "%v", err)
	case id.mayActIn(run.Project):
		return 0, nil
	case r.Method == http.MethodGet:
		return fail(http.StatusNotFound, "no run %s", uuid)
	}
	return fail(http.StatusForbidden, "run %s is in project %q, which token user %q may not act in (its projects: %s)",
		uuid, projectOf(run), id.User, id.projectsText())
}

// mayActIn says whether the request's token may act in a project.
func mayActIn(r *http.Request, project string) bool {
	id := identity(r)
	return id == nil || id.mayActIn(project)
}

func projectOf(run *store.Run) string {
	if run.Project == "" {
		return compiler.DefaultProject
	}
	return run.Project
}
