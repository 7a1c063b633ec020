package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// awaitingApproval is a run that waits for approval: it stays compiled, is never
// dispatched, until approved.
const awaitingApproval = "version: 1.1\nkind: component\nname: waiting\nisApproved: false\nrun: {container: {image: a, command: [sh, -c, 'exit 0']}}\n"

// rolesServer serves tokens of each role: read and submit in project
// vision, admin anywhere.
func rolesServer(t *testing.T) (string, *Server) {
	t.Helper()
	s := &Server{}
	s.SetTokens(NewTokenSet(map[string]Identity{
		"tok-read":   {User: "rita", Role: RoleRead, Projects: []string{"vision"}},
		"tok-submit": {User: "bob", Role: RoleSubmit, Projects: []string{"vision"}},
		"tok-admin":  {User: "ada", Role: RoleAdmin},
	}))
	srv, s, _ := serveWith(t, s)
	return srv.URL, s
}

// call makes a request with a token, and returns the code and the body.
func call(t *testing.T, base, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func submitBody(spec, project string) string {
	data, _ := json.Marshal(SubmitRequest{Spec: spec, Project: project})
	return string(data)
}

// TestRolesRoutes: each role against each route, on a run of the token's
// project and on one of another: what it may do passes (whatever the run's
// state then answers), a change it may not make is a 403 saying why, and a
// run of a project it may not read is, to a GET, no run at all.
func TestRolesRoutes(t *testing.T) {
	base, _ := rolesServer(t)
	admin := &Client{BaseURL: base, Token: "tok-admin"}
	runs := map[string]string{} // project -> run
	for _, p := range []string{"vision", "other"} {
		r, err := admin.Submit(t.Context(), SubmitRequest{Spec: awaitingApproval, Project: p})
		if err != nil {
			t.Fatal(err)
		}
		runs[p] = r.UUID
	}
	const (
		pass      = "pass"
		forbidden = "403"
		hidden    = "404"
	)
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/runs/%s"},
		{"GET", "/api/v1/runs/%s/logs"},
		{"GET", "/api/v1/runs/%s/graph"},
		{"POST", "/api/v1/runs/%s/approve"},
		{"POST", "/api/v1/runs/%s/stop"},
		{"POST", "/api/v1/runs/%s/resume"},
		{"POST", "/api/v1/runs/%s/restart"},
	}
	for _, role := range []string{"read", "submit", "admin"} {
		for _, project := range []string{"vision", "other"} {
			for _, rt := range routes {
				want := pass
				switch {
				case role == "admin":
				case rt.method == "GET" && project == "other":
					want = hidden
				case role == "read" && rt.method == "POST":
					want = forbidden
				case project == "other":
					want = forbidden
				}
				uuid := runs[project]
				code, body := call(t, base, "tok-"+role, rt.method, fmt.Sprintf(rt.path, uuid), "")
				name := fmt.Sprintf("%s: %s %s of project %s", role, rt.method, rt.path, project)
				switch want {
				case pass:
					if code == 401 || code == 403 || strings.Contains(body, "no run "+uuid) {
						t.Errorf("%s: %d %s, want it let through", name, code, body)
					}
				case hidden:
					if code != 404 || !strings.Contains(body, "no run "+uuid) {
						t.Errorf("%s: %d %s, want 404 no run", name, code, body)
					}
				case forbidden:
					wantMsg := fmt.Sprintf(`run %s is in project \"other\", which token user \"bob\" may not act in`, uuid)
					if role == "read" {
						wantMsg = `token user \"rita\" has role read, which may only read (GET): POST ` + strings.ReplaceAll(rt.path, "%s", "{uuid}") + " takes role submit or admin"
					}
					if code != 403 || !strings.Contains(body, wantMsg) {
						t.Errorf("%s: %d %s, want 403 with %s", name, code, body, wantMsg)
					}
				}
			}
		}
	}

	// Submissions: in the token's projects only; a read token none.
	for _, tc := range []struct {
		token, project string
		code           int
		msg            string
	}{
		{"tok-read", "vision", 403, `token user \"rita\" has role read, which may only read (GET): POST /api/v1/runs takes role submit or admin`},
		{"tok-submit", "vision", 201, ""},
		{"tok-submit", "other", 403, `token user \"bob\" may not submit to project \"other\" (its projects: vision)`},
		{"tok-submit", "", 403, `may not submit to project \"default\"`},
		{"tok-admin", "nlp", 201, ""},
		{"", "vision", 401, "a valid bearer token is required"},
		{"wrong", "vision", 401, "a valid bearer token is required"},
	} {
		code, body := call(t, base, tc.token, "POST", "/api/v1/runs", submitBody(awaitingApproval, tc.project))
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s submits to %q: %d %s, want %d with %s", tc.token, tc.project, code, body, tc.code, tc.msg)
		}
	}

	// Listings: a scoped token sees its projects' runs only, and is refused
	// another project by name.
	for _, tc := range []struct {
		token, query string
		code         int
		projects     []string
	}{
		{"tok-read", "", 200, []string{"vision"}},
		{"tok-submit", "?limit=1000", 200, []string{"vision"}},
		{"tok-read", "?project=vision", 200, []string{"vision"}},
		{"tok-read", "?project=other", 403, nil},
		{"tok-admin", "", 200, []string{"nlp", "other", "vision"}},
	} {
		code, body := call(t, base, tc.token, "GET", "/api/v1/runs"+tc.query, "")
		if code != tc.code {
			t.Errorf("%s lists %s: %d %s", tc.token, tc.query, code, body)
			continue
		}
		if code != 200 {
			if !strings.Contains(body, `may not read project \"other\"`) {
				t.Errorf("%s lists %s: %s", tc.token, tc.query, body)
			}
			continue
		}
		var page ListResponse
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		var projects []string
		for _, r := range page.Runs {
			if !slices.Contains(projects, r.Project) {
				projects = append(projects, r.Project)
			}
		}
		slices.Sort(projects)
		if !slices.Equal(projects, tc.projects) {
			t.Errorf("%s lists %s: runs of %v, want %v", tc.token, tc.query, projects, tc.projects)
		}
	}
}

