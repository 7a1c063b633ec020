// Package storetest runs a real etcd, in-process, for tests: one server per
// test binary, a client per test, and a key prefix no other test (or
// repetition of the same test) uses.
package storetest

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine/store"
)

var (
	endpoint string
	prefixes atomic.Int64
)

// Main starts the etcd, runs the tests and stops it: call it from TestMain.
func Main(m *testing.M) { os.Exit(Wrap(m.Run)) }

// Wrap starts the etcd, calls run and stops the etcd, returning run's exit
// code: for a TestMain that also sets up something else.
func Wrap(run func() int) int {
	dir, err := os.MkdirTemp("", "plexus-etcd-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	e, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		panic(err)
	}
	defer e.Close()
	endpoint = e.Endpoint
	return run()
}

// Endpoint is the etcd's client URL.
func Endpoint() string { return endpoint }

// Client returns a client of the etcd, closed when the test ends.
func Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Prefix returns a key prefix of the test's own.
func Prefix(t testing.TB) string {
	return fmt.Sprintf("/test/%s/%d/", t.Name(), prefixes.Add(1))
}
