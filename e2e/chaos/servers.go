package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/leader"
	"github.com/plexus-ml/plexus/engine/store"
)

// token is the bearer token the servers' API accepts.
const token = "chaos"

// servers are the `plexus server` processes of a chaos run, sharing one
// etcd cluster and one Kubernetes namespace.
type servers struct {
	procs *cluster.Processes
	bin   string
	args  []string // what every server is started with
	list  []*server
	etcd  *clientv3.Client
}

type server struct {
	id, home, addrFile string
	proc               *cluster.Process
	url                string
}

func newServers(procs *cluster.Processes, bin, dir string, n int, args []string, etcd *clientv3.Client) *servers {
	s := &servers{procs: procs, bin: bin, args: args, etcd: etcd}
	for i := range n {
		id := "s" + strconv.Itoa(i+1)
		s.list = append(s.list, &server{id: id, home: filepath.Join(dir, id), addrFile: filepath.Join(dir, id+".addr")})
	}
	return s
}

// start runs server sv and waits until its API listens.
func (s *servers) start(ctx context.Context, sv *server) error {
	os.Remove(sv.addrFile)
	args := append([]string{"server", "--id", sv.id, "--listen", "127.0.0.1:0", "--addr-file", sv.addrFile, "--token", token}, s.args...)
	p, err := s.procs.Start(sv.id, s.bin, args, []string{"PLEXUS_HOME=" + sv.home})
	if err != nil {
		return err
	}
	sv.proc = p
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if b, err := os.ReadFile(sv.addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			sv.url = strings.TrimSpace(string(b))
			return nil
		}
		if gone, err := p.Exited(); gone {
			return fmt.Errorf("server %s exited while starting (%v):\n%s", sv.id, err, p.Tail(20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server %s did not listen in time: %w (log %s)", sv.id, ctx.Err(), p.LogPath())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// kill ends server sv with SIGKILL.
func (s *servers) kill(sv *server) {
	sv.proc.Kill()
	s.procs.Remove(sv.proc)
}

// byID is the server named id, nil if none is.
func (s *servers) byID(id string) *server {
	for _, sv := range s.list {
		if sv.id == id {
			return sv
		}
	}
	return nil
}

// term is a leadership as etcd holds it: the leader's id and its
// election key's create revision.
type term struct {
	id  string
	rev int64
}

// leader is the current term, the zero term when none.
func (s *servers) leader(ctx context.Context) (term, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	id, rev, err := leader.Current(ctx, s.etcd, store.DefaultPrefix)
	if err != nil {
		return term{}, fmt.Errorf("reading the leader: %w", err)
	}
	return term{id: id, rev: rev}, nil
}

// awaitLeader waits for a term other than old (the zero term: any).
func (s *servers) awaitLeader(ctx context.Context, old term, timeout time.Duration) (term, error) {
	deadline := time.Now().Add(timeout)
	for {
		t, err := s.leader(ctx)
		if err == nil && t.id != "" && t.rev != old.rev {
			return t, nil
		}
		if time.Now().After(deadline) {
			return term{}, fmt.Errorf("no new leader after %v (last: %+v, %v)", timeout, t, err)
		}
		select {
		case <-ctx.Done():
			return term{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// client is an API client of a running server.
func (s *servers) client() (*api.Client, error) {
	for _, sv := range s.list {
		if sv.proc == nil {
			continue
		}
		if gone, _ := sv.proc.Exited(); !gone && sv.url != "" {
			return &api.Client{BaseURL: sv.url, Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}, nil
		}
	}
	return nil, errors.New("no server is running")
}
