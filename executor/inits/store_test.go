package inits

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	runA = "0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"
	runB = "1b2c3d4e5f6a4b7c8d9e0f1a2b3c4d5e"
)

// testStore is a temporary directory as the default artifacts store:
// "<uuid>/rest" is <tmp>/<uuid>/rest. It records what it was asked for.
type testStore struct {
	root  string
	asked []string
}

func newStore(t *testing.T, files map[string]string) *testStore {
	t.Helper()
	st := &testStore{root: t.TempDir()}
	for name, content := range files {
		p := filepath.Join(st.root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func (st *testStore) resolve(rel string) (string, error) {
	st.asked = append(st.asked, rel)
	return filepath.Join(st.root, filepath.FromSlash(rel)), nil
}

// storeStep is a step over yaml whose store is st, logging to log.
func storeStep(t *testing.T, yaml string, st *testStore, log *strings.Builder) *Step {
	t.Helper()
	s := step(t, yaml)
	s.Store, s.Log = st.resolve, log
	return s
}

func readArtifact(t *testing.T, s *Step, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.ContextPath, "artifacts", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return string(data)
}

func TestArtifactsFromTheStore(t *testing.T) {
	st := newStore(t, map[string]string{
		runA + "/outputs/tensorboard/events.out": "ev",
		runA + "/outputs/model/weights.bin":      "w",
		runA + "/outputs/metrics.json":           "{}",
	})
	var log strings.Builder
	s := storeStep(t, "artifacts: {dirs: ["+runA+"/outputs, ["+runA+"/outputs/model, best]], files: [["+runA+"/outputs/metrics.json, m.json]]}", st, &log)
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for rel, want := range map[string]string{
		runA + "/outputs/tensorboard/events.out": "ev",
		runA + "/outputs/model/weights.bin":      "w",
		"best/weights.bin":                       "w",
		"m.json":                                 "{}",
	} {
		if got := readArtifact(t, s, rel); got != want {
			t.Errorf("%s: %q, want %q", rel, got, want)
		}
	}
	if !strings.Contains(log.String(), "copied "+runA+"/outputs from the artifacts store") {
		t.Errorf("log %q does not say what was copied", log.String())
	}
}

func TestArtifactsFromTheStoreToTheEntrysPath(t *testing.T) {
	st := newStore(t, map[string]string{runA + "/outputs/a.txt": "a"})
	var log strings.Builder
	s := storeStep(t, "artifacts: {dirs: ["+runA+"/outputs]}", st, &log)
	s.Init.Path = filepath.Join(t.TempDir(), "elsewhere")
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(s.Init.Path, runA, "outputs", "a.txt")); err != nil || string(data) != "a" {
		t.Errorf("under the entry's path: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(s.ContextPath, "artifacts", runA)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("copied to the artifacts directory as well as the entry's path: %v", err)
	}
}

func TestArtifactsMissingFromTheStoreAreSkipped(t *testing.T) {
	st := newStore(t, map[string]string{runA + "/outputs/a.txt": "a"})
	var log strings.Builder
	s := storeStep(t, "artifacts: {dirs: [abc/outputs, "+runA+"/outputs], files: [abc/outputs/x.json]}", st, &log)
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("a missing path: %v, want it skipped", err)
	}
	if got := readArtifact(t, s, runA+"/outputs/a.txt"); got != "a" {
		t.Errorf("the path that exists: %q", got)
	}
	for _, want := range []string{"artifacts abc/outputs: not in the artifacts store", "artifacts abc/outputs/x.json: not in the artifacts store"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q does not say %q", log.String(), want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.ContextPath, "artifacts", "abc")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing path made its destination: %v", err)
	}
}

func TestArtifactsOutsideTheStoreAreRefused(t *testing.T) {
	st := newStore(t, map[string]string{runA + "/outputs/a.txt": "a"})
	for y, want := range map[string]string{
		"artifacts: {dirs: [/etc]}":                         `"/etc" is absolute`,
		"artifacts: {files: [[/etc/passwd, p]]}":            `"/etc/passwd" is absolute`,
		"artifacts: {dirs: [../other]}":                     `"../other" leaves the artifacts store`,
		"artifacts: {dirs: [" + runA + "/../../x]}":         `leaves the artifacts store`,
		"artifacts: {dirs: [., [" + runA + "/outputs, o]]}": `"." is the whole artifacts store`,
	} {
		var log strings.Builder
		s := storeStep(t, y, st, &log)
		err := s.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error saying %s", y, err, want)
		}
		if errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v is a bad path, not an unsupported one", y, err)
		}
	}
	if len(st.asked) != 0 {
		t.Errorf("the store was asked for %v: nothing should be read when a path is refused", st.asked)
	}
}

