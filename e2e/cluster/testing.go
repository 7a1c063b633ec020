package cluster

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ForTest starts a cluster for t and stops it when t and its subtests end.
// It fails t if the cluster cannot start -- missing binaries included: the
// tests are meant to run, so they do not skip. When t fails, the cluster's
// folder is kept and its logs are named.
func ForTest(t testing.TB, opts ...Options) *Cluster {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	began := time.Now()
	c, err := Start(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster: started in %v (%s)", time.Since(began).Round(time.Millisecond), c.URL())
	t.Cleanup(func() {
		if t.Failed() {
			c.KeepDir()
			t.Logf("cluster: folder kept: %s; logs: %s", c.Dir(), strings.Join(c.LogFiles(), " "))
		}
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// shared is the cluster of a test binary whose TestMain calls RunTests.
var shared struct {
	mu      sync.Mutex
	enabled bool // RunTests is running the tests
	tried   bool
	c       *Cluster
	err     error
}

// RunTests runs a test binary's tests, then stops the cluster Shared
// started, if any; it keeps the cluster's folder when a test failed. Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.RunTests(m)) }
//
// If the binary dies before RunTests returns (a panic, a timeout, a kill),
// the kernel kills the components with it (see the package documentation).
func RunTests(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	c := shared.c
	shared.enabled = false
	shared.mu.Unlock()
	if c == nil {
		return code
	}
	if code != 0 {
		c.KeepDir()
		fmt.Fprintf(os.Stderr, "cluster: tests failed; folder kept: %s; logs: %s\n", c.Dir(), strings.Join(c.LogFiles(), " "))
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Shared returns the test binary's cluster, starting it on first use; every
// test that calls it shares the one cluster (use Namespace to keep them
// apart). TestMain must call RunTests, which stops it. A failure to start
// fails this and every later caller.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.enabled {
		t.Fatal("cluster.Shared: TestMain must run the tests with cluster.RunTests, which stops the shared cluster")
	}
	if !shared.tried {
		shared.tried = true
		began := time.Now()
		// Not t.Context(): it bounds only the start, but the cluster
		// outlives t.
		shared.c, shared.err = Start(context.Background(), Options{})
		if shared.err == nil {
			t.Logf("cluster: shared cluster started in %v (%s)", time.Since(began).Round(time.Millisecond), shared.c.URL())
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.c
}

// Namespace creates a namespace for t, named after it, waits until its
// default ServiceAccount exists (pods are refused before), and deletes it
// when t ends.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	ctx := t.Context()
	ns, err := c.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(t.Name())},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("cluster: creating a namespace: %v", err)
	}
	t.Cleanup(func() {
		err := c.client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cluster: deleting namespace %s: %v", ns.Name, err)
		}
	})
	err = c.waitFor(ctx, "the default ServiceAccount in "+ns.Name, func(ctx context.Context) error {
		_, err := c.client.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", getOpts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// namespacePrefix turns a test name into a namespace GenerateName: lower
// case, [a-z0-9-], short enough for the server's random suffix.
func namespacePrefix(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Trim(s, "-") + "-"
}
