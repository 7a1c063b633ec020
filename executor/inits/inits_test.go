package inits

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
)

func step(t *testing.T, yaml string) *Step {
	t.Helper()
	var in specs.Init
	if err := specs.Unmarshal([]byte(yaml), &in); err != nil {
		t.Fatal(err)
	}
	return &Step{Init: in, ContextPath: t.TempDir()}
}

func TestFile(t *testing.T) {
	s := step(t, "file: {content: \"#!/bin/sh\\necho hi\\n\", filename: run.sh, chmod: +x}")
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(s.ContextPath, "artifacts", "run.sh")
	data, err := os.ReadFile(target)
	if err != nil || string(data) != "#!/bin/sh\necho hi\n" {
		t.Fatalf("content %q, %v", data, err)
	}
	info, _ := os.Stat(target)
	if info.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", info.Mode().Perm())
	}
}

func TestChmod(t *testing.T) {
	for in, want := range map[string]os.FileMode{"0600": 0o600, "+x": 0o755, "u+x": 0o744, "go+w": 0o666} {
		got, err := parseChmod(in, 0o644)
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseChmod("x+", 0o644); err == nil {
		t.Error("x+: want an error")
	}
}

func TestDockerfile(t *testing.T) {
	s := step(t, `dockerfile:
  image: python:3.12
  env: {B: 2, A: one}
  path: [/opt/bin]
  copy: [requirements.txt, [src, /app/src]]
  run: ["pip install -r requirements.txt"]
  langEnv: en_US.UTF-8
  uid: 1001
  username: trainer
  filename: Dockerfile.train
`)
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(s.ContextPath, "artifacts", "Dockerfile.train"))
	if err != nil {
		t.Fatal(err)
	}
	want := `FROM python:3.12

SHELL ["/bin/bash", "-c"]
ENV LC_ALL=en_US.UTF-8 LANG=en_US.UTF-8 LANGUAGE=en_US.UTF-8
ENV A="one"
ENV B="2"
ENV PATH="${PATH}:/opt/bin"
RUN groupadd -g 1000 trainer && useradd -m -u 1001 -g 1000 trainer
WORKDIR /code
COPY requirements.txt /code
COPY src /app/src
RUN pip install -r requirements.txt
USER trainer
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed for this test: %v", err)
	}
	repo := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", repo},
		{"-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "first"},
		{"-C", repo, "tag", "v1"},
		{"-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "second"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	s := step(t, "git: {url: "+repo+", revision: v1}")
	var log strings.Builder
	s.Log = &log
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	clone := filepath.Join(s.ContextPath, "artifacts", filepath.Base(repo))
	out, err := exec.Command("git", "-C", clone, "log", "-1", "--format=%s").Output()
	if err != nil || strings.TrimSpace(string(out)) != "first" {
		t.Fatalf("checked out %q, %v; want the commit tagged v1", out, err)
	}
}

func TestPathsFromAMountedConnection(t *testing.T) {
	mount := t.TempDir()
	if err := os.MkdirAll(filepath.Join(mount, "train", "2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mount, "train", "2026", "part-0.csv"), []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := step(t, "paths: [train/2026, [train/2026/part-0.csv, first.csv]]\nconnection: datasets")
	s.Connection, s.ConnectionKind = map[string]any{"mountPath": mount}, "volume_claim"
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"train/2026/part-0.csv", "first.csv"} {
		if data, err := os.ReadFile(filepath.Join(s.ContextPath, "artifacts", p)); err != nil || string(data) != "a,b\n" {
			t.Errorf("%s: %q, %v", p, data, err)
		}
	}
}

func TestUnsupportedSaysSo(t *testing.T) {
	for _, y := range []string{
		"artifacts: {files: [a]}\nconnection: s3-data",
		"tensorboard: {uuids: [a]}",
		"modelRef: model:v1",
	} {
		s := step(t, y)
		s.ConnectionKind = "s3"
		if err := s.Run(context.Background()); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: got %v, want ErrUnsupported", y, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		EnvSpec:           `{"git":{"revision":"main"},"connection":"repo"}`,
		EnvConnection:     `{"url":"https://git.local/r"}`,
		EnvConnectionKind: "git",
	}
	s, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s.Init.Git.Revision != "main" || s.Connection["url"] != "https://git.local/r" || s.ContextPath != "/plx-context" {
		t.Errorf("got %+v", s)
	}
	if _, err := FromEnv(func(string) string { return "" }); err == nil {
		t.Error("no spec: want an error")
	}
}
