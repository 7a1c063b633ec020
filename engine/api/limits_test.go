package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// waiting is a spec that is stored and compiled but never run: the tests
// of many submissions start no process.
const waiting = "version: 1.1\nkind: component\nisApproved: false\ninputs: [{name: who, type: str}]\nrun: {container: {image: a, command: [echo, '{{ who }}']}}\n"

// paddedBody is the JSON body of a submission of waiting, padded with a
// comment to about size bytes.
func paddedBody(t *testing.T, size int) []byte {
	t.Helper()
	spec := "# " + strings.Repeat("x", max(size-len(waiting)-64, 0)) + "\n" + waiting
	body, err := json.Marshal(SubmitRequest{Spec: spec, Params: map[string]any{"who": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// post sends a submission whose body is read from body, with a
// Content-Length of length (-1: none, chunked), and returns its answer.
func post(t *testing.T, url string, body io.Reader, length int64) (*http.Response, Error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/api/v1/runs", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting: %v", err)
	}
	defer resp.Body.Close()
	var e Error
	if resp.StatusCode >= 300 {
		_ = json.NewDecoder(resp.Body).Decode(&e)
	}
	return resp, e
}

// held is a submission whose body the test sends when it chooses.
type held struct {
	w    *io.PipeWriter
	code chan int
}

// hold starts a submission of len(body) bytes whose body is not sent
// until send is called.
func hold(t *testing.T, url string, body []byte) *held {
	pr, pw := io.Pipe()
	h := &held{w: pw, code: make(chan int, 1)}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/api/v1/runs", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			h.code <- -1
			return
		}
		resp.Body.Close()
		h.code <- resp.StatusCode
	}()
	t.Cleanup(func() { pr.Close() })
	return h
}

// abort fails the body part-way: the server reads an error.
func (h *held) abort() {
	_ = h.w.CloseWithError(errors.New("the test aborts the body"))
	<-h.code
}

// send sends the body and returns the submission's status code.
func (h *held) send(body []byte) int {
	go func() {
		_, _ = h.w.Write(body)
		_ = h.w.Close()
	}()
	return <-h.code
}

func countRuns(t *testing.T, st *store.Store) []*store.Run {
	t.Helper()
	var runs []*store.Run
	for after := ""; ; {
		page, err := st.List(t.Context(), after, 500, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, page.Runs...)
		if page.Next == "" {
			return runs
		}
		after = page.Next
	}
}

// Submissions beyond the bytes in flight wait for room: however many
// arrive, no more than the limit are read at once.
func TestSubmissionsInFlightAreBounded(t *testing.T) {
	body := paddedBody(t, 64<<10)
	w := int64(len(body))
	srv, s, st := serveWith(t, &Server{Limits: Limits{MaxBody: w, InFlight: 4 * w, QueueWait: -1}})
	const n = 10
	var subs []*held
	for range n {
		subs = append(subs, hold(t, srv.URL, body))
	}
	// Four are admitted (and read, slowly); the others wait, unread.
	got := waitFor(t, s.admission, func(a admissionStats) bool { return a.Held == 4*w && a.Waiting == n-4 })
	if got.Peak != 4*w {
		t.Fatalf("%d bytes were in flight at once, over the limit of %d", got.Peak, 4*w)
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i, h := range subs {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = h.send(body) }()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusCreated {
			t.Errorf("submission %d: %d", i, code)
		}
	}
	if a := s.admission.stats(); a.Peak != 4*w || a.Held != 0 || a.Refused != 0 {
		t.Errorf("after them all: %+v, want a peak of %d bytes, none held or refused", a, 4*w)
	}
	if runs := countRuns(t, st); len(runs) != n {
		t.Errorf("%d runs stored, want %d", len(runs), n)
	}
}

