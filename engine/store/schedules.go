package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// ErrScheduleMoved: the schedule's state changed since it was read (a
// second writer): read it again and decide again.
var ErrScheduleMoved = errors.New("store: the schedule's state changed since it was read")

func (s *Store) scheduleKey(uuid string) string { return s.prefix + "schedules/" + uuid }

// Schedule reads the state of schedule run uuid; a schedule that never
// fired has the zero state (Revision 0).
func (s *Store) Schedule(ctx context.Context, uuid string) (ScheduleState, error) {
	resp, err := s.cli.Get(ctx, s.scheduleKey(uuid))
	if err != nil {
		return ScheduleState{}, fmt.Errorf("store: reading schedule %s: %w", uuid, err)
	}
	if len(resp.Kvs) == 0 {
		return ScheduleState{}, nil
	}
	var st ScheduleState
	if err := json.Unmarshal(resp.Kvs[0].Value, &st); err != nil {
		return ScheduleState{}, fmt.Errorf("store: schedule %s: %w: %v", uuid, ErrUnreadable, err)
	}
	st.Revision = resp.Kvs[0].ModRevision
	return st, nil
}

// MaxFireBatch is the most children one call of Fire creates (three keys
// each, plus the state, in one transaction, under etcd's default limit of
// 128 operations).
const MaxFireBatch = 40

// Fire creates the children of a schedule's fires and stores its new
// state, in one transaction that holds only if the state is still the one
// read (known.Revision) and none of the children exists: a fire is
// created exactly once, whoever leads. ErrScheduleMoved says the state
// moved (nothing was written); ErrExists, that a child exists with a
// state that does not count it (a record written by hand). On success
// st.Revision and each child's Revision are the transaction's.
func (s *Store) Fire(ctx context.Context, uuid string, known int64, st *ScheduleState, children []*Run) error {
	if len(children) > MaxFireBatch {
		return fmt.Errorf("store: schedule %s: %d children in one fire, at most %d", uuid, len(children), MaxFireBatch)
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("store: encoding schedule %s: %w", uuid, err)
	}
	now := s.now().UTC()
	conds := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.scheduleKey(uuid)), "=", known)}
	ops := []clientv3.Op{clientv3.OpPut(s.scheduleKey(uuid), string(data))}
	for _, r := range children {
		if r.UUID == "" {
			return errors.New("store: a run needs a uuid")
		}
		if r.Status == "" {
			r.Status = Created
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		r.UpdatedAt = now
		if len(r.Conditions) == 0 {
			r.Conditions = []Condition{{Type: r.Status, Time: now}}
		}
		o, err := s.createOps(r)
		if err != nil {
			return err
		}
		conds = append(conds, clientv3.Compare(clientv3.CreateRevision(s.runKey(r.UUID)), "=", 0))
		ops = append(ops, o...)
	}
	resp, ok, err := s.txnResp(ctx, conds, ops...)
	if err != nil {
		return fmt.Errorf("store: firing schedule %s: %w", uuid, err)
	}
	if !ok {
		cur, err := s.Schedule(ctx, uuid)
		if err != nil {
			return err
		}
		if cur.Revision != known {
			return fmt.Errorf("firing schedule %s: %w", uuid, ErrScheduleMoved)
		}
		return fmt.Errorf("firing schedule %s: a child: %w", uuid, ErrExists)
	}
	st.Revision = resp.Header.Revision
	for _, r := range children {
		r.Revision = resp.Header.Revision
	}
	return nil
}
