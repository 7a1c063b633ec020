package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// newestAll pages through ListNewest, limit at a time.
func newestAll(t *testing.T, s *Store, limit int, keep func(*Run) bool) []string {
	t.Helper()
	var all []string
	after := ""
	for {
		page, err := s.ListNewest(t.Context(), after, limit, keep)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Runs {
			all = append(all, r.UUID)
		}
		if page.Next == "" {
			return all
		}
		after = page.Next
	}
}

// TestListNewest: runs started by no other run come newest first, by
// their creation time not their uuid, a page at a time, filtered; their
// children are not in that listing.
func TestListNewest(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []string
	for i := range 25 {
		st := Running
		if i%2 == 0 {
			st = Succeeded
		}
		// Uuids in the opposite order of creation: the listing may not
		// lean on them.
		r := &Run{UUID: fmt.Sprintf("z%02d", 99-i), Status: st, CreatedAt: base.Add(time.Duration(i) * time.Second)}
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		want = append([]string{r.UUID}, want...)
	}
	children := []*Run{{UUID: "c1", Parent: "z99"}, {UUID: "c2", Parent: "z99"}}
	if _, err := s.CreateMany(ctx, children); err != nil {
		t.Fatal(err)
	}
	if got := newestAll(t, s, 7, nil); !slices.Equal(got, want) {
		t.Errorf("newest first by 7:\n got %v\nwant %v", got, want)
	}
	var succeeded []string
	for _, u := range want {
		var i int
		fmt.Sscanf(u, "z%d", &i)
		if (99-i)%2 == 0 {
			succeeded = append(succeeded, u)
		}
	}
	if got := newestAll(t, s, 4, func(r *Run) bool { return r.Status == Succeeded }); !slices.Equal(got, succeeded) {
		t.Errorf("succeeded, newest first by 4:\n got %v\nwant %v", got, succeeded)
	}
	if _, err := s.ListNewest(ctx, "nope", 5, nil); err == nil {
		t.Error("listing after an unknown run: no error")
	}
}

// TestIndexCreated: a store whose runs were written before the creation
// index gets them indexed once, and then lists them newest first.
func TestIndexCreated(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []string
	for i := range 230 {
		r := &Run{UUID: fmt.Sprintf("u%03d", i), CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		if i%10 == 9 {
			r.Parent = "u000"
		} else {
			want = append([]string{r.UUID}, want...)
		}
		if err := s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// As a store written before the index: its keys gone.
	if _, err := testClient.Delete(ctx, s.prefix+"created/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if got := newestAll(t, s, 50, nil); len(got) != 0 {
		t.Fatalf("before indexing, listed %d", len(got))
	}
	n, err := s.IndexCreated(ctx)
	if err != nil || n != len(want) {
		t.Fatalf("IndexCreated = %d, %v; want %d", n, err, len(want))
	}
	if got := newestAll(t, s, 50, nil); !slices.Equal(got, want) {
		t.Errorf("after indexing:\n got %v\nwant %v", got, want)
	}
	if n, err := s.IndexCreated(ctx); err != nil || n != 0 {
		t.Errorf("second IndexCreated = %d, %v; want 0: the store is marked indexed", n, err)
	}
}