// A submission that finds no room in time is answered 503 with a
// Retry-After, having read nothing. A body larger than all the room there
// is is answered 413.
func TestSubmissionBeyondTheCeiling(t *testing.T) {
	body := paddedBody(t, 64<<10)
	w := int64(len(body))
	srv, s, st := serveWith(t, &Server{Limits: Limits{MaxBody: 4 * w, InFlight: w, QueueWait: 50 * time.Millisecond}})
	first := hold(t, srv.URL, body)
	waitFor(t, s.admission, func(a admissionStats) bool { return a.Held == w })

	resp, e := post(t, srv.URL, bytes.NewReader(body), w)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !strings.Contains(e.Error, "--max-inflight") {
		t.Fatalf("with no room: %d, Retry-After %q, %q", resp.StatusCode, resp.Header.Get("Retry-After"), e.Error)
	}

	if code := first.send(body); code != http.StatusCreated {
		t.Fatalf("the submission admitted: %d", code)
	}

	// Larger than the room in flight, though under the largest body.
	resp, e = post(t, srv.URL, bytes.NewReader(paddedBody(t, 2*int(w))), -1)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "submissions in flight") {
		t.Errorf("a chunked body over the room in flight: %d %q", resp.StatusCode, e.Error)
	}
	big := paddedBody(t, 2*int(w))
	resp, e = post(t, srv.URL, bytes.NewReader(big), int64(len(big)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "submissions in flight") {
		t.Errorf("a body over the room in flight: %d %q", resp.StatusCode, e.Error)
	}
	if runs := countRuns(t, st); len(runs) != 1 {
		t.Errorf("%d runs stored, want 1", len(runs))
	}
	if a := s.admission.stats(); a.Held != 0 || a.Peak != w {
		t.Errorf("%+v, want nothing held and a peak of %d", a, w)
	}
}

// The client, refused for want of room, waits the second asked and
// tries again.
func TestClientTriesAgainWhenRefused(t *testing.T) {
	body := paddedBody(t, 64<<10)
	w := int64(len(body))
	srv, s, st := serveWith(t, &Server{Limits: Limits{MaxBody: w, InFlight: w, QueueWait: time.Second}})
	first := hold(t, srv.URL, body)
	waitFor(t, s.admission, func(a admissionStats) bool { return a.Held == w })
	retried := make(chan error, 1)
	go func() {
		_, err := (&Client{BaseURL: srv.URL}).Submit(t.Context(), SubmitRequest{Spec: waiting, Params: map[string]any{"who": "again"}})
		retried <- err
	}()
	waitFor(t, s.admission, func(a admissionStats) bool { return a.Refused == 1 })
	if code := first.send(body); code != http.StatusCreated {
		t.Fatalf("the submission admitted: %d", code)
	}
	if err := <-retried; err != nil {
		t.Fatalf("the client trying again: %v", err)
	}
	if runs := countRuns(t, st); len(runs) != 2 {
		t.Errorf("%d runs stored, want 2", len(runs))
	}
}

// The client reads the 503 of a submission refused for want of room
// although its body is larger than what the connection buffers: it sends
// the body only once the server reads it.
func TestClientReadsTheRefusalOfALargeBody(t *testing.T) {
	body := paddedBody(t, 12<<20)
	w := int64(len(body))
	srv, s, _ := serveWith(t, &Server{Limits: Limits{MaxBody: w, InFlight: w, QueueWait: 50 * time.Millisecond}})
	first := hold(t, srv.URL, body)
	waitFor(t, s.admission, func(a admissionStats) bool { return a.Held == w })
	var req SubmitRequest
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	// The client tries again after each 503 (a second later) and, refused
	// each time, returns the last: cancelling it instead could cut its read
	// of a 503 short.
	_, err := (&Client{BaseURL: srv.URL}).Submit(t.Context(), req)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != http.StatusServiceUnavailable || ae.RetryAfter != time.Second {
		t.Fatalf("refused: %v, want a 503 asking to try again after 1s", err)
	}
	if a := s.admission.stats(); a.Refused != submitRetries+1 {
		t.Errorf("%d refusals, want %d (one per try)", a.Refused, submitRetries+1)
	}
	first.abort() // rather than store 12 MiB
	waitFor(t, s.admission, func(a admissionStats) bool { return a.Held == 0 })
}

// zeros is n bytes of '0', made as they are read.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	for i := range p[:k] {
		p[i] = '0'
	}
	z.n -= k
	return int(k), nil
}

// Bodies over the largest one are answered 413, with a Content-Length
// at once, chunked once the limit is read; nothing is stored.
func TestOversizedBodies(t *testing.T) {
	srv, s, st := serveWith(t, &Server{})
	for name, length := range map[string]int64{"200 MB": 200 << 20, "200 MB, chunked": -1} {
		resp, e := post(t, srv.URL, &zeros{n: 200 << 20}, length)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "larger than the limit of 2MiB (plexus server --max-body)") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, e.Error)
		}
	}
	if runs := countRuns(t, st); len(runs) != 0 {
		t.Errorf("%d runs stored", len(runs))
	}
	if a := s.admission.stats(); a.Held != 0 || a.Peak > DefaultMaxBody {
		t.Errorf("%+v, want nothing held and at most %d bytes at once", a, DefaultMaxBody)
	}
}

