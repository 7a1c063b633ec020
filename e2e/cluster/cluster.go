package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options configure Start. The zero value is a working cluster.
type Options struct {
	// Nodes is how many fake nodes to register; 0 means 1.
	Nodes int
	// BinDir is the folder holding the binaries; "" means BinDir().
	BinDir string
	// Dir, a new or empty folder, receives the data, credentials,
	// kubeconfig and logs; "" means a new temporary folder, which Stop
	// removes unless KeepDir was called.
	Dir string
	// StartTimeout bounds Start once the binaries are found; 0 means 90s.
	StartTimeout time.Duration
	// Logf, when set, receives a line per step (t.Logf, say).
	Logf func(format string, args ...any)
	// Audit makes the API server log every create and delete of Jobs,
	// Pods, Deployments and Services (Cluster.AuditEvents reads them).
	Audit bool
}

// Cluster is a running control plane. Its methods are safe for concurrent
// use.
type Cluster struct {
	dir        string
	ownDir     bool
	kubeconfig string
	url        string
	token      string
	config     *rest.Config
	client     kubernetes.Interface
	nodes      []string
	spawner    *spawner
	podLogs    *podLogs
	audit      bool

	mu      sync.Mutex
	procs   []*process // in start order
	keep    bool
	stopped bool
	stopErr error
}

// Start runs a control plane and returns once a pod can be scheduled on it.
// On error nothing is left running, and the folder with the logs is kept
// (the error names it).
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := findBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 1
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 90 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	// A free port can be taken by another process between freePorts and
	// the component's bind; only then is a second or third try worth it.
	for attempt := 1; ; attempt++ {
		c, err := start(ctx, opts, bin)
		if err == nil {
			return c, nil
		}
		if attempt == 3 || c == nil || !c.ownDir || !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
		opts.Logf("cluster: a port was taken, starting again: %v", err)
		os.RemoveAll(c.dir)
	}
}

