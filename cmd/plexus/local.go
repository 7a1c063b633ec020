package main

import (
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor/local"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// sources resolve references as the CLI does: the built-in hub, and urlRefs
// over HTTP unless refused.
func sources(urlRefs bool) compiler.Sources {
	src := compiler.Sources{Hub: compiler.StubHub()}
	if urlRefs {
		src.URL = &compiler.HTTPFetcher{}
	}
	return src
}

// localEngine is an engine whose runs run as host processes under home,
// on the etcd at endpoints (an embedded one under home when there are
// none). Close stops what it started, in order.
type localEngine struct {
	eng    *engine.Engine
	st     *store.Store
	ex     *local.Executor
	closes []func()
}

// openLocalEngine completes cfg with the store, the local executor and the
// runs' context paths, and builds the engine; it does not start it.
func openLocalEngine(home string, endpoints []string, cfg engine.Config) (*localEngine, error) {
	le := &localEngine{}
	if len(endpoints) == 0 {
		emb, err := store.StartEmbedded(filepath.Join(home, "etcd"), 10*time.Second)
		if err != nil {
			return nil, err
		}
		le.closes = append(le.closes, emb.Close)
		endpoints = []string{emb.Endpoint}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		le.Close()
		return nil, err
	}
	le.closes = append(le.closes, func() { cli.Close() })
	if le.ex, err = local.New(local.Config{Root: filepath.Join(home, "runs")}); err != nil {
		le.Close()
		return nil, err
	}
	le.closes = append(le.closes, func() { _ = le.ex.Close() })
	le.st = store.New(cli, "", nil)
	cfg.Store, cfg.Executor = le.st, le.ex
	cfg.RunInfo = func(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
		ri.ContextPath = le.ex.ContextPath(r.UUID)
		return ri
	}
	if le.eng, err = engine.New(cfg); err != nil {
		le.Close()
		return nil, err
	}
	return le, nil
}

// Close stops the executor, the client and the embedded etcd.
func (le *localEngine) Close() {
	for i := len(le.closes) - 1; i >= 0; i-- {
		le.closes[i]()
	}
}
