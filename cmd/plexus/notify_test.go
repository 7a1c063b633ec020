package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

// notifyServer records what it is sent and answers with the next of
// answers (the last one again when they run out).
type notifyServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []notifyRequest
}

type notifyRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

// notifyAnswer is one answer; hangUp closes the connection instead, and
// hang waits for the client to give up.
type notifyAnswer struct {
	code       int
	body       string
	retryAfter string
	location   string
	hangUp     bool
	hang       bool
}

func newNotifyServer(t *testing.T, answers ...notifyAnswer) *notifyServer {
	s := &notifyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, notifyRequest{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
		a := notifyAnswer{code: http.StatusOK, body: "ok"}
		if n := len(s.requests); len(answers) > 0 {
			a = answers[min(n, len(answers))-1]
		}
		s.mu.Unlock()
		switch {
		case a.hangUp:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		case a.hang:
			<-r.Context().Done()
			return
		}
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		if a.location != "" {
			w.Header().Set("Location", a.location)
		}
		w.WriteHeader(a.code)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *notifyServer) sent() []notifyRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notifyRequest(nil), s.requests...)
}

// runCLI runs plexus with args and returns its exit code and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func decodeBody(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

func TestNotifyWebhook(t *testing.T) {
	srv := newNotifyServer(t)
	code, stdout, stderr := runCLI("notify", "webhook", "--url", srv.URL+"/runs/done?token=t0k3n",
		"--method", "put",
		"--header", "Authorization: Bearer s3cret",
		"--header", "X-Team:ml",
		"--payload-json", `{"source": "plexus", "name": "replaced", "nested": {"a": 1}}`,
		"--field", "name=train",
		"--field", `quoted="007"`,
		"--field", "number=007",
		"--field", "duration=12.5",
		"--field", "big=12345678901234567890",
		"--field", "ok=true",
		"--field", "nothing=null",
		"--field", "list=[1, \"a\"]",
		"--field", `inputs={"lr": 0.1}`,
		"--field", "text=hello world",
		"--field", "with=equals=sign",
		"--field", "empty=",
	)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "notified " + srv.URL + "/runs/done?REDACTED: 200 OK\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if strings.Contains(stdout+stderr, "s3cret") || strings.Contains(stdout+stderr, "t0k3n") {
		t.Errorf("a secret was printed: %q %q", stdout, stderr)
	}
	sent := srv.sent()
	if len(sent) != 1 {
		t.Fatalf("%d requests, want 1", len(sent))
	}
	r := sent[0]
	if r.Method != http.MethodPut || r.Path != "/runs/done?token=t0k3n" {
		t.Errorf("sent %s %s", r.Method, r.Path)
	}
	for name, want := range map[string]string{"Content-Type": "application/json", "Authorization": "Bearer s3cret", "X-Team": "ml"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s %q, want %q", name, got, want)
		}
	}
	want := map[string]any{
		"source":   "plexus",
		"nested":   map[string]any{"a": 1.0},
		"name":     "train",
		"quoted":   "007",
		"number":   "007",
		"duration": 12.5,
		"big":      1.2345678901234567e19,
		"ok":       true,
		"nothing":  nil,
		"list":     []any{1.0, "a"},
		"inputs":   map[string]any{"lr": 0.1},
		"text":     "hello world",
		"with":     "equals=sign",
	}
	if diff := cmp.Diff(want, decodeBody(t, r.Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.Body, `"big":12345678901234567890`) {
		t.Errorf("a number was not sent as written: %s", r.Body)
	}
}

