//go:build unix

package hostile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/e2e/plexusbin"
)

// bin is the plexus binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plexus-hostile")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if bin, err = plexusbin.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is one `plexus server` process on a PLEXUS_HOME.
type server struct {
	home   string
	url    string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
}

// start runs a server on home (its embedded etcd there) and waits until
// it answers /healthz; it returns an error if it dies or does not answer
// within a minute.
func start(home string) (*server, error) {
	addr := filepath.Join(home, "addr")
	_ = os.Remove(addr)
	s := &server{home: home, log: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "server", "--listen", "127.0.0.1:0", "--addr-file", addr)
	s.cmd.Env = append(os.Environ(), "PLEXUS_HOME="+home)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its runs' processes go with it
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if !s.alive() {
			return s, fmt.Errorf("the server exited as it started: %v", s.cmd.ProcessState)
		}
		if s.url == "" {
			if b, err := os.ReadFile(addr); err == nil && strings.HasSuffix(string(b), "\n") {
				s.url = strings.TrimSpace(string(b))
			}
		} else if code, _, err := s.do("GET", "/healthz", nil); err == nil && code == http.StatusOK {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return s, errors.New("the server did not answer /healthz within a minute")
		}
	}
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// diedWithin says whether the server exits within d.
func (s *server) diedWithin(d time.Duration) bool {
	select {
	case <-s.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// stop interrupts the server (it resigns and stops its runs), killing it
// if it does not exit within ten seconds.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	if !s.diedWithin(10 * time.Second) {
		s.kill()
	}
}

func (s *server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

var client = &http.Client{Timeout: 60 * time.Second}

// do sends a request to the API and reads its answer.
func (s *server) do(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// run is what the API says of a run.
type run struct {
	UUID       string `json:"uuid"`
	Status     string `json:"status"`
	Conditions []struct {
		Type, Reason, Message string
	} `json:"conditions"`
}

func (r run) final() bool {
	switch r.Status {
	case "succeeded", "failed", "stopped", "skipped", "upstream_failed":
		return true
	}
	return false
}

func (r run) last() string {
	if len(r.Conditions) == 0 {
		return ""
	}
	c := r.Conditions[len(r.Conditions)-1]
	return fmt.Sprintf("%s %s: %.200s", c.Type, c.Reason, c.Message)
}

// get reads a run.
func (s *server) get(uuid string) (run, error) {
	code, body, err := s.do("GET", "/api/v1/runs/"+uuid, nil)
	if err != nil {
		return run{}, err
	}
	if code != http.StatusOK {
		return run{}, fmt.Errorf("GET run %s: %d %s", uuid, code, body)
	}
	var r run
	return r, json.Unmarshal(body, &r)
}

// waitFinal polls a run until it ends, the server dies, or d passes.
func (s *server) waitFinal(uuid string, d time.Duration) (run, error) {
	var r run
	var err error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !s.alive() {
			return r, errors.New("the server died while the run was handled")
		}
		if r, err = s.get(uuid); err == nil && r.final() {
			return r, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("not final after %v: %s (%s)", d, r.Status, r.last())
	}
	return r, err
}

// poison is one hostile submission.
type poison struct {
	name   string
	spec   string
	params map[string]any
	expect string // refused, failed, succeeded or final
}

var expectRE = regexp.MustCompile(`(?m)^# expect: (refused|failed|succeeded|final)\s*$`)

// poisons reads testdata/hostile/poison: every *.yaml, with its
// NAME.params.json when there is one; PLEXUS_POISON=a,b keeps those.
func poisons(t *testing.T) []poison {
	dir := filepath.Join("..", "..", "testdata", "hostile", "poison")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no poison in %s: %v", dir, err)
	}
	var only []string
	if v := os.Getenv("PLEXUS_POISON"); v != "" {
		only = strings.Split(v, ",")
	}
	var out []poison
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if only != nil && !slices.Contains(only, name) {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := poison{name: name, spec: string(data), expect: "final"}
		if m := expectRE.FindStringSubmatch(p.spec); m != nil {
			p.expect = m[1]
		}
		if b, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".params.json"); err == nil {
			if err := json.Unmarshal(b, &p.params); err != nil {
				t.Fatalf("%s.params.json: %v", name, err)
			}
		}
		out = append(out, p)
	}
	return out
}

// outcome is what became of one poison.
type outcome struct {
	name, expect string
	code         int    // the submission's answer
	run          run    // the accepted run, at its end
	bad          string // what went wrong, "" when all is well
}

