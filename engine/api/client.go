package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

// Client talks to an engine's API.
type Client struct {
	// BaseURL is the server, such as http://127.0.0.1:8000.
	BaseURL string
	// Token is sent as a bearer token when set.
	Token string
	HTTP  *http.Client
}

// HTTPClient is the HTTP client for a server whose certificate is signed
// by a CA of caFile (PEM), beside the system's: a server with a
// self-signed certificate (plexus server --tls-cert). With no file, the
// default client.
func HTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading the server's CA: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the server's CA %s holds no PEM certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
}

// APIError is a failed request: its status code and the server's error.
type APIError struct {
	Code int
	Body Error
	// RetryAfter is the wait a 503 asks for (its Retry-After), if any.
	RetryAfter time.Duration
	// err is the package's error the failure stands for, when a method
	// knows it (Graph: engine.ErrNotPipeline, store.ErrNotFound).
	err error
}

// Unwrap returns the error the failure stands for, if known.
func (e *APIError) Unwrap() error { return e.err }

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%d: %s", e.Code, e.Body.Error)
	for _, fe := range e.Body.Errors {
		msg += "\n" + fe.Error()
	}
	return msg
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	resp, err := c.request(ctx, method, path, rd)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// request sends a request and turns an error status into an *APIError.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		// The body is sent once the server reads it (or after the
		// transport's ExpectContinueTimeout, a second by default): a
		// server that refuses a submission at once (too large, too busy,
		// no token) is not sent a body it would not read.
		req.Header.Set("Expect", "100-continue")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("the server's certificate is not signed by a CA this client trusts (give the server's CA: --tls-ca FILE or PLEXUS_TLS_CA): %w", err)
		}
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		apiErr := &APIError{Code: resp.StatusCode}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			apiErr.RetryAfter = time.Duration(secs) * time.Second
		}
		_ = json.NewDecoder(resp.Body).Decode(&apiErr.Body)
		return nil, apiErr
	}
	return resp, nil
}

// submitRetries is how many times Submit tries again a submission the
// server was too busy to take (503 with a Retry-After).
const submitRetries = 3

// Submit submits a Polyaxonfile with params. A server too busy to take it
// (503: as many submissions in flight as it takes at once) read none of
// it: Submit tries again after the wait the server asks for (at most a
// minute), up to three times, while ctx lasts.
func (c *Client) Submit(ctx context.Context, req SubmitRequest) (*store.Run, error) {
	var run store.Run
	for try := 0; ; try++ {
		err := c.do(ctx, http.MethodPost, "/api/v1/runs", req, &run)
		var ae *APIError
		if try == submitRetries || !errors.As(err, &ae) || ae.Code != http.StatusServiceUnavailable || ae.RetryAfter == 0 {
			if err != nil {
				return nil, err
			}
			return &run, nil
		}
		wait := time.NewTimer(min(ae.RetryAfter, time.Minute))
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, fmt.Errorf("%w (waiting to try again: %w)", err, context.Cause(ctx))
		case <-wait.C:
		}
	}
}

// Get reads a run.
func (c *Client) Get(ctx context.Context, uuid string) (*store.Run, error) {
	var run store.Run
	if err := c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(uuid), nil, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// ListOptions filter and page a listing. Parent lists a run's children
// (a dag's: the runs of its operations).
type ListOptions struct {
	Status, Project, Parent, After string
	// Kind keeps only schedules ("schedule") or sweeps ("matrix").
	Kind string
	// Order is OrderUUID (the default) or OrderNewest: the runs started by
	// no other run, newest first (not with Parent).
	Order string
	Limit int
	// Since, with Parent, lists only the children changed after that
	// store revision (a ListResponse's Revision).
	Since int64
	// visible, on the server, keeps only the runs of the projects the
	// request's token may act in.
	visible func(project string) bool
}

// Orders of a listing.
const (
	OrderUUID   = "uuid"
	OrderNewest = "newest"
)

// List lists runs.
func (c *Client) List(ctx context.Context, o ListOptions) (*ListResponse, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": o.Status, "project": o.Project, "parent": o.Parent, "after": o.After, "kind": o.Kind, "order": o.Order} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Since > 0 {
		q.Set("since", strconv.FormatInt(o.Since, 10))
	}
	var out ListResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/runs?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Graph reads a dag run's graph: its operations in topological order, each
// with its upstreams and the status of its run. For a run that is not a
// dag the error wraps engine.ErrNotPipeline; for an unknown run,
// store.ErrNotFound.
func (c *Client) Graph(ctx context.Context, uuid string) (*engine.Graph, error) {
	var g engine.Graph
	err := c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(uuid)+"/graph", nil, &g)
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case http.StatusBadRequest:
			ae.err = engine.ErrNotPipeline
		case http.StatusNotFound:
			ae.err = store.ErrNotFound
		}
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// Stop asks a run to stop.
func (c *Client) Stop(ctx context.Context, uuid string) (*store.Run, error) {
	return c.action(ctx, uuid, "stop")
}

// Approve approves a run waiting for approval.
func (c *Client) Approve(ctx context.Context, uuid string) (*store.Run, error) {
	return c.action(ctx, uuid, "approve")
}

// Resume starts a new attempt of a failed or stopped run.
func (c *Client) Resume(ctx context.Context, uuid string) (*store.Run, error) {
	return c.action(ctx, uuid, "resume")
}

// Restart makes a new run from a run's submission; it returns the new run.
func (c *Client) Restart(ctx context.Context, uuid string) (*store.Run, error) {
	return c.action(ctx, uuid, "restart")
}

func (c *Client) action(ctx context.Context, uuid, verb string) (*store.Run, error) {
	var run store.Run
	if err := c.do(ctx, http.MethodPost, "/api/v1/runs/"+url.PathEscape(uuid)+"/"+verb, nil, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// Logs streams a run's log (attempt 0 means the current one).
func (c *Client) Logs(ctx context.Context, uuid string, attempt int, follow bool) (io.ReadCloser, error) {
	q := url.Values{}
	if attempt > 0 {
		q.Set("attempt", strconv.Itoa(attempt))
	}
	if follow {
		q.Set("follow", "true")
	}
	resp, err := c.request(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(uuid)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
