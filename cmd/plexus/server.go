package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/ui"
)

type serverOptions struct {
	templates  compiler.TemplateLimits
	listen     string
	etcd       store.ClientConfig
	tokensFile string
	tokensYAML string
	token      string
	conns      string
	id         string
	leaseTTL   int
	addrFile   string
	tlsCert    string
	tlsKey     string
	urlRefs    bool
	auditLog   string
	executor   string
	kube       k8s.Config
	queues     []string
	policy     string
	// The API's limits: sizes as api.ParseSize reads them, durations (0:
	// none).
	maxBody, maxInFlight                                   string
	queueWait, bodyTimeout, readHeaderTimeout, idleTimeout time.Duration
}

func newServerCmd() *cobra.Command {
	var o serverOptions
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the long-running engine and its API",
		Long: `Server runs the engine: it campaigns for leadership among the servers sharing
its etcd, reconciles every run while it leads, and serves the API under
/api/v1 (with /healthz, /readyz and /metrics). With no --etcd-endpoints it
runs etcd in-process under $PLEXUS_HOME. An external etcd's TLS and auth
take etcdctl's flags with an etcd- prefix: --etcd-cacert, --etcd-cert and
--etcd-key, --etcd-user NAME[:PASSWORD] (or the password in
PLEXUS_ETCD_PASSWORD, off the command line). SIGTERM resigns at once, so a
standby takes over.

On the local executor, a server stopped (SIGTERM, Ctrl-C) to be upgraded or
restarted leaves its runs' processes running; the next server on the same
$PLEXUS_HOME takes them over and reports their end, exit code, outputs and
log, even for a process that ended while no server ran. A run in its init
steps is handed to a supervisor process, which runs the interrupted step
again from its start, then the rest.

The API bounds the memory submissions take: at most --max-inflight bytes of
submission bodies are handled at once (a submission weighs its
Content-Length, or --max-body without one); the others wait up to
--queue-wait, then are answered 503 with a Retry-After. A body over
--max-body is answered 413; one that takes longer than --body-timeout to
arrive, 408.

Tokens: with none of --token, --tokens-file and --tokens the API is open
(keep it on loopback then). --tokens FILE lists the bearer tokens, each with
who it is and what it may do:

  tokens:
    - token: s3cret            # or tokenFile: FILE, relative to this file
      user: alice
      teams: [ml]              # the access policy (--policy) applies to them too
      projects: [vision]       # where it may act; "*" any; none: the default project
      role: submit             # read | submit | admin

A read token may only read (GET: list, get, logs, graphs); a submit token
may also submit, stop, approve, resume and restart runs of its projects; an
admin may do everything in every project. A token sees only the runs of its
projects: a run of another is answered 404 to a read, 403 to a change.
--token and the --tokens-file lines are admins of every project. The three
may be given together: the API accepts the tokens of all of them, and a
token given twice is an error naming both places. On SIGHUP the server reads
the tokens files again: a file with an error is logged and the tokens in use
kept; a good one replaces them at once.

--policy FILE is the access policy submissions are compiled under
(compile's --policy). Their hubRefs are resolved for the user the
request's token names, in the submission's project: a hub component is
theirs to use if it is public (owner polyaxon), their own (owner/name
with owner their name), or a rule grants them the project owner/name or
owner/*; any other is refused at its hubRef. SIGHUP reads the policy
and the tokens files again (a file with an error is logged, and what is
in use kept).

--connections FILE is the connections catalogue runs may name (compile's
--connections). With --executor k8s, --artifacts-store NAME makes one of
them, a volume_claim or host_path, the default artifacts store: each run's
globals.run_artifacts_path is its directory <uuid> there, kept after the
pod, and the init steps that read other runs' artifacts (the hub's
tensorboard) see the store. Without one, those steps are refused on
Kubernetes; locally the runs' own directories are the store.

Templates render in a sandbox whose limits (steps, output, value sizes,
macro depth, nesting, time: the --template-* flags) stop a spec that would
take the server down; an error names the limit and its flag.
docs/limits.md has the figures behind the defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8000", "the API's address")
	etcdFlags(f, &o.etcd)
	f.StringVar(&o.tokensYAML, "tokens", "", "a tokens `FILE` (YAML or JSON): the bearer tokens the API accepts, each with its user, teams, projects and role (read, submit, admin); read again on SIGHUP")
	f.StringVar(&o.tokensFile, "tokens-file", "", "a file of `TOKEN USER` lines: bearer tokens of admins of every project (the old form; read again on SIGHUP)")
	f.StringVar(&o.token, "token", "", "a bearer token the API accepts, of an admin of every project (the user \"admin\")")
	f.StringVar(&o.id, "id", "", "this engine's name among the servers (default: the host name and pid)")
	f.IntVar(&o.leaseTTL, "lease-ttl", 10, "the leader's etcd lease in `SECONDS`: how long a leader that died holds on before a standby takes over")
	f.StringVar(&o.addrFile, "addr-file", "", "write the API's address to this file once listening")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve the API over HTTPS with the certificate (chain) in `FILE`, PEM (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "the TLS certificate's private key `FILE`, PEM")
	f.StringVar(&o.auditLog, "audit-log", "", "append a JSON line to `FILE` for every API call that changes something: when, who, what, the answer")
	f.BoolVar(&o.urlRefs, "url-refs", false, "fetch the components submissions' urlRefs name (HTTP GET from this server: any URL it can reach)")
	f.StringVar(&o.executor, "executor", "local", "where runs run: local (host processes under $PLEXUS_HOME) or k8s (Jobs, services as Deployments)")
	f.StringVar(&o.kube.Kubeconfig, "kubeconfig", "", "with --executor k8s: the kubeconfig (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.kube.Context, "context", "", "with --executor k8s: the kubeconfig context (default its current one)")
	f.StringVarP(&o.kube.Namespace, "namespace", "n", "", "with --executor k8s: where runs go (default the context's namespace)")
	f.Float32Var(&o.kube.QPS, "kube-api-qps", 200, "with --executor k8s: requests a second to the API server")
	f.IntVar(&o.kube.Burst, "kube-api-burst", 400, "with --executor k8s: the requests' burst")
	f.Float32Var(&o.kube.CreatesPerSecond, "kube-creates-per-second", 100, "with --executor k8s: objects created a second at most")
	f.BoolVar(&o.kube.BarePods, "bare-pods", false, "with --executor k8s: run a job of one pod as that pod, without a Job (no Job controller in between)")
	f.StringVar(&o.conns, "connections", "", "a connections `FILE` (`connections: [...]`, as compile's): what runs may name in connections")
	f.StringVar(&o.kube.ArtifactsStore, "artifacts-store", "", "with --executor k8s: the connection (a volume_claim or host_path of --connections) that keeps runs' artifacts, which init steps (the hub's tensorboard) read")
	f.StringVar(&o.policy, "policy", "", "the access policy `FILE` submissions are compiled under; it says which hub components each token's user may use (default: everything)")
	f.StringArrayVar(&o.queues, "queue", nil, "NAME=N: at most N runs of queue NAME at once (repeatable; unlisted queues are unlimited)")
	f.StringVar(&o.maxBody, "max-body", api.FormatSize(api.DefaultMaxBody), "the largest submission the API takes (`SIZE`: bytes, or with KiB, MiB, GiB)")
	f.StringVar(&o.maxInFlight, "max-inflight", api.FormatSize(api.DefaultInFlight), "the most `SIZE` of submission bodies handled at once; the others wait")
	f.DurationVar(&o.queueWait, "queue-wait", api.DefaultQueueWait, "how long a submission waits for room under --max-inflight before a 503 (0: as long as it takes)")
	f.DurationVar(&o.bodyTimeout, "body-timeout", api.DefaultBodyTimeout, "how long a submission's body may take to arrive (0: none)")
	f.DurationVar(&o.readHeaderTimeout, "read-header-timeout", api.DefaultReadHeaderTimeout, "how long a request's headers may take to arrive (0: none)")
	f.DurationVar(&o.idleTimeout, "idle-timeout", api.DefaultIdleTimeout, "how long an idle kept-alive connection stays open (0: none)")
	d := compiler.DefaultTemplateLimits
	f.IntVar(&o.templates.Steps, "template-max-steps", d.Steps, "the evaluation steps the templates of one spec may take")
	f.IntVar(&o.templates.FieldBytes, "template-max-field-bytes", d.FieldBytes, "the bytes one templated field may render")
	f.IntVar(&o.templates.SpecBytes, "template-max-spec-bytes", d.SpecBytes, "the bytes all the templated fields of one spec may render")
	f.IntVar(&o.templates.ValueBytes, "template-max-value-bytes", d.ValueBytes, "the bytes of one string a template builds or reads")
	f.IntVar(&o.templates.Items, "template-max-items", d.Items, "the items of one list or mapping a template builds or reads (and of range())")
	f.IntVar(&o.templates.Depth, "template-max-depth", d.Depth, "nested macro calls in a template")
	f.IntVar(&o.templates.Nesting, "template-max-nesting", d.Nesting, "nesting of brackets in a template and of the values it reads or builds")
	f.IntVar(&o.templates.SourceBytes, "template-max-source-bytes", d.SourceBytes, "the bytes of one template's source")
	f.DurationVar(&o.templates.Time, "template-timeout", d.Time, "the wall time the templates of one spec may take to render")
	return cmd
}

// cpuProfileEnv names a file the server writes a CPU profile of its whole
// run to.
const cpuProfileEnv = "PLEXUS_CPU_PROFILE"

func runServer(cmd *cobra.Command, o serverOptions) error {
	var kube *k8s.Config
	switch o.executor {
	case "local":
	case "k8s":
		kube = &o.kube
	default:
		return fmt.Errorf("--executor %q: want local or k8s", o.executor)
	}
	if o.leaseTTL < 1 {
		return fmt.Errorf("--lease-ttl %d: want at least 1 second", o.leaseTTL)
	}
	tokens, err := loadTokens(o)
	if err != nil {
		return err
	}
	tlsConfig, err := serverTLS(o.tlsCert, o.tlsKey)
	if err != nil {
		return err
	}
	limits, err := apiLimits(o)
	if err != nil {
		return err
	}
	compiler.SetTemplateLimits(o.templates)
	etcd, err := etcdConfig(o.etcd)
	if err != nil {
		return err
	}
	queues := map[string]int{}
	for _, q := range o.queues {
		name, n, ok := strings.Cut(q, "=")
		limit, err := strconv.Atoi(n)
		if !ok || err != nil || limit < 1 {
			return fmt.Errorf("--queue %q: want NAME=N with N at least 1", q)
		}
		queues[name] = limit
	}
	var conns compiler.Catalogue
	if o.conns != "" {
		if conns, err = compiler.ReadConnections(o.conns); err != nil {
			return fmt.Errorf("--connections: %w", err)
		}
	}
	if s := o.kube.ArtifactsStore; s != "" {
		if kube == nil {
			return errors.New("--artifacts-store is for --executor k8s: the local executor keeps the runs' artifacts itself")
		}
		if c, ok := conns[s]; !ok || c.Kind != "volume_claim" && c.Kind != "host_path" {
			return fmt.Errorf("--artifacts-store %q: not a volume_claim or host_path connection of --connections", s)
		}
	}
	var policy *compiler.Policy
	if o.policy != "" {
		if policy, err = compiler.ReadPolicy(o.policy); err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
	}
	home, err := plexusHome()
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if o.id == "" {
		host, _ := os.Hostname()
		o.id = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	le, err := openEngine(ctx, home, etcd, kube, engine.Config{ID: o.id, LeaseTTL: o.leaseTTL, Queues: queues, Sources: sources(o.urlRefs), Policy: policy, Connections: conns})
	if err != nil {
		return err
	}
	// Stopped to be upgraded or restarted, the server leaves its local
	// runs running: the next one on the same home adopts them.
	le.detach = true
	defer le.Close()
	if path := os.Getenv(cpuProfileEnv); path != "" {
		// For benchmarks (e2e/bench/peer): where the server's CPU goes,
		// until it stops.
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("%s: %w", cpuProfileEnv, err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", cpuProfileEnv, err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	eng, st, ex := le.eng, le.st, le.ex
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	apiServer := &api.Server{Engine: eng, Store: st, Executor: ex, Limits: limits, UI: ui.Files()}
	if tokens != nil {
		apiServer.SetTokens(api.NewTokenSet(tokens))
	}
	go reloadOnHangup(ctx, o, apiServer, eng)
	if o.auditLog != "" {
		f, err := os.OpenFile(o.auditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("--audit-log: %w", err)
		}
		defer f.Close()
		apiServer.Audit = f
	}
	srv := apiServer.HTTPServer()
	scheme := "http"
	if tlsConfig != nil {
		srv.TLSConfig, scheme = tlsConfig, "https"
	}
	if o.addrFile != "" {
		if err := os.WriteFile(o.addrFile, []byte(scheme+"://"+ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "plexus server %s: API on %s://%s (web page at /)\n", o.id, scheme, ln.Addr())
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(ctx) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		cancel()
		<-engDone
		return err
	}
	shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	_ = srv.Shutdown(shutdown)
	<-engDone
	return nil
}

// etcdFlags are the --etcd-* flags of the commands that open the store.
func etcdFlags(f *pflag.FlagSet, c *store.ClientConfig) {
	f.StringSliceVar(&c.Endpoints, "etcd-endpoints", nil, "etcd endpoints (default: an embedded etcd under $PLEXUS_HOME)")
	f.StringVar(&c.CACert, "etcd-cacert", "", "verify the etcd's certificate with the CAs in `FILE` (default: the system's)")
	f.StringVar(&c.Cert, "etcd-cert", "", "the client certificate `FILE` to present to the etcd (with --etcd-key)")
	f.StringVar(&c.Key, "etcd-key", "", "the client certificate's key `FILE`")
	f.BoolVar(&c.InsecureSkipTLSVerify, "etcd-insecure-skip-tls-verify", false, "accept any certificate from the etcd (testing only)")
	f.StringVar(&c.User, "etcd-user", "", "the etcd user: `NAME`, or NAME:PASSWORD")
	f.StringVar(&c.Password, "etcd-password", "", "the etcd user's password (default $PLEXUS_ETCD_PASSWORD)")
}

// serverTLS is the API's TLS configuration from --tls-cert and --tls-key
// (nil without them): the pair is read at start, so a wrong file is an
// error at once rather than at the first client's handshake.
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "":
		return nil, errors.New("--tls-key needs --tls-cert")
	case keyFile == "":
		return nil, errors.New("--tls-cert needs --tls-key")
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// apiLimits are the API's limits the flags give; a duration of 0 is
// none (api.Limits's negative).
func apiLimits(o serverOptions) (api.Limits, error) {
	var l api.Limits
	var err error
	if l.MaxBody, err = api.ParseSize(o.maxBody); err != nil {
		return l, fmt.Errorf("--max-body: %w", err)
	}
	if l.InFlight, err = api.ParseSize(o.maxInFlight); err != nil {
		return l, fmt.Errorf("--max-inflight: %w", err)
	}
	if l.InFlight < l.MaxBody {
		return l, fmt.Errorf("--max-inflight %s is less than --max-body %s: the largest submissions could never be taken", o.maxInFlight, o.maxBody)
	}
	for _, d := range []struct {
		flag string
		in   time.Duration
		out  *time.Duration
	}{
		{"queue-wait", o.queueWait, &l.QueueWait},
		{"body-timeout", o.bodyTimeout, &l.BodyTimeout},
		{"read-header-timeout", o.readHeaderTimeout, &l.ReadHeaderTimeout},
		{"idle-timeout", o.idleTimeout, &l.IdleTimeout},
	} {
		switch {
		case d.in < 0:
			return l, fmt.Errorf("--%s %v: want a duration of 0 (none) or more", d.flag, d.in)
		case d.in == 0:
			*d.out = -1
		default:
			*d.out = d.in
		}
	}
	return l, nil
}