func TestArtifactsWithoutAStore(t *testing.T) {
	s := step(t, "artifacts: {dirs: ["+runA+"/outputs]}")
	err := s.Run(context.Background())
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
	for _, want := range []string{runA + "/outputs", "the default artifacts store is not available on this executor"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestArtifactsStoreErrorsAreReported(t *testing.T) {
	broken := errors.New("store offline")
	s := step(t, "artifacts: {dirs: ["+runA+"/outputs]}")
	s.Store = func(string) (string, error) { return "", broken }
	err := s.Run(context.Background())
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), runA+"/outputs") {
		t.Errorf("got %v, want the store's error, naming the path", err)
	}
}

func TestArtifactsLeaveOutSymlinks(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := newStore(t, map[string]string{runA + "/outputs/a.txt": "a"})
	if err := os.Symlink(secret, filepath.Join(st.root, runA, "outputs", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(st.root, runA, "outputs"), filepath.Join(st.root, "linked")); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	s := storeStep(t, "artifacts: {dirs: ["+runA+"/outputs]}", st, &log)
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readArtifact(t, s, runA+"/outputs/a.txt"); got != "a" {
		t.Errorf("a.txt: %q", got)
	}
	if _, err := os.Lstat(filepath.Join(s.ContextPath, "artifacts", runA, "outputs", "link")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a symbolic link out of the store was copied: %v", err)
	}
	if !strings.Contains(log.String(), "left out") {
		t.Errorf("log %q does not say the link was left out", log.String())
	}
	s = storeStep(t, "artifacts: {dirs: [linked]}", st, &log)
	if err := s.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a store path that is a link: got %v, want it refused", err)
	}
}

