package k8s

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/e2e/plexusbin"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestServerCLI: `plexus server --executor k8s` on the cluster's
// kubeconfig, and `plexus run --watch` against it, as a user runs them.
func TestServerCLI(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	dir := t.TempDir()
	bin, err := plexusbin.Build(dir)
	if err != nil {
		t.Fatal(err)
	}

	addr := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	server := exec.CommandContext(ctx, bin, "server", "--executor", "k8s", "--kubeconfig", c.Kubeconfig(), "--namespace", ns,
		"--etcd-endpoints", storetest.Endpoint(), "--listen", "127.0.0.1:0", "--addr-file", addr, "--token", "s3cret")
	server.Env = append(os.Environ(), "PLEXUS_HOME="+filepath.Join(dir, "home"))
	var serverLog bytes.Buffer
	server.Stdout, server.Stderr = &serverLog, &serverLog
	server.Cancel = func() error { return server.Process.Signal(os.Interrupt) }
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = server.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", serverLog.String())
		}
	})
	var url string
	for deadline := time.Now().Add(60 * time.Second); url == ""; time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(addr); err == nil {
			url = strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", serverLog.String())
		}
	}

	spec := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(spec, []byte(job("outputs: [{name: loss, type: float}]", `plexus.io/kwok-message: '{"loss": 0.5}'`)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := exec.Command(bin, "run", "-f", spec, "--watch", "--server", url, "--token", "s3cret")
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("plexus run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "succeeded") {
		t.Fatalf("plexus run said:\n%s", out)
	}
	jobs, err := c.Client().BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: compiler.LabelRun})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("%d Jobs in %s (err %v), want the run's one", len(jobs.Items), ns, err)
	}
}
