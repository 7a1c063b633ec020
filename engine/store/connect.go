package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// ClientConfig says how to reach an external etcd. Its fields are those of
// etcdctl's flags, and errors name the `plexus server` flag at fault
// (--etcd-cacert, --etcd-cert, ...).
type ClientConfig struct {
	// Endpoints are the etcd's client URLs (https:// for TLS).
	Endpoints []string
	// CACert is a PEM file of the CAs that sign the etcd's certificate;
	// empty, https endpoints are checked against the system's roots.
	CACert string
	// Cert and Key are a PEM client certificate and its key, for an etcd
	// that asks for one; give both or neither.
	Cert, Key string
	// InsecureSkipTLSVerify accepts any server certificate.
	InsecureSkipTLSVerify bool
	// User is the etcd user's name, or "name:password" when Password is
	// empty (as etcdctl's --user); with Password set it is the name as is.
	User, Password string
	// DialTimeout bounds the connection and the first request; zero means
	// five seconds.
	DialTimeout time.Duration
}

// Connect opens a client of the etcd cfg describes, and checks that it
// answers (and accepts the credentials) before returning it.
func Connect(cfg ClientConfig) (*clientv3.Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("--etcd-endpoints: no endpoint given")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	user, password, err := credentials(cfg.User, cfg.Password)
	if err != nil {
		return nil, err
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		for _, ep := range cfg.Endpoints {
			if u, err := url.Parse(ep); err == nil && u.Scheme == "http" {
				return nil, fmt.Errorf("--etcd-endpoints %s: plain http, but TLS options are set: use https://", ep)
			}
		}
	}
	at := strings.Join(cfg.Endpoints, ",")
	ccfg := clientv3.Config{Endpoints: cfg.Endpoints, TLS: tc, DialTimeout: cfg.DialTimeout, Logger: zap.NewNop()}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, connectError(at, user, err)
	}
	if err := reach(cli, cfg.DialTimeout); err != nil {
		cli.Close()
		for _, ep := range cfg.Endpoints {
			if herr := handshake(ep, tc, cfg.DialTimeout); herr != nil {
				return nil, connectError(ep, user, herr)
			}
		}
		return nil, connectError(at, user, err)
	}
	if user != "" {
		// The client authenticates as it starts: a wrong password fails here.
		cli.Close()
		ccfg.Username, ccfg.Password = user, password
		if cli, err = clientv3.New(ccfg); err != nil {
			return nil, connectError(at, user, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	// As etcdctl's endpoint health: a user without read access to the key
	// has still been let in.
	if _, err := cli.Get(ctx, "health", clientv3.WithCountOnly()); err != nil && !errors.Is(err, rpctypes.ErrPermissionDenied) {
		cli.Close()
		return nil, connectError(at, user, err)
	}
	return cli, nil
}

// reach makes one request that fails as soon as the connection does, with
// its cause (a certificate refused, say); the client's own requests wait
// for a connection until their deadline, and then only say so. Any answer
// of the etcd's, an error included, means it was reached.
func reach(cli *clientv3.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := pb.NewMaintenanceClient(cli.ActiveConnection()).Status(ctx, &pb.StatusRequest{}, grpc.WaitForReady(false))
	if _, answered := errors.AsType[rpctypes.EtcdError](rpctypes.Error(err)); err == nil || answered {
		return nil
	}
	return err
}

// handshake explains a failed connection to a TLS endpoint: it returns
// the error of a TLS handshake with ep, or of the first read after it,
// and nil if neither fails (or ep is not TLS). Under TLS 1.3 a client
// certificate the server refuses shows only on that read; gRPC, writing
// first, may see the connection reset instead.
func handshake(ep string, tc *tls.Config, timeout time.Duration) error {
	addr, ok := strings.CutPrefix(ep, "https://")
	if !ok && (tc == nil || strings.Contains(ep, "://")) {
		return nil
	}
	addr, _, _ = strings.Cut(addr, "/")
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	conf := &tls.Config{}
	if tc != nil {
		conf = tc.Clone()
	}
	conf.ServerName = host
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, conf)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(min(timeout, time.Second)))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// credentials splits etcdctl's --user "name:password" unless the password
// is given apart.
func credentials(user, password string) (string, string, error) {
	switch {
	case user == "" && password != "":
		return "", "", errors.New("--etcd-password: given without --etcd-user")
	case user == "":
		return "", "", nil
	case password != "":
		return user, password, nil
	}
	name, password, ok := strings.Cut(user, ":")
	switch {
	case !ok:
		return "", "", fmt.Errorf("--etcd-user %s: no password: give name:password or --etcd-password", user)
	case name == "":
		return "", "", errors.New("--etcd-user: the name is empty")
	case password == "":
		return "", "", fmt.Errorf("--etcd-user %s: the password is empty", name)
	}
	return name, password, nil
}

// tlsConfig is the client's TLS configuration, or nil when no TLS option
// is set (https endpoints then use the system's roots).
func tlsConfig(cfg ClientConfig) (*tls.Config, error) {
	switch {
	case cfg.Cert != "" && cfg.Key == "":
		return nil, fmt.Errorf("--etcd-cert %s: given without --etcd-key", cfg.Cert)
	case cfg.Key != "" && cfg.Cert == "":
		return nil, fmt.Errorf("--etcd-key %s: given without --etcd-cert", cfg.Key)
	case cfg.CACert == "" && cfg.Cert == "" && !cfg.InsecureSkipTLSVerify:
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipTLSVerify}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cacert: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--etcd-cacert %s: no PEM certificate in it", cfg.CACert)
		}
	}
	if cfg.Cert != "" {
		cert, err := os.ReadFile(cfg.Cert)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert: %w", err)
		}
		key, err := os.ReadFile(cfg.Key)
		if err != nil {
			return nil, fmt.Errorf("--etcd-key: %w", err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("--etcd-cert %s, --etcd-key %s: %w", cfg.Cert, cfg.Key, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

// connectError says where the connection failed, and as whom.
func connectError(at, user string, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return fmt.Errorf("etcd %s: --etcd-user %s: %w", at, user, err)
	case errors.Is(err, rpctypes.ErrUserEmpty):
		return fmt.Errorf("etcd %s requires a user (--etcd-user): %w", at, err)
	}
	return fmt.Errorf("connecting to etcd %s: %w", at, err)
}
