package store

// Backup and restore of the store's keyspace: every key under the prefix
// read at one revision (a consistent snapshot), written as JSON lines; and
// their writing into an etcd that holds nothing under the prefix. Keys
// bound to a lease (the leader's election key) are left out: they belong
// to a live process, and the restored store elects its own leader.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// backupFormat is the version of the backup's format.
const backupFormat = 1

// BackupHeader is a backup's first line.
type BackupHeader struct {
	Format   int    `json:"plexusBackup"`
	Prefix   string `json:"prefix"`
	Revision int64  `json:"revision"`
	// Keys is how many keys the backup holds (counted as it is written:
	// its last line says so again).
	Keys int `json:"-"`
}

// backupLine is a line after the header: a key, relative to the prefix,
// and its value; or the end, with the count of keys.
type backupLine struct {
	Key   *string `json:"k,omitempty"`
	Value []byte  `json:"v,omitempty"`
	End   bool    `json:"end,omitempty"`
	Keys  int     `json:"keys,omitempty"`
}

// backupPage is how many keys a backup reads at a time.
const backupPage = 1000

// Backup writes every key under the store's prefix, as of one revision,
// to w: a header line, a line per key, and a last line with their count
// (a backup cut short has none). It returns the header.
func (s *Store) Backup(ctx context.Context, w io.Writer) (BackupHeader, error) {
	h := BackupHeader{Format: backupFormat, Prefix: s.prefix}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	end := clientv3.GetPrefixRangeEnd(s.prefix)
	from := s.prefix
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(backupPage)}
		if h.Revision > 0 {
			opts = append(opts, clientv3.WithRev(h.Revision)) // every page as of the first
		}
		resp, err := s.cli.Get(ctx, from, opts...)
		if err != nil {
			return h, fmt.Errorf("store: backup: reading under %s: %w", s.prefix, err)
		}
		if h.Revision == 0 {
			h.Revision = resp.Header.Revision
			if err := enc.Encode(h); err != nil {
				return h, fmt.Errorf("store: backup: %w", err)
			}
		}
		for _, kv := range resp.Kvs {
			if kv.Lease != 0 {
				continue // a live process's key
			}
			k := string(kv.Key[len(s.prefix):])
			if err := enc.Encode(backupLine{Key: &k, Value: kv.Value}); err != nil {
				return h, fmt.Errorf("store: backup: %w", err)
			}
			h.Keys++
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	if err := enc.Encode(backupLine{End: true, Keys: h.Keys}); err != nil {
		return h, fmt.Errorf("store: backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return h, fmt.Errorf("store: backup: %w", err)
	}
	return h, nil
}

// ErrNotEmpty: a restore found keys under the prefix already.
var ErrNotEmpty = errors.New("store: the keyspace is not empty")

// restoreBatch is how many keys a restore writes a transaction (etcd
// allows 128 operations in one by default).
const restoreBatch = 100

// Restore writes a backup into the store's prefix, which must hold
// nothing: the backup's keys go where they were relative to its prefix
// (so a backup restores under another prefix too). A backup that does not
// read to its end line leaves nothing written. It returns the backup's
// header, with its count of keys.
func (s *Store) Restore(ctx context.Context, r io.Reader) (BackupHeader, error) {
	var h BackupHeader
	dec := json.NewDecoder(bufio.NewReader(r))
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("store: restore: the backup's header: %w", err)
	}
	if h.Format != backupFormat {
		return h, fmt.Errorf("store: restore: not a backup of format %d (its header says %d)", backupFormat, h.Format)
	}
	resp, err := s.cli.Get(ctx, s.prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return h, fmt.Errorf("store: restore: %w", err)
	}
	if resp.Count > 0 {
		return h, fmt.Errorf("store: restore into %s: %d keys are there: %w", s.prefix, resp.Count, ErrNotEmpty)
	}
	if err := s.restore(ctx, dec, &h); err != nil {
		// Nothing was there: take back what was written.
		if _, derr := s.cli.Delete(context.WithoutCancel(ctx), s.prefix, clientv3.WithPrefix()); derr != nil {
			return h, fmt.Errorf("%w (and taking back what was written: %v)", err, derr)
		}
		return h, fmt.Errorf("%w; nothing was restored", err)
	}
	return h, nil
}

// restore writes the backup's keys, counting them in h.
func (s *Store) restore(ctx context.Context, dec *json.Decoder, h *BackupHeader) error {
	var ops []clientv3.Op
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		_, err := s.cli.Txn(ctx).Then(ops...).Commit()
		ops = ops[:0]
		if err != nil {
			return fmt.Errorf("store: restore: %w", err)
		}
		return nil
	}
	for {
		var l backupLine
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("store: restore: the backup ends after %d keys without its last line: it is cut short", h.Keys)
		}
		if err != nil {
			return fmt.Errorf("store: restore: line %d of the backup: %w", h.Keys+2, err)
		}
		if l.End {
			if l.Keys != h.Keys {
				return fmt.Errorf("store: restore: the backup holds %d keys, its last line says %d", h.Keys, l.Keys)
			}
			return flush()
		}
		if l.Key == nil {
			return fmt.Errorf("store: restore: line %d of the backup is neither a key nor its end", h.Keys+2)
		}
		ops = append(ops, clientv3.OpPut(s.prefix+*l.Key, string(l.Value)))
		h.Keys++
		if len(ops) == restoreBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}
