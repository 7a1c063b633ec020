package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/triggers"
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
	// Workers is how many runs the leader reconciles at once (default
	// 64: most of a worker's time is a write waiting on etcd, and etcd
	// commits the writes waiting together); one run is never with two
	// workers.
	Workers int
	// RetryBackoff is the wait before a failed attempt's retry, doubled
	// for each further attempt up to a minute (default 1s; negative: no
	// wait).
	RetryBackoff time.Duration
	// KeepFinished is how long the executor's objects of an ended run
	// (its Jobs, with their pods and logs) are kept before the leader
	// deletes them (default 24h; objects with a `termination.ttl` are
	// deleted by the cluster sooner).
	KeepFinished time.Duration
	// KeepEvents is how long the event log keeps a run's status change
	// (default 24h): a subscription that falls further behind (stopped
	// engines for longer) misses the older ones.
	KeepEvents time.Duration
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
	// policy is the access policy runs are compiled under: Config.Policy
	// until SetPolicy replaces it.
	policy  atomic.Pointer[compiler.Policy]
	metrics *metrics
	// followed is closed once the store follows the event subscriptions
	// (it then logs what they listen to, whoever writes).
	followed   chan struct{}
	followOnce sync.Once
	// graphs are the dags' graphs looked at (graphcache.go).
	graphs graphCache
}

// New returns an engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Executor == nil {
		return nil, errors.New("engine: a store and an executor are needed")
	}
	if cfg.ID == "" {
		cfg.ID = compiler.NewUUID()
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.KeepFinished <= 0 {
		cfg.KeepFinished = 24 * time.Hour
	}
	if cfg.KeepEvents <= 0 {
		cfg.KeepEvents = 24 * time.Hour
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, followed: make(chan struct{})}
	e.policy.Store(cfg.Policy)
	e.metrics = newMetrics(&e.current)
	return e, nil
}

// Policy is the access policy runs are compiled under now (nil: no
// policy, everything allowed).
func (e *Engine) Policy() *compiler.Policy { return e.policy.Load() }

// SetPolicy replaces the access policy at once: every compilation from now
// on is judged by it (a submission, a dag's next operation, a schedule's
// next fire); what was compiled before stands.
func (e *Engine) SetPolicy(p *compiler.Policy) { e.policy.Store(p) }

// Leading reports whether this engine leads now.
func (e *Engine) Leading() bool { return e.current.Load() != nil }

// Submission is an operation to run.
type Submission struct {
	// Spec is the Polyaxonfile as submitted; Source names it in errors,
	// and Dir is where its pathRefs are relative to ("" for none).
	Spec, Source, Dir string
	Params            map[string]specs.Param
	Name, Project     string
	// Caller is who submits (the API sets the user its token names): the
	// hub components Config.Policy lets them use are all its hubRefs may
	// name. Its Project defaults to the run's.
	Caller compiler.Caller
	// uuid, when set, is the run's id (a hook run's, derived from its
	// run), and hookOf the run it is a hook of.
	uuid, hookOf string
}

// resolved is what the leader compiles a run from: the operation and the
// component it resolved to at submission, so files and URLs are read once.
type resolved struct {
	Operation json.RawMessage `json:"operation"`
	Component json.RawMessage `json:"component"`
}

