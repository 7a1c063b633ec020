package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexus-ml/plexus/engine/leader"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Config configures an Engine.
type Config struct {
	// ID names this engine among those sharing the store.
	ID       string
	Store    *store.Store
	Executor executor.Executor
	// Sources resolve references at submission.
	Sources     compiler.Sources
	Connections compiler.Catalogue
	Policy      *compiler.Policy
	// RunInfo completes what the compiler knows of a run (its context path
	// for the local executor, its namespace on Kubernetes); nil keeps the
	// defaults.
	RunInfo func(*store.Run, compiler.RunInfo) compiler.RunInfo
	// Resync is how often the leader re-reads every active run (default
	// 10s): the loop is level-triggered, events only make it sooner.
	Resync time.Duration
	// LeaseTTL is the leader's etcd session lease in seconds (default
	// 10): how long a crashed leader keeps the leadership.
	LeaseTTL int
	// Queues caps how many runs of each queue (the operation's `queue`)
	// are dispatched at once; a queue not listed, and the default queue
	// "", are unlimited unless listed.
	Queues map[string]int
	// Now is the engine's clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Engine drives runs to their end. Any engine may submit; only the
// elected one reconciles. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	current atomic.Pointer[leading] // the term in progress, if leading
	metrics *metrics
}

// New returns an engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Executor == nil {
		return nil, errors.New("engine: a store and an executor are needed")
	}
	if cfg.ID == "" {
		cfg.ID = newUUID()
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg}
	e.metrics = newMetrics(&e.current)
	return e, nil
}

// Submission is an operation to run.
type Submission struct {
	// Spec is the Polyaxonfile as submitted; Source names it in errors,
	// and Dir is where its pathRefs are relative to ("" for none).
	Spec, Source, Dir string
	Params            map[string]specs.Param
	Name, Project     string
}

// resolved is what the leader compiles a run from: the operation and the
// component it resolved to at submission, so files and URLs are read once.
type resolved struct {
	Operation json.RawMessage `json:"operation"`
	Component json.RawMessage `json:"component"`
}

