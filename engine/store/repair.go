package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Repair rewrites the record of a run that cannot be read (Get returns
// ErrUnreadable): what can be read of it is kept — each top-level field
// that decodes on its own: uuid, status, conditions, parent, node,
// attempt, ... — the rest is dropped (and its blobs, when they cannot be
// read either), then change decides on it as in Update. The active index
// follows the status the change leaves. A record that reads back is
// updated as Update does, so a repair that raced with another is
// harmless.
func (s *Store) Repair(ctx context.Context, uuid string, change func(*Run) error) (*Run, error) {
	for range maxAttempts {
		resp, err := s.cli.Get(ctx, s.runKey(uuid))
		if err != nil {
			return nil, fmt.Errorf("store: reading run %s: %w", uuid, err)
		}
		if len(resp.Kvs) == 0 {
			return nil, fmt.Errorf("run %s: %w", uuid, ErrNotFound)
		}
		kv := resp.Kvs[0]
		var r Run
		if decode(uuid, kv.Value, &r) == nil {
			r.Revision = kv.ModRevision
			return s.UpdateFrom(ctx, uuid, &r, change)
		}
		r = salvage(kv.Value)
		r.UUID, r.Revision = uuid, kv.ModRevision
		dropBlobs := false
		if r.Blobs > 0 {
			switch err := s.Body(ctx, &r); {
			case errors.Is(err, ErrUnreadable):
				dropBlobs = true
				r.Blobs, r.Spec, r.Compiled = 0, "", nil
			case err != nil:
				return nil, err
			}
		}
		if err := change(&r); err != nil {
			return nil, err
		}
		r.UpdatedAt = s.now().UTC()
		data, err := encode(&r)
		if err != nil {
			return nil, fmt.Errorf("store: encoding run %s: %w", uuid, err)
		}
		ops := []clientv3.Op{clientv3.OpPut(s.runKey(uuid), string(data))}
		if r.Status.Final() {
			ops = append(ops, clientv3.OpDelete(s.activeKey(uuid)))
		} else {
			ops = append(ops, clientv3.OpPut(s.activeKey(uuid), ""))
		}
		if dropBlobs {
			ops = append(ops, clientv3.OpDelete(fmt.Sprintf("%sblobs/%s/", s.prefix, uuid), clientv3.WithPrefix()))
		}
		tresp, ok, err := s.txnResp(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.runKey(uuid)), "=", kv.ModRevision)}, ops...)
		if err != nil {
			return nil, fmt.Errorf("repairing run %s: %w", uuid, err)
		}
		if ok {
			r.Revision = tresp.Header.Revision
			return &r, nil
		}
	}
	return nil, fmt.Errorf("repairing run %s: %w", uuid, ErrConflict)
}

// salvage reads what it can of a record that does not decode: each
// top-level field that decodes on its own, in its place in the record.
// Reading stops at the first syntax error.
func salvage(data []byte) Run {
	var out Run
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return out
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		key, ok := t.(string)
		if !ok {
			return out
		}
		start := dec.InputOffset()
		if err := skipValue(dec); err != nil {
			return out
		}
		raw := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n:")
		name, err := json.Marshal(key)
		if err != nil {
			continue
		}
		field := append(append(append(append([]byte("{"), name...), ':'), raw...), '}')
		var one Run
		if json.Unmarshal(field, &one) == nil {
			_ = json.Unmarshal(field, &out) // decodes: this field only
		}
	}
	return out
}

// skipValue reads one value of dec token by token, at any depth: the
// tokenizer, unlike Decode, does not stop at encoding/json's depth limit.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
