package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/e2e/plexusbin"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
)

var shotsDir = flag.String("ui.out", "", "where the screenshots and timings go (default: a folder of the test's)")

const (
	adminToken = "ui-admin-token"
	readToken  = "ui-read-token"
)

// browserConfig is what browser.mjs is told (its argument, a JSON file).
type browserConfig struct {
	Base     string            `json:"base"`
	Tokens   map[string]string `json:"tokens"`
	Runs     map[string]string `json:"runs"`
	DagNodes map[string]string `json:"dagNodes"` // the diamond's node statuses, from the API
	Trials   int               `json:"trials"`   // the sweep's trials with a loss
	Out      string            `json:"out"`
	Repeat   int               `json:"repeat"`
}

// browserResult is what browser.mjs reports (results.json).
type browserResult struct {
	Screenshots []string             `json:"screenshots"`
	Timings     map[string][]float64 `json:"timings"` // ms, each load
}

// needs says what is missing to run the browser, "" when nothing is.
func needs(root string) string {
	var missing []string
	if _, err := exec.LookPath("chromium"); err != nil {
		missing = append(missing, "chromium")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(root, "e2e/ui/node_modules/playwright-core")); err != nil {
		missing = append(missing, "e2e/ui/node_modules (npm ci)")
	}
	return strings.Join(missing, ", ")
}

func TestBrowser(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if m := needs(root); m != "" {
		if os.Getenv("PLEXUS_UI_REQUIRED") == "1" {
			t.Fatalf("the browser test needs %s: scripts/ui-deps.sh installs them", m)
		}
		t.Skipf("the browser test needs %s: `make test-ui` installs them and runs it", m)
	}
	out := *shotsDir
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	base := startServer(t)
	ctx := t.Context()
	c := &api.Client{BaseURL: base, Token: adminToken}

	runs := map[string]string{}
	submit := func(key, spec string) *store.Run {
		t.Helper()
		r, err := c.Submit(ctx, api.SubmitRequest{Spec: spec})
		if err != nil {
			t.Fatalf("submitting %s: %v", key, err)
		}
		runs[key] = r.UUID
		return r
	}
	start := time.Now()
	submit("dag", diamondSpec)
	submit("sweep", sweepSpec)
	submit("schedule", scheduleSpec)
	submit("long", longSpec)
	submit("approval", approvalSpec)
	submit("big10k", layeredSpec(10_000))
	submit("big100k", layeredSpec(100_000))
	t.Logf("submitted in %s", time.Since(start).Round(time.Millisecond))

	dag := waitEnd(t, c, runs["dag"])
	if dag.Status != store.Failed {
		t.Fatalf("the diamond dag ended %s, want failed (its right branch fails)", dag.Status)
	}
	g, err := c.Graph(ctx, runs["dag"])
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]string{}
	for _, n := range g.Nodes {
		nodes[n.Name] = string(n.Status)
		if n.Name == "prepare" {
			runs["prepare"] = n.Run
		}
	}
	if fmt.Sprint(nodes) != "map[join:upstream_failed left:succeeded prepare:succeeded right:failed]" {
		t.Fatalf("the diamond's nodes: %v", nodes)
	}
	if r := waitEnd(t, c, runs["sweep"]); r.Status != store.Succeeded {
		t.Fatalf("the sweep ended %s", r.Status)
	}
	waitFor(t, "the long dag's first operation to run", func() bool {
		g, err := c.Graph(ctx, runs["long"])
		if err == nil && len(g.Nodes) > 0 && g.Nodes[0].Status == store.Running {
			runs["slow"] = g.Nodes[0].Run
			return true
		}
		return false
	})
	waitFor(t, "the schedule's second fire", func() bool {
		g, err := c.Graph(ctx, runs["schedule"])
		return err == nil && len(g.Nodes) >= 2
	})

	cfg := browserConfig{
		Base: base, Tokens: map[string]string{"admin": adminToken, "read": readToken}, Runs: runs,
		DagNodes: nodes, Trials: 6, Out: out, Repeat: 5,
	}
	res := runBrowser(t, root, cfg)

	if r, err := c.Get(ctx, runs["approval"]); err != nil || !r.Approved || r.ApprovedBy != "ada" || r.Status != store.Succeeded {
		t.Errorf("the run approved from the page: %+v, %v", r, err)
	}
	// The page stopped the long dag: the engine says so.
	if r, err := c.Get(ctx, runs["long"]); err != nil || r.Status != store.Stopped && r.Status != store.Stopping {
		t.Errorf("the long dag after the page's stop: %v, %v", r.Status, err)
	} else if r := waitEnd(t, c, runs["long"]); r.Status != store.Stopped {
		t.Errorf("the long dag ended %s after the page's stop", r.Status)
	}

	if len(res.Screenshots) < 8 {
		t.Errorf("%d screenshots: %v", len(res.Screenshots), res.Screenshots)
	}
	for _, shot := range res.Screenshots {
		if why := blank(filepath.Join(out, shot)); why != "" {
			t.Errorf("screenshot %s is blank: %s", shot, why)
		}
	}
	for _, k := range []string{"dag10k", "summary100k"} {
		ms := res.Timings[k]
		if len(ms) == 0 {
			t.Errorf("no timing of %s", k)
			continue
		}
		t.Logf("%s: first load %.0f ms, median of the next %d %.0f ms (all %v)", k, ms[0], len(ms)-1, median(ms[1:]), ms)
	}
	t.Logf("screenshots in %s", out)
}

