package inits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Step is one init entry to perform, with what it needs from the run.
type Step struct {
	Init specs.Init
	// ContextPath is the run's context directory (/plx-context in a pod).
	ContextPath string
	// Connection is the schema of the entry's connection, when it has one
	// ({url, ...} for git, {mountPath, ...} for claims and host paths).
	Connection map[string]any
	// ConnectionKind is the kind of that connection (git, volume_claim, ...).
	ConnectionKind string
	// Store resolves a path of the default artifacts store ("<run uuid>/outputs/...")
	// to a local directory or file; nil when the executor has no default store.
	// Artifacts entries without a connection and tensorboard entries read
	// through it (see copyFromStore and tensorboard).
	Store func(rel string) (string, error)
	// Git runs git; "git" from PATH when empty.
	Git string
	// Log receives a line per action.
	Log io.Writer
}

// The variables `plexus init` reads, as the compiler's lowering sets them.
const (
	EnvSpec           = compiler.EnvInitSpec
	EnvContextPath    = compiler.EnvContextPath
	EnvConnection     = compiler.EnvInitConnection
	EnvConnectionKind = compiler.EnvInitConnectionKind
	// EnvArtifactsStore is where the default artifacts store is mounted,
	// when the pod has one.
	EnvArtifactsStore = compiler.EnvArtifactsStore
)

// FromEnv reads a step from the environment `plexus init` runs in.
func FromEnv(getenv func(string) string) (*Step, error) {
	s := &Step{ContextPath: getenv(EnvContextPath), ConnectionKind: getenv(EnvConnectionKind)}
	raw := getenv(EnvSpec)
	if raw == "" {
		return nil, fmt.Errorf("init: %s is not set: there is no init step to perform", EnvSpec)
	}
	if err := specs.Unmarshal([]byte(raw), &s.Init); err != nil {
		return nil, fmt.Errorf("init: reading %s: %w", EnvSpec, err)
	}
	if c := getenv(EnvConnection); c != "" {
		if err := json.Unmarshal([]byte(c), &s.Connection); err != nil {
			return nil, fmt.Errorf("init: reading %s: %w", EnvConnection, err)
		}
	}
	if s.ContextPath == "" {
		s.ContextPath = "/plx-context"
	}
	if root := getenv(EnvArtifactsStore); root != "" {
		s.Store = MountedStore(root)
	}
	return s, nil
}

// MountedStore is a default artifacts store mounted at root: its path
// "<uuid>/rest" is root/<uuid>/rest.
func MountedStore(root string) func(string) (string, error) {
	return func(rel string) (string, error) { return filepath.Join(root, filepath.FromSlash(rel)), nil }
}

// ErrUnsupported is wrapped by steps Plexus cannot perform yet.
var ErrUnsupported = errors.New("init: not supported yet")

// Run performs the step.
func (s *Step) Run(ctx context.Context) error {
	if s.Log == nil {
		s.Log = io.Discard
	}
	in := s.Init
	switch {
	case in.File != nil:
		return s.file(in.File)
	case in.Dockerfile != nil:
		return s.dockerfile(in.Dockerfile)
	case in.Git != nil:
		return s.git(ctx, in.Git.URL, in.Git.Revision, in.Git.Flags.Items)
	case !in.Paths.IsZero():
		return s.copyFromConnection(in.Paths.Items, "paths")
	case in.Artifacts != nil:
		for _, l := range []specs.ListOrRef[any]{in.Artifacts.Files, in.Artifacts.Dirs} {
			if l.Template != "" {
				return fmt.Errorf("init: artifacts %q is a template that was not rendered", l.Template)
			}
		}
		items := append(append([]any(nil), in.Artifacts.Files.Items...), in.Artifacts.Dirs.Items...)
		if _, mounted := s.Connection["mountPath"].(string); !mounted && in.Connection == "" {
			return s.copyFromStore(items, "artifacts")
		}
		return s.copyFromConnection(items, "artifacts")
	case in.Tensorboard != nil:
		return s.tensorboard(in.Tensorboard)
	case in.LineageRef != "" || in.ModelRef != "" || in.ArtifactRef != "":
		return fmt.Errorf("%w: lineage, model and artifact refs need the run history", ErrUnsupported)
	case in.Connection != "":
		if s.ConnectionKind == "git" {
			url, _ := s.Connection["url"].(string)
			rev, _ := s.Connection["revision"].(string)
			return s.git(ctx, url, rev, nil)
		}
		fmt.Fprintf(s.Log, "connection %s (%s): nothing to initialise\n", in.Connection, s.ConnectionKind)
		return nil
	}
	return errors.New("init: the step has no handler")
}

