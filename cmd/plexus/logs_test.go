package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plexus-ml/plexus/engine/store"
)

func TestLogStreams(t *testing.T) {
	logs := map[string]string{"a/1": "a one\n", "a/2": "a two\n", "a/3": "a three\n", "b/2": "b two\n", "c/1": "c one\n"}
	var mu sync.Mutex
	opened := map[string]int{}
	open := func(_ context.Context, uuid string, attempt int) (io.ReadCloser, error) {
		key := uuid + "/" + strconv.Itoa(attempt)
		mu.Lock()
		opened[key]++
		mu.Unlock()
		if l, ok := logs[key]; ok {
			return io.NopCloser(strings.NewReader(l)), nil
		}
		return nil, errors.New("no log")
	}
	var out bytes.Buffer
	s := newLogStreams(&console{logs: &out}, open)
	// a failed twice, then ran a third time: every attempt, in order.
	s.update(&store.Run{UUID: "a", Attempt: 3, Status: store.Failed}, 1, "a")
	// b was resumed: its first attempt was shown then; the second has no
	// log yet while it is retrying, then runs.
	s.update(&store.Run{UUID: "b", Attempt: 2, Status: store.Resuming}, 2, "")
	s.update(&store.Run{UUID: "b", Attempt: 2, Status: store.Running}, 2, "")
	// c was never dispatched: its attempt 2 waits in the queue.
	s.update(&store.Run{UUID: "c", Attempt: 2, Status: store.Retrying}, 1, "c")
	s.update(&store.Run{UUID: "c", Attempt: 2, Status: store.Queued}, 1, "c")
	s.wait()

	// Another run's lines may come in between; a's come in order.
	var as []string
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(line, "[a] ") {
			as = append(as, line)
		}
	}
	if got := strings.Join(as, ""); got != "[a] a one\n[a] a two\n[a] a three\n" || !strings.Contains(out.String(), "\nb two\n") && !strings.HasPrefix(out.String(), "b two\n") ||
		!strings.Contains(out.String(), "[c] c one\n") {
		t.Errorf("printed:\n%s", out.String())
	}
	for key, want := range map[string]int{"a/1": 1, "a/2": 1, "a/3": 1, "b/1": 0, "b/2": 1, "c/1": 1, "c/2": 0} {
		if opened[key] != want {
			t.Errorf("opened %s %d times, want %d", key, opened[key], want)
		}
	}
}
