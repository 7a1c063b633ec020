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

// DefaultPrefix is where Plexus keeps its keys.
const DefaultPrefix = "/plexus/v1/"

// Status is a run's status (Polyaxon's names, DESIGN §3). The engine's
// transition table says which moves are legal; the store keeps the
// `active/` index of runs whose status is not final.
type Status string

// Run statuses.
const (
	Created        Status = "created"
	Compiled       Status = "compiled"
	Queued         Status = "queued"
	Scheduled      Status = "scheduled"
	Starting       Status = "starting"
	Running        Status = "running"
	Processing     Status = "processing"
	Succeeded      Status = "succeeded"
	Failed         Status = "failed"
	Stopped        Status = "stopped"
	Stopping       Status = "stopping"
	Skipped        Status = "skipped"
	UpstreamFailed Status = "upstream_failed"
	Retrying       Status = "retrying"
	Resuming       Status = "resuming"
	Warning        Status = "warning"
	Unschedulable  Status = "unschedulable"
	OnSchedule     Status = "on_schedule"
)

// Final reports whether the status ends the run: succeeded, failed,
// stopped, skipped or upstream_failed.
func (s Status) Final() bool {
	switch s {
	case Succeeded, Failed, Stopped, Skipped, UpstreamFailed:
		return true
	}
	return false
}

// Condition records one transition of a run.
type Condition struct {
	Type    Status    `json:"type"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
	Time    time.Time `json:"time"`
}

// Run is the record of one run: what was submitted, what it compiled to,
// and what became of it.
type Run struct {
	UUID    string `json:"uuid"`
	Name    string `json:"name,omitempty"`
	Project string `json:"project,omitempty"`
	// User and Teams are who submitted the run (the API's token says
	// who): the access policy is applied to them whenever it is compiled.
	// The runs a run starts (its operations, trials, fires, hooks) are
	// theirs too.
	User  string   `json:"user,omitempty"`
	Teams []string `json:"teams,omitempty"`
	// Parent is the run this one is a child of (a dag, matrix or schedule),
	// Root the pipeline at the top.
	Parent string `json:"parent,omitempty"`
	Root   string `json:"root,omitempty"`
	// Node is the operation a child of a dag runs (its name in the dag),
	// and ParentAttempt the attempt of the dag it belongs to: a resumed
	// dag runs again the operations whose run did not succeed.
	Node          string `json:"node,omitempty"`
	ParentAttempt int    `json:"parentAttempt,omitempty"`
	// Matrix is the kind of the run's matrix (grid, bayes, ...) when the
	// run is a sweep, whose children are its trials.
	Matrix string `json:"matrix,omitempty"`
	// Schedule is the kind of the run's schedule (cron, interval,
	// datetime) when the run is a schedule, whose children are its fires;
	// FireAt is the nominal time of the fire a schedule's child runs for
	// (its globals.schedule_at), kept by the runs of the dag or matrix the
	// fire runs, if it does, too.
	Schedule string     `json:"schedule,omitempty"`
	FireAt   *time.Time `json:"fireAt,omitempty"`
	// Events says the run is an event subscription, whose children are
	// the runs its events started. Component is the name of the component
	// a run submitted on its own runs: what a subscription to a component
	// matches.
	Events    bool   `json:"events,omitempty"`
	Component string `json:"component,omitempty"`
	// Hooks counts the hooks the run has: when it ends, it is put under
	// `hooks/` in the same transaction, until the leader has created its
	// hook runs. HookOf is the run a hook run is a hook of.
	Hooks  int    `json:"hooks,omitempty"`
	HookOf string `json:"hookOf,omitempty"`
	// ResumeOf is the run of the earlier trial a hyperband trial
	// continues (its matrix says resume: true): it is compiled as a copy
	// of it (globals.cloning_kind, globals.original_uuid).
	ResumeOf string `json:"resumeOf,omitempty"`
	// Spec is the Polyaxonfile as submitted, and Params the params given
	// with it; Compiled is what the compiler made of them.
	Spec     string          `json:"spec"`
	Params   map[string]any  `json:"params,omitempty"`
	Compiled json.RawMessage `json:"compiled,omitempty"`
	// Blobs is how many chunks under `blobs/<uuid>/` hold Spec and
	// Compiled, when they are too large for one etcd value (a pipeline
	// of many thousand operations); records read back do not carry them
	// then: Body reads them.
	Blobs int `json:"blobs,omitempty"`

	Status     Status         `json:"status"`
	Conditions []Condition    `json:"conditions,omitempty"`
	Attempt    int            `json:"attempt"`
	Outputs    map[string]any `json:"outputs,omitempty"`
	// Inputs are the values of the run's inputs as compiled (params,
	// defaults, upstream outputs, joins): what `inputs.X` of a ref or a
	// join reads.
	Inputs map[string]any `json:"inputs,omitempty"`
	// ExecutorRef names what the executor made for the current attempt.
	ExecutorRef string `json:"executorRef,omitempty"`
	// Service says how to reach the current attempt of a service run.
	Service *Service `json:"service,omitempty"`
	// Approved is set when a run that asks for approval (isApproved:
	// false) is approved; ApprovedBy says who did.
	Approved   bool   `json:"approved,omitempty"`
	ApprovedBy string `json:"approvedBy,omitempty"`
	// RestartOf is the run this one restarts, if any.
	RestartOf string `json:"restartOf,omitempty"`
	// CacheKey is the hash under which the run's result may be reused
	// (its `cache` section is on); CacheOf is the earlier run whose result
	// this one reused.
	CacheKey string `json:"cacheKey,omitempty"`
	CacheOf  string `json:"cacheOf,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	// Revision is the store revision the record was read at (its last
	// change); it is not part of the record.
	Revision int64 `json:"-"`
}

