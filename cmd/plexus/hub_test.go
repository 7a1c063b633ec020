package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestHubOperation: --hub submits an operation holding the hubRef alone,
// and refuses a ref that is not one.
func TestHubOperation(t *testing.T) {
	spec, err := hubOperation("acme.trainer:v2")
	if err != nil {
		t.Fatal(err)
	}
	files, err := specs.Parse("--hub", []byte(spec))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, spec)
	}
	op := files[0].Operation
	if op == nil || op.HubRef != "acme.trainer:v2" || op.Component != nil || len(op.Params) != 0 {
		t.Errorf("operation %+v from:\n%s", op, spec)
	}
	if _, err := hubOperation("a:b:c"); err == nil || !strings.HasPrefix(err.Error(), "--hub: ") {
		t.Errorf("a:b:c: got %v", err)
	}
}

// writeHubDir writes one component, acme/echo:latest, described as
// description, into a new hub directory.
func writeHubDir(t *testing.T, description string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "acme", "echo", "latest.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	component := "version: 1.1\nkind: component\ndescription: " + description + "\nrun: {kind: job, container: {image: alpine:3.20, command: [echo]}}\n"
	if err := os.WriteFile(p, []byte(component), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHubSourcesOrder: --hub-dir and --hub-url keep the order of the
// command line, PLEXUS_HUB's sources come after theirs, and a directory
// indexed by plexus hub index is listed when served over HTTP.
func TestHubSourcesOrder(t *testing.T) {
	served, local, env := writeHubDir(t, "served"), writeHubDir(t, "local"), writeHubDir(t, "env")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"hub", "index", served}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("hub index: %s", stderr.String())
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(served)))
	defer srv.Close()
	t.Setenv(hubEnv, env)

	line := regexp.MustCompile(`(?m)^acme/echo +latest +job +(\w+)$`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--hub-url", srv.URL, "--hub-dir", local}, "served"},
		{[]string{"--hub-dir", local, "--hub-url", srv.URL}, "local"},
		{nil, "env"},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(append([]string{"hub", "ls"}, tc.args...), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("hub ls %v: %s", tc.args, stderr.String())
		}
		m := line.FindStringSubmatch(stdout.String())
		if m == nil || m[1] != tc.want {
			t.Errorf("hub ls %v: got %q, want acme/echo from %s:\n%s", tc.args, m, tc.want, stdout.String())
		}
	}
}

// TestEnvHub: the hub of run, check, compile and server reads
// PLEXUS_HUB; when it cannot, every hubRef fails saying why.
func TestEnvHub(t *testing.T) {
	t.Setenv(hubEnv, writeHubDir(t, "env"))
	c, err := envHub().Component(context.Background(), compiler.HubRef{Owner: "acme", Name: "echo", Tag: "latest"})
	if err != nil || c.Description != "env" {
		t.Errorf("acme/echo: %v, %v", c, err)
	}
	t.Setenv(hubEnv, "ftp://hub.example")
	_, err = sources(false).Hub.Component(context.Background(), compiler.HubRef{Owner: "polyaxon", Name: "tensorboard", Tag: "latest"})
	if err == nil || !strings.HasPrefix(err.Error(), "PLEXUS_HUB: ") {
		t.Errorf("a bad PLEXUS_HUB: got %v", err)
	}
}
