package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The creation index: `created/{unix nanoseconds, 20 digits}/{uuid}`, an
// empty key for each run started by no other run (a submission, a
// restart), written with its record. It lists the runs people submitted
// newest first, a page at a time, however many runs the store holds; a
// run's children are listed from their own index.

// createdKey is a top-level run's key in the creation index.
func (s *Store) createdKey(r *Run) string {
	return fmt.Sprintf("%screated/%020d/%s", s.prefix, r.CreatedAt.UnixNano(), r.UUID)
}

// createdIndexed marks a store whose runs are all in the creation index
// (IndexCreated has run, or the store began with it).
func (s *Store) createdIndexed() string { return s.prefix + "meta/created-index" }

// ListNewest returns up to limit runs started by no other run, newest
// first, starting after the run `after` (""; from the newest), that keep
// passes (nil keeps all). Next is the last run of the page when more may
// follow. A record that cannot be read is named in the page's Unreadable.
func (s *Store) ListNewest(ctx context.Context, after string, limit int, keep func(*Run) bool) (*Page, error) {
	if limit <= 0 {
		limit = 100
	}
	start := s.prefix + "created/"
	end := clientv3.GetPrefixRangeEnd(start)
	if after != "" {
		r, _, err := s.Get(ctx, after)
		if err != nil {
			return nil, fmt.Errorf("store: listing the runs created before run %s: %w", after, err)
		}
		end = s.createdKey(r) // exclusive: the runs before it
	}
	page := &Page{}
	for {
		// At least a hundred keys a look: a filter may keep few.
		resp, err := s.cli.Get(ctx, start, clientv3.WithRange(end), clientv3.WithKeysOnly(),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(int64(max(limit-len(page.Runs), 100))))
		if err != nil {
			return nil, fmt.Errorf("store: listing runs newest first: %w", err)
		}
		uuids := make([]string, len(resp.Kvs))
		for i, kv := range resp.Kvs {
			key := string(kv.Key)
			uuids[i] = key[strings.LastIndexByte(key, '/')+1:]
		}
		runs, err := s.GetMany(ctx, uuids)
		if bad, ok := err.(Unreadable); ok {
			page.Unreadable = append(page.Unreadable, bad...)
		} else if err != nil {
			return nil, err
		}
		byUUID := make(map[string]*Run, len(runs))
		for _, r := range runs {
			byUUID[r.UUID] = r
		}
		for i, u := range uuids {
			r := byUUID[u]
			if r == nil || keep != nil && !keep(r) {
				continue
			}
			page.Runs = append(page.Runs, r)
			if len(page.Runs) == limit {
				if resp.More || i < len(uuids)-1 {
					page.Next = r.UUID
				}
				return page, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return page, nil
		}
		end = string(resp.Kvs[len(resp.Kvs)-1].Key)
	}
}

// IndexCreated puts every run started by no other run into the creation
// index, once for a store that holds runs from before the index: it reads
// every record a page at a time, then marks the store indexed. It returns
// how many runs it indexed (0 when the store was indexed already). Safe
// to run again, or from two servers at once: the keys it writes are the
// ones the runs' creation would have.
func (s *Store) IndexCreated(ctx context.Context) (int, error) {
	resp, err := s.cli.Get(ctx, s.createdIndexed(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("store: reading %s: %w", s.createdIndexed(), err)
	}
	if resp.Count > 0 {
		return 0, nil
	}
	n, after := 0, ""
	for {
		page, err := s.List(ctx, after, 500, func(r *Run) bool { return r.Parent == "" })
		if err != nil {
			return n, err
		}
		var ops []clientv3.Op
		for _, r := range page.Runs {
			ops = append(ops, clientv3.OpPut(s.createdKey(r), ""))
			if len(ops) == 100 {
				if _, _, err := s.txnResp(ctx, nil, ops...); err != nil {
					return n, fmt.Errorf("store: indexing runs by creation: %w", err)
				}
				n, ops = n+len(ops), nil
			}
		}
		if len(ops) > 0 {
			if _, _, err := s.txnResp(ctx, nil, ops...); err != nil {
				return n, fmt.Errorf("store: indexing runs by creation: %w", err)
			}
			n += len(ops)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if _, _, err := s.txnResp(ctx, nil, clientv3.OpPut(s.createdIndexed(), time.Now().UTC().Format(time.RFC3339))); err != nil {
		return n, fmt.Errorf("store: marking the creation index: %w", err)
	}
	return n, nil
}
