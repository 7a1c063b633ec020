package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine/leader"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// These tests take the leader away — resigning ("stop": its context ends)
// or crashing ("crash": its etcd client goes, so its lease lapses) — at
// every stage of a run's life, with three engines, and across a restart,
// and check that the next leader finishes every run with each attempt
// created exactly once. They share failover_test.go's recorder, which
// plays a cluster shared by the engines.

var killModes = []string{"stop", "crash"}

// foNode is an engine of these tests, on an etcd client of its own.
type foNode struct {
	id     string
	e      *Engine
	cli    *clientv3.Client
	gate   *foGate
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

type foOpts struct {
	queues map[string]int
	// backoff is the engine's RetryBackoff (0: none at all).
	backoff time.Duration
	// gate, if set, is the engine's RunInfo: it can hold the engine in
	// the middle of compiling a run.
	gate *foGate
}

// startNode runs an engine on prefix (LeaseTTL 1, Resync 200ms, as
// startOn does) until it is killed or the test ends.
func startNode(t *testing.T, prefix, id string, ex executor.Executor, o foOpts) *foNode {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{storetest.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	backoff := o.backoff
	if backoff == 0 {
		backoff = -1
	}
	cfg := Config{ID: id, Store: store.New(cli, prefix, nil), Executor: ex, Resync: 200 * time.Millisecond, LeaseTTL: 1,
		Queues: o.queues, RetryBackoff: backoff}
	if o.gate != nil {
		cfg.RunInfo = o.gate.runInfo
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &foNode{id: id, e: e, cli: cli, gate: o.gate, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(n.done); _ = e.Run(ctx) }()
	t.Cleanup(func() { n.kill("stop"); _ = cli.Close() })
	return n
}

// kill ends the engine: "stop" cancels its context (it resigns, a standby
// leads at once), "crash" closes its etcd client first (its lease lapses
// after the TTL). Either way it has done all it will do when kill
// returns. A gated compilation is let go once the engine is dying, so
// what it would write is too late.
func (n *foNode) kill(how string) {
	n.once.Do(func() {
		switch how {
		case "crash":
			_ = n.cli.Close()
			n.gate.open()
			n.cancel()
			<-n.done
		case "stop":
			n.cancel()
			n.gate.open()
			<-n.done
			_ = n.cli.Close()
		case "resign": // stop, its client kept open
			n.cancel()
			n.gate.open()
			<-n.done
		default:
			panic("kill " + how)
		}
	})
}

// term is the engine's term in progress, nil when it does not lead.
func (n *foNode) term() *leading { return n.e.current.Load() }

func (n *foNode) leading() bool { return n.term() != nil }

// foGate holds an engine's compilation of a run while hold says so,
// until it is opened.
type foGate struct {
	hold      atomic.Pointer[func(*store.Run) bool]
	entered   chan struct{}
	enterOnce sync.Once
	release   chan struct{}
	openOnce  sync.Once
}

func newGate() *foGate { return &foGate{entered: make(chan struct{}), release: make(chan struct{})} }

func (g *foGate) arm(hold func(*store.Run) bool) { g.hold.Store(&hold) }

func (g *foGate) runInfo(r *store.Run, ri compiler.RunInfo) compiler.RunInfo {
	if h := g.hold.Load(); h != nil && (*h)(r) {
		g.wait()
	}
	return ri
}

// wait says the engine is held, and holds it until the gate opens.
func (g *foGate) wait() {
	g.enterOnce.Do(func() { close(g.entered) })
	<-g.release
}

func (g *foGate) open() {
	if g != nil {
		g.openOnce.Do(func() { close(g.release) })
	}
}

// waitEntered waits until an engine is held in the gate.
func (g *foGate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine never compiled the run")
	}
}

// createdRefs is a copy of what the cluster created, per attempt.
func (r *recorder) createdRefs() map[executor.RunRef]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[executor.RunRef]int, len(r.created))
	for ref, n := range r.created {
		out[ref] = n
	}
	return out
}

func (r *recorder) callCount(ref executor.RunRef) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[ref]
}

// byNode is the recorder as one engine sees it: what it dispatches is
// shown to check first, and an error from check means the cluster never
// heard of it.
type byNode struct {
	*recorder
	node  string
	check func(node string, ref executor.RunRef) error
}

