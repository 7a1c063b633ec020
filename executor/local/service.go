package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// A service runs as a host process like a job's, but on the host's own
// network: two services that declare port 6006 cannot both listen there.
// So each attempt of a service gets free ports on 127.0.0.1 in place of
// those it declares (the engine compiles it with them: RunInfo.Ports,
// globals.ports), kept in the run's directory so that compiling the
// attempt again, or an executor that takes it over, finds the same ones.
// The attempt says running once its first port accepts connections.

// portsPath is the file that keeps an attempt's ports.
func portsPath(dir string, attempt int) string {
	return filepath.Join(dir, fmt.Sprintf("attempt-%d.ports.json", attempt))
}

// Ports returns the ports the attempt ref of a service listens at, one
// for each declared port: those chosen for it before, or free ones on
// 127.0.0.1, chosen now and kept.
func (e *Executor) Ports(ref executor.RunRef, declared []int) ([]int, error) {
	e.portsMu.Lock()
	defer e.portsMu.Unlock()
	dir := e.RunDir(ref.UUID)
	file := portsPath(dir, ref.Attempt)
	if data, err := os.ReadFile(file); err == nil {
		var kept []int
		if err := json.Unmarshal(data, &kept); err == nil && len(kept) == len(declared) {
			return kept, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("local executor: %w", err)
	}
	ports := make([]int, len(declared))
	// The listeners stay open until every port is chosen, so that the
	// ports differ.
	for i := range declared {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("local executor: finding a free port for %d: %w", declared[i], err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	data, _ := json.Marshal(ports)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local executor: %w", err)
	}
	if err := writeFileAtomic(file, data); err != nil {
		return nil, fmt.Errorf("local executor: %w", err)
	}
	return ports, nil
}

// Endpoint says where the attempt of a compiled service answers: its
// first port on 127.0.0.1, at the service's path.
func (e *Executor) Endpoint(ref executor.RunRef, c *compiler.Compiled) (executor.Endpoint, bool) {
	svc, ok := c.Component.Run.(*specs.Service)
	if !ok || len(svc.Ports.Items) == 0 {
		return executor.Endpoint{}, false
	}
	path := c.ServicePath()
	return executor.Endpoint{
		URL:   "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(svc.Ports.Items[0])) + path,
		Ports: append([]int(nil), svc.Ports.Items...),
		Path:  path,
	}, true
}

// servicePort is the port a compiled service answers at, 0 for a job or
// a service without ports.
func servicePort(c *compiler.Compiled) int {
	if svc, ok := c.Component.Run.(*specs.Service); ok && len(svc.Ports.Items) > 0 {
		return svc.Ports.Items[0]
	}
	return 0
}

// whenListening says the attempt runs once its service accepts
// connections at port, trying until ctx ends; one that does not answer
// for Config.ListenWarning is in warning until it does.
func (e *Executor) whenListening(ctx context.Context, a *attempt, port int) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var d net.Dialer
	warn := time.After(e.cfg.ListenWarning)
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			e.publish(a, executor.StatusUpdate{Run: a.ref, Status: executor.Running, Reason: "Listening",
				Message: "answers at " + addr, Time: e.cfg.Now()})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-warn:
			e.publish(a, executor.StatusUpdate{Run: a.ref, Status: executor.Warning, Reason: "NotListening",
				Message: fmt.Sprintf("nothing answers at %s after %v: the service's command must listen on globals.ports[0] (%d here), the port it is given in place of the one it declares", addr, e.cfg.ListenWarning, port),
				Time:    e.cfg.Now()})
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// storePath is where the default artifacts store's path "<uuid>/rest"
// lies here: this executor's runs are its store, each run's artifacts
// under its own context (globals.run_artifacts_path). A path that does
// not start with a run's uuid is not in the store.
func (e *Executor) storePath(rel string) (string, error) {
	uuid, rest, _ := strings.Cut(filepath.ToSlash(rel), "/")
	if uuid == "" || uuid == "." || uuid == ".." || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%q is not in the artifacts store, whose paths start with a run's uuid", rel)
	}
	return filepath.Join(e.ContextPath(uuid), "artifacts", uuid, filepath.FromSlash(rest)), nil
}
