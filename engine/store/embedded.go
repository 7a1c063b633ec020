package store

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
)

// Embedded is an etcd server run in this process: the default store when
// no etcd endpoints are configured. It listens on loopback only.
type Embedded struct {
	etcd *embed.Etcd
	// Endpoint is the client URL to connect to.
	Endpoint string
}

// StartEmbedded starts an etcd server with its data under dir, on free
// loopback ports, and waits until it serves (or timeout passes).
func StartEmbedded(dir string, timeout time.Duration) (*Embedded, error) {
	return startEmbedded(embedConfig(dir), timeout)
}

// embedConfig is the configuration of an etcd with its data under dir,
// serving plain HTTP on free loopback ports.
func embedConfig(dir string) *embed.Config {
	cfg := embed.NewConfig()
	cfg.Name = "plexus"
	cfg.Dir = dir
	client, _ := url.Parse("http://127.0.0.1:0")
	peer, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	// Keep the history a few minutes: watchers that fall behind resync.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"
	return cfg
}

// startEmbedded starts the etcd cfg describes and waits until it serves.
func startEmbedded(cfg *embed.Config, timeout time.Duration) (*Embedded, error) {
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(timeout):
		e.Close()
		return nil, errors.New("embedded etcd: not ready in time")
	}
	return &Embedded{etcd: e, Endpoint: cfg.ListenClientUrls[0].Scheme + "://" + e.Clients[0].Addr().String()}, nil
}

// Close stops the server.
func (e *Embedded) Close() { e.etcd.Close() }

// Client is a client of the server that calls it in this process, with
// no socket, HTTP/2 framing or protobuf encoding between them.
func (e *Embedded) Client() *clientv3.Client { return v3client.New(e.etcd.Server) }