// Submit checks a submission as `plexus compile` would — parse, resolve,
// params, templates, access — and stores it as a new run in the created
// status. A dag's operations that need nothing but the dag are compiled
// too (precompile.go), values are held to specs.MaxDepth, and the record
// is decoded back as the leader will read it before it is written. An
// invalid submission stores nothing; its error lists every problem (a
// specs.ErrorList or a *compiler.CompilationError).
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
	var deep specs.ErrorList
	for k, p := range sub.Params {
		if fe := specs.CheckDepth(specs.Path("params").Key(k).Child("value"), p.Value); fe != nil {
			deep = append(deep, fe)
		}
	}
	if len(deep) > 0 {
		deep.Sort()
		return nil, deep
	}
	src := e.cfg.Sources
	src.Policy, src.Caller = e.Policy(), sub.Caller
	src.Caller.Project = firstOf(src.Caller.Project, sub.Project, compiler.DefaultProject)
	res, err := compiler.Resolve(ctx, f, sub.Dir, src)
	if err != nil {
		return nil, err
	}
	op, comp := f.Operation, f.Component
	if op == nil {
		op = &specs.Operation{}
	} else {
		comp = res.Of(op).Component
	}
	inlineResolved(res, op)
	if f.Operation == nil || f.Operation.Component != nil {
		// Every component now inline: the refs between operations are
		// checked against what their pathRefs, urlRefs and hubRefs led to.
		at := specs.Path("")
		if f.Operation != nil {
			at = "component"
		}
		if errs := checkDagRefs(at, comp); len(errs) > 0 {
			return nil, f.Locate(errs)
		}
	}
	compAt := specs.Path("")
	if f.Operation != nil && f.Operation.Component != nil {
		compAt = "component"
	}
	if errs := append(unsupported("", op, nil, 0), unsupported(compAt, nil, comp, 0)...); len(errs) > 0 {
		return nil, f.Locate(errs)
	}
	run := &store.Run{UUID: firstOf(sub.uuid, compiler.NewUUID()), Name: firstOf(sub.Name, op.Name, comp.Name), Project: firstOf(sub.Project, compiler.DefaultProject), Spec: sub.Spec,
		CreatedAt: e.cfg.Now().UTC(), HookOf: sub.hookOf, User: sub.Caller.User, Teams: sub.Caller.Teams}
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
	run.Events = len(full.Events) > 0 // compiled as a parent, each event's run later
	c, err := e.compile(run, &full, comp)
	if err != nil {
		return nil, err
	}
	at := specs.Path("")
	if f.Operation != nil && f.Operation.Component != nil {
		at = "component"
	}
	if errs := deepInputs("", c); len(errs) > 0 {
		return nil, &compiler.CompilationError{Stage: compiler.StageParams, Errors: errs}
	}
	if len(full.Events) > 0 {
		// A subscription: each event's run is compiled when it comes.
		if full.Schedule != nil {
			return nil, f.Locate(specs.ErrorList{specs.Invalidf("events", nil, "an operation with both a schedule and events is not run by this engine: submit one of each")})
		}
		if _, _, errs := subscriptionOf("events", full.Events, run.Project); len(errs) > 0 {
			return nil, &compiler.CompilationError{Stage: stageOperations, Errors: f.Locate(errs)}
		}
		run.Events = true
	}
	run.Component = comp.Name
	if !run.Events && full.Schedule == nil {
		run.Hooks = len(hooksOf(&full, comp)) // a schedule's or subscription's are each of its runs'
	}
	if isSchedule(c) {
		// Each fire is compiled when it comes; when they come is checked
		// now, as the schedule will read it.
		run.Schedule = c.Operation.Schedule.ScheduleKind()
		if _, err := triggers.NewSchedule("schedule", c.Operation.Schedule); err != nil {
			var errs specs.ErrorList
			if !errors.As(err, &errs) {
				errs = specs.ErrorList{specs.Invalidf("schedule", nil, "%v", err)}
			}
			return nil, &compiler.CompilationError{Stage: stageOperations, Errors: f.Locate(errs)}
		}
	}
	if c.Operation.Matrix != nil {
		if !isSchedule(c) && !run.Events {
			run.Matrix = string(c.Operation.Matrix.MatrixKind())
		}
		if errs := e.checkMatrix(ctx, run, "", c); len(errs) > 0 {
			return nil, &compiler.CompilationError{Stage: stageOperations, Errors: f.Locate(errs)}
		}
	}
	if errs := e.precompile(ctx, run, at, c, 0); len(errs) > 0 {
		return nil, &compiler.CompilationError{Stage: stageOperations, Errors: f.Locate(errs)}
	}
	pinJoins(&full, func(name string) (any, bool) {
		p, ok := c.Params.Get(name)
		return p.Value, ok
	})
	// The component is stored once, beside the operation: a dag of many
	// thousand operations is not kept (and decoded) twice.
	storedOp := full
	if storedOp.Component == comp {
		storedOp.Component = nil
	}
	opJSON, err := json.Marshal(&storedOp)
	if err != nil {
		return nil, fmt.Errorf("engine: encoding the operation: %w", err)
	}
	compJSON, err := json.Marshal(comp)
	if err != nil {
		return nil, fmt.Errorf("engine: encoding the component: %w", err)
	}
	r, err := json.Marshal(resolved{Operation: opJSON, Component: compJSON})
	if err != nil {
		return nil, fmt.Errorf("engine: encoding the run: %w", err)
	}
	run.Compiled = r
	if err := readsBack(run); err != nil {
		return nil, specs.ErrorList{specs.Invalidf("", nil, "the run would be stored as a record that does not read back: %v", err)}
	}
	if err := e.cfg.Store.Create(ctx, run); err != nil {
		return nil, err
	}
	if l := e.current.Load(); l != nil {
		// Leading: this compilation is the one the term would make.
		l.mu.Lock()
		if _, ended := l.tombs[run.UUID]; !ended {
			l.compiled[run.UUID] = c
		}
		l.mu.Unlock()
	}
	return run, nil
}