// dest is where a step writes: its own path, or the artifacts directory.
func (s *Step) dest(name string) string {
	dir := s.Init.Path
	if dir == "" {
		dir = filepath.Join(s.ContextPath, "artifacts")
	}
	if name == "" {
		return dir
	}
	return filepath.Join(dir, name)
}

func (s *Step) file(f *specs.FileType) error {
	name := f.Filename
	if name == "" {
		name = "file"
	}
	target := s.dest(name)
	mode := fs.FileMode(0o644)
	if f.Chmod != "" {
		m, err := parseChmod(f.Chmod, mode)
		if err != nil {
			return fmt.Errorf("init: file %s: %w", name, err)
		}
		mode = m
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.WriteFile(target, []byte(f.Content), mode); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.Chmod(target, mode); err != nil { // WriteFile's mode is masked by the umask
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(s.Log, "wrote %s (%s)\n", target, mode)
	return nil
}

// parseChmod reads an octal mode (0755) or symbolic additions (+x, u+x).
func parseChmod(s string, base fs.FileMode) (fs.FileMode, error) {
	if n, err := strconv.ParseUint(s, 8, 32); err == nil {
		return fs.FileMode(n), nil
	}
	who, perms, ok := strings.Cut(s, "+")
	if !ok || perms == "" {
		return 0, fmt.Errorf("chmod %q: want an octal mode such as 0755, or +x", s)
	}
	var mask fs.FileMode
	for _, w := range who {
		switch w {
		case 'u':
			mask |= 0o700
		case 'g':
			mask |= 0o070
		case 'o':
			mask |= 0o007
		case 'a':
			mask |= 0o777
		default:
			return 0, fmt.Errorf("chmod %q: unknown who %q", s, w)
		}
	}
	if who == "" {
		mask = 0o777
	}
	var bits fs.FileMode
	for _, p := range perms {
		switch p {
		case 'r':
			bits |= 0o444
		case 'w':
			bits |= 0o222
		case 'x':
			bits |= 0o111
		default:
			return 0, fmt.Errorf("chmod %q: unknown permission %q", s, p)
		}
	}
	return base | bits&mask, nil
}

// Dockerfile renders a dockerfile init entry as a Dockerfile.
func Dockerfile(d *specs.DockerfileType) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n\n", d.Image)
	shell := d.Shell
	if shell == "" {
		shell = "/bin/bash"
	}
	fmt.Fprintf(&b, "SHELL [%q, \"-c\"]\n", shell)
	if d.LangEnv != "" {
		fmt.Fprintf(&b, "ENV LC_ALL=%s LANG=%s LANGUAGE=%s\n", d.LangEnv, d.LangEnv, d.LangEnv)
	}
	keys := make([]string, 0, len(d.Env))
	for k := range d.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "ENV %s=%s\n", k, strconv.Quote(fmt.Sprint(d.Env[k])))
	}
	if len(d.Path.Items) > 0 {
		fmt.Fprintf(&b, "ENV PATH=\"${PATH}:%s\"\n", strings.Join(d.Path.Items, ":"))
	}
	if d.Username != "" || d.UID != nil {
		user := d.Username
		if user == "" {
			user = "plexus"
		}
		uid, gid := 1000, 1000
		if d.UID != nil {
			uid = d.UID.Value
		}
		if d.GID != nil {
			gid = d.GID.Value
		}
		fmt.Fprintf(&b, "RUN groupadd -g %d %s && useradd -m -u %d -g %d %s\n", gid, user, uid, gid, user)
	}
	workdir := d.Workdir
	if workdir == "" {
		workdir = "/code"
	}
	fmt.Fprintf(&b, "WORKDIR %s\n", workdir)
	for _, c := range d.Copy.Items {
		fmt.Fprintf(&b, "COPY %s\n", copyArgs(c, workdir))
	}
	for _, r := range d.Run.Items {
		fmt.Fprintf(&b, "RUN %s\n", r)
	}
	for _, c := range d.PostRunCopy.Items {
		fmt.Fprintf(&b, "COPY %s\n", copyArgs(c, workdir))
	}
	if d.Username != "" || d.UID != nil {
		user := d.Username
		if user == "" {
			user = "plexus"
		}
		fmt.Fprintf(&b, "USER %s\n", user)
	}
	return b.String()
}

