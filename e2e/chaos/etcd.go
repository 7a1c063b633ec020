package chaos

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/e2e/cluster"
)

// etcdCluster is an etcd cluster of real processes on loopback, whose
// members can be killed and started again on their data.
type etcdCluster struct {
	procs   *cluster.Processes
	bin     string
	dir     string
	members []*etcdMember
}

type etcdMember struct {
	name, client, peer string
	proc               *cluster.Process
}

// startEtcd starts n members and waits until each is healthy.
func startEtcd(ctx context.Context, procs *cluster.Processes, bin, dir string, n int) (*etcdCluster, error) {
	c := &etcdCluster{procs: procs, bin: bin, dir: dir}
	var initial []string
	for i := range n {
		ports, err := cluster.FreePorts(2)
		if err != nil {
			return nil, err
		}
		m := &etcdMember{name: fmt.Sprintf("etcd%d", i), client: "http://127.0.0.1:" + strconv.Itoa(ports[0]), peer: "http://127.0.0.1:" + strconv.Itoa(ports[1])}
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peer)
	}
	for i := range c.members {
		if err := c.run(i, "new", strings.Join(initial, ",")); err != nil {
			return nil, err
		}
	}
	for i := range c.members {
		if err := c.waitHealthy(ctx, i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *etcdCluster) initial() string {
	var s []string
	for _, m := range c.members {
		s = append(s, m.name+"="+m.peer)
	}
	return strings.Join(s, ",")
}

// run starts member i on its data folder.
func (c *etcdCluster) run(i int, state, initial string) error {
	m := c.members[i]
	p, err := c.procs.Start(m.name, c.bin, []string{
		"--name=" + m.name,
		"--data-dir=" + filepath.Join(c.dir, m.name),
		"--listen-client-urls=" + m.client,
		"--advertise-client-urls=" + m.client,
		"--listen-peer-urls=" + m.peer,
		"--initial-advertise-peer-urls=" + m.peer,
		"--initial-cluster=" + initial,
		"--initial-cluster-state=" + state,
		"--initial-cluster-token=plexus-chaos",
		"--unsafe-no-fsync",
		"--log-level=warn",
	}, nil)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	m.proc = p
	return nil
}

// waitHealthy waits until member i answers /health with health true.
func (c *etcdCluster) waitHealthy(ctx context.Context, i int) error {
	m := c.members[i]
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.client+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if gone, werr := m.proc.Exited(); gone {
			return fmt.Errorf("etcd: %s exited (%v):\n%s", m.name, werr, m.proc.Tail(15))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd: %s is not healthy: %v (log %s)", m.name, err, m.proc.LogPath())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// endpoints are the members' client URLs.
func (c *etcdCluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.client)
	}
	return eps
}

// restart kills member i with SIGKILL, keeps it down for down, and starts
// it again on its data.
func (c *etcdCluster) restart(ctx context.Context, i int, down time.Duration) error {
	m := c.members[i]
	m.proc.Kill()
	c.procs.Remove(m.proc)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	if err := c.run(i, "existing", c.initial()); err != nil {
		return err
	}
	return c.waitHealthy(ctx, i)
}