// TestTeamsReachThePolicy: the token's user, teams and the submission's
// project are who the access policy judges.
func TestTeamsReachThePolicy(t *testing.T) {
	s := &Server{}
	s.SetTokens(NewTokenSet(map[string]Identity{
		"tok-ml":   {User: "carol", Teams: []string{"ml"}, Role: RoleSubmit, Projects: []string{"*"}},
		"tok-solo": {User: "dave", Role: RoleSubmit, Projects: []string{"*"}},
	}))
	policy := &compiler.Policy{Rules: []compiler.Rule{{Teams: []string{"ml"}, Projects: []string{"vision"}}}}
	srv, _, _ := serveConfig(t, s, engine.Config{Policy: policy})
	ml := &Client{BaseURL: srv.URL, Token: "tok-ml"}
	run, err := ml.Submit(t.Context(), SubmitRequest{Spec: awaitingApproval, Project: "vision"})
	if err != nil {
		t.Fatalf("team ml in vision: %v", err)
	}
	if run.User != "carol" || !slices.Equal(run.Teams, []string{"ml"}) || run.Project != "vision" {
		t.Errorf("the run is %q of %v in %q", run.User, run.Teams, run.Project)
	}
	var ae *APIError
	_, err = ml.Submit(t.Context(), SubmitRequest{Spec: awaitingApproval, Project: "nlp"})
	if !errors.As(err, &ae) || ae.Code != 400 || ae.Body.Stage != "access" || !strings.Contains(err.Error(), `carol may not use project "nlp"`) {
		t.Errorf("team ml in nlp: %v", err)
	}
	solo := &Client{BaseURL: srv.URL, Token: "tok-solo"}
	_, err = solo.Submit(t.Context(), SubmitRequest{Spec: awaitingApproval, Project: "vision"})
	if !errors.As(err, &ae) || ae.Code != 400 || !strings.Contains(err.Error(), `dave may not use project "vision"`) {
		t.Errorf("no team in vision: %v", err)
	}
	// A restart is dave's run, compiled for dave: carol's team does not
	// lend him the project.
	again, err := solo.Restart(t.Context(), run.UUID)
	if err != nil {
		t.Fatalf("dave restarts carol's run: %v", err)
	}
	if again.User != "dave" || len(again.Teams) != 0 {
		t.Errorf("the restart is %q of %v, want dave's", again.User, again.Teams)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r, err := ml.Get(t.Context(), again.UUID)
		if err == nil && r.Status.Final() {
			if c := r.Conditions[len(r.Conditions)-1]; r.Status != store.Failed || !strings.Contains(c.Message, `dave may not use project "vision"`) {
				t.Errorf("dave's restart ended %s: %+v", r.Status, c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dave's restart did not end: %v %v", r, err)
		}
	}
}

// TestSetTokensIsAtomic: requests made while the tokens are replaced see
// the old set or the new one, whole: the same token is rita, who may only
// read, in one and ada, an admin, in the other, and no answer mixes them.
func TestSetTokensIsAtomic(t *testing.T) {
	var audit syncBuffer
	s := &Server{Audit: &audit}
	old := NewTokenSet(map[string]Identity{"tok": {User: "rita", Role: RoleRead}, "gone": {User: "gus", Role: RoleAdmin}})
	next := NewTokenSet(map[string]Identity{"tok": {User: "ada", Role: RoleAdmin}})
	s.SetTokens(old)
	srv, _, _ := serveWith(t, s)
	const unknown = "0123456789abcdef0123456789abcdef"
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				s.SetTokens(next)
				return
			default:
			}
			s.SetTokens([]*TokenSet{old, next}[i%2])
		}
	}()
	for range 200 {
		code, body := call(t, srv.URL, "tok", "POST", "/api/v1/runs/"+unknown+"/stop", "")
		switch {
		case code == 403 && strings.Contains(body, `token user \"rita\" has role read`):
		case code == 404 && !strings.Contains(body, "rita"):
		default:
			t.Fatalf("a mixed answer: %d %s", code, body)
		}
	}
	close(stop)
	wg.Wait()
	if code, _ := call(t, srv.URL, "gone", "GET", "/api/v1/runs", ""); code != 401 {
		t.Errorf("a token of the old set: %d", code)
	}
	if code, _ := call(t, srv.URL, "tok", "POST", "/api/v1/runs/"+unknown+"/stop", ""); code != 404 {
		t.Errorf("the token in the new set: %d", code)
	}
	for _, l := range audit.lines() {
		var rec AuditRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.User == "rita" && rec.Code != 403 || rec.User == "ada" && rec.Code != 404 {
			t.Errorf("an audit record mixes the sets: %s", l)
		}
	}
}