// startServer runs `plexus server` on the local executor with a read and
// an admin token, and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin, err := plexusbin.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf(`tokens:
  - {token: %s, user: ada, role: admin}
  - {token: %s, user: rita, role: read, projects: ["*"]}
`, adminToken, readToken)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := filepath.Join(dir, "addr")
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "--listen", "127.0.0.1:0", "--addr-file", addr, "--tokens", tokens,
		"--max-body", "64MiB", "--max-inflight", "128MiB")
	cmd.Env = append(os.Environ(), "PLEXUS_HOME="+filepath.Join(dir, "home"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		log.Close()
		if t.Failed() {
			data, _ := os.ReadFile(log.Name())
			t.Logf("server log:\n%s", tail(string(data), 4000))
		}
	})
	var base string
	waitFor(t, "the server's address", func() bool {
		data, err := os.ReadFile(addr)
		base = strings.TrimSpace(string(data))
		return err == nil && strings.HasSuffix(string(data), "\n")
	})
	return base
}

// runBrowser runs browser.mjs with cfg, its lines logged as they come.
func runBrowser(t *testing.T, root string, cfg browserConfig) *browserResult {
	t.Helper()
	data, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "browser.mjs", cfgFile)
	cmd.Dir = filepath.Join(root, "e2e/ui")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		t.Log("browser: " + sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser.mjs: %v", err)
	}
	var res browserResult
	data, err = os.ReadFile(filepath.Join(cfg.Out, "results.json"))
	if err == nil {
		err = json.Unmarshal(data, &res)
	}
	if err != nil {
		t.Fatalf("the browser's results: %v", err)
	}
	return &res
}

// blank says why a screenshot looks blank ("" when it does not): fewer
// than 8 colours, or one colour on 97% of it or more.
func blank(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return err.Error()
	}
	counts := map[uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[r>>11<<10|g>>11<<5|bl>>11]++ // 5 bits a channel
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	if share := float64(most) / float64(pixels(b)); len(counts) < 8 || share >= 0.97 {
		return fmt.Sprintf("%d colours, the commonest on %.1f%%", len(counts), 100*share)
	}
	return ""
}

func pixels(b image.Rectangle) int { return b.Dx() * b.Dy() }

func waitEnd(t *testing.T, c *api.Client, uuid string) *store.Run {
	t.Helper()
	var r *store.Run
	waitFor(t, "run "+uuid+" to end", func() bool {
		var err error
		r, err = c.Get(t.Context(), uuid)
		return err == nil && r.Status.Final()
	})
	return r
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Sorted(slices.Values(xs))[len(xs)/2]
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
