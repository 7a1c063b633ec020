package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHostileRequests: a request's run id, query and body are checked
// before anything is read for them: what no run can be named is a 400
// that says what is wrong, an unknown run a 404, a malformed submission a
// 400 naming what in it is wrong; none of them stores anything.
func TestHostileRequests(t *testing.T) {
	srv, st := serve(t, nil)
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/api/v1/runs/..%2F..%2Fetc%2Fpasswd", "", 400, `the path's run id \"../../etc/passwd\" is not a run id`},
		{"GET", "/api/v1/runs/a.b/logs", "", 400, `\"a.b\" is not a run id`},
		{"POST", "/api/v1/runs/..%2Fx/stop", "", 400, "is not a run id"},
		{"GET", "/api/v1/runs/" + strings.Repeat("a", 129), "", 400, "1 to 128 letters"},
		{"GET", "/api/v1/runs?parent=..%2Fx", "", 400, `parent \"../x\" is not a run id`},
		{"GET", "/api/v1/runs?after=a%00b", "", 400, "after"},
		{"GET", "/api/v1/runs?limit=0", "", 400, "limit must be between 1 and 1000"},
		{"GET", "/api/v1/runs?since=1", "", 400, "goes with parent"},
		{"GET", "/api/v1/runs/0123456789abcdef0123456789abcdef", "", 404, "no run 0123456789abcdef0123456789abcdef"},
		{"GET", "/api/v1/runs/0123456789abcdef0123456789abcdef/logs", "", 404, "no run"},
		{"POST", "/api/v1/runs/0123456789abcdef0123456789abcdef/stop", "", 404, "not found"},
		{"POST", "/api/v1/runs", `{"spec": 5}`, 400, "SubmitRequest.spec of type string"},
		{"POST", "/api/v1/runs", `{"spec": "x", "bogus": 1}`, 400, `unknown field \"bogus\"`},
		{"POST", "/api/v1/runs", `[1, 2]`, 400, "want a JSON object of spec, params, name and project"},
		{"POST", "/api/v1/runs", `{"spec": "version: 1.1`, 400, "the body is not a submission"},
		{"POST", "/api/v1/runs", `{"params": {"a": 1}}`, 400, ""},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.code, tc.want)
		}
	}
	if page, err := st.List(t.Context(), "", 10, nil); err != nil || len(page.Runs) != 0 {
		t.Errorf("hostile requests stored runs: %v %v", page, err)
	}
}

// FuzzDecodeSubmission: any body decodes to a submission or to an error,
// never a panic; what decodes encodes and decodes again to itself.
func FuzzDecodeSubmission(f *testing.F) {
	for _, s := range []string{`{"spec": "version: 1.1", "params": {"lr": 0.1}, "name": "n", "project": "p"}`, `{"SPEC": ""}`,
		`{"spec": 5}`, `[]`, `{"params": {"a": {"b": [1, 2, {"c": null}]}}}`, `{"spec": "x", "x": 1}`, `{`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := decodeSubmission(data)
		if err != nil {
			if req != nil {
				t.Fatalf("an error (%v) and a submission", err)
			}
			return
		}
		again, err := json.Marshal(req)
		if err != nil {
			return // a value JSON cannot write again (such as a huge number)
		}
		back, err := decodeSubmission(again)
		if err != nil {
			t.Fatalf("%s decoded, but not as %s: %v", data, again, err)
		}
		if twice, err := json.Marshal(back); err != nil || !bytes.Equal(again, twice) {
			t.Fatalf("%s decoded to %s, then to %s (%v)", data, again, twice, err)
		}
	})
}

// FuzzListOptions: any query of GET /api/v1/runs is read or refused with
// a 400; what is read is within bounds and names runs only by run ids.
func FuzzListOptions(f *testing.F) {
	for _, s := range []string{"limit=10&status=running", "parent=abc&since=4", "after=../x", "kind=matrix", "limit=-1", "since=1", "parent=a%2Fb", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		o, code, body := listOptions(q)
		if code != 0 {
			if code != http.StatusBadRequest || body == nil {
				t.Fatalf("%q: %d %v", query, code, body)
			}
			return
		}
		if o.Limit < 1 || o.Limit > 1000 || o.Since < 0 || (o.Kind != "" && o.Kind != "schedule" && o.Kind != "matrix") {
			t.Fatalf("%q read as %+v", query, o)
		}
		for _, id := range []string{o.Parent, o.After} {
			if id != "" {
				if c, _ := checkRunID("id", id); c != 0 {
					t.Fatalf("%q passed %q", query, id)
				}
			}
		}
	})
}

// TestLogsAttemptQuery: a log's attempt that is not a number is a 400, one
// the run never had a 404.
func TestLogsAttemptQuery(t *testing.T) {
	srv, _ := serve(t, nil)
	c := &Client{BaseURL: srv.URL}
	run, err := c.Submit(t.Context(), SubmitRequest{Spec: hello, Params: map[string]any{"who": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, run.UUID, true)
	for query, want := range map[string]string{
		"attempt=x":  `400 {"error":"attempt must be a number, got \"x\""}`,
		"attempt=99": `404 {"error":"no log for attempt 99 of run ` + run.UUID + `"}`,
	} {
		resp, err := http.Get(srv.URL + "/api/v1/runs/" + run.UUID + "/logs?" + query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body)); got != want {
			t.Errorf("%s: %s, want %s", query, got, want)
		}
	}
}
