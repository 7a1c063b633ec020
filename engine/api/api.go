package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Server serves the API of one engine.
type Server struct {
	Engine   *engine.Engine
	Store    *store.Store
	Executor executor.Executor
	// Tokens maps bearer tokens to the users they authenticate, each an
	// admin of every project; read once, by Handler, unless SetTokens was
	// called first (access.go), which sets tokens with roles and projects.
	// With neither, the API is open (the embedded default, on loopback).
	Tokens map[string]string
	// Limits bound the submissions handled at once and the time a client
	// may take; the zero value is the defaults.
	Limits Limits
	// Audit, when set, gets a JSON line for every call that changes
	// something (audit.go).
	Audit io.Writer
	// UI, when set, holds the web page's files (index.html and what it
	// loads), served at / (page.go).
	UI fs.FS

	tokens    atomic.Pointer[TokenSet]
	auditLog  *auditLog
	limits    Limits // with the defaults
	admission *admission
	requests  *prometheus.CounterVec
	registry  *prometheus.Registry
}

// Handler returns the HTTP handler: /api/v1/..., /healthz, /readyz,
// /metrics, and the web page at / when UI is set. Call it once: each call makes a new handler with its own
// limit on submissions in flight.
func (s *Server) Handler() http.Handler {
	s.limits = s.Limits.withDefaults()
	if s.tokens.Load() == nil && len(s.Tokens) > 0 {
		admins := map[string]Identity{}
		for token, user := range s.Tokens {
			admins[token] = AdminIdentity(user)
		}
		s.SetTokens(NewTokenSet(admins))
	}
	s.auditLog = &auditLog{w: s.Audit}
	s.admission = newAdmission(s.limits.InFlight)
	s.registry = prometheus.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plexus_api_requests_total", Help: "API requests by route and HTTP status code.",
	}, []string{"route", "code"})
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plexus_api_submission_bytes_in_flight",
		Help: "Bytes of submission bodies being handled now (at most the server's --max-inflight).",
	}, func() float64 { return float64(s.admission.stats().Held) })
	waiting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plexus_api_submissions_waiting",
		Help: "Submissions waiting for room under the server's --max-inflight.",
	}, func() float64 { return float64(s.admission.stats().Waiting) })
	s.registry.MustRegister(s.requests, inFlight, waiting, &runsCollector{store: s.Store})
	s.registry.MustRegister(s.Engine.Collectors()...)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	api := func(pattern string, h func(http.ResponseWriter, *http.Request) (int, any)) {
		route := pattern[strings.IndexByte(pattern, ' ')+1:]
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			r, code, body := s.authenticate(r)
			if code == 0 && strings.Contains(route, "{uuid}") {
				code, body = checkRunID("the path's run id", r.PathValue("uuid"))
			}
			if code == 0 {
				code, body = s.authorize(r, route)
			}
			if code == 0 {
				code, body = h(w, r)
			}
			s.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.audit(r, route, code, body)
			if body == nil {
				return // streamed
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(body)
		})
	}
	api("POST /api/v1/runs", s.submit)
	api("GET /api/v1/runs", s.list)
	api("GET /api/v1/runs/{uuid}", s.get)
	api("POST /api/v1/runs/{uuid}/stop", s.stop)
	api("POST /api/v1/runs/{uuid}/approve", s.action(func(ctx context.Context, uuid, user string) (*store.Run, error) {
		return s.Engine.Approve(ctx, uuid, user)
	}))
	api("POST /api/v1/runs/{uuid}/resume", s.action(func(ctx context.Context, uuid, _ string) (*store.Run, error) {
		return s.Engine.Resume(ctx, uuid)
	}))
	api("POST /api/v1/runs/{uuid}/restart", func(_ http.ResponseWriter, r *http.Request) (int, any) {
		// The new run is whoever asks for it, compiled for them.
		var by *compiler.Caller
		if identity(r) != nil {
			c := caller(r, "")
			by = &c
		}
		return s.runResult(s.Engine.RestartAs(r.Context(), r.PathValue("uuid"), by))
	})
	api("GET /api/v1/runs/{uuid}/logs", s.logs)
	api("GET /api/v1/runs/{uuid}/graph", s.graph)
	api("GET /api/v1/whoami", s.whoami)
	if s.UI != nil {
		if err := servePage(mux, s.UI); err != nil {
			slog.Error("the web page's files cannot be read: it is not served", "err", err)
		}
	}
	return mux
}