func TestConnectionArtifactsDoNotUseTheStore(t *testing.T) {
	st := newStore(t, map[string]string{"a": "from the store"})
	var log strings.Builder
	s := storeStep(t, "artifacts: {files: [a]}\nconnection: s3-data", st, &log)
	s.ConnectionKind = "s3"
	if err := s.Run(context.Background()); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "s3") {
		t.Errorf("an unmounted connection: got %v, want ErrUnsupported naming s3", err)
	}
	mount := t.TempDir()
	if err := os.WriteFile(filepath.Join(mount, "a"), []byte("from the mount"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = storeStep(t, "artifacts: {files: [a]}\nconnection: data", st, &log)
	s.Connection, s.ConnectionKind = map[string]any{"mountPath": mount}, "host_path"
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readArtifact(t, s, "a"); got != "from the mount" {
		t.Errorf("got %q, want the mounted connection's file", got)
	}
	if len(st.asked) != 0 {
		t.Errorf("the store was asked for %v", st.asked)
	}
}

func TestTensorboardLaysOutRuns(t *testing.T) {
	st := newStore(t, map[string]string{
		runA + "/outputs/tensorboard/train/events.out.1": "a-train",
		runA + "/outputs/model.bin":                      "not tensorboard",
		runB + "/outputs/tensorboard/events.out.2":       "b",
	})
	var log strings.Builder
	s := storeStep(t, "tensorboard: {uuids: ["+runA+", "+runB+"], port: 6006, pathPrefix: /x}", st, &log)
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for rel, want := range map[string]string{runA + "/train/events.out.1": "a-train", runB + "/events.out.2": "b"} {
		if got := readArtifact(t, s, rel); got != want {
			t.Errorf("%s: %q, want %q", rel, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.ContextPath, "artifacts", runA, "model.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("copied more than outputs/tensorboard: %v", err)
	}
	want := []string{runA + "/outputs/tensorboard", runB + "/outputs/tensorboard"}
	if strings.Join(st.asked, " ") != strings.Join(want, " ") {
		t.Errorf("asked the store for %v, want %v", st.asked, want)
	}
}

func TestTensorboardToTheEntrysPath(t *testing.T) {
	st := newStore(t, map[string]string{runA + "/outputs/tensorboard/e": "e"})
	var log strings.Builder
	s := storeStep(t, "tensorboard: {uuids: ["+runA+"]}", st, &log)
	s.Init.Path = filepath.Join(t.TempDir(), "tb")
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(s.Init.Path, runA, "e")); err != nil || string(data) != "e" {
		t.Errorf("%q, %v", data, err)
	}
}

func TestTensorboardSkipsRunsWithoutLogs(t *testing.T) {
	st := newStore(t, map[string]string{runA + "/outputs/tensorboard/e": "e", runB + "/outputs/other": "o"})
	var log strings.Builder
	s := storeStep(t, "tensorboard: {uuids: ["+runB+", "+runA+"]}", st, &log)
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("a run without logs: %v, want it left out", err)
	}
	if got := readArtifact(t, s, runA+"/e"); got != "e" {
		t.Errorf("the run with logs: %q", got)
	}
	if !strings.Contains(log.String(), "run "+runB+" has no "+runB+"/outputs/tensorboard") {
		t.Errorf("log %q does not name the run left out", log.String())
	}
}

func TestTensorboardRefusals(t *testing.T) {
	st := newStore(t, nil)
	for y, c := range map[string]struct {
		want        string
		unsupported bool
	}{
		"tensorboard: {uuids: [" + runA + "], useNames: true}":        {"useNames", true},
		"tensorboard: {uuids: [" + runA + "], plugins: [tb-a, tb-b]}": {"plugins (tb-a, tb-b)", true},
		"tensorboard: {uuids: []}":                                    {"at least one run uuid", false},
		"tensorboard: {port: 6006}":                                   {"at least one run uuid", false},
		"tensorboard: {uuids: ['..']}":                                {`".." is not a run uuid`, false},
		"tensorboard: {uuids: [" + runA + "/../x]}":                   {"is not a run uuid", false},
		"tensorboard: {uuids: '{{ uuids }}'}":                         {"not rendered", false},
		"artifacts: {dirs: '{{ dirs }}'}":                             {"not rendered", false},
	} {
		var log strings.Builder
		s := storeStep(t, y, st, &log)
		err := s.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrUnsupported) != c.unsupported {
			t.Errorf("%s: got %v, want an error saying %q (unsupported: %v)", y, err, c.want, c.unsupported)
		}
	}
	if len(st.asked) != 0 {
		t.Errorf("the store was asked for %v", st.asked)
	}
	if err := step(t, "tensorboard: {uuids: ["+runA+"], useNames: false}").Run(context.Background()); !errors.Is(err, ErrUnsupported) ||
		!strings.Contains(err.Error(), "the default artifacts store is not available") || !strings.Contains(err.Error(), runA) {
		t.Errorf("without a store: got %v, want ErrUnsupported naming the run and the store", err)
	}
}

// TestFromEnvReadsTheMountedStore: in a pod whose artifacts store is
// mounted (PLEXUS_ARTIFACTS_STORE), `plexus init` copies a run's
// artifacts from there; without the variable, it has no store.
func TestFromEnvReadsTheMountedStore(t *testing.T) {
	st := newStore(t, map[string]string{runA + "/outputs/tensorboard/events.1": "e"})
	ctxPath := t.TempDir()
	env := map[string]string{
		EnvSpec:           `{"tensorboard": {"uuids": ["` + runA + `"]}}`,
		EnvContextPath:    ctxPath,
		EnvArtifactsStore: st.root,
	}
	s, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	s.Log = &log
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := readArtifact(t, s, runA+"/events.1"); got != "e" {
		t.Fatalf("copied %q", got)
	}
	delete(env, EnvArtifactsStore)
	s, err = FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("without a store: %v", err)
	}
}