func TestNotifySlack(t *testing.T) {
	srv := newNotifyServer(t)
	code, stdout, stderr := runCLI("notify", "slack", "--url", srv.URL+"/services/T0/B0/s3cret",
		"--payload-json", `{"channel": "#ml"}`,
		"--field", `name="train"`,
		"--field", "uuid=8f3c2a9e",
		"--field", "status=failed",
		"--field", "duration=65.4",
		"--field", "project=speech",
		"--field", "kind=job",
		"--field", `condition="exited with 1 <OOM>"`,
		"--field", `outputs={"loss": 0.25, "model": "s3://b/m", "acc": null}`,
		"--field", `inputs={"lr": 0.1}`,
		"--field", "finished_at=",
	)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "notified " + srv.URL + "/services/REDACTED: 200 OK\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	sent := srv.sent()
	if len(sent) != 1 || sent[0].Method != http.MethodPost || sent[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("sent %+v", sent)
	}
	want := map[string]any{
		"channel": "#ml",
		"text":    "Run train (8f3c2a9e) failed in 1m5s\nproject: speech, kind: job\nexited with 1 &lt;OOM&gt;\nacc=null\nloss=0.25\nmodel=s3://b/m",
	}
	if diff := cmp.Diff(want, decodeBody(t, sent[0].Body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}

	// The payload's own text is kept.
	if code, _, stderr := runCLI("notify", "slack", "--url", srv.URL, "--payload-json", `{"text": "mine"}`, "--field", "status=failed"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := decodeBody(t, srv.sent()[1].Body); !cmp.Equal(got, map[string]any{"text": "mine"}) {
		t.Errorf("body %v, want the payload's text", got)
	}
}

func TestSlackText(t *testing.T) {
	cases := map[string]struct {
		fields map[string]any
		want   string
	}{
		"nothing":             {nil, "Run finished"},
		"name only":           {map[string]any{"name": "train"}, "Run train finished"},
		"uuid only":           {map[string]any{"uuid": "8f3c", "status": "succeeded"}, "Run 8f3c succeeded"},
		"succeeded in":        {map[string]any{"name": "a", "uuid": "u", "status": "succeeded", "duration": json.Number("12")}, "Run a (u) succeeded in 12s"},
		"under a second":      {map[string]any{"name": "a", "status": "failed", "duration": 0.25}, "Run a failed in 250ms"},
		"a duration string":   {map[string]any{"name": "a", "status": "failed", "duration": "3725"}, "Run a failed in 1h2m5s"},
		"a bad duration":      {map[string]any{"name": "a", "status": "failed", "duration": "long"}, "Run a failed"},
		"stopped after":       {map[string]any{"name": "a", "status": "stopped", "duration": 3.0}, "Run a was stopped after 3s"},
		"skipped":             {map[string]any{"name": "a", "status": "skipped", "duration": 0.0}, "Run a was skipped"},
		"upstream failed":     {map[string]any{"name": "a", "status": "upstream_failed", "duration": 0.0}, "Run a was not run: an upstream failed"},
		"project only":        {map[string]any{"name": "a", "project": "p"}, "Run a finished\nproject: p"},
		"outputs not objects": {map[string]any{"name": "a", "outputs": "loss=1"}, "Run a finished"},
		"outputs":             {map[string]any{"name": "a", "outputs": map[string]any{"b": json.Number("2"), "a": []any{"x"}}}, "Run a finished\na=[\"x\"]\nb=2"},
		"escaped":             {map[string]any{"name": "a&b", "condition": "<!channel>"}, "Run a&amp;b finished\n&lt;!channel&gt;"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := slackText(tc.fields); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// testNotifier is a notifier that records its waits instead of sleeping.
func testNotifier(retries int, waits *[]time.Duration, log io.Writer) *notifier {
	return &notifier{
		client:        newNotifyClient(5 * time.Second),
		retries:       retries,
		backoff:       time.Second,
		maxBackoff:    4 * time.Second,
		maxRetryAfter: time.Minute,
		sleep: func(_ context.Context, d time.Duration) error {
			*waits = append(*waits, d)
			return nil
		},
		log: log,
	}
}

func TestNotifierRetries(t *testing.T) {
	fail500 := notifyAnswer{code: 500, body: "down"}
	cases := map[string]struct {
		answers  []notifyAnswer
		retries  int
		requests int
		waits    []time.Duration
		status   string // on success
		err      string // else
		code     int    // of the status error, if any
	}{
		"500 then success": {
			answers: []notifyAnswer{fail500, fail500, {code: 204}}, retries: 3,
			requests: 3, waits: []time.Duration{time.Second, 2 * time.Second}, status: "204 No Content",
		},
		"a hang-up then success": {
			answers: []notifyAnswer{{hangUp: true}, {code: 200}}, retries: 3,
			requests: 2, waits: []time.Duration{time.Second}, status: "200 OK",
		},
		"the back-off is capped": {
			answers: []notifyAnswer{{code: 503}}, retries: 5,
			requests: 6, waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second},
			err: "503 Service Unavailable (gave up after 6 attempts)", code: 503,
		},
		"no retries": {
			answers: []notifyAnswer{fail500}, retries: 0,
			requests: 1, err: "500 Internal Server Error: down", code: 500,
		},
		"429 with Retry-After": {
			answers: []notifyAnswer{{code: 429, retryAfter: "7"}, {code: 200}}, retries: 3,
			requests: 2, waits: []time.Duration{7 * time.Second}, status: "200 OK",
		},
		"Retry-After is capped": {
			answers: []notifyAnswer{{code: 503, retryAfter: "999999999999"}, {code: 200}}, retries: 3,
			requests: 2, waits: []time.Duration{time.Minute}, status: "200 OK",
		},
		"a Retry-After date is a back-off": {
			answers: []notifyAnswer{{code: 429, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"}, {code: 200}}, retries: 3,
			requests: 2, waits: []time.Duration{time.Second}, status: "200 OK",
		},
		"404 fails at once": {
			answers: []notifyAnswer{{code: 404, body: "no such hook"}}, retries: 3,
			requests: 1, err: ": 404 Not Found: no such hook", code: 404,
		},
		"400 fails at once, with the body's start": {
			answers: []notifyAnswer{{code: 400, body: "bad\n" + strings.Repeat("x", 300)}}, retries: 3,
			requests: 1, err: ": 400 Bad Request: bad " + strings.Repeat("x", 196), code: 400,
		},
		"a redirect is not followed: it fails": {
			answers: []notifyAnswer{{code: 302, location: "/elsewhere"}}, retries: 3,
			requests: 1, err: ": 302 Found", code: 302,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := newNotifyServer(t, tc.answers...)
			var waits []time.Duration
			var log bytes.Buffer
			n := testNotifier(tc.retries, &waits, &log)
			status, err := n.send(context.Background(), delivery{method: http.MethodPost, url: srv.URL + "/h", shown: "SHOWN", header: http.Header{}, body: []byte("{}")})
			if got := len(srv.sent()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if diff := cmp.Diff(tc.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if strings.Count(log.String(), "retrying in") != len(tc.waits) {
				t.Errorf("log:\n%s", log.String())
			}
			if tc.err == "" {
				if err != nil || status != tc.status {
					t.Fatalf("got %q, %v, want %q", status, err, tc.status)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "notifying SHOWN") {
				t.Fatalf("got %v, want an error with %q", err, tc.err)
			}
			var se *statusError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Errorf("got %#v, want a status error %d", err, tc.code)
			}
		})
	}
}

// TestNotifierStopsWithItsContext: a cancelled context ends the retries.
func TestNotifierStopsWithItsContext(t *testing.T) {
	srv := newNotifyServer(t, notifyAnswer{code: 500})
	ctx, cancel := context.WithCancel(context.Background())
	n := testNotifier(5, new([]time.Duration), io.Discard)
	n.sleep = func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}
	_, err := n.send(ctx, delivery{method: http.MethodPost, url: srv.URL, shown: "SHOWN", header: http.Header{}})
	if !errors.Is(err, context.Canceled) || len(srv.sent()) != 1 {
		t.Fatalf("got %v after %d requests, want context.Canceled after 1", err, len(srv.sent()))
	}
}

func TestNotifyTimeout(t *testing.T) {
	srv := newNotifyServer(t, notifyAnswer{hang: true})
	start := time.Now()
	code, _, stderr := runCLI("notify", "webhook", "--url", srv.URL+"/h?key=k3y", "--timeout", "100ms", "--retries", "0")
	if code == 0 || !strings.Contains(stderr, "notifying "+srv.URL+"/h?REDACTED: no answer within 100ms") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "k3y") {
		t.Errorf("the query was printed: %s", stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestNotifyRedacts: errors and logs name the URL without its user info,
// its query or a Slack webhook's secret path, and never print a header's
// value.
func TestNotifyRedacts(t *testing.T) {
	srv := newNotifyServer(t, notifyAnswer{code: 401, body: "invalid_token"})
	host := strings.TrimPrefix(srv.URL, "http://")
	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	secrets := []string{"us3r", "pa55", "t0k3n", "s3cret", "B0"}
	cases := map[string]struct {
		args []string
		want string
	}{
		"a refusal": {
			args: []string{"webhook", "--url", "http://us3r:pa55@" + host + "/hook?token=t0k3n", "--header", "Authorization: Bearer s3cret"},
			want: "Error: notifying http://REDACTED@" + host + "/hook?REDACTED: 401 Unauthorized: invalid_token\n",
		},
		"a network error": {
			args: []string{"webhook", "--url", "http://us3r:pa55@" + closedHost + "/hook?token=t0k3n", "--retries", "0"},
			want: "Error: notifying http://REDACTED@" + closedHost + "/hook?REDACTED: ",
		},
		"a Slack webhook": {
			args: []string{"slack", "--url", "http://" + host + "/services/T0/B0/s3cret"},
			want: "Error: notifying http://" + host + "/services/REDACTED: 401 Unauthorized: invalid_token\n",
		},
		"a bad header": {
			args: []string{"webhook", "--url", srv.URL, "--header", "X-Ok: 1", "--header", "Authorization Bearer s3cret"},
			want: "Error: --header number 2 is not \"Name: value\"\n",
		},
		"a header with a newline": {
			args: []string{"webhook", "--url", srv.URL, "--header", "Authorization: s3cret\nX: y"},
			want: "Error: --header Authorization: the value holds a control character\n",
		},
		"a URL with no host": {
			args: []string{"webhook", "--url", "http://us3r:pa55@/x?token=t0k3n"},
			want: "Error: --url http://REDACTED@/x?REDACTED has no host\n",
		},
		"a URL that does not parse": {
			args: []string{"webhook", "--url", "http://us3r:pa55@h:port/x?token=t0k3n"},
			want: "Error: --url is not a URL: invalid port \":port\" after host\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"notify"}, tc.args...)...)
			if code == 0 || !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want it to start with %q", code, stderr, tc.want)
			}
			for _, s := range secrets {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("%q was printed: %q", s, stdout+stderr)
				}
			}
		})
	}
}

func TestNotifyUsage(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no url":            {[]string{"webhook"}, `required flag(s) "url" not set`},
		"not http":          {[]string{"webhook", "--url", "ftp://h/x"}, `--url must be an http or https URL, got scheme "ftp"`},
		"no scheme":         {[]string{"slack", "--url", "hooks.slack.com/services/x"}, "--url must be an http or https URL, starting with http:// or https://"},
		"a field":           {[]string{"webhook", "--url", "http://h", "--field", "novalue"}, `--field "novalue": expected name=value`},
		"a field name":      {[]string{"webhook", "--url", "http://h", "--field", "=1"}, `--field "=1": expected name=value`},
		"a field twice":     {[]string{"webhook", "--url", "http://h", "--field", "a=1", "--field", "a=2"}, "--field a is given twice"},
		"a payload":         {[]string{"webhook", "--url", "http://h", "--payload-json", "{"}, "--payload-json is not valid JSON"},
		"a payload list":    {[]string{"slack", "--url", "http://h", "--payload-json", "[1]"}, "--payload-json must be a JSON object"},
		"a method":          {[]string{"webhook", "--url", "http://h", "--method", "PO ST"}, `--method "PO ST" is not an HTTP method`},
		"a timeout":         {[]string{"webhook", "--url", "http://h", "--timeout", "0s"}, "--timeout must be positive, got 0s"},
		"retries":           {[]string{"webhook", "--url", "http://h", "--retries", "-1"}, "--retries must be 0 or more, got -1"},
		"an argument":       {[]string{"webhook", "--url", "http://h", "extra"}, `unknown command "extra"`},
		"slack has no verb": {[]string{"slack", "--url", "http://h", "--method", "GET"}, "unknown flag: --method"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"notify"}, tc.args...)...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
		})
	}
}

// TestNotifyHubComponents runs the command the hub's notifier components
// compile to, as a hook's pod would: the run's params reach the webhook
// with their types, and Slack as a message.
func TestNotifyHubComponents(t *testing.T) {
	ctx := func(v any) specs.Param { return specs.Param{Value: v, ContextOnly: true} }
	defaults := map[string]specs.Param{
		"name":        ctx("123"),
		"uuid":        ctx("8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b"),
		"kind":        ctx("job"),
		"project":     ctx("speech"),
		"status":      ctx("succeeded"),
		"condition":   ctx(`done "well" <b> & 'so'`),
		"inputs":      ctx(map[string]any{"lr": 0.1, "tags": []any{"a"}}),
		"outputs":     ctx(map[string]any{"loss": 0.25}),
		"duration":    ctx(12.346),
		"created_at":  ctx("2026-11-28T12:00:00Z"),
		"finished_at": ctx(nil),
	}
	compiled := func(t *testing.T, hubRef, url string, disableDefaults bool) []string {
		t.Helper()
		files, err := specs.Parse("hook.yaml", []byte("version: 1.1\nkind: operation\nhubRef: "+hubRef+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		op := files[0].Operation
		op.Params = map[string]specs.Param{"url": {Value: url}}
		if !disableDefaults {
			for k, v := range defaults {
				op.Params[k] = v
			}
		}
		res, err := compiler.Resolve(context.Background(), files[0], "", compiler.Sources{Hub: hub.Builtin()})
		if err != nil {
			t.Fatal(err)
		}
		c, err := compiler.Compile(op, res.Of(op).Component, compiler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctr := c.Component.Run.(*specs.Job).Container
		if ctr.Command[0] != "/usr/local/bin/plexus" {
			t.Fatalf("command %q", ctr.Command)
		}
		return append(append([]string(nil), ctr.Command[1:]...), ctr.Args...)
	}
	srv := newNotifyServer(t)
	cases := map[string]struct {
		hubRef          string
		disableDefaults bool
		want            map[string]any
	}{
		"webhook": {hubRef: "webhook", want: map[string]any{
			"name": "123", "uuid": "8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b", "kind": "job", "project": "speech", "status": "succeeded",
			"condition": `done "well" <b> & 'so'`, "inputs": map[string]any{"lr": 0.1, "tags": []any{"a"}},
			"outputs": map[string]any{"loss": 0.25}, "duration": 12.346, "created_at": "2026-11-28T12:00:00Z",
		}},
		"webhook without defaults": {hubRef: "webhook", disableDefaults: true, want: map[string]any{}},
		"slack": {hubRef: "slack", want: map[string]any{
			"text": "Run 123 (8f3c2a9e4b1d4e6f9a7b5c3d2e1f0a9b) succeeded in 12s\nproject: speech, kind: job\ndone \"well\" &lt;b&gt; &amp; 'so'\nloss=0.25",
		}},
		"slack without defaults": {hubRef: "slack", disableDefaults: true, want: map[string]any{"text": "Run finished"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(srv.sent())
			code, stdout, stderr := runCLI(compiled(t, tc.hubRef, srv.URL+"/hook", tc.disableDefaults)...)
			if code != 0 || !strings.HasPrefix(stdout, "notified ") {
				t.Fatalf("exit %d: %s%s", code, stdout, stderr)
			}
			sent := srv.sent()
			if len(sent) != before+1 {
				t.Fatalf("%d requests, want 1", len(sent)-before)
			}
			if diff := cmp.Diff(tc.want, decodeBody(t, sent[before].Body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}
