package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The event log: a run's status changes that an event subscription asks
// for, written under `events/` in the transaction that makes the change,
// so none is lost and none is written twice. Only the runs some active
// subscription refers to (by uuid, or by component name in a project) are
// logged: a store with no subscription writes no event. Subscriptions
// register under `subscriptions/{uuid}`; every Store follows them
// (FollowSubscriptions), so whichever process writes a change logs it.
// A subscription consumes the log after its cursor (`cursors/{uuid}`),
// advanced in the transaction that creates the runs its events start.

// RunEvent is one status change of a run, as the event log keeps it.
type RunEvent struct {
	Run       string         `json:"run"`
	Name      string         `json:"name,omitempty"`
	Project   string         `json:"project,omitempty"`
	Component string         `json:"component,omitempty"`
	Parent    string         `json:"parent,omitempty"`
	Status    Status         `json:"status"`
	Attempt   int            `json:"attempt,omitempty"`
	Time      time.Time      `json:"time"`
	Outputs   map[string]any `json:"outputs,omitempty"`

	// Key is the event's key under `events/`, and Revision the store
	// revision that wrote it: the log's order. Neither is stored.
	Key      string `json:"-"`
	Revision int64  `json:"-"`
}

// Subscription is what an event subscription listens to: the runs it
// names, and the runs of the components it names in its project.
type Subscription struct {
	Runs       []string `json:"runs,omitempty"`
	Components []string `json:"components,omitempty"`
	Project    string   `json:"project"`
}

// maxEventOutputs bounds the outputs an event keeps (their JSON size);
// larger outputs are left out of the event, not of the run.
const maxEventOutputs = 16 << 10

// subscribers is what the processes' stores know of the active
// subscriptions: the runs and the project/component pairs whose changes
// are logged. Shared by a Store and its fenced copies.
type subscribers struct {
	mu    sync.RWMutex
	subs  map[string]Subscription
	runs  map[string]int
	comps map[string]int
}

func (s *subscribers) set(uuid string, sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.subs[uuid]; ok {
		for _, r := range old.Runs {
			if s.runs[r]--; s.runs[r] <= 0 {
				delete(s.runs, r)
			}
		}
		for _, c := range old.Components {
			k := old.Project + "/" + c
			if s.comps[k]--; s.comps[k] <= 0 {
				delete(s.comps, k)
			}
		}
		delete(s.subs, uuid)
	}
	if sub == nil {
		return
	}
	s.subs[uuid] = *sub
	for _, r := range sub.Runs {
		s.runs[r]++
	}
	for _, c := range sub.Components {
		s.comps[sub.Project+"/"+c]++
	}
}

// reset forgets every subscription (before they are read again).
func (s *subscribers) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.subs)
	clear(s.runs)
	clear(s.comps)
}

// logged says whether a run's changes go to the event log.
func (s *subscribers) logged(r *Run) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.subs) == 0 {
		return false
	}
	return s.runs[r.UUID] > 0 || r.Component != "" && s.comps[r.Project+"/"+r.Component] > 0
}

// Logged says whether the store logs the changes of run r (an active
// subscription refers to it).
func (s *Store) Logged(r *Run) bool { return s.subs.logged(r) }

func (s *Store) eventKey(r *Run, i int, t time.Time) string {
	return fmt.Sprintf("%sevents/%019d.%s.%d", s.prefix, t.UnixNano(), r.UUID, i)
}

func (s *Store) subscriptionKey(uuid string) string { return s.prefix + "subscriptions/" + uuid }
func (s *Store) cursorKey(uuid string) string       { return s.prefix + "cursors/" + uuid }

// eventOps are the writes that log a run's status changes from its
// condition from on (a condition of the status it already had is no
// change), when the run is logged.
func (s *Store) eventOps(r *Run, from int) []clientv3.Op {
	if !s.subs.logged(r) {
		return nil
	}
	var ops []clientv3.Op
	for i := max(from, 0); i < len(r.Conditions); i++ {
		c := r.Conditions[i]
		if i > 0 && r.Conditions[i-1].Type == c.Type {
			continue
		}
		ev := RunEvent{Run: r.UUID, Name: r.Name, Project: r.Project, Component: r.Component, Parent: r.Parent, Status: c.Type,
			Attempt: r.Attempt, Time: c.Time}
		if c.Type.Final() && len(r.Outputs) > 0 {
			if data, err := json.Marshal(r.Outputs); err == nil && len(data) <= maxEventOutputs {
				ev.Outputs = r.Outputs
			}
		}
		data, err := json.Marshal(&ev)
		if err != nil {
			continue // outputs that do not encode: the record says so when it is written
		}
		ops = append(ops, clientv3.OpPut(s.eventKey(r, i, c.Time), string(data)))
	}
	return ops
}

// Subscribe registers subscription uuid: from now on, the changes of the
// runs it refers to are logged, by every store that follows the
// subscriptions. A subscription that has no cursor yet gets one at the
// store's present revision: it consumes only what is logged from now on,
// not what the log holds for others.
func (s *Store) Subscribe(ctx context.Context, uuid string, sub Subscription) error {
	data, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("store: encoding subscription %s: %w", uuid, err)
	}
	now, err := s.cli.Get(ctx, s.cursorKey(uuid), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("store: subscribing %s: %w", uuid, err)
	}
	cur, err := json.Marshal(Cursor{After: now.Header.Revision, Since: s.now().UTC()})
	if err != nil {
		return err
	}
	put := clientv3.OpPut(s.subscriptionKey(uuid), string(data))
	resp, _, err := s.txnResp(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.cursorKey(uuid)), "=", 0)},
		put, clientv3.OpPut(s.cursorKey(uuid), string(cur)))
	if err == nil && !resp.Succeeded {
		_, _, err = s.txnResp(ctx, nil, put) // it has a cursor: it goes on from there
	}
	if err != nil {
		return fmt.Errorf("store: subscribing %s: %w", uuid, err)
	}
	s.subs.set(uuid, &sub)
	return nil
}

