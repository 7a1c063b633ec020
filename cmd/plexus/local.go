package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs/compiler"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// sources resolve references as the CLI does: the hub (PLEXUS_HUB's
// private sources, then the built-in hub), and urlRefs over HTTP unless
// refused.
func sources(urlRefs bool) compiler.Sources {
	src := compiler.Sources{Hub: envHub()}
	if urlRefs {
		src.URL = &compiler.HTTPFetcher{}
	}
	return src
}

// localEngine is an engine on the etcd its ClientConfig describes (an
// embedded one under home when that names no endpoints), whose runs run as
// host processes under home, or on Kubernetes. Close stops what it
// started, in order.
type localEngine struct {
	eng    *engine.Engine
	st     *store.Store
	ex     executor.Executor
	closes []func()
	// detach has Close leave the local executor's runs running, for the
	// next engine on home to adopt (plexus server), rather than stop
	// them (plexus run, which owns its runs).
	detach bool
}

// openLocalEngine completes cfg with the store, the local executor and the
// runs' context paths, and builds the engine; it does not start it.
func openLocalEngine(home string, etcd store.ClientConfig, cfg engine.Config) (*localEngine, error) {
	return openEngine(context.Background(), home, etcd, nil, cfg)
}

// openEngine is openLocalEngine with, when kube is not nil, the
// Kubernetes executor it configures instead of the local one.
func openEngine(ctx context.Context, home string, etcd store.ClientConfig, kube *k8s.Config, cfg engine.Config) (*localEngine, error) {
	le := &localEngine{}
	var cli *clientv3.Client
	if len(etcd.Endpoints) == 0 {
		emb, err := store.StartEmbedded(filepath.Join(home, "etcd"), 10*time.Second)
		if err != nil {
			return nil, err
		}
		le.closes = append(le.closes, emb.Close)
		cli = emb.Client()
	} else {
		var err error
		if cli, err = store.Connect(etcd); err != nil {
			return nil, err
		}
	}
	le.closes = append(le.closes, func() { cli.Close() })
	if kube != nil {
		// The informers' first listing proves the cluster is reachable.
		wait, cancel := context.WithTimeout(ctx, 30*time.Second)
		kx, err := k8s.New(wait, *kube)
		cancel()
		if err != nil {
			le.Close()
			return nil, err
		}
		le.ex = kx
		le.closes = append(le.closes, func() { _ = kx.Close() })
		cfg.RunInfo = func(_ *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.Namespace = kx.Namespace()
			return ri
		}
	} else {
		self := selfPath()
		lx, err := local.New(local.Config{Root: filepath.Join(home, "runs"), Plexus: self, Supervisor: []string{self, "local-attempt"}, BaseEnv: runEnv(os.Environ())})
		if err != nil {
			le.Close()
			return nil, err
		}
		le.ex = lx
		le.closes = append(le.closes, func() {
			if le.detach {
				_ = lx.Detach()
				return
			}
			_ = lx.Close()
		})
		cfg.RunInfo = func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
			ri.ContextPath = lx.ContextPath(r.UUID)
			ref := executor.RunRef{UUID: r.UUID, Attempt: max(r.Attempt, 1)}
			ri.Ports = func(declared []int) ([]int, error) { return lx.Ports(ref, declared) }
			return ri
		}
	}
	le.st = store.New(cli, "", nil)
	cfg.Store, cfg.Executor = le.st, le.ex
	eng, err := engine.New(cfg)
	if err != nil {
		le.Close()
		return nil, err
	}
	le.eng = eng
	return le, nil
}

// Close stops the executor, the client and the embedded etcd.
func (le *localEngine) Close() {
	for i := len(le.closes) - 1; i >= 0; i-- {
		le.closes[i]()
	}
}

// etcdConfig completes the --etcd-* flags: the password comes from
// PLEXUS_ETCD_PASSWORD when --etcd-user holds none and --etcd-password is
// not given. TLS and user flags need --etcd-endpoints: the embedded etcd
// has neither.
func etcdConfig(c store.ClientConfig) (store.ClientConfig, error) {
	if len(c.Endpoints) == 0 {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"etcd-cacert", c.CACert != ""},
			{"etcd-cert", c.Cert != ""},
			{"etcd-key", c.Key != ""},
			{"etcd-insecure-skip-tls-verify", c.InsecureSkipTLSVerify},
			{"etcd-user", c.User != ""},
			{"etcd-password", c.Password != ""},
		} {
			if f.set {
				return c, fmt.Errorf("--%s needs --etcd-endpoints: the embedded etcd has no TLS and no users", f.name)
			}
		}
		return c, nil
	}
	if c.User != "" && c.Password == "" && !strings.Contains(c.User, ":") {
		c.Password = os.Getenv("PLEXUS_ETCD_PASSWORD")
	}
	return c, nil
}

// runEnv is the environment local runs start from: this process's,
// without the etcd password (a run could print it to its log, which the
// API serves).
func runEnv(environ []string) []string {
	return slices.DeleteFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, "PLEXUS_ETCD_PASSWORD=") })
}

// liveHistory reads what the engine running in this process knows: its
// store, its executor's logs (followed while they grow) and its dags'
// graphs.
type liveHistory struct{ le *localEngine }

func (h liveHistory) List(ctx context.Context, o api.ListOptions) (*api.ListResponse, error) {
	return api.List(ctx, h.le.st, o)
}

// ChildRuns reads every child of a run.
func (h liveHistory) ChildRuns(ctx context.Context, parent string) ([]*store.Run, error) {
	return h.le.st.ChildRuns(ctx, parent)
}

func (h liveHistory) Get(ctx context.Context, uuid string) (*store.Run, error) {
	r, _, err := h.le.st.Get(ctx, uuid)
	return r, err
}

func (h liveHistory) Logs(ctx context.Context, uuid string, attempt int, follow bool) (io.ReadCloser, error) {
	if attempt == 0 {
		r, err := h.Get(ctx, uuid)
		if err != nil {
			return nil, err
		}
		attempt = r.Attempt
	}
	return h.le.ex.Logs(ctx, executor.RunRef{UUID: uuid, Attempt: attempt}, follow)
}

func (h liveHistory) Graph(ctx context.Context, uuid string) (*engine.Graph, error) {
	return h.le.eng.Graph(ctx, uuid)
}

// selfPath is a path that runs this program: what the local executor runs
// for a command naming the plexus binary of the image. It is the path the
// program was started as (found on PATH when it has no slash), so that a
// link to it runs it as it was run; else the executable itself.
func selfPath() string {
	name := os.Args[0]
	if !strings.Contains(name, "/") {
		if p, err := exec.LookPath(name); err == nil {
			name = p
		}
	}
	if p, err := filepath.Abs(name); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := os.Executable()
	return p
}