func copyArgs(item any, workdir string) string {
	if pair, ok := item.([]any); ok && len(pair) == 2 {
		return fmt.Sprintf("%v %v", pair[0], pair[1])
	}
	return fmt.Sprintf("%v %s", item, workdir)
}

func (s *Step) dockerfile(d *specs.DockerfileType) error {
	name := d.Filename
	if name == "" {
		name = "Dockerfile"
	}
	target := s.dest(path.Join(d.WorkdirPath, name))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.WriteFile(target, []byte(Dockerfile(d)), 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(s.Log, "wrote %s\n", target)
	return nil
}

func (s *Step) git(ctx context.Context, url, revision string, flags []string) error {
	if url == "" {
		u, _ := s.Connection["url"].(string)
		url = u
	}
	if url == "" {
		return errors.New("init: git needs a url, given or from its connection")
	}
	name := s.Init.Connection
	if name == "" {
		name = strings.TrimSuffix(path.Base(strings.TrimRight(url, "/")), ".git")
	}
	target := s.dest(name)
	if s.Init.Path != "" {
		target = s.Init.Path
	}
	git := s.Git
	if git == "" {
		git = "git"
	}
	args := append([]string{"clone"}, flags...)
	args = append(args, "--", url, target)
	if err := s.run(ctx, git, args...); err != nil {
		return err
	}
	if revision != "" {
		if err := s.run(ctx, git, "-C", target, "checkout", revision); err != nil {
			return err
		}
	}
	return nil
}

func (s *Step) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	fmt.Fprintf(s.Log, "$ %s %s\n", name, strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("init: %s %s: %w", name, args[0], err)
	}
	return nil
}

// copyFromConnection copies items (paths, or [from, to] pairs) from the
// directory the connection is mounted at.
func (s *Step) copyFromConnection(items []any, what string) error {
	src, _ := s.Connection["mountPath"].(string)
	if src == "" {
		kind := s.ConnectionKind
		if kind == "" {
			kind = "the default artifacts store"
		}
		return fmt.Errorf("%w: %s from %s (only mounted connections: volume claims and host paths)", ErrUnsupported, what, kind)
	}
	for _, it := range items {
		from, to, err := fromTo(what, it)
		if err != nil {
			return err
		}
		if err := copyTree(filepath.Join(src, from), s.dest(to)); err != nil {
			return fmt.Errorf("init: %s %s: %w", what, from, err)
		}
		fmt.Fprintf(s.Log, "copied %s to %s\n", filepath.Join(src, from), s.dest(to))
	}
	return nil
}

// copyTree copies a file or a directory.
func copyTree(src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return copyFile(src, dst, info.Mode())
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(p, target, fi.Mode())
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
