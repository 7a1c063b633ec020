package cluster_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/e2e/cluster"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) { os.Exit(cluster.RunTests(m)) }

// TestStartStop starts a cluster of its own, checks every way in it, and
// checks that Stop leaves no process and no folder behind.
func TestStartStop(t *testing.T) {
	began := time.Now()
	c, err := cluster.Start(t.Context(), cluster.Options{Nodes: 2, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v", time.Since(began).Round(time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			c.KeepDir()
			_ = c.Stop()
		}
	})

	pids := c.PIDs()
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if pid, ok := pids[name]; !ok || !alive(pid) {
			t.Errorf("%s: pid %d (recorded %v) not running", name, pid, ok)
		}
	}

	// The kubeconfig, the REST config and the token each reach the API server.
	fromFile, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]func() (*kubernetes.Clientset, error){
		"kubeconfig": func() (*kubernetes.Clientset, error) { return kubernetes.NewForConfig(fromFile) },
		"RESTConfig": func() (*kubernetes.Clientset, error) { return kubernetes.NewForConfig(c.RESTConfig()) },
	} {
		cs, err := cfg()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		nodes, err := cs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("%s: listing nodes: %v", name, err)
		}
		if len(nodes.Items) != 2 {
			t.Errorf("%s: %d nodes, want 2", name, len(nodes.Items))
		}
	}
	if !strings.HasPrefix(c.URL(), "https://127.0.0.1:") || c.Token() == "" {
		t.Errorf("URL %q, token %q", c.URL(), c.Token())
	}
	if _, err := c.Client().CoreV1().ServiceAccounts("default").Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Errorf("default ServiceAccount: %v", err)
	}

	dir := c.Dir()
	began = time.Now()
	stopped = true
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stopped in %v", time.Since(began).Round(time.Millisecond))
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still running after Stop", name, pid)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster folder %s still there after Stop (%v)", dir, err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestStartWithoutBinaries fails, with the way to build them, when the
// binaries are missing.
func TestStartWithoutBinaries(t *testing.T) {
	_, err := cluster.Start(context.Background(), cluster.Options{BinDir: t.TempDir()})
	if !errors.Is(err, cluster.ErrNoBinaries) {
		t.Fatalf("Start: %v, want ErrNoBinaries", err)
	}
	for _, want := range []string{"make k8s-bin", cluster.EnvBinDir, "kube-apiserver", "kwok"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestBinDir keys the default folder on the versions in tools/go.mod.
func TestBinDir(t *testing.T) {
	t.Setenv(cluster.EnvBinDir, "")
	dir, err := cluster.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dir, "/.cache/k8s/v1.") || strings.Count(dir[strings.LastIndex(dir, "/"):], "-v") != 2 {
		t.Errorf("BinDir() = %s, want .cache/k8s/<kubernetes>-<etcd>-<kwok>", dir)
	}
	t.Setenv(cluster.EnvBinDir, "/somewhere")
	if dir, _ := cluster.BinDir(); dir != "/somewhere" {
		t.Errorf("BinDir() = %s with $%s=/somewhere", dir, cluster.EnvBinDir)
	}
}

// alive reports whether pid names a process (zombies included, though Stop
// reaps its children).
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}