func (b byNode) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	if b.check != nil {
		if err := b.check(b.node, ref); err != nil {
			return err
		}
	}
	return b.recorder.Dispatch(ctx, ref, c)
}

// waitUntil polls cond until it holds, or fails the test with what it
// last said.
func waitUntil(t *testing.T, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until the run has the status, doing nudge (if any)
// before each look.
func waitStatus(t *testing.T, st *store.Store, uuid string, want store.Status, nudge func()) *store.Run {
	t.Helper()
	var r *store.Run
	waitUntil(t, 10*time.Second, func() (bool, string) {
		if nudge != nil {
			nudge()
		}
		var err error
		if r, _, err = st.Get(context.Background(), uuid); err != nil {
			return false, err.Error()
		}
		return r.Status == want, fmt.Sprintf("run %s is %s, want %s: %v", uuid, r.Status, want, statuses(r))
	})
	return r
}

func waitCreated(t *testing.T, ex *recorder, ref executor.RunRef) {
	t.Helper()
	waitUntil(t, 10*time.Second, func() (bool, string) {
		return ex.createdCount(ref) == 1, fmt.Sprintf("attempt %v never dispatched", ref)
	})
}

// waitLeader waits until exactly one of the engines leads, and the
// election key names it.
func waitLeader(t *testing.T, cli *clientv3.Client, prefix string, nodes ...*foNode) *foNode {
	t.Helper()
	var l *foNode
	waitUntil(t, 15*time.Second, func() (bool, string) {
		var ids []string
		l = nil
		for _, n := range nodes {
			if n.leading() {
				ids, l = append(ids, n.id), n
			}
		}
		id, err := leader.Leader(context.Background(), cli, prefix)
		if len(ids) != 1 || err != nil || id != ids[0] {
			return false, fmt.Sprintf("leading: %v; the election says %q (%v)", ids, id, err)
		}
		return true, ""
	})
	return l
}

// settle plays the cluster until every run has succeeded: each attempt
// it created, and whose run still waits for it, is reported succeeded,
// again and again, as a cluster's watch reports what is true to
// whichever engine leads now. It returns the runs as they ended.
func settle(t *testing.T, ex *recorder, st *store.Store, uuids []string) map[string]*store.Run {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := map[string]*store.Run{}
		created := ex.createdRefs()
		var waiting []string
		for _, u := range uuids {
			r, _, err := st.Get(context.Background(), u)
			if err != nil {
				t.Fatalf("run %s: %v", u, err)
			}
			runs[u] = r
			switch {
			case r.Status == store.Succeeded:
				continue
			case r.Status.Final():
				t.Fatalf("run %s ended %s: %v", u, r.Status, statuses(r))
			}
			waiting = append(waiting, fmt.Sprintf("%s %s (attempt %d)", u[:8], r.Status, r.Attempt))
			if ref := (executor.RunRef{UUID: u, Attempt: r.Attempt}); created[ref] > 0 {
				ex.finish(ref, executor.Succeeded)
			}
		}
		if len(waiting) == 0 {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs never succeeded: %v", len(waiting), len(uuids), waiting)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkAttempts: each run ended after `attempts` attempts, each of them
// created by the cluster exactly once, scheduled once and, but the last,
// retried once; and nothing was created for a run or attempt that was
// not reached.
func checkAttempts(t *testing.T, ex *recorder, runs map[string]*store.Run, attempts int) {
	t.Helper()
	created := ex.createdRefs()
	for u, r := range runs {
		if r.Attempt != attempts {
			t.Errorf("run %s ended at attempt %d, want %d: %v", u, r.Attempt, attempts, statuses(r))
		}
		for k := 1; k <= r.Attempt; k++ {
			ref := executor.RunRef{UUID: u, Attempt: k}
			if n := created[ref]; n != 1 {
				t.Errorf("run %s attempt %d created %d times", u, k, n)
			}
			if ex.callCount(ref) < 1 {
				t.Errorf("run %s attempt %d never dispatched", u, k)
			}
		}
		count := map[store.Status]int{}
		for _, s := range statuses(r) {
			count[s]++
		}
		if count[store.Scheduled] != r.Attempt || count[store.Retrying] != r.Attempt-1 || count[store.Succeeded] != 1 {
			t.Errorf("run %s: conditions %v for %d attempts", u, statuses(r), r.Attempt)
		}
	}
	for ref, n := range created {
		r := runs[ref.UUID]
		switch {
		case r == nil:
			t.Errorf("attempt %v of an unknown run created %d times", ref, n)
		case ref.Attempt < 1 || ref.Attempt > r.Attempt:
			t.Errorf("attempt %d of run %s created, which ended at attempt %d", ref.Attempt, ref.UUID, r.Attempt)
		}
	}
}

// foWorld is what a test's engines share: a prefix, the cluster, the
// test's own store (unfenced, its own client) and an engine that only
// submits and approves.
type foWorld struct {
	prefix string
	ex     *recorder
	cli    *clientv3.Client
	st     *store.Store
	sub    *Engine

	mu    sync.Mutex
	runs  []string
	bad   []string                           // what a dispatch check found
	calls map[string]map[executor.RunRef]int // dispatches by engine
}

func newWorld(t *testing.T) *foWorld {
	w := &foWorld{prefix: storetest.Prefix(t), ex: newRecorder(), cli: storetest.Client(t)}
	w.st = store.New(w.cli, w.prefix, nil)
	var err error
	if w.sub, err = New(Config{Store: w.st, Executor: w.ex}); err != nil {
		t.Fatal(err)
	}
	return w
}

const foSpec = "version: 1.1\nkind: component\n%srun: {container: {image: x, command: ['true']}}\n"

// submit submits a run whose spec has the extra lines.
func (w *foWorld) submit(t *testing.T, extra string) string {
	t.Helper()
	run, err := w.sub.Submit(context.Background(), Submission{Source: "s.yaml", Spec: fmt.Sprintf(foSpec, extra)})
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.runs = append(w.runs, run.UUID)
	w.mu.Unlock()
	return run.UUID
}

func (w *foWorld) uuids() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.runs)
}

// exec is the cluster as engine node sees it: its dispatches are
// counted, then shown to check (if any).
func (w *foWorld) exec(node string, check func(node string, ref executor.RunRef) error) executor.Executor {
	return byNode{w.ex, node, func(node string, ref executor.RunRef) error {
		w.mu.Lock()
		if w.calls == nil {
			w.calls = map[string]map[executor.RunRef]int{}
		}
		if w.calls[node] == nil {
			w.calls[node] = map[executor.RunRef]int{}
		}
		w.calls[node][ref]++
		w.mu.Unlock()
		if check != nil {
			return check(node, ref)
		}
		return nil
	}}
}

// checkOncePerEngine: no engine dispatched an attempt twice (each engine
// of these tests leads at most one term).
func (w *foWorld) checkOncePerEngine(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for node, calls := range w.calls {
		for ref, n := range calls {
			if n > 1 {
				t.Errorf("%s dispatched %v %d times", node, ref, n)
			}
		}
	}
}

func (w *foWorld) fail(format string, args ...any) {
	w.mu.Lock()
	w.bad = append(w.bad, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

func (w *foWorld) checkNothingBad(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.bad {
		t.Error(b)
	}
}

// checkCap, called as an attempt is dispatched, fails the test if more
// than limit runs of queue q hold an executor's resources at once: one
// read, so one revision.
func (w *foWorld) checkCap(limit int) func(string, executor.RunRef) error {
	return func(node string, ref executor.RunRef) error {
		page, err := w.st.List(context.Background(), "", 1000, func(r *store.Run) bool {
			return dispatchedStatus(r.Status) && strings.Contains(r.Spec, "\nqueue: q\n")
		})
		if err != nil {
			w.fail("listing the runs: %v", err)
			return nil
		}
		if len(page.Runs) > limit {
			var held []string
			for _, r := range page.Runs {
				held = append(held, r.UUID[:8]+" "+string(r.Status))
			}
			w.fail("%s dispatched %v while %d runs of queue q, capped at %d, hold a place: %v", node, ref, len(held), limit, held)
		}
		return nil
	}
}

// runConcurrently runs the subtests at once (t.Run from several
// goroutines, not t.Parallel, which is capped at GOMAXPROCS): they spend
// most of their time waiting for a lease to lapse.
func runConcurrently(t *testing.T, names []string, f func(t *testing.T, name string)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(name, func(t *testing.T) { f(t, name) })
		})
	}
	wg.Wait()
}

