package engine

import (
	"bufio"
	"context"
	"errors"
	"slices"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/matrix"
)

// pruning applies a sweep's stopping policies (median, truncation, diff):
// the leader follows the log of each running trial, reads the values of
// the policies' metrics it reports (`loss=0.42` lines, matrix.
// ParseMetricLine), and stops a trial a policy judges, with the reason
// PolicyStopped. A trial stopped so is pruned, not failed: the sweep goes
// on, and succeeds if the others do. What trials reported is kept in
// memory by the term: a new term (a new leader, or a resumed sweep) reads
// the logs of the trials that had ended succeeded back once, and follows
// those running from the start of their logs.
type pruning struct {
	policies []*matrix.Policy
	curves   map[string]map[string]matrix.Curve // metric → trial → values
	followed map[string]bool                    // child runs followed
	toFollow []*store.Run                       // running children not followed yet
	ended    map[string]bool                    // trials that ended: true if succeeded
	pruned   map[string]bool                    // trials a policy stopped
	// unread are the trials that had ended succeeded when the term built
	// the sweep, whose values it reads back from their logs once.
	unread map[string]executor.RunRef
	read   bool
}

// reasonPruned is the reason of the condition of a trial a stopping
// policy stopped.
const reasonPruned = "PolicyStopped"

func newPruning(policies []*matrix.Policy) *pruning {
	pr := &pruning{policies: policies, curves: map[string]map[string]matrix.Curve{},
		followed: map[string]bool{}, ended: map[string]bool{}, pruned: map[string]bool{},
		unread: map[string]executor.RunRef{}}
	for _, p := range policies {
		pr.curves[p.Metric()] = map[string]matrix.Curve{}
	}
	return pr
}

// observeLocked notes what became of trial node's run r, and returns the
// status the sweep sees: a trial a policy stopped is skipped (pruned), not
// stopped.
func (pr *pruning) observeLocked(node string, r *store.Run) dag.Status {
	switch {
	case r.Status == store.Running && !pr.followed[r.UUID]:
		pr.followed[r.UUID] = true
		pr.toFollow = append(pr.toFollow, r)
	case r.Status == store.Stopped && slices.ContainsFunc(r.Conditions, func(c store.Condition) bool { return c.Reason == reasonPruned }):
		pr.pruned[node] = true
		return dag.Skipped
	case r.Status.Final():
		pr.ended[node] = r.Status == store.Succeeded
		if r.Status == store.Succeeded && !pr.read && !pr.followed[r.UUID] {
			pr.unread[node] = executor.RunRef{UUID: r.UUID, Attempt: r.Attempt}
		}
	}
	return dag.Status(r.Status)
}

// follow starts following the log of each trial that began running since
// the last look, for as long as the term lasts or the trial runs.
func (l *leading) follow(ctx context.Context, p *pipeline) {
	p.mu.Lock()
	runs := p.pruning.toFollow
	p.pruning.toFollow = nil
	var unread map[string]executor.RunRef
	if !p.pruning.read {
		p.pruning.read, unread = true, p.pruning.unread
		p.pruning.unread = nil
	}
	p.mu.Unlock()
	if len(unread) > 0 {
		// The trials that ended before this term: what they reported is
		// read back from their logs, for the policies to judge by.
		l.sends.Add(1)
		go func() {
			defer l.sends.Done()
			for node, ref := range unread {
				_ = l.guard("reading the log of", ref.UUID, func() error { return l.readBack(ctx, p, node, ref) })
			}
		}()
	}
	for _, r := range runs {
		l.sends.Add(1)
		go func() {
			defer l.sends.Done()
			_ = l.guard("following the log of", r.UUID, func() error { return l.prune(ctx, p, r) })
		}()
	}
}

// prune reads what trial r reports and stops it when a policy says so.
func (l *leading) prune(ctx context.Context, p *pipeline, r *store.Run) error {
	rc, err := l.e.cfg.Executor.Logs(ctx, executor.RunRef{UUID: r.UUID, Attempt: r.Attempt}, true)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	ordinal := map[string]int{}
	for sc.Scan() {
		line := sc.Text()
		var why string
		p.locked(func() { why = p.pruning.judgeLocked(r.Node, line, ordinal) })
		if why == "" {
			continue
		}
		_, err := l.update(ctx, r, func(cur *store.Run) error {
			to, ok := StopTarget(cur.Status)
			if !ok || cur.Status == store.Stopping || cur.Status.Final() {
				return errSkip
			}
			return Transition(cur, to, reasonPruned, why, l.e.cfg.Now())
		})
		if errors.Is(err, errSkip) {
			return nil
		}
		return err
	}
	return sc.Err()
}

// judgeLocked reads one log line of trial node: a value of a policy's
// metric is added to its curve, and the policy judges the trial. It
// returns why the trial is to stop, or "".
func (pr *pruning) judgeLocked(node, line string, ordinal map[string]int) string {
	for _, pol := range pr.policies {
		m := pol.Metric()
		pt, ok := matrix.ParseMetricLine(line, m, ordinal[m]+1)
		if !ok {
			continue
		}
		ordinal[m]++
		curves := pr.curves[m]
		if c := curves[node]; len(c) > 0 && pt.Step <= c[len(c)-1].Step {
			continue // steps only go forward
		}
		curves[node] = append(curves[node], pt)
		var ended, running []matrix.Curve
		for other, c := range curves {
			succeeded, over := pr.ended[other]
			switch {
			case other == node || pr.pruned[other]:
			case over && succeeded:
				ended = append(ended, c)
			case !over:
				running = append(running, c)
			}
		}
		if stop, why := pol.Judge(curves[node], ended, running); stop {
			return "trial " + node + ": " + why
		}
	}
	return ""
}

// readBack reads the values an ended trial reported from its log.
func (l *leading) readBack(ctx context.Context, p *pipeline, node string, ref executor.RunRef) error {
	rc, err := l.e.cfg.Executor.Logs(ctx, ref, false)
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	read := map[string]matrix.Curve{}
	ordinal := map[string]int{}
	for sc.Scan() {
		for _, pol := range p.pruning.policies {
			m := pol.Metric()
			pt, ok := matrix.ParseMetricLine(sc.Text(), m, ordinal[m]+1)
			if !ok {
				continue
			}
			ordinal[m]++
			if c := read[m]; len(c) == 0 || pt.Step > c[len(c)-1].Step {
				read[m] = append(c, pt)
			}
		}
	}
	p.locked(func() {
		for m, c := range read {
			if len(p.pruning.curves[m][node]) == 0 {
				p.pruning.curves[m][node] = c
			}
		}
	})
	return sc.Err()
}
