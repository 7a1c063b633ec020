package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits bound what the API holds in memory at once and how long a client
// may take to send a request. A zero field takes its default; a negative
// timeout is no timeout. docs/limits.md says why each default is what it
// is.
type Limits struct {
	// MaxBody is the largest submission body, in bytes; a larger one is
	// answered 413 (default DefaultMaxBody).
	MaxBody int64
	// InFlight is the most bytes of submission bodies the server handles
	// at once: a submission takes its Content-Length (MaxBody when it has
	// none) before its body is read, and gives it back once it is stored
	// or refused. What a submission costs in memory is a multiple of its
	// size, so this bounds the memory submissions take, however many
	// arrive (default DefaultInFlight). A body alone larger than this is
	// answered 413.
	InFlight int64
	// QueueWait is how long a submission waits for room under InFlight
	// before it is answered 503 with a Retry-After (default
	// DefaultQueueWait).
	QueueWait time.Duration
	// BodyTimeout is how long a submission's body may take to arrive once
	// admitted; a slower one is answered 408 and its connection closed
	// (default DefaultBodyTimeout).
	BodyTimeout time.Duration
	// ReadHeaderTimeout is how long a request's headers may take to arrive
	// (default DefaultReadHeaderTimeout).
	ReadHeaderTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request (default DefaultIdleTimeout).
	IdleTimeout time.Duration
}

// The defaults of Limits, measured with e2e/bench/apimem (docs/limits.md
// has the figures). Parsing, compiling and storing a submission takes 10
// (a long string) to 30 (a list of env entries) and, for the densest
// YAML (a flow list of one-letter items: a node every two bytes), up to
// 150 times its size in memory; with these defaults the server stays under
// 1 GiB whatever arrives at once.
const (
	// DefaultMaxBody: a Polyaxonfile is rarely over 1 MiB; a pipeline of
	// 30,000 operations is 2 MiB of YAML. Larger pipelines (100,000
	// operations, 7 MiB) need plexus server --max-body and --max-inflight
	// raised together.
	DefaultMaxBody = 2 << 20
	// DefaultInFlight: one submission of the largest size at a time, or
	// many small ones.
	DefaultInFlight = 2 << 20
	// DefaultQueueWait: long enough for the submissions ahead to be
	// stored (one of the largest takes a second or two).
	DefaultQueueWait = 10 * time.Second
	// DefaultBodyTimeout: the largest body at 35 KB/s.
	DefaultBodyTimeout = time.Minute
	// DefaultReadHeaderTimeout and DefaultIdleTimeout are those of common
	// reverse proxies.
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

// withDefaults returns l with its zero fields set to their defaults and
// its negative timeouts to zero (none).
func (l Limits) withDefaults() Limits {
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	if l.InFlight <= 0 {
		l.InFlight = DefaultInFlight
	}
	timeout := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	timeout(&l.QueueWait, DefaultQueueWait)
	timeout(&l.BodyTimeout, DefaultBodyTimeout)
	timeout(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	timeout(&l.IdleTimeout, DefaultIdleTimeout)
	return l
}

// HTTPServer returns the HTTP server of the API: Handler, with the
// header and idle timeouts of s.Limits. It has no ReadTimeout: a
// submission's body has its own deadline, BodyTimeout, from when it is
// admitted, so the time it waited for room does not count against it. It
// has no WriteTimeout, which would cut a followed log.
func (s *Server) HTTPServer() *http.Server {
	l := s.Limits.withDefaults()
	return &http.Server{Handler: s.Handler(), ReadHeaderTimeout: l.ReadHeaderTimeout, IdleTimeout: l.IdleTimeout}
}

// ParseSize reads a size as `plexus server` takes its limits: bytes, or
// a whole number of KiB, MiB or GiB (also written Ki, Mi, Gi).
func ParseSize(s string) (int64, error) {
	num, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		bytes  int64
	}{{"GiB", 1 << 30}, {"Gi", 1 << 30}, {"MiB", 1 << 20}, {"Mi", 1 << 20}, {"KiB", 1 << 10}, {"Ki", 1 << 10}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = n, u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 1 || n > (1<<62)/unit {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, KiB, MiB or GiB, such as 2MiB", s)
	}
	return n * unit, nil
}

// FormatSize writes a size as ParseSize reads it, in the largest unit
// that divides it.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name  string
		bytes int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.bytes == 0 {
			return strconv.FormatInt(n/u.bytes, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