// TestThreeEnginesOneLeader: of three engines on one prefix exactly one
// leads — by the election and by the engines' own state — and never two
// at once; when it goes, exactly one of the two others takes over, and
// when that one goes, the last. Each new leader runs a run to its end.
func TestThreeEnginesOneLeader(t *testing.T) {
	runConcurrently(t, killModes, func(t *testing.T, how string) {
		w := newWorld(t)
		var nodes []*foNode
		for _, id := range []string{"a", "b", "c"} {
			nodes = append(nodes, startNode(t, w.prefix, id, w.exec(id, nil), foOpts{}))
		}
		// Never two engines in a term at once.
		stopWatching := make(chan struct{})
		watched := make(chan []string, 1)
		go func() {
			var twice []string
			for {
				select {
				case <-stopWatching:
					watched <- twice
					return
				default:
				}
				var ids []string
				for _, n := range nodes {
					if n.leading() {
						ids = append(ids, n.id)
					}
				}
				if len(ids) > 1 && len(twice) < 10 {
					twice = append(twice, strings.Join(ids, "+"))
				}
				time.Sleep(time.Millisecond)
			}
		}()
		alive := slices.Clone(nodes)
		var leaders []string
		for {
			l := waitLeader(t, w.cli, w.prefix, alive...)
			leaders = append(leaders, l.id)
			u := w.submit(t, "")
			runs := settle(t, w.ex, w.st, []string{u})
			if c := w.ex.createdCount(executor.RunRef{UUID: u, Attempt: 1}); c != 1 || runs[u].Attempt != 1 {
				t.Errorf("under %s: created %d times, attempt %d", l.id, c, runs[u].Attempt)
			}
			if len(alive) == 1 {
				break
			}
			l.kill(how)
			alive = slices.DeleteFunc(alive, func(n *foNode) bool { return n == l })
			if l.leading() {
				t.Fatalf("%s still leads after it was killed", l.id)
			}
		}
		close(stopWatching)
		if twice := <-watched; len(twice) > 0 {
			t.Errorf("engines leading at once: %v", twice)
		}
		if len(leaders) != 3 {
			t.Errorf("leaders %v", leaders)
		}
		runs := map[string]*store.Run{}
		for _, u := range w.uuids() {
			runs[u], _, _ = w.st.Get(context.Background(), u)
		}
		checkAttempts(t, w.ex, runs, 1)
		w.checkOncePerEngine(t)
	})
}