// Whoami is the body of GET /api/v1/whoami: who the request's token is
// and what it may do (the web page shows it, and greys out what it may
// not do). Open says the API takes no token: anyone is an admin.
type Whoami struct {
	User     string   `json:"user,omitempty"`
	Teams    []string `json:"teams,omitempty"`
	Role     Role     `json:"role"`
	Projects []string `json:"projects,omitempty"`
	Open     bool     `json:"open,omitempty"`
}

func (s *Server) whoami(_ http.ResponseWriter, r *http.Request) (int, any) {
	id := identity(r)
	if id == nil {
		return http.StatusOK, Whoami{Role: RoleAdmin, Open: true}
	}
	projects := id.Projects
	switch {
	case id.Role == RoleAdmin:
		projects = []string{"*"}
	case len(projects) == 0:
		projects = []string{compiler.DefaultProject}
	}
	return http.StatusOK, Whoami{User: id.User, Teams: id.Teams, Role: id.Role, Projects: projects}
}

// Error is the body of a failed request.
type Error struct {
	Error string `json:"error"`
	// Stage names the compiler stage that refused a submission.
	Stage  string          `json:"stage,omitempty"`
	Errors specs.ErrorList `json:"errors,omitempty"`
}

func fail(code int, format string, args ...any) (int, any) {
	return code, Error{Error: fmt.Sprintf(format, args...)}
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.Store.Active(ctx); err != nil {
		http.Error(w, "etcd is not reachable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// SubmitRequest is the body of POST /api/v1/runs.
type SubmitRequest struct {
	// Spec is the Polyaxonfile (YAML or JSON).
	Spec    string         `json:"spec"`
	Params  map[string]any `json:"params,omitempty"`
	Name    string         `json:"name,omitempty"`
	Project string         `json:"project,omitempty"`
}

// ListResponse is the body of GET /api/v1/runs.
type ListResponse struct {
	Runs []*store.Run `json:"runs"`
	Next string       `json:"next,omitempty"`
	// Revision, listing a parent's children, is the store revision they
	// were read at: `since` for the next look.
	Revision int64 `json:"revision,omitempty"`
	// Unreadable names the records met that cannot be decoded, each as
	// "uuid: error": left out of Runs, and the listing answers with the
	// others (the leader fails such a run, keeping what it can read).
	Unreadable []string `json:"unreadable,omitempty"`
}

// maxRunID is the longest run id a request may name; the engine's are 32
// hexadecimal digits.
const maxRunID = 128

// checkRunID refuses (400) a run id a request names that no run can have:
// empty, too long, or with anything but letters, digits, '-' and '_' (a
// '/' or '..' that would reach past the run's own keys and files).
func checkRunID(what, id string) (int, any) {
	if id == "" || len(id) > maxRunID {
		return fail(http.StatusBadRequest, "%s %q is not a run id: 1 to %d letters, digits, '-' or '_'", what, id, maxRunID)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fail(http.StatusBadRequest, "%s %q is not a run id: 1 to %d letters, digits, '-' or '_'", what, id, maxRunID)
		}
	}
	return 0, nil
}

// listOptions reads GET /api/v1/runs's query; a bad parameter is a 400
// naming it.
func listOptions(q url.Values) (ListOptions, int, any) {
	o := ListOptions{Status: q.Get("status"), Project: q.Get("project"), Parent: q.Get("parent"), After: q.Get("after"), Limit: 50, Kind: q.Get("kind"),
		Order: q.Get("order")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			code, body := fail(http.StatusBadRequest, "limit must be between 1 and 1000, got %q", l)
			return o, code, body
		}
		o.Limit = n
	}
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || o.Parent == "" {
			code, body := fail(http.StatusBadRequest, "since is a store revision (a number) and goes with parent, got %q", v)
			return o, code, body
		}
		o.Since = n
	}
	if o.Order != "" && o.Order != OrderUUID && o.Order != OrderNewest {
		code, body := fail(http.StatusBadRequest, "order is %s or %s, got %q", OrderUUID, OrderNewest, o.Order)
		return o, code, body
	}
	if o.Order == OrderNewest && o.Parent != "" {
		code, body := fail(http.StatusBadRequest, "order=%s lists the runs started by no other run: it does not go with parent (a run's children come in their own order)", OrderNewest)
		return o, code, body
	}
	if o.Kind != "" && o.Kind != "schedule" && o.Kind != "matrix" {
		code, body := fail(http.StatusBadRequest, "kind is schedule or matrix, got %q", o.Kind)
		return o, code, body
	}
	for name, v := range map[string]string{"parent": o.Parent, "after": o.After} {
		if v != "" {
			if code, body := checkRunID(name, v); code != 0 {
				return o, code, body
			}
		}
	}
	return o, 0, nil
}

