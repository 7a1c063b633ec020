package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor/local"
)

// history is what `plexus ops` reads: a server's API, or, with no server,
// the runs `plexus run` left under $PLEXUS_HOME.
type history interface {
	List(ctx context.Context, o api.ListOptions) (*api.ListResponse, error)
	Get(ctx context.Context, uuid string) (*store.Run, error)
	Logs(ctx context.Context, uuid string, attempt int, follow bool) (io.ReadCloser, error)
	// Graph reads a dag run's graph; for another run its error wraps
	// engine.ErrNotPipeline.
	Graph(ctx context.Context, uuid string) (*engine.Graph, error)
}

// localHistory reads the local engine's store and run directories.
type localHistory struct {
	st *store.Store
	// eng, never started, reads the graphs of dags.
	eng   *engine.Engine
	runs  string
	close func()
}

// openLocalHistory opens the embedded etcd under home; it fails while a
// `plexus run` or `plexus server` of the same home holds it.
func openLocalHistory(home string) (*localHistory, error) {
	dir := filepath.Join(home, "etcd")
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no server given and no local history in %s: run something with plexus run first, or pass --server", home)
	}
	emb, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("opening the local history in %s (is a plexus run or server using it?): %w", home, err)
	}
	cli := emb.Client()
	h := &localHistory{st: store.New(cli, "", nil), runs: filepath.Join(home, "runs"),
		close: func() { cli.Close(); emb.Close() }}
	// An engine reads graphs; it needs an executor, which it never uses
	// here since it does not run.
	ex, err := local.New(local.Config{Root: h.runs})
	if err == nil {
		h.eng, err = engine.New(engine.Config{Store: h.st, Executor: ex})
	}
	if err != nil {
		h.close()
		return nil, fmt.Errorf("opening the local history in %s: %w", home, err)
	}
	return h, nil
}

func (h *localHistory) List(ctx context.Context, o api.ListOptions) (*api.ListResponse, error) {
	return api.List(ctx, h.st, o)
}

// ChildRuns reads every child of a run.
func (h *localHistory) ChildRuns(ctx context.Context, parent string) ([]*store.Run, error) {
	return h.st.ChildRuns(ctx, parent)
}

// ChildRunsSince reads the children of a run changed after a revision.
func (h *localHistory) ChildRunsSince(ctx context.Context, parent string, since int64) ([]*store.Run, int64, error) {
	return h.st.ChildRunsSince(ctx, parent, since)
}

func (h *localHistory) Graph(ctx context.Context, uuid string) (*engine.Graph, error) {
	return h.eng.Graph(ctx, uuid)
}

func (h *localHistory) Get(ctx context.Context, uuid string) (*store.Run, error) {
	r, _, err := h.st.Get(ctx, uuid)
	return r, err
}

// Logs reads an attempt's log file; nothing runs, so there is nothing to
// follow.
func (h *localHistory) Logs(ctx context.Context, uuid string, attempt int, _ bool) (io.ReadCloser, error) {
	if attempt == 0 {
		r, err := h.Get(ctx, uuid)
		if err != nil {
			return nil, err
		}
		attempt = r.Attempt
	}
	f, err := os.Open(filepath.Join(h.runs, uuid, "attempt-"+strconv.Itoa(attempt)+".log"))
	if err != nil {
		return nil, fmt.Errorf("no log for attempt %d of run %s", attempt, uuid)
	}
	return f, nil
}
