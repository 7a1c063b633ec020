package engine

// How a parent's children are created: the runs its planner decided since
// the last look, written in batches (compiled and created scheduled when
// nothing holds them back, cache hits ended at once), and dispatched at
// once while the executor's news keeps up.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// readyBatch is how many ready operations a dag compiles and creates in
// one go; more are left for the next look at the dag, so a wide fan-out
// is dispatched in steps while the rest of the engine moves on.
const readyBatch = 256

// createChildren creates the runs decided since the last time: final
// records for skipped and upstream_failed operations, and runs for ready
// ones while the concurrency allows. A ready operation is compiled here
// and created scheduled, in the transaction that creates its siblings,
// unless something holds it back (its conditions are false: it is
// created skipped; it waits for approval, a queue place or a cache
// lookup, or does not compile: it is created and takes the usual steps).
func (l *leading) createChildren(ctx context.Context, run *store.Run, p *pipeline) error {
	now := l.e.cfg.Now().UTC()
	p.mu.Lock()
	ends := p.ends
	p.ends = nil
	n := min(len(p.ready), readyBatch)
	if p.concurrency > 0 {
		n = min(n, max(p.concurrency-len(p.live), 0))
	}
	ready := p.ready[:n]
	p.ready = p.ready[n:]
	more := len(p.ready) > 0 && (p.concurrency == 0 || len(p.live)+n < p.concurrency)
	var runs []*store.Run
	child := func(node string) *store.Run {
		r := &store.Run{UUID: childUUID(p.uuid, node, p.attempt), Name: node, Node: node, Project: p.project, User: p.user, Teams: p.teams,
			Parent: p.uuid, Root: p.root, ParentAttempt: p.attempt, CreatedAt: now, FireAt: p.fireAt}
		if k, ok := TunerNode(node); ok && p.sweep != nil && p.sweep.tuning != nil {
			r.Name = firstOf(p.compiled.Run.Name, "sweep") + "-" + node
			params, err := p.sweep.tunerParams(k)
			if err != nil {
				params = map[string]any{"error": err.Error()} // compiled, it fails saying so
			}
			r.Params = params
		} else if p.sweep != nil {
			i, _ := p.sweep.index(node)
			t := p.sweep.results[i].Trial
			r.Name, r.Params = p.trialName(i), t.Params
			if t.Resume && t.From != nil {
				r.ResumeOf = p.nodes[strconv.Itoa(*t.From)]
			}
		} else if op := p.ops[node]; op != nil {
			if op.Matrix != nil {
				r.Matrix = string(op.Matrix.MatrixKind())
			}
			r.Hooks = len(hooksOf(op, p.componentOf(op)))
		}
		p.nodes[node], p.byRun[r.UUID] = r.UUID, node
		return r
	}
	for _, c := range ends {
		r := child(c.Node)
		status, reason := store.Skipped, "UpstreamSkipped"
		if c.Decision == dag.Unmet {
			status, reason = store.UpstreamFailed, "UpstreamFailed"
		}
		r.Status = status
		r.Conditions = []store.Condition{{Type: store.Created, Time: now}, {Type: status, Reason: reason, Message: c.Reason, Time: now}}
		runs = append(runs, r)
	}
	fresh := len(runs)
	for _, node := range ready {
		r := child(node)
		p.live[r.UUID] = true
		runs = append(runs, r)
	}
	p.mu.Unlock()
	if len(runs) == 0 {
		return nil
	}
	kept := map[string]*compiler.Compiled{}
	type lookup struct {
		r   *store.Run
		c   *compiler.Compiled
		key string
	}
	var lookups []lookup
	ttls := map[string]time.Duration{}
	for _, r := range runs[fresh:] {
		c, key, ttl, look := l.prepareChild(ctx, p, r, now)
		switch {
		case look:
			lookups = append(lookups, lookup{r, c, key})
			ttls[key] = ttl
		case c != nil:
			kept[r.UUID] = c
		}
	}
	if len(lookups) > 0 {
		// The cache is looked up for all of them at once; if it cannot
		// be read, they take the usual path, which looks it up again.
		if hits, err := l.cacheHits(ctx, ttls, now); err == nil {
			for _, lk := range lookups {
				if hit := hits[lk.key]; hit != nil {
					hitChild(lk.r, lk.c, hit, now)
				} else {
					scheduleChild(lk.r, lk.c, lk.key, now)
					kept[lk.r.UUID] = lk.c
				}
			}
		}
	}
	// Dispatched at once while the executor's news is recorded as fast
	// as it comes; behind a backlog of news, through the queue, so that a
	// wide fan-out does not pile up news it cannot yet record. The
	// compilations are kept before the runs are written: the store's news
	// of them may come first.
	l.mu.Lock()
	for _, r := range runs {
		l.creating[r.UUID] = true
	}
	defer func() {
		l.mu.Lock()
		for _, r := range runs {
			delete(l.creating, r.UUID)
		}
		l.mu.Unlock()
	}()
	direct := len(l.pending) < maxBacklog
	room := keptCompilations - len(l.compiled)
	for uuid, c := range kept {
		if room <= 0 {
			break
		}
		l.compiled[uuid] = c
		if direct {
			l.sent[uuid] = true
		}
		room--
	}
	l.mu.Unlock()
	if _, err := l.st.CreateMany(ctx, runs); err != nil {
		// Decided again from the store by the next term, or retried.
		l.mu.Lock()
		for uuid := range kept {
			delete(l.compiled, uuid)
			delete(l.sent, uuid)
		}
		l.mu.Unlock()
		p.mu.Lock()
		for _, r := range runs {
			delete(p.nodes, r.Node)
			delete(p.byRun, r.UUID)
			delete(p.live, r.UUID)
		}
		p.ends = append(ends, p.ends...)
		p.ready = append(append([]string(nil), ready...), p.ready...)
		p.mu.Unlock()
		return err
	}
	for _, r := range runs {
		if r.Revision > 0 {
			l.learn(r)
		}
		l.mu.Lock()
		sent := l.sent[r.UUID]
		if sent && r.Revision == 0 {
			delete(l.sent, r.UUID) // it existed: the queue takes it from here
			sent = false
		}
		l.mu.Unlock()
		switch {
		case sent:
			l.send(ctx, r)
		case !r.Status.Final():
			l.queue.addFirst(r.UUID)
		}
	}
	if more {
		l.queue.add(p.uuid)
	}
	return nil
}

