package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// submit serves POST /api/v1/runs. A submission is admitted under
// Limits.InFlight before its body is read, weighing its Content-Length
// (the largest body allowed when it has none), and holds that weight
// until it is stored or refused: the memory submissions take is bounded
// however many arrive at once.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) (int, any) {
	limit := min(s.limits.MaxBody, s.limits.InFlight)
	if r.ContentLength > limit {
		unread(w)
		return s.tooLarge()
	}
	weight := r.ContentLength
	if weight < 0 {
		weight = limit // chunked: as large as it may be
	}
	weight = max(weight, 1)
	wait, cancel := r.Context(), context.CancelFunc(func() {})
	if s.limits.QueueWait > 0 {
		wait, cancel = context.WithTimeout(r.Context(), s.limits.QueueWait)
	}
	err := s.admission.acquire(wait, weight)
	cancel()
	if err != nil {
		unread(w)
		w.Header().Set("Retry-After", strconv.Itoa(s.retryAfter()))
		return fail(http.StatusServiceUnavailable, "the server is handling as many submissions as it may at once (%s of bodies, plexus server --max-inflight); try again later",
			FormatSize(s.limits.InFlight))
	}
	defer s.admission.release(weight)

	req, code, body := s.readSubmission(w, r, limit)
	if code != 0 {
		return code, body
	}
	if !mayActIn(r, req.Project) {
		id := identity(r)
		return fail(http.StatusForbidden, "token user %q may not submit to project %q (its projects: %s)", id.User, firstOf(req.Project, compiler.DefaultProject), id.projectsText())
	}
	params := map[string]specs.Param{}
	for k, v := range req.Params {
		params[k] = specs.Param{Value: v}
	}
	run, err := s.Engine.Submit(r.Context(), engine.Submission{Spec: req.Spec, Source: "submission", Params: params, Name: req.Name, Project: req.Project,
		Caller: caller(r, req.Project)})
	if err != nil {
		var list specs.ErrorList
		if errors.As(err, &list) {
			body := Error{Error: "the submission is not valid", Errors: list}
			var ce *compiler.CompilationError
			if errors.As(err, &ce) {
				body.Stage = string(ce.Stage)
			}
			return http.StatusBadRequest, body
		}
		return fail(http.StatusInternalServerError, "%v", err)
	}
	if run.Blobs > 0 {
		// As GET answers it: without the spec and its compilation, which
		// are as large as the submission.
		answer := *run
		answer.Spec, answer.Compiled = "", nil
		run = &answer
	}
	return http.StatusCreated, run
}

// tooLarge answers a body larger than the server takes.
func (s *Server) tooLarge() (int, any) {
	if s.limits.InFlight < s.limits.MaxBody {
		return fail(http.StatusRequestEntityTooLarge, "the submission is larger than the limit of %s of submissions in flight (plexus server --max-inflight)",
			FormatSize(s.limits.InFlight))
	}
	return fail(http.StatusRequestEntityTooLarge, "the submission is larger than the limit of %s (plexus server --max-body)", FormatSize(s.limits.MaxBody))
}

// retryAfter is the Retry-After of a 503, in seconds: the time the
// submission waited.
func (s *Server) retryAfter() int {
	return max(1, int((s.limits.QueueWait+time.Second-1)/time.Second))
}

// readSubmission reads and decodes a submission's body, of at most limit
// bytes, within Limits.BodyTimeout. A non-zero code is the answer when it
// cannot.
func (s *Server) readSubmission(w http.ResponseWriter, r *http.Request, limit int64) (*SubmitRequest, int, any) {
	rc := http.NewResponseController(w)
	if s.limits.BodyTimeout > 0 {
		// Not supported only under a ResponseWriter that is no
		// connection's (a test's recorder): no deadline then.
		_ = rc.SetReadDeadline(time.Now().Add(s.limits.BodyTimeout))
	}
	data, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	if err != nil {
		unread(w)
	} else if s.limits.BodyTimeout > 0 {
		// The body is read: the connection's read deadline must not
		// cancel the request while the submission is stored.
		_ = rc.SetReadDeadline(time.Time{})
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		code, body := s.tooLarge()
		return nil, code, body
	case errors.Is(err, os.ErrDeadlineExceeded):
		code, body := fail(http.StatusRequestTimeout, "the body did not arrive within %v (plexus server --body-timeout)", s.limits.BodyTimeout)
		return nil, code, body
	case err != nil:
		code, body := fail(http.StatusBadRequest, "reading the submission: %v", err)
		return nil, code, body
	}
	req, err := decodeSubmission(data)
	if err != nil {
		code, body := fail(http.StatusBadRequest, "the body is not a submission: %v", err)
		return nil, code, body
	}
	return req, 0, nil
}

// unread closes the connection of a request whose body is left unread
// once answered, at once: net/http would otherwise read what is left of a
// small body, before answering and again after, as slowly as the client
// sends it.
func unread(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// readBody reads a body into one buffer of its size when it has one
// (length >= 0), rather than one grown as it arrives.
func readBody(body io.Reader, length int64) ([]byte, error) {
	if length < 0 {
		return io.ReadAll(body)
	}
	data := make([]byte, length)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, err
	}
	return data, nil
}

// decodeSubmission decodes a SubmitRequest, refusing unknown fields as
// json.Decoder's DisallowUnknownFields does. It reads data in place: a
// json.Decoder would first copy it into a buffer of its own, grown by
// doubling.
func decodeSubmission(data []byte) (*SubmitRequest, error) {
	// The fields' names first, without copying their values.
	var fields map[string]skipped
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("want a JSON object of spec, params, name and project: %w", err)
	}
	for name := range fields {
		if !knownField(name) {
			return nil, fmt.Errorf("json: unknown field %q", name)
		}
	}
	var req SubmitRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// knownField says whether a JSON object's key names a field of
// SubmitRequest, matched without regard to case as encoding/json does.
func knownField(name string) bool {
	for _, f := range [...]string{"spec", "params", "name", "project"} {
		if strings.EqualFold(name, f) {
			return true
		}
	}
	return false
}

// skipped is a JSON value read and dropped: json.Unmarshal hands it its
// bytes without copying them.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