// stageOperations names the check, at submission, of a dag's operations.
const stageOperations compiler.Stage = "operations"

// pinJoins replaces an operation's joins by the values they gave when the
// run was first compiled (value says what a join param's was), so that
// every later compilation of the run (a new leader's, a retry's) sees the
// same runs.
func pinJoins(op *specs.Operation, value func(name string) (any, bool)) {
	if len(op.Joins) == 0 {
		return
	}
	if op.Params == nil {
		op.Params = map[string]specs.Param{}
	}
	for _, j := range op.Joins {
		for name, jp := range j.Params {
			if v, ok := value(name); ok {
				if _, plain := op.Params[name]; !plain { // a plain param wins over a join's
					op.Params[name] = specs.Param{Value: v, ContextOnly: jp.ContextOnly, ToEnv: jp.ToEnv, ToInit: jp.ToInit, Connection: jp.Connection}
				}
			}
		}
	}
	op.Joins = nil
}

// inlineResolved puts into each operation of a dag the component its
// pathRef, urlRef or hubRef resolved to, so the leader compiles the dag's
// children from the run alone. dagRefs stay: the dag holds their
// components once, however many operations run them.
func inlineResolved(res *compiler.Resolution, top *specs.Operation) {
	for _, o := range res.Operations() {
		if o == top || o.DagRef != "" {
			continue
		}
		if rc := res.Of(o); rc != nil && rc.Component != nil {
			o.Component = rc.Component
			o.PathRef, o.URLRef, o.HubRef = "", "", ""
		}
	}
}

// checkDagRefs checks the refs between the operations of a dag, and of
// the dags inside it, at path p of the component.
func checkDagRefs(p specs.Path, comp *specs.Component) specs.ErrorList {
	d, ok := comp.Run.(*specs.DAG)
	if !ok {
		return nil
	}
	rp := p.Child("run")
	errs := d.CheckRefs(rp)
	for i := range d.Operations {
		if c := d.Operations[i].Component; c != nil {
			errs = append(errs, checkDagRefs(rp.Child("operations").Index(i).Child("component"), c)...)
		}
	}
	return errs
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
	c, err := e.compileSafely("", run.UUID, op, comp, compiler.Options{Run: ri, Connections: e.cfg.Connections, Policy: e.Policy(), Caller: callerOf(run),
		Refs: runRefs{ctx: context.Background(), st: e.cfg.Store}, Joins: runJoins{ctx: context.Background(), st: e.cfg.Store, self: run.UUID},
		Deferred: run.Events})
	if err == nil && c.Operation != nil && c.Operation.Component != nil {
		// The component as merged is what runs; the one the operation
		// held inline would be a second copy of a large dag.
		o := *c.Operation
		o.Component = nil
		c.Operation = &o
	}
	return c, err
}

