package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor/k8s"
)

type serverOptions struct {
	listen     string
	etcd       store.ClientConfig
	tokensFile string
	token      string
	id         string
	addrFile   string
	executor   string
	kube       k8s.Config
	queues     []string
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
standby takes over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8000", "the API's address")
	f.StringSliceVar(&o.etcd.Endpoints, "etcd-endpoints", nil, "etcd endpoints (default: an embedded etcd under $PLEXUS_HOME)")
	f.StringVar(&o.etcd.CACert, "etcd-cacert", "", "verify the etcd's certificate with the CAs in `FILE` (default: the system's)")
	f.StringVar(&o.etcd.Cert, "etcd-cert", "", "the client certificate `FILE` to present to the etcd (with --etcd-key)")
	f.StringVar(&o.etcd.Key, "etcd-key", "", "the client certificate's key `FILE`")
	f.BoolVar(&o.etcd.InsecureSkipTLSVerify, "etcd-insecure-skip-tls-verify", false, "accept any certificate from the etcd (testing only)")
	f.StringVar(&o.etcd.User, "etcd-user", "", "the etcd user: `NAME`, or NAME:PASSWORD")
	f.StringVar(&o.etcd.Password, "etcd-password", "", "the etcd user's password (default $PLEXUS_ETCD_PASSWORD)")
	f.StringVar(&o.tokensFile, "tokens-file", "", "a file of `TOKEN USER` lines: the bearer tokens the API accepts")
	f.StringVar(&o.token, "token", "", "a bearer token the API accepts (for the user \"admin\")")
	f.StringVar(&o.id, "id", "", "this engine's name among the servers (default: the host name and pid)")
	f.StringVar(&o.addrFile, "addr-file", "", "write the API's address to this file once listening")
	f.StringVar(&o.executor, "executor", "local", "where runs run: local (host processes under $PLEXUS_HOME) or k8s (Jobs, services as Deployments)")
	f.StringVar(&o.kube.Kubeconfig, "kubeconfig", "", "with --executor k8s: the kubeconfig (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.kube.Context, "context", "", "with --executor k8s: the kubeconfig context (default its current one)")
	f.StringVarP(&o.kube.Namespace, "namespace", "n", "", "with --executor k8s: where runs go (default the context's namespace)")
	f.Float32Var(&o.kube.QPS, "kube-api-qps", 200, "with --executor k8s: requests a second to the API server")
	f.IntVar(&o.kube.Burst, "kube-api-burst", 400, "with --executor k8s: the requests' burst")
	f.Float32Var(&o.kube.CreatesPerSecond, "kube-creates-per-second", 100, "with --executor k8s: objects created a second at most")
	f.StringArrayVar(&o.queues, "queue", nil, "NAME=N: at most N runs of queue NAME at once (repeatable; unlisted queues are unlimited)")
	return cmd
}

func runServer(cmd *cobra.Command, o serverOptions) error {
	var kube *k8s.Config
	switch o.executor {
	case "local":
	case "k8s":
		kube = &o.kube
	default:
		return fmt.Errorf("--executor %q: want local or k8s", o.executor)
	}
	tokens, err := readTokens(o.tokensFile, o.token)
	if err != nil {
		return err
	}
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
	le, err := openEngine(ctx, home, etcd, kube, engine.Config{ID: o.id, Queues: queues, Sources: sources(true)})
	if err != nil {
		return err
	}
	defer le.Close()
	eng, st, ex := le.eng, le.st, le.ex
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: (&api.Server{Engine: eng, Store: st, Executor: ex, Tokens: tokens}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	if o.addrFile != "" {
		if err := os.WriteFile(o.addrFile, []byte("http://"+ln.Addr().String()+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "plexus server %s: API on http://%s\n", o.id, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
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

// readTokens reads `TOKEN USER` lines, plus one token given on the
// command line.
func readTokens(file, token string) (map[string]string, error) {
	tokens := map[string]string{}
	if token != "" {
		tokens[token] = "admin"
	}
	if file == "" {
		return tokens, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading tokens: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want TOKEN USER", file, n)
		}
		tokens[fields[0]] = fields[1]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, errors.New("the tokens file holds no token")
	}
	return tokens, nil
}
