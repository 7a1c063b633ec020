package store

import (
	"errors"
	"strings"
	"testing"
)

// deepJSON is a JSON value of n arrays, one inside the other.
func deepJSON(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }

// putUnreadable writes, by hand, the record of run uuid (child of parent
// when parent is set, active), with an output nested past what
// encoding/json reads: what an older version could write.
func putUnreadable(t *testing.T, s *Store, uuid, parent string) {
	t.Helper()
	rec := `{"uuid":"` + uuid + `","name":"poison","parent":"` + parent + `","node":"n","status":"running","attempt":2,` +
		`"spec":"version: 1.1\n","conditions":[{"type":"created","time":"2025-01-01T00:00:00Z"}],` +
		`"outputs":{"x":` + deepJSON(10000) + `},"createdAt":"2025-01-01T00:00:00Z","updatedAt":"2025-01-01T00:00:00Z"}`
	ctx := t.Context()
	if _, err := s.cli.Put(ctx, s.runKey(uuid), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cli.Put(ctx, s.activeKey(uuid), ""); err != nil {
		t.Fatal(err)
	}
	if parent != "" {
		if _, err := s.cli.Put(ctx, s.childKey(parent, uuid), ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnreadableRecord: a record that does not decode fails no read of
// many: listings, a parent's children and the watch leave it out and name
// it; Get says ErrUnreadable; Repair makes it readable, keeping what can
// be read of it.
func TestUnreadableRecord(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	for _, u := range []string{"a", "c"} {
		if err := s.Create(ctx, &Run{UUID: u, Parent: "p"}); err != nil {
			t.Fatal(err)
		}
	}
	events, _ := s.Watch(ctx, 0)
	putUnreadable(t, s, "b", "p")

	page, err := s.List(ctx, "", 10, nil)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Runs) != 2 || page.Runs[0].UUID != "a" || page.Runs[1].UUID != "c" {
		t.Errorf("List: %d runs, want a and c", len(page.Runs))
	}
	if len(page.Unreadable) != 1 || !strings.HasPrefix(page.Unreadable[0], "b: ") || !strings.Contains(page.Unreadable[0], "exceeded max depth") {
		t.Errorf("List reports %q, want b and why", page.Unreadable)
	}
	// Filtered out or not, it is reported.
	if page, err := s.List(ctx, "", 10, func(*Run) bool { return false }); err != nil || len(page.Runs) != 0 || len(page.Unreadable) != 1 {
		t.Errorf("List keeping none: %v, %v", page, err)
	}
	runs, err := s.ChildRuns(ctx, "p")
	var bad Unreadable
	if len(runs) != 2 || !errors.As(err, &bad) || len(bad) != 1 || !errors.Is(err, ErrUnreadable) {
		t.Errorf("ChildRuns: %d runs, %v", len(runs), err)
	}
	if runs, _, err := s.ChildRunsSince(ctx, "p", 1); len(runs) != 2 || !errors.Is(err, ErrUnreadable) {
		t.Errorf("ChildRunsSince: %d runs, %v", len(runs), err)
	}
	if _, _, err := s.Get(ctx, "b"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("Get: %v, want ErrUnreadable", err)
	}
	ev := <-events
	if ev.Run.UUID != "b" || !errors.Is(ev.Unreadable, ErrUnreadable) || ev.Revision == 0 {
		t.Errorf("watch: %+v", ev)
	}

	r, err := s.Repair(ctx, "b", func(r *Run) error {
		if r.Status != Running || r.Parent != "p" || r.Node != "n" || r.Attempt != 2 || r.Name != "poison" || len(r.Conditions) != 1 || r.Outputs != nil {
			t.Errorf("salvaged %+v", r)
		}
		r.Status = Failed
		return nil
	})
	if err != nil {
		t.Fatalf("Repair: %v", err)
	}
	got, _, err := s.Get(ctx, "b")
	if err != nil || got.Status != Failed || got.Revision != r.Revision || got.Spec != "version: 1.1\n" {
		t.Fatalf("after the repair: %+v, %v", got, err)
	}
	if active, _ := s.Active(ctx); strings.Join(active, ",") != "a,c" {
		t.Errorf("active after the repair: %v", active)
	}
	if page, _ := s.List(ctx, "", 10, nil); len(page.Runs) != 3 || len(page.Unreadable) != 0 {
		t.Errorf("List after the repair: %d runs, unreadable %q", len(page.Runs), page.Unreadable)
	}
}

// TestNoWriteIsUnreadable: a record that would nest past what decodes is
// refused (ErrUnreadable) and nothing is written; one just inside is
// written and reads back.
func TestNoWriteIsUnreadable(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	deep := func(n int) any {
		var v any = 1.0
		for range n {
			v = []any{v}
		}
		return v
	}
	// The record, then outputs, then "x": three levels around the value.
	if err := s.Create(ctx, &Run{UUID: "ok", Outputs: map[string]any{"x": deep(maxDepth - 2)}}); err != nil {
		t.Fatalf("a record %d levels deep: %v", maxDepth, err)
	}
	if _, _, err := s.Get(ctx, "ok"); err != nil {
		t.Fatalf("reading it back: %v", err)
	}
	err := s.Create(ctx, &Run{UUID: "deep", Outputs: map[string]any{"x": deep(maxDepth - 1)}})
	if !errors.Is(err, ErrUnreadable) {
		t.Fatalf("Create %d levels: %v, want ErrUnreadable", maxDepth+1, err)
	}
	if _, _, err := s.Get(ctx, "deep"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused record: %v", err)
	}
	_, err = s.Update(ctx, "ok", func(r *Run) error { r.Inputs = map[string]any{"y": deep(maxDepth)}; return nil })
	if !errors.Is(err, ErrUnreadable) {
		t.Errorf("Update: %v, want ErrUnreadable", err)
	}
	if _, _, err := s.Get(ctx, "ok"); err != nil {
		t.Errorf("after the refused update: %v", err)
	}
	if _, err := s.CreateMany(ctx, []*Run{{UUID: "m", Outputs: map[string]any{"x": deep(maxDepth)}}}); !errors.Is(err, ErrUnreadable) {
		t.Errorf("CreateMany: %v, want ErrUnreadable", err)
	}
	if d := depthOf([]byte(`{"a":"[[[{{\"","b":[{}]}`)); d != 3 {
		t.Errorf("depthOf counts brackets in strings: %d", d)
	}
}
