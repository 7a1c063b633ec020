package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// testCA signs certificates written as PEM files under dir.
type testCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// File is the CA certificate's PEM file.
	File string
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{dir: t.TempDir(), cert: cert, key: key}
	ca.File = ca.write(t, name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

// issue writes a certificate for name, for use usage, and its key; it
// returns their files.
func (ca *testCA) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return ca.write(t, name+".pem", "CERTIFICATE", der), ca.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
}

func (ca *testCA) write(t *testing.T, name, kind string, der []byte) string {
	t.Helper()
	file := filepath.Join(ca.dir, name)
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// startTestEtcd starts an etcd of the test's own, changed by configure,
// and returns its endpoint.
func startTestEtcd(t *testing.T, configure func(*embed.Config)) string {
	t.Helper()
	cfg := embedConfig(t.TempDir())
	configure(cfg)
	e, err := startEmbedded(cfg, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e.Endpoint
}

// putGet checks that cli writes and reads back a key.
func putGet(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Put(ctx, "/connect-test", "ok"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "/connect-test")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "ok" {
		t.Fatalf("got %v, want the value ok", resp.Kvs)
	}
}

// connectCase is a configuration and what Connect does with it: succeed
// when wantErr is empty, else fail with an error holding each of wantErr.
type connectCase struct {
	cfg     ClientConfig
	wantErr []string
}

func runConnectCases(t *testing.T, cases map[string]connectCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if tc.cfg.DialTimeout == 0 {
				tc.cfg.DialTimeout = time.Second
			}
			cli, err := Connect(tc.cfg)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer cli.Close()
				putGet(t, cli)
				return
			}
			if err == nil {
				cli.Close()
				t.Fatalf("Connect succeeded, want an error with %q", tc.wantErr)
			}
			t.Logf("Connect: %v", err)
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Connect: %v\nwant it to say %q", err, want)
				}
			}
		})
	}
}

func TestConnectTLS(t *testing.T) {
	t.Parallel()
	ca, other := newTestCA(t, "plexus-test"), newTestCA(t, "other")
	serverCert, serverKey := ca.issue(t, "etcd", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue(t, "client", x509.ExtKeyUsageClientAuth)
	otherCert, otherKey := other.issue(t, "intruder", x509.ExtKeyUsageClientAuth)
	ep := startTestEtcd(t, func(cfg *embed.Config) {
		u, _ := url.Parse("https://127.0.0.1:0")
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*u}, []url.URL{*u}
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: serverCert, KeyFile: serverKey, TrustedCAFile: ca.File, ClientCertAuth: true}
	})
	missing := filepath.Join(t.TempDir(), "missing-key.pem")
	runConnectCases(t, map[string]connectCase{
		"client cert": {cfg: ClientConfig{Endpoints: []string{ep}, CACert: ca.File, Cert: clientCert, Key: clientKey}},
		"skip verify": {cfg: ClientConfig{Endpoints: []string{ep}, InsecureSkipTLSVerify: true, Cert: clientCert, Key: clientKey}},
		"no client cert": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: ca.File},
			wantErr: []string{"connecting to etcd " + ep, "certificate required"},
		},
		"client cert of another CA": {
			cfg: ClientConfig{Endpoints: []string{ep}, CACert: ca.File, Cert: otherCert, Key: otherKey},
			// The client offers no certificate the server's CAs did not sign.
			wantErr: []string{"connecting to etcd " + ep, "certificate required"},
		},
		"wrong CA": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: other.File, Cert: clientCert, Key: clientKey},
			wantErr: []string{"connecting to etcd " + ep, "certificate signed by unknown authority"},
		},
		"system roots": {
			cfg:     ClientConfig{Endpoints: []string{ep}},
			wantErr: []string{"connecting to etcd " + ep, "certificate signed by unknown authority"},
		},
		"missing key file": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: ca.File, Cert: clientCert, Key: missing},
			wantErr: []string{"--etcd-key: open " + missing, "no such file"},
		},
		"missing CA file": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: missing, Cert: clientCert, Key: clientKey},
			wantErr: []string{"--etcd-cacert: open " + missing},
		},
		"cert without key": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: ca.File, Cert: clientCert},
			wantErr: []string{"--etcd-cert " + clientCert + ": given without --etcd-key"},
		},
		"key without cert": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: ca.File, Key: clientKey},
			wantErr: []string{"--etcd-key " + clientKey + ": given without --etcd-cert"},
		},
		"key of another cert": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: ca.File, Cert: clientCert, Key: otherKey},
			wantErr: []string{"--etcd-cert " + clientCert + ", --etcd-key " + otherKey, "private key does not match"},
		},
		"CA file not PEM": {
			cfg:     ClientConfig{Endpoints: []string{ep}, CACert: ca.dir, Cert: clientCert, Key: clientKey},
			wantErr: []string{"--etcd-cacert: read " + ca.dir},
		},
		"TLS options on http": {
			cfg:     ClientConfig{Endpoints: []string{"http" + strings.TrimPrefix(ep, "https")}, CACert: ca.File},
			wantErr: []string{"plain http, but TLS options are set"},
		},
	})
}

func TestConnectAuth(t *testing.T) {
	t.Parallel()
	// bcrypt's least cost: the test's passwords need no strength, only speed.
	ep := startTestEtcd(t, func(cfg *embed.Config) { cfg.BcryptCost = 4 })
	cli, err := Connect(ClientConfig{Endpoints: []string{ep}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "s3cret"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enabling auth: %v", err)
		}
	}
	cli.Close()
	runConnectCases(t, map[string]connectCase{
		"name:password":  {cfg: ClientConfig{Endpoints: []string{ep}, User: "root:s3cret"}},
		"password apart": {cfg: ClientConfig{Endpoints: []string{ep}, User: "root", Password: "s3cret"}},
		"wrong password": {
			cfg:     ClientConfig{Endpoints: []string{ep}, User: "root:guess"},
			wantErr: []string{"etcd " + ep + ": --etcd-user root: etcdserver: authentication failed"},
		},
		"no user": {
			cfg:     ClientConfig{Endpoints: []string{ep}},
			wantErr: []string{"etcd " + ep + " requires a user (--etcd-user)"},
		},
		"user without password": {
			cfg:     ClientConfig{Endpoints: []string{ep}, User: "root"},
			wantErr: []string{"--etcd-user root: no password: give name:password or --etcd-password"},
		},
		"password without user": {
			cfg:     ClientConfig{Endpoints: []string{ep}, Password: "s3cret"},
			wantErr: []string{"--etcd-password: given without --etcd-user"},
		},
	})
}

func TestConnectNothingListening(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ep := "http://" + ln.Addr().String()
	ln.Close()
	runConnectCases(t, map[string]connectCase{
		"refused": {cfg: ClientConfig{Endpoints: []string{ep}}, wantErr: []string{"connecting to etcd " + ep, "connection refused"}},
		"none":    {wantErr: []string{"--etcd-endpoints: no endpoint given"}},
	})
}