// Submit checks a submission as `plexus compile` would — parse, resolve,
// params, templates, access — and stores it as a new run in the created
// status. An invalid submission stores nothing; its error lists every
// problem (a specs.ErrorList or a *compiler.CompilationError).
func (e *Engine) Submit(ctx context.Context, sub Submission) (*store.Run, error) {
	files, err := specs.Parse(sub.Source, []byte(sub.Spec))
	if err != nil {
		return nil, err
	}
	if len(files) != 1 {
		return nil, specs.ErrorList{{Source: sub.Source, Type: specs.ErrInvalid,
			Detail: fmt.Sprintf("a submission holds one operation or component, got %d documents", len(files))}}
	}
	f := files[0]
	res, err := compiler.Resolve(ctx, f, sub.Dir, e.cfg.Sources)
	if err != nil {
		return nil, err
	}
	op, comp := f.Operation, f.Component
	if op == nil {
		op = &specs.Operation{}
	} else {
		comp = res.Of(op).Component
	}
	run := &store.Run{UUID: newUUID(), Name: firstOf(sub.Name, op.Name, comp.Name), Project: firstOf(sub.Project, compiler.DefaultProject), Spec: sub.Spec}
	if len(sub.Params) > 0 {
		run.Params = map[string]any{}
		for k, p := range sub.Params {
			run.Params[k] = p.Value
		}
	}
	// What the leader compiles from: the operation, with the submission's
	// params, and its component.
	full := *op
	full.Params = map[string]specs.Param{}
	for k, v := range op.Params {
		full.Params[k] = v
	}
	for k, v := range sub.Params {
		full.Params[k] = v
	}
	if _, err := e.compile(run, &full, comp); err != nil {
		return nil, err
	}
	opJSON, err := json.Marshal(&full)
	if err != nil {
		return nil, fmt.Errorf("engine: encoding the operation: %w", err)
	}
	compJSON, err := json.Marshal(comp)
	if err != nil {
		return nil, fmt.Errorf("engine: encoding the component: %w", err)
	}
	r, _ := json.Marshal(resolved{Operation: opJSON, Component: compJSON})
	run.Compiled = r
	if err := e.cfg.Store.Create(ctx, run); err != nil {
		return nil, err
	}
	return run, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// compile compiles a run's operation for its current attempt.
func (e *Engine) compile(run *store.Run, op *specs.Operation, comp *specs.Component) (*compiler.Compiled, error) {
	ri := compiler.RunInfo{UUID: run.UUID, Name: run.Name, Project: run.Project, CreatedAt: run.CreatedAt, CompiledAt: e.cfg.Now()}
	if e.cfg.RunInfo != nil {
		ri = e.cfg.RunInfo(run, ri)
	}
	return compiler.Compile(op, comp, compiler.Options{Run: ri, Connections: e.cfg.Connections, Policy: e.cfg.Policy})
}

// compileStored compiles a stored run from what submission resolved.
func (e *Engine) compileStored(run *store.Run) (*compiler.Compiled, error) {
	var r resolved
	if err := json.Unmarshal(run.Compiled, &r); err != nil {
		return nil, fmt.Errorf("engine: run %s: reading its operation: %w", run.UUID, err)
	}
	var op specs.Operation
	var comp specs.Component
	if err := specs.Unmarshal(r.Operation, &op); err != nil {
		return nil, fmt.Errorf("engine: run %s: %w", run.UUID, err)
	}
	if err := specs.Unmarshal(r.Component, &comp); err != nil {
		return nil, fmt.Errorf("engine: run %s: %w", run.UUID, err)
	}
	return e.compile(run, &op, &comp)
}

// Run campaigns for leadership and, while leading, reconciles every active
// run, until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	el := leader.New(e.cfg.Store.Client(), e.cfg.Store.Prefix(), e.cfg.ID, e.cfg.LeaseTTL)
	return el.Run(ctx, func(ctx context.Context, t leader.Term) error {
		e.cfg.Log.Info("leading", "engine", e.cfg.ID, "term", t.Revision)
		l := &leading{e: e, st: e.cfg.Store.Fenced(t.Fence), queue: newQueue(),
			compiled: map[string]*compiler.Compiled{}, dispatched: map[executor.RunRef]bool{}, inFlight: map[string]map[string]bool{}}
		e.current.Store(l)
		e.metrics.leader.Set(1)
		defer func() {
			e.metrics.leader.Set(0)
			e.current.CompareAndSwap(l, nil)
		}()
		return l.run(ctx)
	})
}

// leading is one term's work.
type leading struct {
	e     *Engine
	st    *store.Store
	queue *queue

	mu         sync.Mutex
	compiled   map[string]*compiler.Compiled // by run uuid, for dispatch
	dispatched map[executor.RunRef]bool      // in this term
	inFlight   map[string]map[string]bool    // queue → runs dispatched and not ended
}