// stageCase brings runs to a stage of their life while engine a leads,
// with engine b standing by.
type stageCase struct {
	name   string
	queues map[string]int
	// unled: the runs are submitted before any engine runs, and a is
	// killed as soon as it leads.
	unled bool
	// backoff is a's RetryBackoff (b retries at once).
	backoff time.Duration
	// holdDispatch holds a's dispatches in the gate; the cluster never
	// hears of them.
	holdDispatch bool
	// arrive brings the runs to the stage; it runs while a leads, and
	// checks the stage it leaves them in.
	arrive func(t *testing.T, w *foWorld, gate *foGate)
	// afterKill, if set, runs once a is gone.
	afterKill func(t *testing.T, w *foWorld)
	// attempts is how many attempts each run takes in all.
	attempts int
}

// TestFailoverAtEachStage kills the leader while a run is created,
// compiled (waiting for approval), queued (its queue full), scheduled (the
// cluster has it), running, and retrying, by each kill mode. The standby
// takes over and every run succeeds, each attempt it reached created
// exactly once, none created that it did not reach, and the dead leader
// dispatched nothing after it died.
func TestFailoverAtEachStage(t *testing.T) {
	cases := []stageCase{{
		// a is in the middle of compiling the run (held in RunInfo) when it
		// dies: its write comes too late.
		name: "created",
		arrive: func(t *testing.T, w *foWorld, gate *foGate) {
			gate.arm(func(r *store.Run) bool { return r.Status == store.Created })
			u := w.submit(t, "")
			gate.waitEntered(t)
			if r, _, err := w.st.Get(context.Background(), u); err != nil || r.Status != store.Created {
				t.Fatalf("run not created: %v %v", r, err)
			}
		},
		attempts: 1,
	}, {
		// Submitted while no engine runs; a is killed the moment it leads,
		// wherever it got to.
		name:     "created-unled",
		unled:    true,
		arrive:   func(t *testing.T, w *foWorld, _ *foGate) { w.submit(t, "") },
		attempts: 1,
	}, {
		// Waiting for approval; approved once a is gone.
		name: "compiled",
		arrive: func(t *testing.T, w *foWorld, _ *foGate) {
			u := w.submit(t, "isApproved: false\n")
			waitStatus(t, w.st, u, store.Compiled, nil)
		},
		afterKill: func(t *testing.T, w *foWorld) {
			if _, err := w.sub.Approve(context.Background(), w.uuids()[0], "alice"); err != nil {
				t.Fatal(err)
			}
		},
		attempts: 1,
	}, {
		// Queue q has one place, taken: the second run waits in it.
		name:   "queued",
		queues: map[string]int{"q": 1},
		arrive: func(t *testing.T, w *foWorld, _ *foGate) {
			first := w.submit(t, "queue: q\n")
			waitCreated(t, w.ex, executor.RunRef{UUID: first, Attempt: 1})
			second := w.submit(t, "queue: q\n")
			waitStatus(t, w.st, second, store.Queued, nil)
			waitStatus(t, w.st, first, store.Scheduled, nil)
		},
		attempts: 1,
	}, {
		// The cluster has the attempt, and has said nothing yet.
		name: "scheduled",
		arrive: func(t *testing.T, w *foWorld, _ *foGate) {
			u := w.submit(t, "")
			waitCreated(t, w.ex, executor.RunRef{UUID: u, Attempt: 1})
			waitStatus(t, w.st, u, store.Scheduled, nil)
		},
		attempts: 1,
	}, {
		// Recorded as scheduled, and a dies before the cluster hears of it:
		// b must dispatch it.
		name:         "scheduled-undispatched",
		holdDispatch: true,
		arrive: func(t *testing.T, w *foWorld, gate *foGate) {
			u := w.submit(t, "")
			gate.waitEntered(t)
			waitStatus(t, w.st, u, store.Scheduled, nil)
			if n := w.ex.callCount(executor.RunRef{UUID: u, Attempt: 1}); n != 0 {
				t.Fatalf("dispatched %d times", n)
			}
		},
		attempts: 1,
	}, {
		name: "running",
		arrive: func(t *testing.T, w *foWorld, _ *foGate) {
			u := w.submit(t, "")
			ref := executor.RunRef{UUID: u, Attempt: 1}
			waitCreated(t, w.ex, ref)
			waitStatus(t, w.st, u, store.Running, func() { w.ex.finish(ref, executor.Running) })
		},
		attempts: 1,
	}, {
		// Attempt 1 failed; a waits an hour before the retry, b does not.
		name:    "retrying",
		backoff: time.Hour,
		arrive: func(t *testing.T, w *foWorld, _ *foGate) {
			u := w.submit(t, "termination: {maxRetries: 1}\n")
			ref := executor.RunRef{UUID: u, Attempt: 1}
			waitCreated(t, w.ex, ref)
			waitStatus(t, w.st, u, store.Scheduled, nil)
			r := waitStatus(t, w.st, u, store.Retrying, func() { w.ex.finish(ref, executor.Failed) })
			if r.Attempt != 2 {
				t.Fatalf("retrying at attempt %d", r.Attempt)
			}
			if n := w.ex.createdCount(executor.RunRef{UUID: u, Attempt: 2}); n != 0 {
				t.Fatalf("attempt 2 created before a died")
			}
		},
		attempts: 2,
	}}
	var names []string
	byName := map[string]stageCase{}
	for _, tc := range cases {
		for _, how := range killModes {
			names = append(names, tc.name+"/"+how)
			byName[tc.name+"/"+how] = tc
		}
	}
	runConcurrently(t, names, func(t *testing.T, name string) {
		tc, how := byName[name], name[strings.LastIndex(name, "/")+1:]
		w := newWorld(t)
		var aDead atomic.Bool
		gate := newGate()
		check := func(node string, ref executor.RunRef) error {
			if node == "a" && tc.holdDispatch {
				gate.wait()
				return errors.New("a died before the cluster heard of it")
			}
			if node == "a" && aDead.Load() {
				w.fail("a, killed, dispatched %v", ref)
			}
			if limit, ok := tc.queues["q"]; ok {
				return w.checkCap(limit)(node, ref)
			}
			return nil
		}
		if tc.unled {
			tc.arrive(t, w, gate)
		}
		a := startNode(t, w.prefix, "a", w.exec("a", check), foOpts{queues: tc.queues, backoff: tc.backoff, gate: gate})
		waitUntil(t, 10*time.Second, func() (bool, string) { return a.leading(), "a never led" })
		b := startNode(t, w.prefix, "b", w.exec("b", check), foOpts{queues: tc.queues})
		if !tc.unled {
			tc.arrive(t, w, gate)
		}
		if !a.leading() || b.leading() {
			t.Fatalf("a leads: %v, b leads: %v", a.leading(), b.leading())
		}
		a.kill(how)
		aDead.Store(true)
		if tc.afterKill != nil {
			tc.afterKill(t, w)
		}
		runs := settle(t, w.ex, w.st, w.uuids())
		if l := waitLeader(t, w.cli, w.prefix, a, b); l != b {
			t.Errorf("%s leads", l.id)
		}
		checkAttempts(t, w.ex, runs, tc.attempts)
		w.checkOncePerEngine(t)
		w.checkNothingBad(t)
	})
}