// start is one attempt of Start. On error, it returns the stopped cluster
// too when it has a folder.
func start(ctx context.Context, opts Options, bin string) (cl *Cluster, err error) {
	logf := opts.Logf

	c := &Cluster{dir: opts.Dir, audit: opts.Audit}
	if c.dir == "" {
		sweepStale()
		if c.dir, err = os.MkdirTemp("", dirPrefix); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		c.ownDir = true
		if err := markOwner(c.dir); err != nil {
			os.RemoveAll(c.dir)
			return nil, fmt.Errorf("cluster: %w", err)
		}
	}
	c.spawner = newSpawner()
	defer func() {
		if err != nil {
			c.mu.Lock()
			c.keep = true
			c.mu.Unlock()
			_ = c.Stop()
			err = fmt.Errorf("%w\n(cluster folder kept: %s; logs: %s)", err, c.dir, strings.Join(c.LogFiles(), " "))
			cl = c
		}
	}()

	began := time.Now()
	creds, err := writeCredentials(c.dir)
	if err != nil {
		return nil, err
	}
	c.token = creds.token
	stages := filepath.Join(c.dir, "kwok-stages.yaml")
	if err := writeStages(stages); err != nil {
		return nil, err
	}
	logsConfig, err := writeLogsConfig(c.dir)
	if err != nil {
		return nil, err
	}
	ports, err := FreePorts(4)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort, kubeletPort := ports[0], ports[1], ports[2], ports[3]

	// etcd
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	if _, err := c.start(binEtcd, filepath.Join(bin, binEtcd), []string{
		"--name=plexus-e2e",
		"--data-dir=" + filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=plexus-e2e=" + peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	}, nil); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, "etcd /health", func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, etcdURL+"/health", "")
	}); err != nil {
		return nil, err
	}
	logf("cluster: etcd ready after %v", time.Since(began).Round(time.Millisecond))

	// kube-apiserver
	certDir := filepath.Join(c.dir, "certs")
	c.url = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	var auditFlags []string
	if c.audit {
		if auditFlags, err = writeAuditPolicy(c.dir); err != nil {
			return nil, err
		}
	}
	if _, err := c.start(binAPIServer, filepath.Join(bin, binAPIServer), append([]string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + certDir,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + creds.saPub,
		"--service-account-signing-key-file=" + creds.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--token-auth-file=" + creds.tokenFile,
		"--authorization-mode=RBAC",
		// Pod logs: the fake nodes' InternalIP (127.0.0.1; their Hostname
		// resolves nowhere) and the port in their daemonEndpoints reach
		// kwok's kubelet endpoint, whose certificate is this.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority=" + creds.kubeletCert,
	}, auditFlags...), nil); err != nil {
		return nil, err
	}
	// The API server writes its self-signed serving certificate (followed by
	// the CA that signed it) before it serves; trust exactly that.
	var caData []byte
	if err := c.waitFor(ctx, "the API server's serving certificate", func(context.Context) error {
		caData, err = os.ReadFile(filepath.Join(certDir, "apiserver.crt"))
		return err
	}); err != nil {
		return nil, err
	}
	c.config = restConfig(c.url, c.token, caData)
	hc, err := rest.HTTPClientFor(c.config)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if err := c.waitFor(ctx, "kube-apiserver /readyz", func(ctx context.Context) error {
		return httpOK(ctx, hc, c.url+"/readyz", c.token)
	}); err != nil {
		return nil, err
	}
	logf("cluster: kube-apiserver ready after %v", time.Since(began).Round(time.Millisecond))
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := writeKubeconfig(c.kubeconfig, c.config); err != nil {
		return nil, err
	}
	if c.client, err = kubernetes.NewForConfigAndClient(c.config, hc); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(c.config, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	// kwok's watch of Logs objects (pod logs, see logs.go) backs off while
	// their CRD is not served: create it now, while the controllers start,
	// and wait for it before kwok starts.
	if err := createLogsCRD(ctx, dyn); err != nil {
		return nil, err
	}

	// The rest need only the API server and start together.
	if _, err := c.start(binControllerManager, filepath.Join(bin, binControllerManager), []string{
		"--kubeconfig=" + c.kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--service-account-private-key-file=" + creds.saKey,
		"--controllers=" + strings.Join([]string{
			"job-controller", "serviceaccount-controller", "garbage-collector-controller",
			"node-lifecycle-controller", "deployment-controller", "replicaset-controller",
			"namespace-controller", "ttl-after-finished-controller",
		}, ","),
		"--kube-api-qps=100",
		"--kube-api-burst=200",
	}, nil); err != nil {
		return nil, err
	}
	if _, err := c.start(binScheduler, filepath.Join(bin, binScheduler), []string{
		"--kubeconfig=" + c.kubeconfig,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port=0",
	}, nil); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, "the kwok Logs CRD", func(ctx context.Context) error {
		return logsCRDEstablished(ctx, dyn)
	}); err != nil {
		return nil, err
	}
	kubeletAddr := "127.0.0.1:" + strconv.Itoa(kubeletPort)
	if _, err := c.start(binKwok, filepath.Join(bin, binKwok), []string{
		"--kubeconfig=" + c.kubeconfig,
		"--config=" + stages,
		"--config=" + logsConfig,
		"--manage-nodes-with-annotation-selector=" + NodeAnnotation + "=fake",
		"--node-lease-duration-seconds=40",
		"--cidr=10.0.1.0/24",
		"--node-ip=127.0.0.1",
		// The kubelet API for every fake node: pod logs (see logs.go).
		"--server-address=" + kubeletAddr,
		"--node-port=" + strconv.Itoa(kubeletPort),
		"--tls-cert-file=" + creds.kubeletCert,
		"--tls-private-key-file=" + creds.kubeletKey,
		"--enable-crds=Logs",
	}, []string{"KWOK_WORKDIR=" + filepath.Join(c.dir, "kwok")}); err != nil {
		return nil, err
	}
	if c.podLogs, err = startPodLogs(ctx, c.config, c.client, dyn, c.dir, logf); err != nil {
		return nil, err
	}

	if c.nodes, err = registerNodes(ctx, c.client, opts.Nodes); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, "fake nodes Ready without taints", func(ctx context.Context) error {
		return nodesReady(ctx, c.client, c.nodes)
	}); err != nil {
		return nil, err
	}
	kubeletClient, err := kubeletHTTPClient(creds.kubeletCert)
	if err != nil {
		return nil, err
	}
	defer kubeletClient.CloseIdleConnections()
	if err := c.waitFor(ctx, "kwok's kubelet endpoint", func(ctx context.Context) error {
		return httpOK(ctx, kubeletClient, "https://"+kubeletAddr+"/healthz", "")
	}); err != nil {
		return nil, err
	}
	if err := c.waitFor(ctx, "the default ServiceAccount", func(ctx context.Context) error {
		_, err := c.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", getOpts)
		return err
	}); err != nil {
		return nil, err
	}
	logf("cluster: ready after %v (API server %s, kubeconfig %s)", time.Since(began).Round(time.Millisecond), c.url, c.kubeconfig)
	return c, nil
}

