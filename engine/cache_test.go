package engine

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
)

// clock is a settable engine clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// succeedWith reports an attempt's success with outputs to every watcher.
func (r *recorder) succeedWith(ref executor.RunRef, outputs map[string]any) {
	r.report(executor.StatusUpdate{Run: ref, Status: executor.Succeeded, Outputs: outputs, Time: time.Now()})
}

func (r *recorder) dispatchedRuns() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for ref := range r.calls {
		out[ref.UUID] = true
	}
	return out
}

// TestCache: a run whose cache is on reuses the result of an earlier run
// with the same component and params, inside the ttl, without being
// dispatched; anything else runs.
func TestCache(t *testing.T) {
	const component = `version: 1.1
kind: component
%s
inputs: [{name: lr, type: float}, {name: note, type: str, isOptional: true, value: a}]
outputs: [{name: loss, type: float}]
run: {container: {image: x, command: [train, "{{ lr }}"]}}
`
	for _, tc := range []struct {
		name  string
		cache string
		// second submission: params, and how long after the first ended
		params map[string]any
		after  time.Duration
		hit    bool
	}{
		{name: "hit", cache: "cache: {disable: false}", params: map[string]any{"lr": 0.1}, hit: true},
		{name: "hit inside ttl", cache: "cache: {disable: false, ttl: 60}", params: map[string]any{"lr": 0.1}, after: 30 * time.Second, hit: true},
		{name: "expired ttl", cache: "cache: {disable: false, ttl: 60}", params: map[string]any{"lr": 0.1}, after: 2 * time.Minute},
		{name: "other params", cache: "cache: {disable: false}", params: map[string]any{"lr": 0.2}},
		{name: "param outside io", cache: "cache: {disable: false, io: [lr]}", params: map[string]any{"lr": 0.1, "note": "b"}, hit: true},
		{name: "param inside io", cache: "cache: {disable: false, io: [lr, note]}", params: map[string]any{"lr": 0.1, "note": "b"}},
		{name: "off by default", cache: "", params: map[string]any{"lr": 0.1}},
		{name: "ttl alone leaves it off", cache: "cache: {ttl: 60}", params: map[string]any{"lr": 0.1}},
		{name: "disabled", cache: "cache: {disable: true}", params: map[string]any{"lr": 0.1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			st := store.New(storetest.Client(t), storetest.Prefix(t), clk.now)
			ex := newRecorder()
			e := runEngine(t, Config{Store: st, Executor: ex, Resync: 100 * time.Millisecond, LeaseTTL: 1, Now: clk.now})
			spec := fmt.Sprintf(component, tc.cache)
			submit := func(params map[string]any) *store.Run {
				ps := map[string]specs.Param{}
				for k, v := range params {
					ps[k] = specs.Param{Value: v}
				}
				r, err := e.Submit(t.Context(), Submission{Source: "c.yaml", Spec: spec, Params: ps})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			first := submit(map[string]any{"lr": 0.1})
			waitAll(t, st, []string{first.UUID}, store.Scheduled)
			ex.succeedWith(executor.RunRef{UUID: first.UUID, Attempt: 1}, map[string]any{"loss": 0.25})
			waitAll(t, st, []string{first.UUID}, store.Succeeded)
			clk.add(tc.after)

			second := submit(tc.params)
			if !tc.hit {
				waitAll(t, st, []string{second.UUID}, store.Scheduled)
				if r, _, _ := st.Get(t.Context(), second.UUID); r.CacheOf != "" {
					t.Fatalf("reused %s", r.CacheOf)
				}
				return
			}
			got := waitFinal(t, e, second.UUID)
			last := got.Conditions[len(got.Conditions)-1]
			if got.Status != store.Succeeded || got.CacheOf != first.UUID || last.Reason != "CacheHit" ||
				last.Message != "reused the result of run "+first.UUID {
				t.Fatalf("second run: %s, cacheOf %q, last condition %+v", got.Status, got.CacheOf, last)
			}
			if got.Outputs["loss"] != 0.25 {
				t.Fatalf("outputs %v, want the first run's", got.Outputs)
			}
			if ex.dispatchedRuns()[second.UUID] {
				t.Fatal("a cache hit was dispatched")
			}
			// A restart of it runs again: restarts never use the cache.
			re, err := e.Restart(t.Context(), second.UUID)
			if err != nil {
				t.Fatal(err)
			}
			waitAll(t, st, []string{re.UUID}, store.Scheduled)
		})
	}
}