func (s *Server) list(_ http.ResponseWriter, r *http.Request) (int, any) {
	o, code, body := listOptions(r.URL.Query())
	if code != 0 {
		return code, body
	}
	id := identity(r)
	scoped := id != nil && id.Role != RoleAdmin
	if scoped {
		if o.Project != "" && !id.mayActIn(o.Project) {
			return fail(http.StatusForbidden, "token user %q may not read project %q (its projects: %s)", id.User, o.Project, id.projectsText())
		}
		o.visible = id.mayActIn
	}
	page, err := List(r.Context(), s.Store, o)
	if err != nil {
		return fail(http.StatusInternalServerError, "%v", err)
	}
	for _, u := range page.Unreadable {
		slog.Warn("listing runs: a record cannot be read", "record", u)
	}
	if scoped {
		// Whose they are is not known: not a scoped token's to see.
		page.Unreadable = nil
	}
	return http.StatusOK, page
}

// List lists the runs of a store as GET /api/v1/runs does, in uuid order
// (o.Order newest: the runs started by no other run, newest first):
// those that pass the filters, up to o.Limit (50 when not set) after
// o.After. With o.Parent it reads the parent's children from the
// children index, not every run.
func List(ctx context.Context, st *store.Store, o ListOptions) (*ListResponse, error) {
	if o.Limit <= 0 {
		o.Limit = 50
	}
	keep := func(run *store.Run) bool {
		return (o.Status == "" || string(run.Status) == o.Status) && (o.Project == "" || run.Project == o.Project) &&
			(o.visible == nil || o.visible(run.Project)) &&
			(o.Kind != "schedule" || run.Schedule != "") && (o.Kind != "matrix" || run.Matrix != "")
	}
	if o.Parent == "" {
		list := st.List
		if o.Order == OrderNewest {
			list = st.ListNewest
		}
		page, err := list(ctx, o.After, o.Limit, keep)
		if err != nil {
			return nil, err
		}
		out := &ListResponse{Runs: page.Runs, Next: page.Next, Unreadable: page.Unreadable}
		if out.Runs == nil {
			out.Runs = []*store.Run{}
		}
		return out, nil
	}
	if o.Since > 0 {
		// What changed since a revision: a follower's next look.
		runs, rev, err := st.ChildRunsSince(ctx, o.Parent, o.Since)
		var bad store.Unreadable
		if err != nil && !errors.As(err, &bad) {
			return nil, fmt.Errorf("listing the children of run %s: %w", o.Parent, err)
		}
		out := &ListResponse{Runs: []*store.Run{}, Revision: rev, Unreadable: bad}
		for _, run := range runs {
			if run.UUID <= o.After || !keep(run) {
				continue
			}
			if len(out.Runs) == o.Limit {
				out.Next = out.Runs[len(out.Runs)-1].UUID
				break
			}
			out.Runs = append(out.Runs, run)
		}
		return out, nil
	}
	rev, err := st.Revision(ctx)
	if err != nil {
		return nil, err
	}
	out := &ListResponse{Runs: []*store.Run{}, Revision: rev}
	after := o.After
	for {
		// At least a hundred at a time: a filter may keep few.
		uuids, more, err := st.ChildrenAfter(ctx, o.Parent, after, max(o.Limit-len(out.Runs), 100))
		if err != nil {
			return nil, fmt.Errorf("listing the children of run %s: %w", o.Parent, err)
		}
		runs, err := st.GetMany(ctx, uuids)
		var bad store.Unreadable
		if err != nil && !errors.As(err, &bad) {
			return nil, fmt.Errorf("listing the children of run %s: %w", o.Parent, err)
		}
		out.Unreadable = append(out.Unreadable, bad...)
		for i, run := range runs {
			if !keep(run) {
				continue
			}
			out.Runs = append(out.Runs, run)
			if len(out.Runs) == o.Limit {
				if more || i < len(runs)-1 {
					out.Next = run.UUID
				}
				return out, nil
			}
		}
		if !more || len(uuids) == 0 {
			return out, nil
		}
		after = uuids[len(uuids)-1]
	}
}

