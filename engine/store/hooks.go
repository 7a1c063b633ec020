package store

import (
	"context"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A run with hooks that ends is put under `hooks/{uuid}` in the
// transaction that ends it; the leader creates its hook runs (named from
// the run, so never twice) and then takes it off (HooksDone). A leader
// that dies in between leaves it for the next, which finds it with
// PendingHooks.

func (s *Store) hookKey(uuid string) string { return s.prefix + "hooks/" + uuid }

// PendingHooks lists the runs that ended and whose hook runs are not all
// created yet, at most limit of them.
func (s *Store) PendingHooks(ctx context.Context, limit int) ([]string, error) {
	resp, err := s.cli.Get(ctx, s.prefix+"hooks/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: reading pending hooks: %w", err)
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, strings.TrimPrefix(string(kv.Key), s.prefix+"hooks/"))
	}
	return out, nil
}

// HooksDone says the hook runs of run uuid are created.
func (s *Store) HooksDone(ctx context.Context, uuid string) error {
	if _, _, err := s.txnResp(ctx, nil, clientv3.OpDelete(s.hookKey(uuid))); err != nil {
		return fmt.Errorf("store: run %s: its hooks: %w", uuid, err)
	}
	return nil
}

// HooksPending says whether run uuid ended and its hook runs are not all
// created yet.
func (s *Store) HooksPending(ctx context.Context, uuid string) (bool, error) {
	resp, err := s.cli.Get(ctx, s.hookKey(uuid), clientv3.WithCountOnly())
	if err != nil {
		return false, fmt.Errorf("store: run %s: its hooks: %w", uuid, err)
	}
	return resp.Count > 0, nil
}