// TestRestartWithRunsInFlight: the only engine goes (stopping or
// crashing) with 20 runs at every stage — succeeded, running, scheduled,
// waiting in a full queue — and a new engine, with a new id and client,
// finishes them all: none lost, no attempt created twice, the queue's cap
// kept across the restart.
func TestRestartWithRunsInFlight(t *testing.T) {
	runConcurrently(t, killModes, func(t *testing.T, how string) {
		w := newWorld(t)
		const limit = 3
		queues := map[string]int{"q": limit}
		qCheck := w.checkCap(limit)
		old := startNode(t, w.prefix, "old", w.exec("old", qCheck), foOpts{queues: queues})
		waitUntil(t, 10*time.Second, func() (bool, string) { return old.leading(), "never led" })
		var plain, inQ []string
		for i := range 20 {
			if i%2 == 0 {
				plain = append(plain, w.submit(t, ""))
			} else {
				inQ = append(inQ, w.submit(t, "queue: q\n"))
			}
		}
		for _, u := range plain {
			waitCreated(t, w.ex, executor.RunRef{UUID: u, Attempt: 1})
		}
		waitUntil(t, 10*time.Second, func() (bool, string) {
			n := map[store.Status]int{}
			for _, u := range inQ {
				r, _, _ := w.st.Get(context.Background(), u)
				if r != nil {
					n[r.Status]++
				}
			}
			return n[store.Scheduled] == limit && n[store.Queued] == len(inQ)-limit, fmt.Sprintf("queue q: %v", n)
		})
		// Two run, two end: the rest of the default queue stays scheduled.
		for _, u := range plain[:2] {
			ref := executor.RunRef{UUID: u, Attempt: 1}
			waitStatus(t, w.st, u, store.Running, func() { w.ex.finish(ref, executor.Running) })
		}
		for _, u := range plain[2:4] {
			ref := executor.RunRef{UUID: u, Attempt: 1}
			waitStatus(t, w.st, u, store.Succeeded, func() { w.ex.finish(ref, executor.Succeeded) })
		}
		old.kill(how)

		next := startNode(t, w.prefix, "new", w.exec("new", qCheck), foOpts{queues: queues})
		runs := settle(t, w.ex, w.st, w.uuids())
		if len(runs) != 20 {
			t.Fatalf("%d runs", len(runs))
		}
		if l := waitLeader(t, w.cli, w.prefix, old, next); l != next {
			t.Errorf("%s leads", l.id)
		}
		checkAttempts(t, w.ex, runs, 1)
		active, err := w.st.Active(context.Background())
		if err != nil || len(active) != 0 {
			t.Errorf("still active: %v %v", active, err)
		}
		page, err := w.st.List(context.Background(), "", 1000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Runs) != 20 {
			t.Errorf("the store holds %d runs", len(page.Runs))
		}
		w.checkOncePerEngine(t)
		w.checkNothingBad(t)
	})
}

