package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// console serializes what a command following runs prints: logs, from a
// goroutine per attempt, and status lines from the loop that polls.
type console struct {
	mu     sync.Mutex
	logs   io.Writer
	status io.Writer
}

func (c *console) statusf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.status, format, args...)
}

// copyLines prints what r reads a whole line at a time, each as
// "[prefix] line", or as it is with no prefix.
func (c *console) copyLines(prefix string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			if !strings.HasSuffix(line, "\n") {
				line += "\n"
			}
			if prefix != "" {
				line = "[" + prefix + "] " + line
			}
			c.mu.Lock()
			_, werr := io.WriteString(c.logs, line)
			c.mu.Unlock()
			if werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// dispatched says whether a run's current attempt went to the executor,
// so that it has a log.
func dispatched(r *store.Run) bool {
	if r.Attempt == 0 || r.CacheOf != "" {
		return false // a cache hit reused another run's result
	}
	switch r.Status {
	case store.Created, store.Compiled, store.Queued, store.Resuming, store.Retrying, store.Skipped, store.UpstreamFailed:
		return false
	}
	return true
}

// logStreams prints the logs of runs' attempts as the runs go, following
// each while it grows; a run's attempts come in order, each once.
type logStreams struct {
	out *console
	// logs opens an attempt's log, following it.
	logs func(ctx context.Context, uuid string, attempt int) (io.ReadCloser, error)

	ctx    context.Context // the streams'; ended by wait
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	runs   map[string]*runStreams
	// tail is closed when the last attempt that had ended when it was
	// seen is printed: such logs come one after the other, whole, in the
	// order they were seen.
	tail chan struct{}
}

// runStreams is what logStreams knows of one run.
type runStreams struct {
	next    int           // the first attempt not streamed yet
	last    chan struct{} // closed when the last attempt streamed is printed
	current int           // the run's attempt when last seen
	ended   bool          // the run was seen final
}

func newLogStreams(out *console, logs func(ctx context.Context, uuid string, attempt int) (io.ReadCloser, error)) *logStreams {
	ctx, cancel := context.WithCancel(context.Background())
	tail := make(chan struct{})
	close(tail)
	return &logStreams{out: out, logs: logs, ctx: ctx, cancel: cancel, runs: map[string]*runStreams{}, tail: tail}
}

// update takes a run's record as read now and streams the log of each
// attempt from the first one (1, or later to leave out the earlier ones)
// that was dispatched and is not streamed yet, each line prefixed.
func (s *logStreams) update(r *store.Run, first int, prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.runs[r.UUID]
	if rs == nil {
		done := make(chan struct{})
		close(done)
		rs = &runStreams{next: max(first, 1), last: done}
		s.runs[r.UUID] = rs
	}
	rs.current, rs.ended = r.Attempt, r.Status.Final()
	for ; rs.next <= r.Attempt && (rs.next < r.Attempt || dispatched(r)); rs.next++ {
		// After the run's attempt before it, and an attempt that ended
		// after the last one that had.
		after, done := []chan struct{}{rs.last}, make(chan struct{})
		if rs.next < r.Attempt || r.Status.Final() {
			after, s.tail = append(after, s.tail), done
		}
		rs.last = done
		s.wg.Add(1)
		go s.stream(r.UUID, rs.next, prefix, after, done)
	}
}

// stream prints one attempt's log once the streams it comes after are
// printed.
func (s *logStreams) stream(uuid string, attempt int, prefix string, after []chan struct{}, done chan<- struct{}) {
	defer s.wg.Done()
	defer close(done)
	for _, before := range after {
		select {
		case <-before:
		case <-s.ctx.Done():
			return
		}
	}
	for {
		s.mu.Lock()
		rs := s.runs[uuid]
		over := rs.ended || rs.current > attempt
		s.mu.Unlock()
		rd, err := s.logs(s.ctx, uuid, attempt)
		if err == nil {
			_ = s.out.copyLines(prefix, rd)
			rd.Close()
			return
		}
		// Not dispatched yet; an attempt that ended without a log has
		// none to wait for.
		if over {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// wait lets the streams print what their runs wrote, for up to a few
// seconds, then ends them.
func (s *logStreams) wait() {
	drained := make(chan struct{})
	go func() { s.wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
	}
	s.cancel()
	<-drained
}
