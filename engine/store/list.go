package store

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Reading many runs: the keys of the active runs and of a run's children,
// pages of runs, and the watch of what changes.

// Active lists the uuids of runs not yet final: what the leader
// reconciles.
func (s *Store) Active(ctx context.Context) ([]string, error) {
	return s.keysUnder(ctx, s.prefix+"active/")
}

// Children lists the uuids of a run's children.
func (s *Store) Children(ctx context.Context, parent string) ([]string, error) {
	return s.keysUnder(ctx, s.prefix+"children/"+parent+"/")
}

func (s *Store) keysUnder(ctx context.Context, prefix string) ([]string, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, fmt.Errorf("store: listing %s: %w", prefix, err)
	}
	out := make([]string, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = strings.TrimPrefix(string(kv.Key), prefix)
	}
	return out, nil
}

// Page is one page of a listing.
type Page struct {
	Runs []*Run
	// Next is where the next page starts; "" on the last page.
	Next string
	// Unreadable names the records of the page's range that cannot be
	// decoded ("uuid: error"): left out of Runs, whatever keep says.
	Unreadable Unreadable
}

// List returns up to limit runs in uuid order, starting after `after`,
// that keep passes (nil keeps all). A record that cannot be read does
// not fail the listing: it is named in the page's Unreadable.
func (s *Store) List(ctx context.Context, after string, limit int, keep func(*Run) bool) (*Page, error) {
	if limit <= 0 {
		limit = 100
	}
	start := s.runKey(after)
	if after != "" {
		start += "\x00"
	}
	end := clientv3.GetPrefixRangeEnd(s.prefix + "runs/")
	page := &Page{}
	for len(page.Runs) < limit {
		resp, err := s.cli.Get(ctx, start, clientv3.WithRange(end), clientv3.WithLimit(int64(limit)))
		if err != nil {
			return nil, fmt.Errorf("store: listing runs: %w", err)
		}
		for _, kv := range resp.Kvs {
			var r Run
			if err := decode(s.uuidOf(kv.Key), kv.Value, &r); err != nil {
				page.Unreadable = append(page.Unreadable, s.uuidOf(kv.Key)+": "+err.Error())
				continue
			}
			r.Revision = kv.ModRevision
			if keep == nil || keep(&r) {
				page.Runs = append(page.Runs, &r)
				if len(page.Runs) == limit {
					page.Next = r.UUID
					return page, nil
				}
			}
		}
		if !resp.More {
			return page, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	return page, nil
}

// Event is a change of a run seen by Watch.
type Event struct {
	Run *Run
	// Revision is the store revision of the change.
	Revision int64
	// Unreadable, when the record written cannot be decoded, says why;
	// Run then holds only its UUID and Revision.
	Unreadable error
}

// Watch streams the changes of runs from revision rev on (0: from now)
// until ctx ends. A compacted revision closes the channel with the error
// reported through errc: the watcher resyncs from a fresh read.
func (s *Store) Watch(ctx context.Context, rev int64) (<-chan Event, <-chan error) {
	return s.WatchUnknown(ctx, rev, nil)
}

// WatchUnknown is Watch without the changes known says the watcher
// already has (it wrote them, or is writing them): those are not decoded,
// nor sent. created says the change created the run's record.
func (s *Store) WatchUnknown(ctx context.Context, rev int64, known func(uuid string, rev int64, created bool) bool) (<-chan Event, <-chan error) {
	out := make(chan Event, 256)
	errc := make(chan error, 1)
	opts := []clientv3.OpOption{clientv3.WithPrefix()}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), s.prefix+"runs/", opts...)
	go func() {
		defer close(out)
		defer close(errc)
		for resp := range wch {
			if err := resp.Err(); err != nil {
				errc <- err
				return
			}
			for _, ev := range resp.Events {
				if ev.Type != clientv3.EventTypePut {
					continue
				}
				if known != nil && known(strings.TrimPrefix(string(ev.Kv.Key), s.prefix+"runs/"), ev.Kv.ModRevision, ev.Kv.Version == 1) {
					continue
				}
				var r Run
				var bad error
				if err := decode(s.uuidOf(ev.Kv.Key), ev.Kv.Value, &r); err != nil {
					r, bad = Run{UUID: s.uuidOf(ev.Kv.Key)}, err
				}
				r.Revision = ev.Kv.ModRevision
				select {
				case out <- Event{Run: &r, Revision: ev.Kv.ModRevision, Unreadable: bad}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, errc
}