// Service says how to reach a service run's attempt: at URL from the
// engine's host (the local executor), or through the Kubernetes Service
// Namespace/Name on its Ports; the service answers at Path.
type Service struct {
	URL       string `json:"url,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Ports     []int  `json:"ports,omitempty"`
	Path      string `json:"path,omitempty"`
}

// Errors of the store.
var (
	// ErrNotFound: no run has that uuid.
	ErrNotFound = errors.New("store: run not found")
	// ErrExists: a run with that uuid exists already.
	ErrExists = errors.New("store: run exists")
	// ErrFenced: the write was refused because the writer is no longer
	// the leader it was when it read.
	ErrFenced = errors.New("store: not the leader any more")
	// ErrConflict: the run kept changing under an update; try later.
	ErrConflict = errors.New("store: too many concurrent updates")
	// ErrUnreadable: a record cannot be decoded (written by hand, or by a
	// version that let it nest deeper than encoding/json reads). No write
	// of the store makes one: a record that would not read back is
	// refused with this error, written nothing. Reads report it; Repair
	// rewrites such a record from what can be read of it.
	ErrUnreadable = errors.New("store: the record cannot be read back")
)

// Unreadable names the records a read left out because they cannot be
// decoded, each as "uuid: error". A read of many records returns it as
// its error beside the records it could read; it matches ErrUnreadable.
type Unreadable []string

func (u Unreadable) Error() string {
	return fmt.Sprintf("store: %d records cannot be read: %s", len(u), strings.Join(u, "; "))
}

// Is makes errors.Is(u, ErrUnreadable) hold.
func (u Unreadable) Is(target error) bool { return target == ErrUnreadable }

// err is u as an error: nil when it names no record.
func (u Unreadable) err() error {
	if len(u) == 0 {
		return nil
	}
	return u
}

// maxDepth is how deep a record may nest: encoding/json reads nothing
// deeper (its scanner stops at 10,000 levels of objects and arrays).
const maxDepth = 10000

// depthOf is how many levels of objects and arrays JSON data nests.
func depthOf(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// Readable says whether r, written now, would read back: a write of a
// record that would not is refused with ErrUnreadable.
func Readable(r *Run) bool {
	_, err := encode(r)
	return err == nil
}

// CheckRecord refuses, with ErrUnreadable, a run's record encoded as
// data that would not decode: what every write of the store checks.
func CheckRecord(data []byte) error { return readable(data) }

// readable refuses encoded data that would not decode.
func readable(data []byte) error {
	if d := depthOf(data); d > maxDepth {
		return fmt.Errorf("the record would nest %d levels deep, past the %d a record is read back with: %w", d, maxDepth, ErrUnreadable)
	}
	return nil
}

// decode reads a record, its uuid (or key) named in the error.
func decode(uuid string, data []byte, r *Run) error {
	if err := json.Unmarshal(data, r); err != nil {
		return fmt.Errorf("store: run %s: %w: %w", uuid, ErrUnreadable, err)
	}
	return nil
}

// Store keeps runs in etcd under a prefix (DESIGN §4). It is safe for
// concurrent use.
type Store struct {
	cli    *clientv3.Client
	prefix string
	// fence, when set, is compared in every write: the leader's election
	// key still has the create revision it had when it won.
	fence []clientv3.Cmp
	now   func() time.Time
	// subs are the active event subscriptions (events.go), shared by
	// the store's fenced copies.
	subs *subscribers
}

// New returns a store on cli under prefix (DefaultPrefix when empty).
// now is the clock of the records' times (time.Now when nil).
func New(cli *clientv3.Client, prefix string, now func() time.Time) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if now == nil {
		now = time.Now
	}
	return &Store{cli: cli, prefix: prefix, now: now, subs: &subscribers{subs: map[string]Subscription{}, runs: map[string]int{}, comps: map[string]int{}}}
}

// Fenced returns a store whose writes also require cmp to hold (the
// leader's election key unchanged); a write that fails it returns
// ErrFenced and changes nothing.
func (s *Store) Fenced(cmp clientv3.Cmp) *Store {
	f := *s
	f.fence = append(append([]clientv3.Cmp(nil), s.fence...), cmp)
	return &f
}

// Client returns the etcd client.
func (s *Store) Client() *clientv3.Client { return s.cli }

// Prefix returns the store's key prefix.
func (s *Store) Prefix() string { return s.prefix }

func (s *Store) runKey(uuid string) string    { return s.prefix + "runs/" + uuid }
func (s *Store) activeKey(uuid string) string { return s.prefix + "active/" + uuid }
func (s *Store) childKey(parent, uuid string) string {
	return s.prefix + "children/" + parent + "/" + uuid
}
func (s *Store) cacheKey(key string) string { return s.prefix + "cache/" + key }
func (s *Store) blobKey(uuid string, i int) string {
	return fmt.Sprintf("%sblobs/%s/%06d", s.prefix, uuid, i)
}

// maxRecord is the largest record kept in one value; etcd refuses
// requests over 1.5 MiB by default, and a transaction carries a few
// other keys.
const maxRecord = 1 << 20

// body is what Blobs hold.
type body struct {
	Spec     string          `json:"spec"`
	Compiled json.RawMessage `json:"compiled,omitempty"`
}

// encode is the record as stored: without Spec and Compiled when they
// live in blobs. A record that would not read back is refused
// (ErrUnreadable).
func encode(r *Run) ([]byte, error) {
	c := r
	if r.Blobs > 0 {
		s := *r
		s.Spec, s.Compiled = "", nil
		c = &s
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return data, readable(data)
}

// writeBlobs moves a record's Spec and Compiled to chunks when the
// record is too large for one value, before the record itself is
// written: a record never names chunks that are not there.
func (s *Store) writeBlobs(ctx context.Context, r *Run, size int) error {
	if size <= maxRecord {
		return nil
	}
	data, err := json.Marshal(body{Spec: r.Spec, Compiled: r.Compiled})
	if err == nil {
		err = readable(data)
	}
	if err != nil {
		return fmt.Errorf("store: encoding run %s: %w", r.UUID, err)
	}
	n := 0
	for off := 0; off < len(data); off += maxRecord {
		chunk := data[off:min(off+maxRecord, len(data))]
		if _, _, err := s.txnResp(ctx, nil, clientv3.OpPut(s.blobKey(r.UUID, n), string(chunk))); err != nil {
			return fmt.Errorf("store: writing run %s: %w", r.UUID, err)
		}
		n++
	}
	r.Blobs = n
	return nil
}

// Body fills in the Spec and Compiled of a record read back, when they
// live in blobs.
func (s *Store) Body(ctx context.Context, r *Run) error {
	if r.Blobs == 0 || r.Spec != "" || len(r.Compiled) > 0 {
		return nil
	}
	resp, err := s.cli.Get(ctx, fmt.Sprintf("%sblobs/%s/", s.prefix, r.UUID), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("store: reading run %s: %w", r.UUID, err)
	}
	if len(resp.Kvs) != r.Blobs {
		return fmt.Errorf("store: run %s has %d of its %d chunks: %w", r.UUID, len(resp.Kvs), r.Blobs, ErrUnreadable)
	}
	var data []byte
	for _, kv := range resp.Kvs {
		data = append(data, kv.Value...)
	}
	var b body
	if err := json.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("store: decoding the body of run %s: %w: %w", r.UUID, ErrUnreadable, err)
	}
	r.Spec, r.Compiled = b.Spec, b.Compiled
	return nil
}

// txnResp runs a transaction with the fence, telling a failed fence
// from a failed condition.
func (s *Store) txnResp(ctx context.Context, conds []clientv3.Cmp, ops ...clientv3.Op) (*clientv3.TxnResponse, bool, error) {
	all := append(append([]clientv3.Cmp(nil), s.fence...), conds...)
	resp, err := s.cli.Txn(ctx).If(all...).Then(ops...).Commit()
	if err != nil {
		return nil, false, err
	}
	if resp.Succeeded {
		return resp, true, nil
	}
	if len(s.fence) > 0 {
		fresp, err := s.cli.Txn(ctx).If(s.fence...).Commit()
		if err != nil {
			return nil, false, err
		}
		if !fresp.Succeeded {
			return nil, false, ErrFenced
		}
	}
	return resp, false, nil
}

// Create stores a new run (status created unless set, created now unless
// set), indexes it as
// active and under its parent, all in one transaction.
func (s *Store) Create(ctx context.Context, r *Run) error {
	if r.UUID == "" {
		return errors.New("store: a run needs a uuid")
	}
	if r.Status == "" {
		r.Status = Created
	}
	now := s.now().UTC()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	r.UpdatedAt = now
	if len(r.Conditions) == 0 {
		r.Conditions = []Condition{{Type: r.Status, Time: now}}
	}
	if err := s.writeBlobs(ctx, r, len(r.Spec)+len(r.Compiled)); err != nil {
		return err
	}
	ops, err := s.createOps(r)
	if err != nil {
		return err
	}
	resp, ok, err := s.txnResp(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(s.runKey(r.UUID)), "=", 0)}, ops...)
	if err != nil {
		return fmt.Errorf("store: creating run %s: %w", r.UUID, err)
	}
	if !ok {
		return fmt.Errorf("creating run %s: %w", r.UUID, ErrExists)
	}
	r.Revision = resp.Header.Revision
	return nil
}

// createOps are the writes that create a run: its record, and its keys
// in the active index and in its parent's children (the creation index
// when it has no parent): four keys at most, with its event.
func (s *Store) createOps(r *Run) ([]clientv3.Op, error) {
	data, err := encode(r)
	if err != nil {
		return nil, fmt.Errorf("store: encoding run %s: %w", r.UUID, err)
	}
	ops := []clientv3.Op{clientv3.OpPut(s.runKey(r.UUID), string(data))}
	if !r.Status.Final() {
		ops = append(ops, clientv3.OpPut(s.activeKey(r.UUID), ""))
	} else if r.Hooks > 0 {
		ops = append(ops, clientv3.OpPut(s.hookKey(r.UUID), ""))
	}
	if r.Parent != "" {
		ops = append(ops, clientv3.OpPut(s.childKey(r.Parent, r.UUID), ""))
	} else {
		ops = append(ops, clientv3.OpPut(s.createdKey(r), "")) // created.go
	}
	return append(ops, s.eventOps(r, 0)...), nil
}

// newRunOps completes a new run (status created unless set, created now
// unless set, its first condition) and returns what creates it in a
// transaction: the condition that it does not exist yet, and its writes.
func (s *Store) newRunOps(r *Run, now time.Time) (clientv3.Cmp, []clientv3.Op, error) {
	if r.UUID == "" {
		return clientv3.Cmp{}, nil, errors.New("store: a run needs a uuid")
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
	ops, err := s.createOps(r)
	return clientv3.Compare(clientv3.CreateRevision(s.runKey(r.UUID)), "=", 0), ops, err
}

// createBatch is how many runs CreateMany writes in one transaction
// (three keys each, and an event when logged, under etcd's default limit
// of 128 operations).
const createBatch = 30

// CreateMany stores new runs as Create does, many to a transaction. A run
// whose uuid exists already is left as it is and reported in the
// returned set; the others are created.
func (s *Store) CreateMany(ctx context.Context, runs []*Run) (map[string]bool, error) {
	existed := map[string]bool{}
	now := s.now().UTC()
	for start := 0; start < len(runs); start += createBatch {
		batch := runs[start:min(start+createBatch, len(runs))]
		var conds []clientv3.Cmp
		var ops []clientv3.Op
		for _, r := range batch {
			c, o, err := s.newRunOps(r, now)
			if err != nil {
				return existed, err
			}
			conds, ops = append(conds, c), append(ops, o...)
		}
		resp, ok, err := s.txnResp(ctx, conds, ops...)
		if err != nil {
			return existed, fmt.Errorf("store: creating %d runs: %w", len(batch), err)
		}
		if ok {
			for _, r := range batch {
				r.Revision = resp.Header.Revision
			}
			continue
		}
		for _, r := range batch { // some exist: one at a time
			if err := s.Create(ctx, r); errors.Is(err, ErrExists) {
				existed[r.UUID] = true
			} else if err != nil {
				return existed, err
			}
		}
	}
	return existed, nil
}

// GetMany reads runs by uuid, many to a request; a uuid the store does
// not know is left out. A record that cannot be read is left out too,
// and named in the Unreadable error returned with the others.
func (s *Store) GetMany(ctx context.Context, uuids []string) ([]*Run, error) {
	const batch = 100
	out := make([]*Run, 0, len(uuids))
	var bad Unreadable
	for start := 0; start < len(uuids); start += batch {
		var ops []clientv3.Op
		for _, u := range uuids[start:min(start+batch, len(uuids))] {
			ops = append(ops, clientv3.OpGet(s.runKey(u)))
		}
		resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return nil, fmt.Errorf("store: reading %d runs: %w", len(ops), err)
		}
		for _, rr := range resp.Responses {
			for _, kv := range rr.GetResponseRange().Kvs {
				var r Run
				if err := decode(s.uuidOf(kv.Key), kv.Value, &r); err != nil {
					bad = append(bad, s.uuidOf(kv.Key)+": "+err.Error())
					continue
				}
				r.Revision = kv.ModRevision
				out = append(out, &r)
			}
		}
	}
	return out, bad.err()
}

// uuidOf is the uuid of a record's key.
func (s *Store) uuidOf(key []byte) string { return strings.TrimPrefix(string(key), s.prefix+"runs/") }

// ChildrenAfter lists up to limit uuids of a run's children in uuid
// order, after `after` (""; from the first), and says whether there are
// more: a page costs the page, however many children the run has.
func (s *Store) ChildrenAfter(ctx context.Context, parent, after string, limit int) ([]string, bool, error) {
	prefix := s.prefix + "children/" + parent + "/"
	start := prefix
	if after != "" {
		start = prefix + after + "\x00"
	}
	resp, err := s.cli.Get(ctx, start, clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)),
		clientv3.WithLimit(int64(limit)), clientv3.WithKeysOnly())
	if err != nil {
		return nil, false, fmt.Errorf("store: listing %s: %w", prefix, err)
	}
	out := make([]string, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = strings.TrimPrefix(string(kv.Key), prefix)
	}
	return out, resp.More, nil
}

// Revision is the store's revision now.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, s.prefix+"runs/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("store: reading the revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// ChildRunsSince reads the records of a run's children that changed
// after revision since (every child when since is 0), and the revision
// it read at: what a follower passes next time, so that each look at a
// large dag costs what changed in it. A record that cannot be read is
// left out, and named in the Unreadable error returned with the others.
func (s *Store) ChildRunsSince(ctx context.Context, parent string, since int64) ([]*Run, int64, error) {
	if since <= 0 {
		rev, err := s.Revision(ctx)
		if err != nil {
			return nil, 0, err
		}
		runs, err := s.ChildRuns(ctx, parent)
		return runs, rev, err
	}
	resp, err := s.cli.Get(ctx, s.prefix+"runs/", clientv3.WithPrefix(), clientv3.WithMinModRev(since+1))
	if err != nil {
		return nil, 0, fmt.Errorf("store: reading the children of run %s: %w", parent, err)
	}
	var out []*Run
	var bad Unreadable
	for _, kv := range resp.Kvs {
		var r Run
		if err := decode(s.uuidOf(kv.Key), kv.Value, &r); err != nil {
			// Whose child it is cannot be told: reported to every reader.
			bad = append(bad, s.uuidOf(kv.Key)+": "+err.Error())
			continue
		}
		if r.Parent == parent {
			r.Revision = kv.ModRevision
			out = append(out, &r)
		}
	}
	return out, resp.Header.Revision, bad.err()
}

// ChildRuns reads the records of a run's children.
func (s *Store) ChildRuns(ctx context.Context, parent string) ([]*Run, error) {
	uuids, err := s.Children(ctx, parent)
	if err != nil {
		return nil, err
	}
	return s.GetMany(ctx, uuids)
}

// Get reads a run and the revision it was last changed at.
func (s *Store) Get(ctx context.Context, uuid string) (*Run, int64, error) {
	resp, err := s.cli.Get(ctx, s.runKey(uuid))
	if err != nil {
		return nil, 0, fmt.Errorf("store: reading run %s: %w", uuid, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("run %s: %w", uuid, ErrNotFound)
	}
	var r Run
	if err := decode(uuid, resp.Kvs[0].Value, &r); err != nil {
		return nil, 0, err
	}
	r.Revision = resp.Kvs[0].ModRevision
	return &r, r.Revision, nil
}

// maxAttempts bounds the re-reads of an update under contention.
const maxAttempts = 16

// Update changes a run with optimistic concurrency: it reads the run,
// lets change decide on it, and writes it only if nobody changed it in
// between; otherwise it reads again and change decides again. change may
// return an error to write nothing. The active index follows the status,
// and a run that succeeds with a cache key becomes the cache's entry for
// it, in the same transaction.
func (s *Store) Update(ctx context.Context, uuid string, change func(*Run) error) (*Run, error) {
	return s.UpdateFrom(ctx, uuid, nil, change)
}

// UpdateFrom is Update starting from a copy of the run read earlier
// (its Revision set), saving a read when nobody changed it since; nil
// starts with a read. known is not modified.
func (s *Store) UpdateFrom(ctx context.Context, uuid string, known *Run, change func(*Run) error) (*Run, error) {
	for range maxAttempts {
		var r *Run
		if known != nil && known.Revision > 0 {
			r = known.clone()
			known = nil
		} else {
			var err error
			if r, _, err = s.Get(ctx, uuid); err != nil {
				return nil, err
			}
		}
		rev := r.Revision
		wasFinal := r.Status.Final()
		had := len(r.Conditions)
		if err := change(r); err != nil {
			return nil, err
		}
		r.UpdatedAt = s.now().UTC()
		data, err := encode(r)
		if err != nil {
			return nil, fmt.Errorf("store: encoding run %s: %w", uuid, err)
		}
		ops := []clientv3.Op{clientv3.OpPut(s.runKey(uuid), string(data))}
		switch {
		case r.Status.Final() && !wasFinal:
			ops = append(ops, clientv3.OpDelete(s.activeKey(uuid)))
			if r.Hooks > 0 {
				ops = append(ops, clientv3.OpPut(s.hookKey(uuid), ""))
			}
			if r.Status == Succeeded && r.CacheKey != "" && r.CacheOf == "" {
				ops = append(ops, clientv3.OpPut(s.cacheKey(r.CacheKey), uuid))
			}
		case !r.Status.Final() && wasFinal:
			ops = append(ops, clientv3.OpPut(s.activeKey(uuid), ""))
		}
		ops = append(ops, s.eventOps(r, had)...)
		resp, ok, err := s.txnResp(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.runKey(uuid)), "=", rev)}, ops...)
		if err != nil {
			return nil, fmt.Errorf("updating run %s: %w", uuid, err)
		}
		if ok {
			r.Revision = resp.Header.Revision
			return r, nil
		}
	}
	return nil, fmt.Errorf("updating run %s: %w", uuid, ErrConflict)
}

// clone copies the run deeply enough for a change to leave the original
// as it was.
func (r *Run) clone() *Run {
	c := *r
	c.Conditions = append([]Condition(nil), r.Conditions...)
	if r.Outputs != nil {
		c.Outputs = make(map[string]any, len(r.Outputs))
		for k, v := range r.Outputs {
			c.Outputs[k] = v
		}
	}
	if r.Params != nil {
		c.Params = make(map[string]any, len(r.Params))
		for k, v := range r.Params {
			c.Params[k] = v
		}
	}
	return &c
}

// CachedMany returns, for each cache key some run succeeded under, the
// uuid of the last one; keys no run did are left out. The reads are
// linearizable: etcd sends a write's watch event before a serializable
// read of the same member sees the write, and a dag decides an operation
// ready on that event, so a serializable lookup could miss the entry its
// upstream just wrote.
func (s *Store) CachedMany(ctx context.Context, keys []string) (map[string]string, error) {
	const batch = 100
	out := map[string]string{}
	for start := 0; start < len(keys); start += batch {
		var ops []clientv3.Op
		for _, k := range keys[start:min(start+batch, len(keys))] {
			ops = append(ops, clientv3.OpGet(s.cacheKey(k)))
		}
		resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return nil, fmt.Errorf("store: reading %d cache entries: %w", len(ops), err)
		}
		for _, r := range resp.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				out[strings.TrimPrefix(string(kv.Key), s.prefix+"cache/")] = string(kv.Value)
			}
		}
	}
	return out, nil
}