func (l *leading) run(ctx context.Context) error {
	updates, err := l.e.cfg.Executor.Watch(ctx)
	if err != nil {
		return fmt.Errorf("engine: watching the executor: %w", err)
	}
	events, _ := l.st.Watch(ctx, 0)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // store events: something changed, look again
		defer wg.Done()
		for ev := range events {
			l.e.metrics.transitions.WithLabelValues(string(ev.Run.Status)).Inc()
			if !ev.Run.Status.Final() {
				l.queue.add(ev.Run.UUID)
			}
		}
	}()
	go func() { // executor observations, until the term ends
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-updates:
				if !ok {
					return
				}
				l.observe(ctx, u)
			}
		}
	}()
	go func() { // level-triggered: every active run, now and then
		defer wg.Done()
		tick := time.NewTicker(l.e.cfg.Resync)
		defer tick.Stop()
		for {
			l.queue.add(resyncItem)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	// One worker: reconciling, scheduling and recounting the queues never
	// race with each other.
	for {
		uuid, ok := l.queue.next(ctx)
		if !ok {
			break
		}
		if uuid == resyncItem {
			l.resync(ctx)
			continue
		}
		if err := l.reconcile(ctx, uuid); err != nil {
			if errors.Is(err, store.ErrFenced) {
				break
			}
			l.e.cfg.Log.Warn("reconcile", "run", uuid, "err", err)
			l.queue.addAfter(uuid, time.Second)
		}
	}
	wg.Wait()
	return ctx.Err()
}

// resyncItem is the queue item that asks the worker to resync.
const resyncItem = ""

// resync queues every active run and recounts each queue's runs in
// flight from what the store says. Only the worker calls it.
func (l *leading) resync(ctx context.Context) {
	active, err := l.st.Active(ctx)
	if err != nil {
		l.e.cfg.Log.Warn("resync", "err", err)
		return
	}
	inFlight := map[string]map[string]bool{}
	for _, uuid := range active {
		if len(l.e.cfg.Queues) > 0 {
			if r, _, err := l.st.Get(ctx, uuid); err == nil && dispatchedStatus(r.Status) {
				q := l.queueOf(r)
				if inFlight[q] == nil {
					inFlight[q] = map[string]bool{}
				}
				inFlight[q][uuid] = true
			}
		}
		l.queue.add(uuid)
	}
	l.mu.Lock()
	l.inFlight = inFlight
	l.mu.Unlock()
}

// dispatchedStatus: the run holds an executor's resources.
func dispatchedStatus(s store.Status) bool {
	switch s {
	case store.Scheduled, store.Starting, store.Running, store.Processing, store.Warning, store.Unschedulable, store.Stopping:
		return true
	}
	return false
}

// queueOf is the run's queue (its operation's `queue`), "" by default.
func (l *leading) queueOf(r *store.Run) string {
	c, err := l.compiledOf(r)
	if err != nil {
		return ""
	}
	return c.Component.Queue
}

// takeSlot reserves a place in the run's queue, or says it is full.
func (l *leading) takeSlot(r *store.Run) bool {
	q := l.queueOf(r)
	limit, capped := l.e.cfg.Queues[q]
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[q] == nil {
		l.inFlight[q] = map[string]bool{}
	}
	if capped && !l.inFlight[q][r.UUID] && len(l.inFlight[q]) >= limit {
		return false
	}
	l.inFlight[q][r.UUID] = true
	return true
}

// forget drops what the term keeps of an ended run.
func (l *leading) forget(uuid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.compiled, uuid)
	for ref := range l.dispatched {
		if ref.UUID == uuid {
			delete(l.dispatched, ref)
		}
	}
}

// releaseSlot frees the run's place and wakes what waits in its queue.
func (l *leading) releaseSlot(r *store.Run) {
	q := l.queueOf(r)
	l.mu.Lock()
	delete(l.inFlight[q], r.UUID)
	l.mu.Unlock()
	if _, capped := l.e.cfg.Queues[q]; capped {
		l.queue.add(resyncItem) // what waits in the queue may go now
	}
}