func TestMalformedBodiesAre400(t *testing.T) {
	srv, _, st := serveWith(t, &Server{})
	for name, body := range map[string]string{
		"empty":          "",
		"cut":            `{"spec": "version: 1.1`,
		"not an object":  `["version: 1.1"]`,
		"a string":       `"version: 1.1"`,
		"spec a number":  `{"spec": 11}`,
		"unknown field":  `{"spec": "version: 1.1", "specs": "x"}`,
		"trailing data":  `{"spec": "version: 1.1"} {}`,
		"params a list":  `{"spec": "version: 1.1", "params": [1]}`,
		"invalid escape": `{"spec": "\x"}`,
	} {
		resp, e := post(t, srv.URL, strings.NewReader(body), int64(len(body)))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, "the body is not a submission") {
			t.Errorf("%s: %d %q", name, resp.StatusCode, e.Error)
		}
	}
	// Fields match without regard to case, as encoding/json matches them.
	body := `{"Spec": ` + fmt.Sprintf("%q", waiting) + `, "PARAMS": {"who": "x"}}`
	if resp, e := post(t, srv.URL, strings.NewReader(body), int64(len(body))); resp.StatusCode != http.StatusCreated {
		t.Errorf("fields in capitals: %d %q", resp.StatusCode, e.Error)
	}
	if runs := countRuns(t, st); len(runs) != 1 {
		t.Errorf("%d runs stored, want 1", len(runs))
	}
}

// dialSlowly opens a connection, writes start, then one byte of more a
// second (if any) until the connection fails or the test ends.
func dialSlowly(t *testing.T, addr, start, more string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, start); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if more == "" {
			<-stop
			return
		}
		for i := 0; ; i = (i + 1) % len(more) {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if _, err := conn.Write([]byte{more[i]}); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); conn.Close(); <-done })
	// A safety net: a server that never cuts the connection fails the
	// test rather than hanging it.
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	return conn
}

// A client sending its body a byte a second is cut by the body timeout:
// answered 408, its room given back, nothing stored. One sending its
// headers so is cut by the header timeout, and an idle connection by the
// idle timeout.
func TestSlowClientsAreCut(t *testing.T) {
	limits := Limits{BodyTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	srv, s, st := serveWith(t, &Server{Limits: limits})
	addr := srv.Listener.Addr().String()

	conn := dialSlowly(t, addr, "POST /api/v1/runs HTTP/1.1\r\nHost: plexus\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("a slow body: %v", err)
	}
	var e Error
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(e.Error, "did not arrive within 300ms") {
		t.Errorf("a slow body: %d %q", resp.StatusCode, e.Error)
	}
	waitFor(t, s.admission, func(a admissionStats) bool { return a.Held == 0 })

	// No answer to headers that never end: the connection is closed.
	conn = dialSlowly(t, addr, "POST /api/v1/runs HTTP/1.1\r\nHost: plexus\r\nX-Slow: ", "x")
	if n, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("slow headers: read %d bytes, %v; want the connection closed", n, err)
	}

	// An idle connection is closed after a request.
	conn = dialSlowly(t, addr, "GET /healthz HTTP/1.1\r\nHost: plexus\r\n\r\n", "")
	rd := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(rd, nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v", err)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n, err := rd.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("an idle connection: read %d bytes, %v; want it closed", n, err)
	}
	if runs := countRuns(t, st); len(runs) != 0 {
		t.Errorf("%d runs stored", len(runs))
	}
}

// Many submissions at once are all stored, each once. (A thousand, as
// e2e/bench/apimem sends with -n 1000, overload an etcd under the race
// detector on a small machine: its requests time out.)
func TestConcurrentSubmissionsStoredOnce(t *testing.T) {
	srv, _, st := serveWith(t, &Server{})
	c := &Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}}
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := c.Submit(t.Context(), SubmitRequest{Spec: waiting, Params: map[string]any{"who": fmt.Sprint(i)}})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	seen := map[string]int{}
	for _, r := range countRuns(t, st) {
		seen[fmt.Sprint(r.Params["who"])]++
	}
	for i := range n {
		if k := seen[fmt.Sprint(i)]; k != 1 {
			t.Errorf("submission %d stored %d times", i, k)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct submissions stored, want %d", len(seen), n)
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"2MiB": 2 << 20, "2Mi": 2 << 20, "512KiB": 512 << 10, "1Gi": 1 << 30, "1048576": 1 << 20, "7B": 7, "3 MiB": 3 << 20,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, err := ParseSize(FormatSize(got)); err != nil || back != got {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "MiB", "2MB", "-1MiB", "0", "1.5MiB", "9999999999GiB"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
	for n, want := range map[int64]string{2 << 20: "2MiB", 1 << 30: "1GiB", 3 << 10: "3KiB", 1000: "1000", 0: "0"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
