package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
)

// slowFire is one of the slowest fires: fire k of schedule i.
type slowFire struct {
	schedule, k   int
	created, seen time.Duration // after its nominal time
}

// result is what one run of the benchmark measured.
type result struct {
	schedules, want int
	startAt         time.Time // zero: the schedules had none
	submit          time.Duration
	// submitMargin is from the last submission to startAt: below zero,
	// the first fires were due before their schedules existed.
	submitMargin time.Duration
	// wall is from the first submission to the last schedule's end.
	wall time.Duration

	// Children in the store, and what is wrong with them: nominal times
	// of a schedule with no child (missing), with more than one
	// (duplicated), children at no nominal time of their schedule
	// (stray), not seen by the watch (unseen), committed more than a
	// frequency after they were due (late); and the schedules that did
	// not succeed.
	counted                                  int
	missing, duplicated, stray, unseen, late int
	notSucceeded                             int
	// The fires due after their schedule was created, each after its
	// nominal time: created − nominal, seen − nominal and seen − created,
	// sorted.
	created, seen, commit []time.Duration
	// The fires due before their schedule existed (-lead 0, or a
	// submission slower than the lead), from the schedule's creation.
	earlyCreated, earlySeen []time.Duration
	// ticks holds seen − nominal of the fires of each nominal time (fire
	// k of every schedule), sorted.
	ticks   [][]time.Duration
	slowest []slowFire

	cpuUser, cpuSys time.Duration
	writes          int64
	// The process's resident set in KiB: once etcd and the engine had
	// started, and its peak since then (since the process started when
	// the peak cannot be reset: rssReset false).
	rssBase, rss int64
	rssReset     bool
}

// measure reads back every schedule and its fires from the store,
// checks them against what the schedules should have fired, and takes
// each fire's figures from its record and what the watch saw of it.
func measure(ctx context.Context, c config, st *store.Store, scheds []*store.Run, begin, startAt time.Time, w *watcher, res *result) error {
	every := c.every()
	res.ticks = make([][]time.Duration, c.fires)
	var last time.Time
	for i, s := range scheds {
		run, _, err := st.Get(ctx, s.UUID)
		if err != nil {
			return fmt.Errorf("reading schedule %d: %w", i, err)
		}
		if run.Status != store.Succeeded {
			res.notSucceeded++
		}
		if n := len(run.Conditions); n > 0 && run.Conditions[n-1].Time.After(last) {
			last = run.Conditions[n-1].Time
		}
		children, err := st.ChildRuns(ctx, s.UUID)
		if err != nil {
			return fmt.Errorf("reading the fires of schedule %d: %w", i, err)
		}
		start := startAt
		if start.IsZero() {
			start = run.CreatedAt.Truncate(time.Second)
		}
		byK := make([]int, c.fires)
		for _, ch := range children {
			res.counted++
			if ch.FireAt == nil {
				res.stray++
				continue
			}
			nominal := *ch.FireAt
			off := nominal.Sub(start)
			k := int(off / every)
			if off < 0 || off%every != 0 || k >= c.fires {
				res.stray++
				continue
			}
			byK[k]++
			sg, ok := w.sighting(ch.UUID)
			if !ok {
				res.unseen++
				continue
			}
			if sg.parent != s.UUID {
				res.stray++ // indexed under another parent than its record says
				continue
			}
			// A key created again is a fire created twice.
			res.duplicated += sg.creations - 1
			seen := sg.seen.Round(0)
			due := nominal
			if nominal.Before(run.CreatedAt) {
				due = run.CreatedAt
				res.earlyCreated = append(res.earlyCreated, ch.CreatedAt.Sub(due))
				res.earlySeen = append(res.earlySeen, seen.Sub(due))
			} else {
				f := slowFire{schedule: i, k: k, created: ch.CreatedAt.Sub(nominal), seen: seen.Sub(nominal)}
				res.created = append(res.created, f.created)
				res.seen = append(res.seen, f.seen)
				res.commit = append(res.commit, seen.Sub(ch.CreatedAt))
				res.ticks[k] = append(res.ticks[k], f.seen)
				res.slowest = append(res.slowest, f)
			}
			if seen.Sub(due) > every {
				res.late++
			}
		}
		for _, n := range byK {
			if n == 0 {
				res.missing++
			}
			res.duplicated += max(n-1, 0)
		}
	}
	res.wall = last.Sub(begin.Round(0))
	for _, ds := range [][]time.Duration{res.created, res.seen, res.commit, res.earlyCreated, res.earlySeen} {
		slices.Sort(ds)
	}
	for _, ds := range res.ticks {
		slices.Sort(ds)
	}
	slices.SortFunc(res.slowest, func(a, b slowFire) int { return cmp.Compare(b.seen, a.seen) })
	res.slowest = res.slowest[:min(5, len(res.slowest))]
	return nil
}

// check says what is wrong with the fires: "" when every schedule
// succeeded with exactly one child for each of its nominal times, each
// seen by the watch and none late.
func check(c config, r result) string {
	var bad []string
	if r.counted != r.want {
		bad = append(bad, fmt.Sprintf("%d fires, want %d (%d schedules × %d)", r.counted, r.want, c.schedules, c.fires))
	}
	for _, p := range []struct {
		n    int
		what string
	}{
		{r.missing, "nominal times with no fire"},
		{r.duplicated, "duplicated fires (a second child at a nominal time)"},
		{r.stray, "children at no nominal time of their schedule"},
		{r.unseen, "fires not seen by the watch"},
		{r.late, fmt.Sprintf("fires committed more than a frequency (%v) after they were due", c.every())},
		{r.notSucceeded, "schedules that did not succeed"},
	} {
		if p.n > 0 {
			bad = append(bad, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(bad, "; ")
}
