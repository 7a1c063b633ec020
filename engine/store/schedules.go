package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ScheduleState is what the engine keeps of a schedule run between its
// fires, under `schedules/{uuid}`: it moves only in the transaction that
// creates the fires' children, so a fire is never created twice nor lost.
type ScheduleState struct {
	// Last is the nominal time of the newest fire decided (created, or
	// dropped by the catch-up policy); zero before the first.
	Last time.Time `json:"last,omitzero"`
	// Fired counts the children created.
	Fired int `json:"fired"`
	// Skipped counts the fires the catch-up policy dropped.
	Skipped int `json:"skipped,omitempty"`
	// Next is when the schedule fires next, as last decided (for display);
	// zero when it waits for a running child or is done.
	Next time.Time `json:"next,omitzero"`
	// LastChild is the run of the newest fire.
	LastChild string `json:"lastChild,omitempty"`

	// Revision is the store revision the state was read at (0: never
	// written); it is not part of the state.
	Revision int64 `json:"-"`
}

// ErrScheduleMoved: a schedule's state (or a subscription's cursor)
// changed since it was read (a second writer): read it again and decide
// again.
var ErrScheduleMoved = errors.New("store: the schedule's state changed since it was read")

func (s *Store) scheduleKey(uuid string) string { return s.prefix + "schedules/" + uuid }

// Schedule reads the state of schedule run uuid; a schedule that never
// fired has the zero state (Revision 0).
func (s *Store) Schedule(ctx context.Context, uuid string) (ScheduleState, error) {
	var st ScheduleState
	rev, err := s.getState(ctx, s.scheduleKey(uuid), &st)
	st.Revision = rev
	return st, err
}

// getState reads the JSON value at key into v and returns its revision
// (0, v untouched, when the key does not exist).
func (s *Store) getState(ctx context.Context, key string, v any) (int64, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("store: reading %s: %w", strings.TrimPrefix(key, s.prefix), err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, v); err != nil {
		return 0, fmt.Errorf("store: %s: %w: %v", strings.TrimPrefix(key, s.prefix), ErrUnreadable, err)
	}
	return resp.Kvs[0].ModRevision, nil
}

// MaxFireBatch is the most children one call of Fire or Deliver creates
// (three or four keys each, plus the state, in one transaction, under
// etcd's default limit of 128 operations).
const MaxFireBatch = 30

// Fire creates the children of a schedule's fires and stores its new
// state, in one transaction that holds only if the state is still the one
// read (known) and none of the children exists: a fire is created exactly
// once, whoever leads. ErrScheduleMoved says the state moved (nothing was
// written); ErrExists, that a child exists with a state that does not
// count it (a record written by hand). On success st.Revision and each
// child's Revision are the transaction's.
func (s *Store) Fire(ctx context.Context, uuid string, known int64, st *ScheduleState, children []*Run) error {
	rev, err := s.advance(ctx, s.scheduleKey(uuid), known, st, children)
	if err == nil {
		st.Revision = rev
	}
	return err
}

// advance stores state v at key and creates children, in one transaction
// that holds only if key's revision is still known and none of the
// children exists; it returns the transaction's revision.
func (s *Store) advance(ctx context.Context, key string, known int64, v any, children []*Run) (int64, error) {
	name := strings.TrimPrefix(key, s.prefix)
	if len(children) > MaxFireBatch {
		return 0, fmt.Errorf("store: %s: %d children at once, at most %d", name, len(children), MaxFireBatch)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("store: encoding %s: %w", name, err)
	}
	now := s.now().UTC()
	conds := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", known)}
	ops := []clientv3.Op{clientv3.OpPut(key, string(data))}
	for _, r := range children {
		c, o, err := s.newRunOps(r, now)
		if err != nil {
			return 0, err
		}
		conds, ops = append(conds, c), append(ops, o...)
	}
	resp, ok, err := s.txnResp(ctx, conds, ops...)
	if err != nil {
		return 0, fmt.Errorf("store: advancing %s: %w", name, err)
	}
	if !ok {
		cur, err := s.cli.Get(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("store: reading %s: %w", name, err)
		}
		if len(cur.Kvs) > 0 && cur.Kvs[0].ModRevision != known || len(cur.Kvs) == 0 && known != 0 {
			return 0, fmt.Errorf("advancing %s: %w", name, ErrScheduleMoved)
		}
		return 0, fmt.Errorf("advancing %s: a child: %w", name, ErrExists)
	}
	for _, r := range children {
		r.Revision = resp.Header.Revision
	}
	return resp.Header.Revision, nil
}
