package store

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.etcd.io/etcd/server/v3/storage"
	"go.etcd.io/etcd/server/v3/storage/backend"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The embedded etcd's sizes (docs/limits.md, "Embedded etcd").
const (
	// EmbeddedMmapSize is the address space the embedded etcd maps for its
	// database when it starts (etcd's default is 10 GiB, which fails under
	// `ulimit -v` of a few GB). The map grows with the database: to 512 MiB,
	// 1 GiB, then by 1 GiB steps, at most 3 GiB at the quota.
	EmbeddedMmapSize = 256 << 20
	// EmbeddedQuotaBytes is the most the embedded etcd's database may hold;
	// beyond it etcd raises its NOSPACE alarm and refuses writes ("etcdserver:
	// mvcc: database space exceeded") until compacted and defragmented.
	// It is etcd's default: any other value makes etcd map 1.1 times the
	// quota at start, whatever EmbeddedMmapSize says.
	EmbeddedQuotaBytes = storage.DefaultQuotaBytes
	// EmbeddedMinAddressSpace is the least address-space limit (`ulimit -v`)
	// a process with an embedded etcd starts under: below it the Go runtime,
	// etcd's threads and the map do not fit for sure, and StartEmbedded says
	// so rather than letting one of them crash the process. A `plexus run`
	// takes about 2.1 GiB of address space with the 256 MiB map.
	EmbeddedMinAddressSpace = 2<<30 + EmbeddedMmapSize
)

// Embedded is an etcd server run in this process: the default store when
// no etcd endpoints are configured. It listens on loopback only.
type Embedded struct {
	etcd *embed.Etcd
	// Endpoint is the client URL to connect to.
	Endpoint string
}

// StartEmbedded starts an etcd server with its data under dir, on free
// loopback ports, and waits until it serves (or timeout passes). What
// would make etcd panic as it opens its database (a map the address-space
// limit refuses, a database another process holds, a file it cannot open
// or read) is checked first and returned as an error.
func StartEmbedded(dir string, timeout time.Duration) (*Embedded, error) {
	return startEmbedded(embedConfig(dir), timeout)
}

// EmbeddedSnapshotCount is how many writes the embedded etcd applies
// between two snapshots of its raft log (see docs/limits.md).
const EmbeddedSnapshotCount = 500

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
	// Silent, but for what etcd cannot go on after.
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop().WithOptions(
		zap.WithPanicHook(lastWords{}), zap.WithFatalHook(lastWords{})))
	// Keep the history a few minutes: watchers that fall behind resync.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"
	cfg.QuotaBackendBytes = EmbeddedQuotaBytes
	// The raft log holds every write in memory until a snapshot: etcd's
	// default of one every 10,000 writes kept ~3x each stored submission
	// in memory (80 submissions of 1.9 MiB: 552 MiB peak, 428 MiB held
	// after); one member needs no long catch-up log (278 / 149 MiB).
	cfg.SnapshotCount = EmbeddedSnapshotCount
	cfg.SnapshotCatchUpEntries = 50
	return cfg
}

// mmapOnce sets etcd's initial map size, a variable of its backend
// package (etcd's embed.Config has no field for it), once, before any
// etcd of this process opens its database.
var mmapOnce sync.Once

// startEmbedded starts the etcd cfg describes and waits until it serves.
func startEmbedded(cfg *embed.Config, timeout time.Duration) (*Embedded, error) {
	mmapOnce.Do(func() { backend.InitialMmapSize = EmbeddedMmapSize })
	if err := preflight(cfg.Dir); err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		closeWithin(e, 5*time.Second)
		return nil, fmt.Errorf("embedded etcd in %s: %w", cfg.Dir, err)
	case <-time.After(timeout):
		closeWithin(e, 5*time.Second)
		// A single member that does not get ready has no member to elect:
		// its first start was cut short after it created its log.
		return nil, fmt.Errorf("embedded etcd in %s: not ready in %v: its data may be damaged (was its first start cut short?); moving the directory away starts afresh, without the history", cfg.Dir, timeout)
	}
	return &Embedded{etcd: e, Endpoint: cfg.ListenClientUrls[0].Scheme + "://" + e.Clients[0].Addr().String()}, nil
}

// closeWithin stops an etcd that did not get ready, waiting at most d:
// etcd's Close can wait forever for servers that never started.
func closeWithin(e *embed.Etcd, d time.Duration) {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		e.Close()
	}()
	select {
	case <-closed:
	case <-time.After(d):
	}
}

// preflight checks what etcd would panic on, in a goroutine of its own
// that no caller can recover, when it opens its database under dir: the
// map it makes, a database another process holds (etcd would wait for it
// forever), and a database file it cannot open for writing or read.
func preflight(dir string) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &lim); err == nil && lim.Cur < EmbeddedMinAddressSpace {
		return fmt.Errorf("the address-space limit (ulimit -v) is %d MiB: an embedded etcd needs at least %d MiB",
			lim.Cur>>20, EmbeddedMinAddressSpace>>20)
	}
	// Map as much address space as etcd will, and give it back.
	m, err := syscall.Mmap(-1, 0, EmbeddedMmapSize, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return fmt.Errorf("cannot map %d MiB of address space for the database (is the address-space limit, ulimit -v, too low?): %w",
			EmbeddedMmapSize>>20, err)
	}
	if err := syscall.Munmap(m); err != nil {
		return fmt.Errorf("unmapping the address-space probe: %w", err)
	}
	db := filepath.Join(dir, "member", "snap", "db")
	info, err := os.Stat(db)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // etcd creates it, in a directory it checks it can write
	case err != nil:
		return fmt.Errorf("its database: %w", err)
	case info.IsDir():
		return fmt.Errorf("its database %s is a directory", db)
	case info.Size() == 0:
		return nil // etcd starts it afresh
	}
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("its database: %w", err)
	}
	f.Close()
	b, err := bolt.Open(db, 0, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("its database %s is in use by another process (a plexus run or plexus server with the same PLEXUS_HOME?)", db)
	}
	if err != nil {
		return fmt.Errorf("its database %s cannot be read: %w", db, err)
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("its database %s: %w", db, err)
	}
	return nil
}

// lastWords ends the process when etcd logs at the panic or fatal level
// (a database it cannot open or grow, a log it cannot write): with one
// line on stderr and exit code 1, where etcd would panic with a stack
// trace, often in a goroutine of its own that no caller can recover, or
// exit without a word through the silent logger. StartEmbedded checks
// beforehand what it can, so that this is the last resort.
type lastWords struct{}

func (lastWords) OnWrite(ce *zapcore.CheckedEntry, fields []zapcore.Field) {
	fmt.Fprintln(os.Stderr, "Error: "+lastLine(ce.Message, fields))
	os.Exit(1)
}

// lastLine renders what etcd logged as one line: the message, then its
// fields as key=value.
func lastLine(msg string, fields []zapcore.Field) string {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	line := "embedded etcd: " + msg
	for _, k := range keys {
		line += fmt.Sprintf(" %s=%v", k, enc.Fields[k])
	}
	return strings.Join(strings.Fields(line), " ")
}

// Close stops the server.
func (e *Embedded) Close() { e.etcd.Close() }

// Client is a client of the server that calls it in this process, with
// no socket, HTTP/2 framing or protobuf encoding between them.
func (e *Embedded) Client() *clientv3.Client { return v3client.New(e.etcd.Server) }