// Unsubscribe removes subscription uuid. Its cursor stays: what it
// delivered, and where a resumed subscription goes on from.
func (s *Store) Unsubscribe(ctx context.Context, uuid string) error {
	if _, _, err := s.txnResp(ctx, nil, clientv3.OpDelete(s.subscriptionKey(uuid))); err != nil {
		return fmt.Errorf("store: unsubscribing %s: %w", uuid, err)
	}
	s.subs.set(uuid, nil)
	return nil
}

// FollowSubscriptions reads the active subscriptions, then follows their
// changes until ctx ends, so this store logs what they refer to. It
// returns once the first read is done (or failed).
func (s *Store) FollowSubscriptions(ctx context.Context) error {
	prefix := s.prefix + "subscriptions/"
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("store: reading subscriptions: %w", err)
	}
	apply := func(key string, value []byte) {
		uuid := strings.TrimPrefix(key, prefix)
		if value == nil {
			s.subs.set(uuid, nil)
			return
		}
		var sub Subscription
		if json.Unmarshal(value, &sub) == nil {
			s.subs.set(uuid, &sub)
		}
	}
	for _, kv := range resp.Kvs {
		apply(string(kv.Key), kv.Value)
	}
	go func() {
		rev := resp.Header.Revision
		for ctx.Err() == nil {
			wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
			for wr := range s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1)) {
				if wr.Err() != nil {
					break
				}
				for _, ev := range wr.Events {
					if ev.Type == clientv3.EventTypeDelete {
						apply(string(ev.Kv.Key), nil)
					} else {
						apply(string(ev.Kv.Key), ev.Kv.Value)
					}
				}
				rev = wr.Header.Revision
			}
			cancel()
			// The watch ended (compacted past, no leader): read them all
			// again, and follow from there.
			for ctx.Err() == nil {
				again, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
				if err == nil {
					s.subs.reset()
					for _, kv := range again.Kvs {
						apply(string(kv.Key), kv.Value)
					}
					rev = again.Header.Revision
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return nil
}

// EventSkew is how much earlier than the last event a cursor consumed
// (or its start) an event written after it may be timed: the longest a
// change may take from its decision to its commit, and the clocks of the
// processes that write apart. The log is read from that time on, not
// from its start.
const EventSkew = 10 * time.Minute

// EventsAfter returns up to limit events of the log written after store
// revision rev, in the order they were written, and whether there are
// more. since, when set, is the time of the event at rev: the events
// timed more than EventSkew before it are not read.
func (s *Store) EventsAfter(ctx context.Context, rev int64, since time.Time, limit int) ([]RunEvent, bool, error) {
	from := s.prefix + "events/"
	if !since.IsZero() {
		from = fmt.Sprintf("%sevents/%019d", s.prefix, max(since.Add(-EventSkew).UnixNano(), 0))
	}
	resp, err := s.cli.Get(ctx, from, clientv3.WithRange(clientv3.GetPrefixRangeEnd(s.prefix+"events/")), clientv3.WithMinCreateRev(rev+1),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return nil, false, fmt.Errorf("store: reading events: %w", err)
	}
	out := make([]RunEvent, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var ev RunEvent
		if err := json.Unmarshal(kv.Value, &ev); err != nil {
			continue // not written by a store
		}
		ev.Key, ev.Revision = strings.TrimPrefix(string(kv.Key), s.prefix+"events/"), kv.CreateRevision
		out = append(out, ev)
	}
	return out, resp.More, nil
}

// TrimEvents deletes the events logged before t.
func (s *Store) TrimEvents(ctx context.Context, t time.Time) error {
	_, err := s.cli.Delete(ctx, s.prefix+"events/", clientv3.WithRange(fmt.Sprintf("%sevents/%019d", s.prefix, t.UnixNano())))
	if err != nil {
		return fmt.Errorf("store: trimming events: %w", err)
	}
	return nil
}

// Cursor is where a subscription is in the event log.
type Cursor struct {
	// After is the revision of the last event consumed: the next are
	// after it. It starts at the revision the subscription began.
	After int64 `json:"after"`
	// Since is when the last event consumed was timed (or the
	// subscription began): the log is read from EventSkew before it.
	Since time.Time `json:"since,omitzero"`
	// Delivered counts the runs its events started, Last is the newest
	// such event.
	Delivered int       `json:"delivered"`
	Last      *RunEvent `json:"last,omitempty"`
	// LastKey is Last's key (RunEvent does not store its key).
	LastKey string `json:"lastKey,omitempty"`

	// Revision is the store revision the cursor was read at (0: never
	// written); not stored.
	Revision int64 `json:"-"`
}

// Cursor reads subscription uuid's cursor; the zero Cursor if it has
// none yet.
func (s *Store) Cursor(ctx context.Context, uuid string) (Cursor, error) {
	var c Cursor
	rev, err := s.getState(ctx, s.cursorKey(uuid), &c)
	c.Revision = rev
	return c, err
}

// Deliver creates the runs a subscription's events start and stores its
// cursor, in one transaction that holds only if the cursor is still the
// one read (known) and none of the runs exists, as Fire does for a
// schedule.
func (s *Store) Deliver(ctx context.Context, uuid string, known int64, c *Cursor, children []*Run) error {
	rev, err := s.advance(ctx, s.cursorKey(uuid), known, c, children)
	if err == nil {
		c.Revision = rev
	}
	return err
}