// reconcile moves a run one step from what the store says now.
func (l *leading) reconcile(ctx context.Context, uuid string) error {
	run, _, err := l.st.Get(ctx, uuid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	now := l.e.cfg.Now()
	switch run.Status {
	case store.Created, store.Resuming, store.Retrying:
		c, cerr := l.e.compileStored(run)
		_, err = l.st.Update(ctx, uuid, func(r *store.Run) error {
			if r.Status != run.Status {
				return errSkip
			}
			if cerr != nil {
				return Transition(r, store.Failed, "CompilationFailed", cerr.Error(), now)
			}
			if r.Attempt == 0 {
				r.Attempt = 1
			}
			return Transition(r, store.Compiled, "Compiled", "", now)
		})
		if err == nil && cerr == nil {
			l.mu.Lock()
			l.compiled[uuid] = c
			l.mu.Unlock()
			l.queue.add(uuid)
		}
	case store.Compiled:
		if !run.Approved && l.needsApproval(run) {
			return nil // waits for Approve, which queues it again
		}
		_, err = l.st.Update(ctx, uuid, func(r *store.Run) error {
			if r.Status != store.Compiled {
				return errSkip
			}
			return Transition(r, store.Queued, "Queued", "", now)
		})
		if err == nil {
			l.queue.add(uuid)
		}
	case store.Queued:
		err = l.schedule(ctx, run)
	case store.Scheduled:
		err = l.dispatch(ctx, run)
	case store.Stopping:
		err = l.e.cfg.Executor.Stop(ctx, executor.RunRef{UUID: uuid, Attempt: run.Attempt})
		if errors.Is(err, executor.ErrUnknownRun) {
			// Nothing runs for it (any more): it is stopped.
			_, err = l.st.Update(ctx, uuid, func(r *store.Run) error {
				return Transition(r, store.Stopped, "Stopped", "nothing was running", now)
			})
		}
	}
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// errSkip: the run changed since it was read; the new state is queued.
var errSkip = errors.New("engine: the run moved on")

// schedule records a queued run as scheduled, then dispatches it: the
// record comes first, so the executor's first news finds the run
// scheduled, and a leader that dies in between leaves a scheduled run that
// the next one dispatches (dispatch is idempotent per attempt).
func (l *leading) schedule(ctx context.Context, run *store.Run) error {
	if !l.takeSlot(run) {
		return nil // its queue is full: a run that ends wakes it
	}
	r, err := l.st.Update(ctx, run.UUID, func(r *store.Run) error {
		if r.Status != store.Queued {
			return errSkip
		}
		r.ExecutorRef = fmt.Sprintf("%s/%d", r.UUID, r.Attempt)
		return Transition(r, store.Scheduled, "Scheduled", "", l.e.cfg.Now())
	})
	if err != nil {
		return err
	}
	return l.dispatch(ctx, r)
}

// dispatch hands a scheduled attempt to the executor, once per term (the
// executor itself ignores an attempt it has).
func (l *leading) dispatch(ctx context.Context, run *store.Run) error {
	ref := executor.RunRef{UUID: run.UUID, Attempt: run.Attempt}
	l.mu.Lock()
	c := l.compiled[run.UUID]
	done := l.dispatched[ref]
	l.mu.Unlock()
	if done {
		return nil
	}
	if c == nil {
		// Compiled in another term: compile again (deterministic).
		var err error
		if c, err = l.e.compileStored(run); err != nil {
			return err
		}
	}
	if err := l.e.cfg.Executor.Dispatch(ctx, ref, c); err != nil {
		_, uerr := l.st.Update(ctx, run.UUID, func(r *store.Run) error {
			if r.Attempt != ref.Attempt || r.Status.Final() {
				return errSkip
			}
			return Transition(r, store.Failed, "DispatchFailed", err.Error(), l.e.cfg.Now())
		})
		return uerr
	}
	l.mu.Lock()
	l.dispatched[ref] = true
	l.mu.Unlock()
	l.e.metrics.dispatch.Observe(l.e.cfg.Now().Sub(run.CreatedAt).Seconds())
	return nil
}

// observe records what the executor says of an attempt.
func (l *leading) observe(ctx context.Context, u executor.StatusUpdate) {
	now := l.e.cfg.Now()
	_, err := l.st.Update(ctx, u.Run.UUID, func(r *store.Run) error {
		if r.Attempt != u.Run.Attempt || r.Status.Final() {
			return errSkip // an old attempt's news
		}
		switch u.Status {
		case executor.Starting:
			return Transition(r, store.Starting, u.Reason, u.Message, now)
		case executor.Running:
			return Transition(r, store.Running, u.Reason, u.Message, now)
		case executor.Warning:
			return Transition(r, store.Warning, u.Reason, u.Message, now)
		case executor.Unschedulable:
			return Transition(r, store.Unschedulable, u.Reason, u.Message, now)
		case executor.Succeeded:
			r.Outputs = u.Outputs
			return Transition(r, store.Succeeded, u.Reason, u.Message, now)
		case executor.Stopped:
			return Transition(r, store.Stopped, u.Reason, u.Message, now)
		case executor.Failed:
			if r.Status != store.Stopping && r.Attempt <= l.maxRetries(r) {
				if err := Transition(r, store.Retrying, u.Reason, fmt.Sprintf("attempt %d failed: %s", r.Attempt, u.Message), now); err != nil {
					return err
				}
				r.Attempt++
				return nil
			}
			return Transition(r, store.Failed, u.Reason, u.Message, now)
		}
		return errSkip
	})
	switch {
	case err == nil:
		if r, _, gerr := l.st.Get(ctx, u.Run.UUID); gerr == nil && r.Status.Final() {
			l.releaseSlot(r)
			l.forget(r.UUID)
		}
		l.queue.add(u.Run.UUID)
	case errors.Is(err, errSkip), errors.Is(err, store.ErrNotFound):
	default:
		l.e.cfg.Log.Warn("recording an executor update", "run", u.Run.UUID, "status", u.Status, "err", err)
	}
}

// compiledOf returns the run's compilation, from this term's cache or
// compiled again (compilation is deterministic).
func (l *leading) compiledOf(r *store.Run) (*compiler.Compiled, error) {
	l.mu.Lock()
	c := l.compiled[r.UUID]
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return l.e.compileStored(r)
}

// maxRetries is the run's termination.maxRetries.
func (l *leading) maxRetries(r *store.Run) int {
	c, err := l.compiledOf(r)
	if err != nil {
		return 0
	}
	if t := c.Component.Termination; t != nil && t.MaxRetries != nil {
		return t.MaxRetries.Value
	}
	return 0
}

// needsApproval says whether the run asks to be approved (isApproved:
// false) before it is queued.
func (l *leading) needsApproval(r *store.Run) bool {
	c, err := l.compiledOf(r)
	return err == nil && c.Component.IsApproved != nil && !*c.Component.IsApproved
}

// Approve approves a run that waits for approval (isApproved: false).
func (e *Engine) Approve(ctx context.Context, uuid, by string) (*store.Run, error) {
	run, err := e.cfg.Store.Update(ctx, uuid, func(r *store.Run) error {
		if r.Status.Final() {
			return fmt.Errorf("run %s is %s already: %w", uuid, r.Status, ErrInvalidTransition)
		}
		if r.Approved {
			return errSkip
		}
		r.Approved, r.ApprovedBy = true, by
		r.Conditions = append(r.Conditions, store.Condition{Type: r.Status, Reason: "Approved", Message: "approved by " + by, Time: e.cfg.Now().UTC()})
		return nil
	})
	if errors.Is(err, errSkip) { // approved already
		run, _, err = e.cfg.Store.Get(ctx, uuid)
	}
	return run, err
}

// Resume starts a new attempt of a run that failed, was stopped or had an
// upstream fail: the same run, its attempt counter advanced.
func (e *Engine) Resume(ctx context.Context, uuid string) (*store.Run, error) {
	return e.cfg.Store.Update(ctx, uuid, func(r *store.Run) error {
		if err := Resume(r, "ResumeRequested", e.cfg.Now()); err != nil {
			return err
		}
		r.Attempt++
		return nil
	})
}

// Restart makes a new run from the same submission (operation, component
// and params), whatever became of the first.
func (e *Engine) Restart(ctx context.Context, uuid string) (*store.Run, error) {
	old, _, err := e.cfg.Store.Get(ctx, uuid)
	if err != nil {
		return nil, err
	}
	run := &store.Run{UUID: newUUID(), Name: old.Name, Project: old.Project, Spec: old.Spec, Params: old.Params,
		Compiled: old.Compiled, RestartOf: old.UUID, Approved: old.Approved, ApprovedBy: old.ApprovedBy}
	if err := e.cfg.Store.Create(ctx, run); err != nil {
		return nil, err
	}
	return run, nil
}

// Stop asks for a run to stop: at once when nothing was dispatched, else
// through stopping until the executor says it ended.
func (e *Engine) Stop(ctx context.Context, uuid string) (*store.Run, error) {
	return e.cfg.Store.Update(ctx, uuid, func(r *store.Run) error {
		to, ok := StopTarget(r.Status)
		if !ok {
			return fmt.Errorf("run %s is %s already: %w", uuid, r.Status, ErrInvalidTransition)
		}
		return Transition(r, to, "StopRequested", "", e.cfg.Now())
	})
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}
