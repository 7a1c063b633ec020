package k8s

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestLogs: the executor reads a run's log from the pod log API, whole
// once it ended, and as it comes with follow.
func TestLogs(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")

	done := submit(t, n.e, job("", `plexus.io/kwok-logs: "epoch 1 loss=0.9\nepoch 2 loss=0.5\n"`))
	if r := final(t, n.st, done); r.Status != store.Succeeded {
		t.Fatalf("got %s", r.Status)
	}
	rc, err := n.ex.Logs(t.Context(), executorRef(done, 1), false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "epoch 1 loss=0.9\nepoch 2 loss=0.5\n" {
		t.Fatalf("logs %q, err %v", got, err)
	}

	// Follow a running one: what it prints later arrives.
	running := submit(t, n.e, job("", `plexus.io/kwok-delay: 5m, plexus.io/kwok-logs: "starting\n"`))
	wait(t, n.st, running, 30*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	rc, err = n.ex.Logs(ctx, executorRef(running, 1), true)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lines := bufio.NewScanner(rc)
	if !lines.Scan() || lines.Text() != "starting" {
		t.Fatalf("first line %q, err %v", lines.Text(), lines.Err())
	}
	pods, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: compiler.LabelRun + "=" + running})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v %v", pods, err)
	}
	if err := c.AppendLog(ctx, ns, pods.Items[0].Name, "epoch 1 loss=0.7\n"); err != nil {
		t.Fatal(err)
	}
	if !lines.Scan() || !strings.Contains(lines.Text(), "epoch 1 loss=0.7") {
		t.Fatalf("followed line %q, err %v", lines.Text(), lines.Err())
	}
}