// start runs one component and records it for Stop.
func (c *Cluster) start(name, bin string, args, env []string) (*process, error) {
	p, err := startProcess(c.spawner, c.dir, name, bin, args, env)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// waitFor polls cond until it returns nil, failing early if a component
// exits and, at the deadline, with cond's last error.
func (c *Cluster) waitFor(ctx context.Context, what string, cond func(context.Context) error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		c.mu.Lock()
		procs := c.procs
		c.mu.Unlock()
		for _, p := range procs {
			if gone, err := p.exited(); gone {
				return p.errDied(err)
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = cond(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Stop ends the watch that gives pods their chosen logs, then the
// components in dependency order -- kwok, scheduler,
// controller-manager, API server (which needs etcd to shut down), etcd --
// each SIGTERM, then SIGKILL after 10s, and removes the cluster's folder
// unless KeepDir was called or the folder was given in Options.Dir. It
// returns an error if a component had died before Stop. Calling it again
// returns the first call's result.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return c.stopErr
	}
	c.stopped = true
	if c.podLogs != nil {
		c.podLogs.stop()
	}
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		errs = append(errs, c.procs[i].stop(stopGrace))
	}
	c.spawner.close()
	switch {
	case !c.ownDir:
	case c.keep:
		errs = append(errs, markKept(c.dir))
	default:
		errs = append(errs, os.RemoveAll(c.dir))
	}
	c.stopErr = errors.Join(errs...)
	return c.stopErr
}

// KeepDir keeps the cluster's folder (logs, data, kubeconfig) after Stop.
func (c *Cluster) KeepDir() {
	c.mu.Lock()
	c.keep = true
	c.mu.Unlock()
}

// Dir is the folder holding the cluster's data, credentials and logs.
func (c *Cluster) Dir() string { return c.dir }

// Kubeconfig is the path of an admin kubeconfig for the cluster.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// URL is the API server's address, https://127.0.0.1:PORT.
func (c *Cluster) URL() string { return c.url }

// Token is the admin's bearer token (user admin, group system:masters).
func (c *Cluster) Token() string { return c.token }

// RESTConfig returns a new copy of the admin's client configuration.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// Client is a clientset authenticated as the admin.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// Nodes are the names of the fake nodes.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.nodes...) }

// LogFiles are the paths of the components' logs, in start order, and then
// that of the cluster's own failures to give pods the logs they chose
// (AnnotationLogs).
func (c *Cluster) LogFiles() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	paths := make([]string, len(c.procs), len(c.procs)+1)
	for i, p := range c.procs {
		paths[i] = p.logPath
	}
	if c.podLogs != nil {
		paths = append(paths, c.podLogs.logPath)
	}
	return paths
}

// PIDs maps each component to its process id.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	pids := make(map[string]int, len(c.procs))
	for _, p := range c.procs {
		pids[p.name] = p.pid()
	}
	return pids
}

// FreePorts reserves n distinct loopback ports and releases them for the
// components to bind. Another process could take one in between; the
// component would then fail to start and Start report it.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("cluster: finding a free port: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// kubeletHTTPClient trusts only the certificate kwok's kubelet endpoint
// serves.
func kubeletHTTPClient(certFile string) (*http.Client, error) {
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster: no certificate in %s", certFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}, nil
}

// httpOK GETs url and wants 200.
func httpOK(ctx context.Context, hc *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