// maxBacklog is how many runs may have executor news not yet recorded
// for a dag to dispatch the runs it creates at once.
const maxBacklog = 512

// send dispatches a run a dag just created scheduled, at once rather
// than through the queue, whose workers may all be busy writing: a few
// at a time, each on its own goroutine. A run whose dispatch did not go
// through is queued, as any other.
func (l *leading) send(ctx context.Context, r *store.Run) {
	select {
	case l.sending <- struct{}{}:
	case <-ctx.Done():
		l.mu.Lock()
		delete(l.sent, r.UUID)
		l.mu.Unlock()
		return
	}
	l.sends.Add(1)
	go func() {
		defer l.sends.Done()
		defer func() { <-l.sending }()
		err := l.guard("dispatching", r.UUID, func() error {
			hook("send", r.UUID)
			return l.dispatch(ctx, r)
		})
		l.mu.Lock()
		delete(l.sent, r.UUID)
		l.mu.Unlock()
		if pe := (*panicError)(nil); errors.As(err, &pe) {
			l.poison(r.UUID, pe)
		} else if err != nil {
			l.queue.retry(r.UUID)
		}
	}()
}

// keptCompilations bounds the compilations a term keeps for runs a dag
// created scheduled, until their dispatch; past it (a wide fan-out
// creates runs far ahead of their dispatch), a run is compiled again
// when it is dispatched.
const keptCompilations = 4096

// prepareChild compiles a ready operation's new run and, when nothing
// holds it back, makes it scheduled (or skipped, when its conditions are
// false); it returns the compilation of a run to schedule. A run that
// uses the cache is left for the caller to look up (lookup), with its
// key and ttl, and to schedule or end as a hit (scheduleChild, hitChild).
func (l *leading) prepareChild(ctx context.Context, p *pipeline, r *store.Run, now time.Time) (c *compiler.Compiled, key string, ttl time.Duration, lookup bool) {
	c, err := l.compileNode(ctx, p, r)
	if err != nil {
		return nil, "", 0, false // it fails as it is compiled again, with the usual reason
	}
	if in := inputValues(c); in != nil && !store.Readable(&store.Run{UUID: r.UUID, Inputs: in}) {
		// Its inputs (an upstream's outputs) would make a record that
		// does not read back: it fails as they are written.
		return nil, "", 0, false
	}
	if ok, why := p.conditionsHold(r.Node, c); !ok {
		r.Status = store.Skipped
		r.Conditions = []store.Condition{{Type: store.Created, Time: now},
			{Type: store.Skipped, Reason: "ConditionsCheckFailed", Message: why, Time: now}}
		return nil, "", 0, false
	}
	_, capped := l.e.cfg.Queues[c.Component.Queue]
	if capped || needsApproval(c) || isPipeline(c) {
		return nil, "", 0, false
	}
	if key, ttl, on := l.cacheKeyOf(r, c); on {
		return c, key, ttl, true
	}
	scheduleChild(r, c, "", now)
	return c, "", 0, false
}

// scheduleChild makes a new child run scheduled, under its cache key if
// it has one.
func scheduleChild(r *store.Run, c *compiler.Compiled, key string, now time.Time) {
	r.Status, r.Attempt, r.CacheKey = store.Scheduled, 1, key
	r.ExecutorRef = fmt.Sprintf("%s/%d", r.UUID, r.Attempt)
	r.Inputs = inputValues(c)
	r.Conditions = []store.Condition{{Type: store.Created, Time: now}, {Type: store.Compiled, Reason: "Compiled", Time: now},
		{Type: store.Queued, Reason: "Queued", Time: now}, {Type: store.Scheduled, Reason: "Scheduled", Time: now}}
}

// hitChild ends a new child run as a cache hit of run hit.
func hitChild(r *store.Run, c *compiler.Compiled, hit *store.Run, now time.Time) {
	r.Status, r.Attempt = store.Succeeded, 1
	r.CacheOf, r.Outputs, r.Inputs = hit.UUID, hit.Outputs, inputValues(c)
	r.Conditions = []store.Condition{{Type: store.Created, Time: now},
		{Type: store.Succeeded, Reason: "CacheHit", Message: "reused the result of run " + hit.UUID, Time: now}}
}
