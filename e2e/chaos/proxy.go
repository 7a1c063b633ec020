package chaos

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/plexus-ml/plexus/e2e/cluster"
)

// Faults is what the proxy does to the requests it passes while its
// faults are on.
type Faults struct {
	// Throttle is the share of requests answered 429 (with a Retry-After
	// of a second) without reaching the API server.
	Throttle float64
	// Fail is the share answered 500 without reaching it.
	Fail float64
	// LoseAnswer is the share of creates, updates and deletes passed to the
	// API server whose answer is replaced by a 500: the change is made,
	// the client does not know it.
	LoseAnswer float64
	// Delay is the share of requests held back, each up to MaxDelay.
	Delay    float64
	MaxDelay time.Duration
	// CutWatches ends each watch after a random time up to WatchLife.
	CutWatches bool
	WatchLife  time.Duration
}

// DefaultFaults are the faults of a chaos run's proxy windows.
var DefaultFaults = Faults{
	Throttle: 0.08, Fail: 0.08, LoseAnswer: 0.1,
	Delay: 0.2, MaxDelay: 300 * time.Millisecond,
	CutWatches: true, WatchLife: 5 * time.Second,
}

// FaultCounts are the faults the proxy has made.
type FaultCounts struct {
	Requests, Throttled, Failed, AnswersLost, Delayed, WatchesCut int64
}

// Proxy stands between the Plexus servers and kube-apiserver on
// loopback, over TLS with a certificate of its own, and injects faults
// while they are on.
type Proxy struct {
	url        string
	kubeconfig string
	srv        *http.Server

	on     atomic.Bool
	faults Faults

	mu  sync.Mutex
	rnd *mrand.Rand

	requests, throttled, failed, lost, delayed, cut atomic.Int64
}

// StartProxy starts a proxy to the API server upstream reaches (with its
// credentials), writes a kubeconfig for it under dir, and returns it with
// its faults off.
func StartProxy(dir string, upstream *rest.Config, f Faults, seed uint64) (*Proxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("proxy: the API server's address: %w", err)
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	certFile, keyFile := filepath.Join(dir, "proxy.crt"), filepath.Join(dir, "proxy.key")
	if err := cluster.WriteSelfSignedCert(certFile, keyFile, "plexus chaos proxy"); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{url: "https://" + ln.Addr().String(), faults: f, rnd: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
			// The upstream transport authenticates as the admin.
			r.Out.Header.Del("Authorization")
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorLog:      quiet,
		ModifyResponse: func(resp *http.Response) error {
			if lose, _ := resp.Request.Context().Value(loseKey{}).(bool); lose && resp.StatusCode < 300 {
				p.lost.Add(1)
				return errLost
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			status(w, http.StatusInternalServerError, "InternalError", "chaos proxy: "+err.Error())
		},
	}
	p.srv = &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, rp) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  quiet,
	}
	go func() { _ = p.srv.ServeTLS(ln, "", "") }()

	p.kubeconfig = filepath.Join(dir, "proxy.kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["chaos"] = &clientcmdapi.Cluster{Server: p.url, CertificateAuthorityData: certPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: upstream.BearerToken}
	cfg.Contexts["chaos"] = &clientcmdapi.Context{Cluster: "chaos", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "chaos"
	if err := clientcmd.WriteToFile(*cfg, p.kubeconfig); err != nil {
		p.Close()
		return nil, fmt.Errorf("proxy: writing its kubeconfig: %w", err)
	}
	return p, nil
}

// quiet drops the proxy's own complaints (each cut watch is one).
var quiet = log.New(io.Discard, "", 0)

type loseKey struct{}

var errLost = fmt.Errorf("the answer was lost on the way back")

// Kubeconfig is a kubeconfig that reaches the API server through the
// proxy.
func (p *Proxy) Kubeconfig() string { return p.kubeconfig }

// SetFaults turns the faults on or off.
func (p *Proxy) SetFaults(on bool) { p.on.Store(on) }

// Counts are the faults made so far.
func (p *Proxy) Counts() FaultCounts {
	return FaultCounts{Requests: p.requests.Load(), Throttled: p.throttled.Load(), Failed: p.failed.Load(),
		AnswersLost: p.lost.Load(), Delayed: p.delayed.Load(), WatchesCut: p.cut.Load()}
}

// Close stops the proxy, cutting what it serves.
func (p *Proxy) Close() { _ = p.srv.Close() }

func (p *Proxy) chance(share float64) bool {
	if share <= 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64() < share
}

func (p *Proxy) upTo(d time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.rnd.Int64N(int64(d)) + 1)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) {
	p.requests.Add(1)
	if !p.on.Load() {
		rp.ServeHTTP(w, r)
		return
	}
	f := p.faults
	watch := r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1"
	switch {
	case p.chance(f.Throttle):
		p.throttled.Add(1)
		w.Header().Set("Retry-After", "1")
		status(w, http.StatusTooManyRequests, "TooManyRequests", "chaos proxy: too many requests, try again later")
		return
	case p.chance(f.Fail):
		p.failed.Add(1)
		status(w, http.StatusInternalServerError, "InternalError", "chaos proxy: an internal error")
		return
	}
	if p.chance(f.Delay) && f.MaxDelay > 0 {
		p.delayed.Add(1)
		select {
		case <-time.After(p.upTo(f.MaxDelay)):
		case <-r.Context().Done():
			return
		}
	}
	ctx := r.Context()
	switch {
	case watch && f.CutWatches && f.WatchLife > 0:
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.upTo(f.WatchLife))
		defer cancel()
		go func() {
			<-ctx.Done()
			if ctx.Err() == context.DeadlineExceeded {
				p.cut.Add(1)
			}
		}()
	case r.Method != http.MethodGet && p.chance(f.LoseAnswer):
		ctx = context.WithValue(ctx, loseKey{}, true)
	}
	rp.ServeHTTP(w, r.WithContext(ctx))
}

// status answers as the API server does when it refuses.
func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":%q,"reason":%q,"code":%d}`, msg, reason, code)
}