// callerOf is who a run is compiled for under the access policy: the
// user and teams who submitted it, in its project.
func callerOf(r *store.Run) compiler.Caller {
	return compiler.Caller{User: r.User, Teams: r.Teams, Project: firstOf(r.Project, compiler.DefaultProject)}
}

// stored decodes what a stored run was submitted with: its operation
// (when op is not nil) and its component.
func (e *Engine) stored(ctx context.Context, run *store.Run, op *specs.Operation) (*specs.Component, error) {
	if run.Blobs > 0 && len(run.Compiled) == 0 {
		c := *run
		if err := e.cfg.Store.Body(ctx, &c); err != nil {
			return nil, unavailable(err)
		}
		run = &c
	}
	var r resolved
	if err := json.Unmarshal(run.Compiled, &r); err != nil {
		return nil, fmt.Errorf("engine: run %s: reading its operation: %w", run.UUID, err)
	}
	var comp specs.Component
	if err := specs.Unmarshal(r.Component, &comp); err != nil {
		return nil, fmt.Errorf("engine: run %s: %w", run.UUID, err)
	}
	if op != nil {
		if err := specs.Unmarshal(r.Operation, op); err != nil {
			return nil, fmt.Errorf("engine: run %s: %w", run.UUID, err)
		}
		if op.Component == nil && op.HubRef == "" && op.PathRef == "" && op.URLRef == "" && op.DagRef == "" {
			op.Component = &comp // stored once, beside the operation
		}
	}
	return &comp, nil
}

// compileStored compiles a stored run from what submission resolved.
func (e *Engine) compileStored(ctx context.Context, run *store.Run) (*compiler.Compiled, error) {
	var op specs.Operation
	comp, err := e.stored(ctx, run, &op)
	if err != nil {
		return nil, err
	}
	return e.compile(run, &op, comp)
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
		if r.Node != "" {
			return fmt.Errorf("run %s is operation %q of dag %s: resume the dag, which runs again what did not succeed: %w",
				uuid, r.Node, r.Parent, ErrInvalidTransition)
		}
		if err := Resume(r, "ResumeRequested", e.cfg.Now()); err != nil {
			return err
		}
		r.Attempt++
		return nil
	})
}

// Restart makes a new run from the same submission (operation, component
// and params), whatever became of the first, for its first submitter.
func (e *Engine) Restart(ctx context.Context, uuid string) (*store.Run, error) {
	return e.RestartAs(ctx, uuid, nil)
}

// RestartAs is Restart for the caller by (nil: the first run's
// submitter): the new run is theirs, and compiled under the access policy
// for their user and teams, not for whoever submitted the first (who may
// be allowed what they are not).
func (e *Engine) RestartAs(ctx context.Context, uuid string, by *compiler.Caller) (*store.Run, error) {
	old, _, err := e.cfg.Store.Get(ctx, uuid)
	if err != nil {
		return nil, err
	}
	if old.Node != "" {
		return nil, fmt.Errorf("run %s is operation %q of dag %s: restart the dag: %w", uuid, old.Node, old.Parent, ErrInvalidTransition)
	}
	if err := e.cfg.Store.Body(ctx, old); err != nil {
		return nil, err
	}
	run := &store.Run{UUID: compiler.NewUUID(), Name: old.Name, Project: old.Project, User: old.User, Teams: old.Teams, Spec: old.Spec, Params: old.Params,
		Compiled: old.Compiled, RestartOf: old.UUID, Approved: old.Approved, ApprovedBy: old.ApprovedBy,
		// What kind of parent it is, and what it does when it ends.
		Matrix: old.Matrix, Schedule: old.Schedule, Events: old.Events, Component: old.Component, Hooks: old.Hooks}
	if by != nil && by.User != "" {
		run.User, run.Teams = by.User, by.Teams
	}
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