func (s *Server) get(_ http.ResponseWriter, r *http.Request) (int, any) {
	run, _, err := s.Store.Get(r.Context(), r.PathValue("uuid"))
	if errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusNotFound, "no run %s", r.PathValue("uuid"))
	}
	if err != nil {
		return fail(http.StatusInternalServerError, "%v", err)
	}
	return http.StatusOK, run
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) (int, any) {
	return s.action(func(ctx context.Context, uuid, _ string) (*store.Run, error) {
		return s.Engine.Stop(ctx, uuid)
	})(w, r)
}

// action serves a POST that changes one run: stop, approve, resume,
// restart.
func (s *Server) action(do func(ctx context.Context, uuid, user string) (*store.Run, error)) func(http.ResponseWriter, *http.Request) (int, any) {
	return func(_ http.ResponseWriter, r *http.Request) (int, any) {
		return s.runResult(do(r.Context(), r.PathValue("uuid"), s.user(r)))
	}
}

func (s *Server) runResult(run *store.Run, err error) (int, any) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, "%v", err)
	case errors.Is(err, engine.ErrInvalidTransition):
		return fail(http.StatusConflict, "%v", err)
	case err != nil:
		return fail(http.StatusInternalServerError, "%v", err)
	}
	return http.StatusOK, run
}

// logs streams an attempt's log (the current one unless ?attempt=), and
// with ?follow=true keeps streaming until it ends.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) (int, any) {
	run, _, err := s.Store.Get(r.Context(), r.PathValue("uuid"))
	if errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusNotFound, "no run %s", r.PathValue("uuid"))
	}
	if err != nil {
		return fail(http.StatusInternalServerError, "%v", err)
	}
	attempt := run.Attempt
	if a := r.URL.Query().Get("attempt"); a != "" {
		if attempt, err = strconv.Atoi(a); err != nil {
			return fail(http.StatusBadRequest, "attempt must be a number, got %q", a)
		}
	}
	follow := r.URL.Query().Get("follow") == "true"
	logs, err := s.Executor.Logs(r.Context(), executor.RunRef{UUID: run.UUID, Attempt: attempt}, follow)
	if errors.Is(err, executor.ErrUnknownRun) {
		return fail(http.StatusNotFound, "no log for attempt %d of run %s", attempt, run.UUID)
	}
	if err != nil {
		return fail(http.StatusInternalServerError, "%v", err)
	}
	defer logs.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := logs.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				break
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr != nil {
			break
		}
	}
	return http.StatusOK, nil
}

// graph serves a dag run's operations in topological order, each with
// its upstreams and the status of its run. With ?max=M it counts them by
// status too, and a graph of more than M nodes comes summarised: the
// counts, and a hundred nodes, the failed and running ones first.
func (s *Server) graph(_ http.ResponseWriter, r *http.Request) (int, any) {
	uuid := r.PathValue("uuid")
	most := -1
	if m := r.URL.Query().Get("max"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return fail(http.StatusBadRequest, "max is how many nodes a graph may have to come whole (a number, 0 or more), got %q", m)
		}
		most = n
	}
	g, err := s.Engine.Graph(r.Context(), uuid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, "no run %s", uuid)
	case errors.Is(err, engine.ErrNotPipeline):
		return fail(http.StatusBadRequest, "run %s is not a dag: only a run whose component runs a dag (run.kind: dag) has a graph", uuid)
	case err != nil:
		return fail(http.StatusInternalServerError, "%v", err)
	}
	if most >= 0 {
		engine.Summarize(g, most)
	}
	return http.StatusOK, g
}

// runsCollector reports the runs not yet final by status, read from the
// store's active index when scraped.
type runsCollector struct{ store *store.Store }

var runsDesc = prometheus.NewDesc("plexus_active_runs", "Runs not yet final, by status.", []string{"status"}, nil)

func (c *runsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- runsDesc }

func (c *runsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	uuids, err := c.store.Active(ctx)
	if err != nil {
		return
	}
	counts := map[store.Status]int{}
	for _, uuid := range uuids {
		if run, _, err := c.store.Get(ctx, uuid); err == nil {
			counts[run.Status]++
		}
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(n), string(status))
	}
}
