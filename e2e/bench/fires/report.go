package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/e2e/bench/figures"
)

// quantiles are the figures printed of each latency.
var quantiles = []float64{0.5, 0.9, 0.99, 1}

// pcts prints p50, p90, p99 and max of sorted ds.
func pcts(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	var parts []string
	for i, q := range quantiles {
		name := "max"
		if i < 3 {
			name = fmt.Sprintf("p%g", q*100)
		}
		parts = append(parts, fmt.Sprintf("%s %v", name, figures.Pct(ds, q)))
	}
	return strings.Join(parts, "  ")
}

// met says whether p99 of seen − nominal keeps to the target.
func met(p99 time.Duration) string {
	if p99 <= target {
		return "met"
	}
	return "NOT met"
}

// cpuSeconds is the process's CPU time, user and system, in seconds.
func (r result) cpuSeconds() float64 { return (r.cpuUser + r.cpuSys).Seconds() }

// report prints one run's figures; it returns what is wrong with the
// fires ("" if nothing).
func report(c config, i int, r result) string {
	start := "no startAt: each at its creation, to the second"
	if !r.startAt.IsZero() {
		start = "all from startAt " + r.startAt.Format(time.TimeOnly) + " UTC"
	}
	fmt.Printf("run %d: %d interval schedules, frequency %ds, maxRuns %d (%s): %d fires\n", i, c.schedules, c.frequency, c.fires, start, r.want)
	fmt.Printf("  submission of the schedules        %v", r.submit.Round(time.Millisecond))
	if !r.startAt.IsZero() {
		fmt.Printf(", the last %v before startAt", r.submitMargin.Round(time.Millisecond))
	}
	fmt.Println()
	fmt.Printf("  fires in the store                 %d of %d; %d missing, %d duplicated, %d stray, %d not seen by the watch, %d late (more than %v)\n",
		r.counted, r.want, r.missing, r.duplicated, r.stray, r.unseen, r.late, c.every())
	fmt.Printf("  fires timed from their nominal time %d\n", len(r.seen))
	fmt.Printf("    created − nominal (the decision) %s\n", pcts(r.created))
	fmt.Printf("    seen − nominal (committed)       %s\n", pcts(r.seen))
	fmt.Printf("    seen − created (commit, watch)   %s\n", pcts(r.commit))
	p99 := figures.Pct(r.seen, 0.99)
	fmt.Printf("  target: p99 of seen − nominal ≤ %v: %s (p99 %v)\n", target, met(p99), p99)
	if len(r.earlySeen) > 0 {
		fmt.Printf("  fires due before their schedule existed, from its creation: %d\n", len(r.earlySeen))
		fmt.Printf("    created − schedule created       %s\n", pcts(r.earlyCreated))
		fmt.Printf("    seen − schedule created          %s\n", pcts(r.earlySeen))
	}
	var ticks []string
	for k, ds := range r.ticks {
		if len(ds) > 0 {
			ticks = append(ticks, fmt.Sprintf("%d: %v/%v", k, figures.Pct(ds, 0.5), figures.Pct(ds, 1)))
		}
	}
	if len(ticks) > 0 {
		fmt.Printf("  seen − nominal by fire, p50/max    %s\n", strings.Join(ticks, ", "))
	}
	var slowest []string
	for _, s := range r.slowest {
		slowest = append(slowest, fmt.Sprintf("schedule %d fire %d %v (created %v)", s.schedule, s.k,
			s.seen.Round(10*time.Microsecond), s.created.Round(10*time.Microsecond)))
	}
	if len(slowest) > 0 {
		fmt.Printf("  slowest (seen − nominal)           %s\n", strings.Join(slowest, ", "))
	}
	fmt.Printf("  wall time                          %v (from the first submission to the last schedule's end)\n", r.wall.Round(time.Millisecond))
	fmt.Printf("  CPU of the process                 %.2fs (%.2f user, %.2f system), %.2f cores over the wall time, %.2f ms a fire\n",
		r.cpuSeconds(), r.cpuUser.Seconds(), r.cpuSys.Seconds(), r.cpuSeconds()/r.wall.Seconds(),
		1000*r.cpuSeconds()/float64(max(r.counted, 1)))
	fmt.Printf("  etcd writes                        %d (%.1f a fire)\n", r.writes, float64(r.writes)/float64(max(r.counted, 1)))
	from := "since etcd and the engine had started"
	if !r.rssReset {
		from = "since the process started: the peak could not be reset"
	}
	fmt.Printf("  peak RSS                           %s (engine and embedded etcd, %s); %s once they had started\n", kib(r.rss), from, kib(r.rssBase))
	return check(c, r)
}

// table prints every run and the medians.
func table(rs []result) {
	fmt.Printf("\n%-7s %6s %9s %7s %9s  %-35s  %-35s %s\n", "run", "fires", "wall", "CPU s", "peak RSS",
		"created − nominal p50/p90/p99/max", "seen − nominal p50/p90/p99/max", "p99 ≤ "+target.String())
	row := func(name string, fires int, wall time.Duration, cpu float64, rss int64, created, seen [4]time.Duration) {
		fmt.Printf("%-7s %6d %9v %7.2f %9s  %-35s  %-35s %s\n", name, fires, wall.Round(time.Millisecond), cpu, kib(rss),
			quad(created), quad(seen), met(seen[2]))
	}
	var fires []int
	var wall []time.Duration
	var cpu []float64
	var rss []int64
	var created, seen [4][]time.Duration
	for i, r := range rs {
		var cq, sq [4]time.Duration
		for j, q := range quantiles {
			cq[j], sq[j] = figures.Pct(r.created, q), figures.Pct(r.seen, q)
			created[j], seen[j] = append(created[j], cq[j]), append(seen[j], sq[j])
		}
		row(strconv.Itoa(i+1), r.counted, r.wall, r.cpuSeconds(), r.rss, cq, sq)
		fires, wall, cpu, rss = append(fires, r.counted), append(wall, r.wall), append(cpu, r.cpuSeconds()), append(rss, r.rss)
	}
	if len(rs) > 1 {
		var cm, sm [4]time.Duration
		for j := range quantiles {
			cm[j], sm[j] = median(created[j]), median(seen[j])
		}
		row("median", median(fires), median(wall), median(cpu), median(rss), cm, sm)
	}
}

// quad prints four latencies as p50/p90/p99/max, in milliseconds.
func quad(ds [4]time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64))
	}
	return strings.Join(parts, "/") + " ms"
}

// median is the middle of xs (the upper one of an even count).
func median[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func kib(k int64) string {
	if k < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(k)/1024)
}
