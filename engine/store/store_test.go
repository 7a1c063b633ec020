package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
)

var testClient *clientv3.Client

// TestMain runs one real etcd, in-process, for the package's tests; each
// test works under its own prefix.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plexus-store-test")
	if err != nil {
		panic(err)
	}
	e, err := StartEmbedded(dir, 10*time.Second)
	if err != nil {
		panic(err)
	}
	testClient, err = clientv3.New(clientv3.Config{Endpoints: []string{e.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	testClient.Close()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

var testPrefixes atomic.Int64

// newStore returns a store under a prefix no other test (or repetition of
// this one) uses.
func newStore(t *testing.T) *Store {
	return New(testClient, fmt.Sprintf("/test/%s/%d/", t.Name(), testPrefixes.Add(1)), nil)
}

func TestCreateGet(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	r := &Run{UUID: "r1", Name: "train", Spec: "version: 1.1\n", Params: map[string]any{"lr": 0.1}}
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, rev, err := s.Get(ctx, "r1")
	if err != nil || rev == 0 {
		t.Fatal(err)
	}
	if got.Status != Created || len(got.Conditions) != 1 || got.Params["lr"] != 0.1 || got.Spec != r.Spec {
		t.Errorf("got %+v", got)
	}
	if err := s.Create(ctx, &Run{UUID: "r1"}); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v", err)
	}
	if _, _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
}

// TestUpdateLosesNothing: concurrent updates of one run re-read and
// re-decide on conflict, so every update that reports success is in the
// record, once.
func TestUpdateLosesNothing(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	if err := s.Create(ctx, &Run{UUID: "r"}); err != nil {
		t.Fatal(err)
	}
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	landed := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, "r", func(r *Run) error { r.Attempt++; return nil })
			switch {
			case err == nil:
				mu.Lock()
				landed++
				mu.Unlock()
			case !errors.Is(err, ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r, _, _ := s.Get(ctx, "r")
	if r.Attempt != landed || landed == 0 {
		t.Fatalf("attempt %d, but %d updates reported success", r.Attempt, landed)
	}
}

func TestUpdateRefusedChangesNothing(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	if err := s.Create(ctx, &Run{UUID: "r"}); err != nil {
		t.Fatal(err)
	}
	_, rev, _ := s.Get(ctx, "r")
	boom := errors.New("illegal")
	if _, err := s.Update(ctx, "r", func(r *Run) error { r.Status = Running; return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if r, rev2, _ := s.Get(ctx, "r"); rev2 != rev || r.Status != Created {
		t.Errorf("a refused update wrote: %+v", r)
	}
}

func TestActiveAndChildrenIndexes(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	for _, r := range []*Run{{UUID: "p"}, {UUID: "c1", Parent: "p"}, {UUID: "c2", Parent: "p"}, {UUID: "done", Status: Skipped}} {
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	active, _ := s.Active(ctx)
	if diff := cmp.Diff([]string{"c1", "c2", "p"}, active); diff != "" {
		t.Errorf("active (-want +got):\n%s", diff)
	}
	if kids, _ := s.Children(ctx, "p"); !cmp.Equal(kids, []string{"c1", "c2"}) {
		t.Errorf("children %v", kids)
	}
	if _, err := s.Update(ctx, "c1", func(r *Run) error { r.Status = Succeeded; return nil }); err != nil {
		t.Fatal(err)
	}
	active, _ = s.Active(ctx)
	if diff := cmp.Diff([]string{"c2", "p"}, active); diff != "" {
		t.Errorf("after c1 ended (-want +got):\n%s", diff)
	}
	// A resumed run is active again.
	if _, err := s.Update(ctx, "c1", func(r *Run) error { r.Status = Resuming; return nil }); err != nil {
		t.Fatal(err)
	}
	if active, _ = s.Active(ctx); !cmp.Equal(active, []string{"c1", "c2", "p"}) {
		t.Errorf("after resume: %v", active)
	}
}

func TestListPagesAndFilters(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	for i := range 25 {
		st := Running
		if i%2 == 0 {
			st = Succeeded
		}
		if err := s.Create(ctx, &Run{UUID: fmt.Sprintf("r%02d", i), Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	after := ""
	for {
		page, err := s.List(ctx, after, 10, func(r *Run) bool { return r.Status == Succeeded })
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Runs {
			all = append(all, r.UUID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(all) != 13 || all[0] != "r00" || all[12] != "r24" {
		t.Errorf("listed %v", all)
	}
}

// TestFencing: a write made under a fence that no longer holds (the
// leader's election key was re-created by another leader) is refused and
// changes nothing.
func TestFencing(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	leaderKey := s.Prefix() + "leader/x"
	put, err := testClient.Put(ctx, leaderKey, "engine-1")
	if err != nil {
		t.Fatal(err)
	}
	fenced := s.Fenced(clientv3.Compare(clientv3.CreateRevision(leaderKey), "=", put.Header.Revision))
	if err := fenced.Create(ctx, &Run{UUID: "r"}); err != nil {
		t.Fatal(err)
	}
	// Another engine becomes leader: the key is deleted and made again.
	if _, err := testClient.Delete(ctx, leaderKey); err != nil {
		t.Fatal(err)
	}
	if _, err := testClient.Put(ctx, leaderKey, "engine-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := fenced.Update(ctx, "r", func(r *Run) error { r.Status = Running; return nil }); !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed leader's update: %v, want ErrFenced", err)
	}
	if err := fenced.Create(ctx, &Run{UUID: "r2"}); !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed leader's create: %v, want ErrFenced", err)
	}
	if r, _, _ := s.Get(ctx, "r"); r.Status != Created {
		t.Errorf("the fenced write landed: %s", r.Status)
	}
	if _, _, err := s.Get(ctx, "r2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the fenced create landed: %v", err)
	}
}

func TestWatch(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	events, _ := s.Watch(ctx, 0)
	if err := s.Create(ctx, &Run{UUID: "w"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "w", func(r *Run) error { r.Status = Queued; return nil }); err != nil {
		t.Fatal(err)
	}
	var seen []Status
	var firstRev int64
	for len(seen) < 2 {
		select {
		case ev := <-events:
			if firstRev == 0 {
				firstRev = ev.Revision
			}
			seen = append(seen, ev.Run.Status)
		case <-time.After(5 * time.Second):
			t.Fatalf("saw only %v", seen)
		}
	}
	if !cmp.Equal(seen, []Status{Created, Queued}) {
		t.Errorf("saw %v", seen)
	}
	// From a revision: the history is replayed.
	again, _ := s.Watch(ctx, firstRev)
	if ev := <-again; ev.Run.Status != Created {
		t.Errorf("replay starts with %s", ev.Run.Status)
	}
}

// TestLargeRecordInBlobs: a record too large for one etcd value keeps its
// spec and compilation in chunks; the record reads back without them,
// Body fills them in, and updates keep them out of the record.
func TestLargeRecordInBlobs(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	spec := strings.Repeat("- {name: op, dagRef: noop}\n", 150_000) // ~4 MB
	compiled := []byte(`{"operation":` + strconv.Quote(spec) + `}`)
	r := &Run{UUID: "big", Spec: spec, Compiled: compiled}
	if err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.Blobs < 2 {
		t.Fatalf("Blobs = %d, want several chunks", r.Blobs)
	}
	got, _, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec != "" || len(got.Compiled) != 0 || got.Blobs != r.Blobs {
		t.Fatalf("read back: spec %d bytes, compiled %d bytes, blobs %d", len(got.Spec), len(got.Compiled), got.Blobs)
	}
	if _, err := s.Update(ctx, "big", func(r *Run) error { r.Status = Running; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.Get(ctx, "big")
	if err := s.Body(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.Spec != spec || string(got.Compiled) != string(compiled) || got.Status != Running {
		t.Fatalf("body: spec %d of %d bytes, compiled %d of %d, status %s", len(got.Spec), len(spec), len(got.Compiled), len(compiled), got.Status)
	}
	small := &Run{UUID: "small", Spec: "version: 1.1"}
	if err := s.Create(ctx, small); err != nil || small.Blobs != 0 {
		t.Fatalf("a small record: blobs %d, %v", small.Blobs, err)
	}
}

// TestCreateManyGetMany: runs are created in batches with their indexes;
// one that exists is reported and left as it was.
func TestCreateManyGetMany(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Create(ctx, &Run{UUID: "c-0042", Name: "first", Parent: "p"}); err != nil {
		t.Fatal(err)
	}
	var runs []*Run
	var uuids []string
	for i := range 100 {
		u := fmt.Sprintf("c-%04d", i)
		uuids = append(uuids, u)
		st := Created
		if i%10 == 0 {
			st = Skipped
		}
		runs = append(runs, &Run{UUID: u, Name: "second", Parent: "p", Status: st})
	}
	existed, err := s.CreateMany(ctx, runs)
	if err != nil {
		t.Fatal(err)
	}
	if len(existed) != 1 || !existed["c-0042"] {
		t.Fatalf("existed: %v", existed)
	}
	got, err := s.GetMany(ctx, append(uuids, "unknown"))
	if err != nil || len(got) != 100 {
		t.Fatalf("GetMany: %d runs, %v", len(got), err)
	}
	for _, r := range got {
		if want := map[bool]string{true: "first", false: "second"}[r.UUID == "c-0042"]; r.Name != want || r.Revision == 0 {
			t.Errorf("%s: name %q revision %d", r.UUID, r.Name, r.Revision)
		}
	}
	var paged []string
	for after := ""; ; {
		page, more, err := s.ChildrenAfter(ctx, "p", after, 30)
		if err != nil || len(page) == 0 {
			t.Fatalf("a page after %q: %v, %v", after, page, err)
		}
		paged = append(paged, page...)
		if !more {
			break
		}
		after = page[len(page)-1]
	}
	if fmt.Sprint(paged) != fmt.Sprint(uuids) {
		t.Errorf("pages of 30 gave %d children, not the 100 in order: %v", len(paged), paged)
	}
	children, _ := s.ChildRuns(ctx, "p")
	active, _ := s.Active(ctx)
	if len(children) != 100 || len(active) != 90 {
		t.Errorf("%d children, %d active; want 100 and 90", len(children), len(active))
	}
}

// TestChildRunsSince: a follower reads every child first, then only those
// changed since the revision it was given.
func TestChildRunsSince(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for _, u := range []string{"a", "b", "c"} {
		if err := s.Create(ctx, &Run{UUID: u, Parent: "p"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, &Run{UUID: "other", Parent: "q"}); err != nil {
		t.Fatal(err)
	}
	all, rev, err := s.ChildRunsSince(ctx, "p", 0)
	if err != nil || len(all) != 3 || rev == 0 {
		t.Fatalf("first look: %d runs at revision %d, %v", len(all), rev, err)
	}
	if _, err := s.Update(ctx, "b", func(r *Run) error { r.Status = Running; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "other", func(r *Run) error { r.Status = Running; return nil }); err != nil {
		t.Fatal(err)
	}
	changed, rev2, err := s.ChildRunsSince(ctx, "p", rev)
	if err != nil || len(changed) != 1 || changed[0].UUID != "b" || changed[0].Status != Running || rev2 <= rev {
		t.Fatalf("since %d: %v at %d, %v; want only b, running", rev, changed, rev2, err)
	}
	if again, _, _ := s.ChildRunsSince(ctx, "p", rev2); len(again) != 0 {
		t.Errorf("nothing changed, yet %d runs", len(again))
	}
}

// TestCachedMany: a run that succeeds under a cache key is found under
// it, one that fails is not, a reused result (cacheOf) does not take the
// key over, and a key no run had is left out; more keys than one request
// reads are all looked up.
func TestCachedMany(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	end := func(uuid, key string, st Status, cacheOf string) {
		t.Helper()
		if err := s.Create(ctx, &Run{UUID: uuid, Status: Running, CacheKey: key}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, uuid, func(r *Run) error {
			r.Status, r.CacheOf = st, cacheOf
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	end("a", "k1", Succeeded, "")
	end("b", "k2", Failed, "")
	end("c", "k1", Succeeded, "a") // a hit of a: k1 stays a's
	keys := []string{"k1", "k2", "k3"}
	for i := range 150 {
		keys = append(keys, fmt.Sprintf("filler%d", i))
	}
	end("d", "filler149", Succeeded, "")
	got, err := s.CachedMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"k1": "a", "filler149": "d"}; !maps.Equal(got, want) {
		t.Errorf("CachedMany = %v, want %v", got, want)
	}
}