// TestPoisonsNeverStopTheServer submits each poison to a server, checks
// that it is refused with a 4xx or that its run ends while the server
// stays up, then restarts the server twice on the same data: it comes
// back, answers, and every run it accepted is final.
func TestPoisonsNeverStopTheServer(t *testing.T) {
	list := poisons(t)
	fresh := func() *server {
		s, err := start(t.TempDir())
		if err != nil {
			t.Fatalf("starting a server: %v\n%s", err, logOf(s))
		}
		return s
	}
	s := fresh()
	defer func() {
		if s != nil {
			s.stop()
		}
	}()
	var outcomes []outcome
	accepted := map[string]string{} // uuid → poison, on the server's current data
	for _, p := range list {
		o := outcome{name: p.name, expect: p.expect}
		o.code, o.run, o.bad = submit(s, p)
		if o.bad == "" && !s.alive() {
			o.bad = "the server died"
		}
		if !s.alive() || strings.HasPrefix(o.bad, "hung") {
			// Its data is poisoned: does a restart on it come back?
			s.kill()
			again, err := start(s.home)
			switch {
			case err != nil:
				o.bad += "; a restart on its data fails too: " + err.Error()
			case again.diedWithin(5 * time.Second):
				o.bad += "; a restart on its data dies again"
			default:
				o.bad += "; a restart on its data comes back"
			}
			if again != nil {
				again.stop()
			}
			t.Logf("%s took the server down; its log ends:\n%s", p.name, tail(s.log.String(), 3000))
			s, accepted = fresh(), map[string]string{}
		} else if o.run.UUID != "" {
			accepted[o.run.UUID] = p.name
		}
		if o.bad == "" {
			switch {
			case p.expect == "refused" && o.run.UUID != "":
				o.bad = "accepted, expected refused at submission (its run " + o.run.Status + ")"
			case (p.expect == "failed" || p.expect == "succeeded") && o.run.UUID == "":
				o.bad = fmt.Sprintf("refused (%d), expected accepted and %s", o.code, p.expect)
			case (p.expect == "failed" || p.expect == "succeeded") && o.run.Status != p.expect:
				o.bad = "its run " + o.run.Status + ", expected " + p.expect
			}
		}
		outcomes = append(outcomes, o)
	}

	// Restarted twice on the same data: it comes back, lists, and every
	// run it accepted is final.
	for i := range 2 {
		s.stop()
		var err error
		if s, err = start(s.home); err != nil {
			t.Fatalf("restart %d: %v\n%s", i+1, err, logOf(s))
		}
		if s.diedWithin(3 * time.Second) {
			t.Fatalf("restart %d: the server died on its data\n%s", i+1, tail(s.log.String(), 3000))
		}
		code, body, err := s.do("GET", "/api/v1/runs?limit=1000", nil)
		var page struct {
			Runs       []run    `json:"runs"`
			Unreadable []string `json:"unreadable"`
		}
		if err == nil {
			err = json.Unmarshal(body, &page)
		}
		if err != nil || code != http.StatusOK || len(page.Unreadable) > 0 {
			t.Errorf("restart %d: listing runs: %d, %v, unreadable %q", i+1, code, err, page.Unreadable)
		}
		for uuid, name := range accepted {
			if r, err := s.waitFinal(uuid, 30*time.Second); err != nil {
				t.Errorf("restart %d: the run of %s: %v", i+1, name, err)
			} else if i == 0 {
				t.Logf("after a restart, the run of %s is %s", name, r.Status)
			}
		}
	}

	var report strings.Builder
	fmt.Fprintf(&report, "%-28s %-9s %-5s %s\n", "POISON", "EXPECT", "CODE", "OUTCOME")
	for _, o := range outcomes {
		what := "refused"
		if o.run.UUID != "" {
			what = o.run.Status + ": " + o.run.last()
		}
		if o.bad != "" {
			what = "BAD: " + o.bad
			t.Errorf("poison %s: %s", o.name, o.bad)
		}
		fmt.Fprintf(&report, "%-28s %-9s %-5d %s\n", o.name, o.expect, o.code, what)
	}
	t.Logf("poisons:\n%s", report.String())
}

// submit posts a poison and follows its run to its end; bad says what
// went wrong.
func submit(s *server, p poison) (code int, r run, bad string) {
	body := map[string]any{"spec": p.spec}
	if p.params != nil {
		body["params"] = p.params
	}
	code, answer, err := s.do("POST", "/api/v1/runs", body)
	switch {
	case err != nil && s.diedWithin(2*time.Second):
		return 0, r, "the server died at submission"
	case err != nil:
		return 0, r, "hung at submission: " + err.Error()
	case code >= 400 && code < 500:
		return code, r, ""
	case code != http.StatusCreated:
		return code, r, fmt.Sprintf("answered %d at submission: %.300s", code, answer)
	}
	if err := json.Unmarshal(answer, &r); err != nil {
		return code, r, "an unreadable answer: " + err.Error()
	}
	end, err := s.waitFinal(r.UUID, 90*time.Second)
	if err != nil {
		return code, end, err.Error()
	}
	return code, end, ""
}

// logOf is what a server wrote, if it started at all.
func logOf(s *server) string {
	if s == nil {
		return ""
	}
	return tail(s.log.String(), 3000)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