// TestFailoverDeposedLeaderIsFenced: what a term writes once its
// leadership is gone is refused with store.ErrFenced and changes nothing
// — whether the engine resigned, lost its lease, or lost its election key
// without noticing (it then learns of it from its own refused write, and
// ends the term). engine/leader's TestDeposedLeaderIsFenced checks the
// error for a fence taken from the elector; this is the engine's own
// term's store.
func TestFailoverDeposedLeaderIsFenced(t *testing.T) {
	runConcurrently(t, []string{"resigned", "lease-lost", "unaware"}, func(t *testing.T, how string) {
		w := newWorld(t)
		a := startNode(t, w.prefix, "a", w.ex, foOpts{})
		waitUntil(t, 10*time.Second, func() (bool, string) { return a.leading(), "a never led" })
		term := a.term()
		stale := term.st
		u := w.submit(t, "")
		waitCreated(t, w.ex, executor.RunRef{UUID: u, Attempt: 1})
		waitStatus(t, w.st, u, store.Scheduled, nil)
		candidates := func() *clientv3.GetResponse {
			resp, err := w.cli.Get(context.Background(), w.prefix+"leader/", clientv3.WithPrefix())
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		// a's election key and its session's lease.
		keyOfA := func() (string, clientv3.LeaseID) {
			for _, kv := range candidates().Kvs {
				if string(kv.Value) == "a" {
					return string(kv.Key), clientv3.LeaseID(kv.Lease)
				}
			}
			t.Fatal("a is no candidate")
			return "", 0
		}
		var next *foNode
		switch how {
		case "resigned": // its context ended; its client is still there
			next = startNode(t, w.prefix, "b", w.ex, foOpts{})
			a.kill("resign")
		case "lease-lost": // its session's lease is revoked: a standby leads
			next = startNode(t, w.prefix, "b", w.ex, foOpts{})
			waitUntil(t, 10*time.Second, func() (bool, string) {
				n := candidates().Count
				return n == 2, fmt.Sprintf("%d candidates", n)
			})
			_, lease := keyOfA()
			if _, err := w.cli.Revoke(context.Background(), lease); err != nil {
				t.Fatal(err)
			}
		case "unaware": // its election key is gone, its session alive
			key, _ := keyOfA()
			if _, err := w.cli.Delete(context.Background(), key); err != nil {
				t.Fatal(err)
			}
			if a.term() != term {
				t.Fatal("the term ended with its key")
			}
			// Its next write, for a new run, is refused: the term ends, and
			// a new one (a's own) takes the run on.
			w.submit(t, "")
			next = a
		}
		// The old term ends (a, unaware, on its refused write), and a new
		// one leads.
		waitUntil(t, 15*time.Second, func() (bool, string) {
			cur := next.term()
			return a.term() != term && cur != nil && cur != term, "no new term"
		})
		before, rev, err := w.st.Get(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		_, err = stale.Update(context.Background(), u, func(r *store.Run) error {
			return Transition(r, store.Failed, "Late", "a deposed leader's write", time.Now())
		})
		if !errors.Is(err, store.ErrFenced) {
			t.Errorf("a late update: %v, want ErrFenced", err)
		}
		ghost := compiler.NewUUID()
		if err := stale.Create(context.Background(), &store.Run{UUID: ghost}); !errors.Is(err, store.ErrFenced) {
			t.Errorf("a late create: %v, want ErrFenced", err)
		}
		after, rev2, err := w.st.Get(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if rev2 != rev || after.Status != before.Status || len(after.Conditions) != len(before.Conditions) {
			t.Errorf("the run changed: %s at revision %d, now %s at %d: %v", before.Status, rev, after.Status, rev2, statuses(after))
		}
		if _, _, err := w.st.Get(context.Background(), ghost); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the late create landed: %v", err)
		}
		runs := settle(t, w.ex, w.st, w.uuids())
		checkAttempts(t, w.ex, runs, 1)
	})
}