// TestNoSecretInAnswers: a run using a connection whose env gives a value
// in the clear and names a secret, with an env var from that secret:
// neither the value nor the token is in any answer (submit, get, list,
// stop, restart, graph, logs, a refusal), the audit log or the server's
// log; the secret is only named.
func TestNoSecretInAnswers(t *testing.T) {
	const value, token = "hunter2-value", "tok-very-secret"
	var audit, logs syncBuffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s := &Server{Audit: &audit}
	s.SetTokens(NewTokenSet(map[string]Identity{token: {User: "bob", Role: RoleSubmit}}))
	conns := compiler.Catalogue{"db": {Name: "db", Kind: "postgres", Secret: &compiler.K8sResource{Name: "db-creds"},
		Schema: map[string]any{"url": "postgres://db:5432"}, Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: value}}}}
	srv, _, _ := serveConfig(t, s, engine.Config{Connections: conns})
	c := &Client{BaseURL: srv.URL, Token: token}
	spec := `version: 1.1
kind: component
name: uses-db
run:
  kind: job
  connections: [db]
  container:
    image: a
    command: [sh, -c, 'echo "$API_KEY"']
    env:
      - {name: API_KEY, valueFrom: {secretKeyRef: {name: db-creds, key: api-key}}}
`
	var answers bytes.Buffer
	record := func(v any, err error) {
		data, _ := json.Marshal(v)
		answers.Write(data)
		if err != nil {
			answers.WriteString(err.Error())
		}
	}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	record(run, nil)
	final := waitStatus(t, c, run.UUID, true)
	record(final, nil)
	if final.Status != store.Failed || !strings.Contains(fmt.Sprint(final.Conditions), "env API_KEY: valueFrom") {
		t.Errorf("locally, an env var from a secret fails the run: %s %v", final.Status, final.Conditions)
	}
	record(c.List(t.Context(), ListOptions{}))
	record(c.Stop(t.Context(), run.UUID))
	record(c.Restart(t.Context(), run.UUID))
	record(c.Graph(t.Context(), run.UUID))
	if rc, err := c.Logs(t.Context(), run.UUID, 0, false); err == nil {
		data, _ := io.ReadAll(rc)
		rc.Close()
		answers.Write(data)
	} else {
		answers.WriteString(err.Error())
	}
	_, err = (&Client{BaseURL: srv.URL, Token: token + "x"}).List(t.Context(), ListOptions{})
	record(nil, err)

	for what, text := range map[string]string{"the answers": answers.String(), "the audit log": strings.Join(audit.lines(), "\n"),
		"the server's log": strings.Join(logs.lines(), "\n")} {
		for _, secret := range []string{value, token} {
			if strings.Contains(text, secret) {
				t.Errorf("%s hold %q:\n%s", what, secret, text)
			}
		}
	}
	// The secret is named where the run names it; the connection, which
	// the compiler reads from the catalogue when it lowers the run, is not
	// in the record at all.
	for _, named := range []string{"db-creds", "API_KEY"} {
		if !strings.Contains(answers.String(), named) {
			t.Errorf("the answers do not name %s:\n%s", named, answers.String())
		}
	}
}
