package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plexus-ml/plexus/e2e/bench/figures"
	"github.com/plexus-ml/plexus/e2e/bench/instant"
	"github.com/plexus-ml/plexus/e2e/bench/procstat"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// config is what every run of the benchmark is given.
type config struct {
	shape      string
	search     string // chain: random or mapping
	n          int    // grid: points; chain: trials
	maxIter    int    // hyperband: maxIterations
	cache      bool
	opTime     time.Duration
	seed       uint64
	workers    int
	timeout    time.Duration
	memProfile string
}

// gridSides splits n into N1 × N2 = n, N2 the largest divisor of n not
// above its square root.
func gridSides(n int) (int, int) {
	n2 := 1
	for d := 1; d*d <= n; d++ {
		if n%d == 0 {
			n2 = d
		}
	}
	return n / n2, n2
}

// polyaxonfile is the matrix operation of the shape.
func polyaxonfile(c config) string {
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: operation\nname: sweep\nmatrix:\n")
	inputs := "[{name: a, type: int}, {name: b, type: int}]"
	outputs := ""
	switch c.shape {
	case "grid":
		n1, n2 := gridSides(c.n)
		fmt.Fprintf(&b, "  kind: grid\n  params:\n    a: {kind: range, value: [0, %d, 1]}\n    b: {kind: range, value: [0, %d, 1]}\n", n1, n2)
	case "chain":
		if c.search == "mapping" {
			b.WriteString("  kind: mapping\n  concurrency: 1\n  values:\n")
			for i := range c.n {
				fmt.Fprintf(&b, "    - {a: %d, b: %d}\n", i, i%7)
			}
		} else {
			fmt.Fprintf(&b, "  kind: random\n  concurrency: 1\n  numRuns: %d\n  seed: %d\n  params:\n", c.n, c.seed)
			b.WriteString("    a: {kind: uniform, value: [0, 1]}\n    b: {kind: loguniform, value: [-9, 0]}\n")
			inputs = "[{name: a, type: float}, {name: b, type: float}]"
		}
	case "hyperband":
		fmt.Fprintf(&b, "  kind: hyperband\n  maxIterations: %d\n  eta: 3\n  seed: %d\n", c.maxIter, c.seed)
		b.WriteString("  resource: {name: epochs, type: int}\n  metric: {name: loss, optimization: minimize}\n")
		b.WriteString("  params:\n    lr: {kind: uniform, value: [0, 1]}\n")
		inputs = "[{name: lr, type: float}, {name: epochs, type: int}]"
		outputs = "  outputs: [{name: loss, type: float}]\n"
	}
	b.WriteString("component:\n  name: train\n")
	if !c.cache {
		b.WriteString("  cache: {disable: true}\n")
	}
	fmt.Fprintf(&b, "  inputs: %s\n%s", inputs, outputs)
	b.WriteString("  run: {kind: job, container: {image: x, command: [train]}}\n")
	return b.String()
}

// scored is the instant executor, whose trials give a loss: lr*100/epochs
// (what a hyperband ranks its rungs by).
type scored struct {
	*instant.Executor
	mu   sync.Mutex
	loss map[executor.RunRef]float64
}

func (s *scored) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	loss := math.NaN()
	lr, ok1 := c.Params.Get("lr")
	epochs, ok2 := c.Params.Get("epochs")
	if ok1 && ok2 {
		l, _ := matrix.Number(lr.Value)
		e, _ := matrix.Number(epochs.Value)
		loss = l * 100 / max(e, 1)
	}
	s.mu.Lock()
	s.loss[ref] = loss
	s.mu.Unlock()
	return s.Executor.Dispatch(ctx, ref, c)
}

// withLoss adds the attempt's loss to a success.
func (s *scored) withLoss(u executor.StatusUpdate) executor.StatusUpdate {
	if u.Status != executor.Succeeded {
		return u
	}
	s.mu.Lock()
	loss, ok := s.loss[u.Run]
	s.mu.Unlock()
	if ok && !math.IsNaN(loss) {
		u.Outputs = map[string]any{"loss": loss}
	}
	return u
}

func (s *scored) Status(ctx context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	u, err := s.Executor.Status(ctx, ref)
	return s.withLoss(u), err
}

func (s *scored) Watch(ctx context.Context) (<-chan executor.StatusUpdate, error) {
	in, err := s.Executor.Watch(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan executor.StatusUpdate, 1024)
	go func() {
		defer close(out)
		for u := range in {
			select {
			case out <- s.withLoss(u):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// finals notes when each run's record was first seen final in etcd, by
// a watch of its own: when the write of its end was committed, and
// delivered.
type finals struct {
	mu   sync.Mutex
	seen map[string]time.Time
	done chan struct{}
}

func watchFinals(ctx context.Context, cli *clientv3.Client, prefix string, rev int64) *finals {
	f := &finals{seen: map[string]time.Time{}, done: make(chan struct{})}
	w := cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev))
	go func() {
		defer close(f.done)
		for resp := range w {
			now := time.Now()
			for _, ev := range resp.Events {
				if ev.Type != clientv3.EventTypePut {
					continue
				}
				var r struct {
					UUID   string       `json:"uuid"`
					Status store.Status `json:"status"`
				}
				if json.Unmarshal(ev.Kv.Value, &r) != nil || !r.Status.Final() {
					continue
				}
				f.mu.Lock()
				if _, ok := f.seen[r.UUID]; !ok {
					f.seen[r.UUID] = now
				}
				f.mu.Unlock()
			}
		}
	}()
	return f
}

func (f *finals) get() map[string]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.seen)
}

// trial is what the benchmark reads of one child of the matrix.
type trial struct {
	index   int
	uuid    string
	created time.Time // its first condition (the engine's clock)
	ended   time.Time // its final condition
}

// slow is one of the slowest steps: to the creation of trial index.
type slow struct {
	index int
	step  time.Duration
	seen  time.Duration // of it, until the end before was seen in etcd (-1: not seen)
}

// result is what one run of the benchmark measured.
type result struct {
	kind      string
	total     int // the most trials the matrix runs, as its graph says
	specBytes int
	submit    time.Duration
	complete  time.Duration
	status    store.Status
	summary   string
	// The children, listed from the store a page at a time.
	children  int
	byStatus  map[store.Status]int
	badNodes  int // children whose node is no trial index, or one seen before
	maxIndex  int // the largest trial index of a child
	succeeded int
	list      time.Duration // to list and read them
	graph     time.Duration // to read the matrix's graph (ops get --graph)
	// firstCreated is from submission to the creation of trial 0.
	firstCreated time.Duration
	// progress is when (from submission) a tenth, half, nine tenths and
	// all of the trials had been dispatched.
	progress [4]time.Duration
	// steps are the engine's steps between trials (see doc.go): from the
	// end (final condition) of the last trial to end before a trial was
	// created, to that creation; parts are the executor's end of that
	// trial to its success decided, and the creation to the dispatch;
	// whole is the executor's end to the next dispatch.
	steps    []time.Duration
	endParts []time.Duration
	dispatch []time.Duration
	whole    []time.Duration
	// The step in two: the end's record written and seen by a watch of
	// etcd (committed), and from then to the creation (afterCommit).
	committed   []time.Duration
	afterCommit []time.Duration
	slowest     []slow
	writes      int64
	dbSize      int64
	// The process's resident set (engine and embedded etcd), in KiB: at
	// its peak while etcd and the engine started (rssStartup); once they
	// had (rssBase); at its peak since then (or since the process
	// started, when the peak cannot be reset: rssReset) once the matrix
	// was submitted and when it ended (rss); and when it ended, anonymous
	// and file-backed (rssNow).
	rssStartup, rssBase, rssSubmitted, rss int64
	// The peak once the children were read back a page at a time, and
	// once the graph (every child at once) was.
	rssListed, rssGraph int64
	rssReset            bool
	baseSplit           string        // rssBase, anonymous and file-backed
	heapBase            procstat.Heap // the Go heap then
	rssNow              string
	heapEnd, heapPeak   procstat.Heap
}

func main() {
	shape := flag.String("shape", "grid", "grid, chain or hyperband")
	n := flag.Int("n", 0, "grid: points (N1 × N2 = n; default 10000); chain: trials (default 200)")
	search := flag.String("search", "random", "chain: the matrix's kind, random or mapping")
	maxIter := flag.Int("max-iter", 81, "hyperband: maxIterations (eta 3; 81 runs 206 trials in 15 rungs)")
	cache := flag.Bool("cache", true, "trials look the cache up (each misses), as a Polyaxonfile that leaves the cache on does; false disables it")
	opTime := flag.Duration("op-time", 0, "the mean time a trial takes (uniform from 0 to twice it, on a timer); 0: none")
	repeat := flag.Int("repeat", 1, "times to run the matrix, each on a fresh etcd and engine; the report ends with the medians")
	seed := flag.Uint64("seed", 1, "seed of the random and hyperband searches and of the trials' times")
	workers := flag.Int("workers", 0, "the engine's workers (0: the engine's default)")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up on a matrix that has not ended by then")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile to this file, taken when the live heap was largest")
	flag.Parse()
	log.SetFlags(0)

	c := config{shape: *shape, search: *search, n: *n, maxIter: *maxIter, cache: *cache, opTime: *opTime, seed: *seed,
		workers: *workers, timeout: *timeout, memProfile: *memProfile}
	switch c.shape {
	case "grid":
		if c.n == 0 {
			c.n = 10000
		}
	case "chain":
		if c.n == 0 {
			c.n = 200
		}
		if c.search != "random" && c.search != "mapping" {
			log.Fatalf("-search %q: want random or mapping", c.search)
		}
	case "hyperband":
		if c.maxIter < 3 {
			log.Fatalf("-max-iter %d: want at least 3", c.maxIter)
		}
	default:
		log.Fatalf("-shape %q: want grid, chain or hyperband", c.shape)
	}
	if c.n < 1 && c.shape != "hyperband" {
		log.Fatalf("-n %d: want at least 1", c.n)
	}
	if *repeat < 1 {
		log.Fatalf("-repeat %d: want at least 1", *repeat)
	}
	spec := polyaxonfile(c)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%d CPUs, load average %s\n", runtime.NumCPU(), procstat.LoadAverage())
	var results []result
	failed := false
	for i := range *repeat {
		r, err := once(c, spec)
		if err != nil {
			pprof.StopCPUProfile()
			log.Fatalf("run %d: %v", i+1, err)
		}
		results = append(results, r)
		if bad := report(c, i+1, r); bad != "" {
			fmt.Printf("  FAILED: %s\n", bad)
			failed = true
		}
		fmt.Printf("  load average after                   %s\n", procstat.LoadAverage())
	}
	pprof.StopCPUProfile()
	table(c, results)
	if failed {
		os.Exit(1)
	}
}

// once runs the matrix on a fresh etcd and engine.
func once(c config, spec string) (result, error) {
	res := result{specBytes: len(spec), byStatus: map[store.Status]int{}}
	ctx := context.Background()
	// What the runs before left is given back, and the peak resident set
	// starts again from what the process holds now.
	debug.FreeOSMemory()
	res.rssReset = procstat.ResetPeakRSS()

	dir, err := os.MkdirTemp("", "plexus-bench-sweep")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	emb, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		return res, err
	}
	defer emb.Close()
	cli := emb.Client()
	defer cli.Close()

	inst := instant.Taking(c.opTime, c.seed)
	var ex executor.Executor = inst
	if c.shape == "hyperband" {
		ex = &scored{Executor: inst, loss: map[executor.RunRef]float64{}}
	}
	st := store.New(cli, "/bench/", nil)
	// A long resync: progress is what events bring, not the periodic
	// re-read of every active run.
	eng, err := engine.New(engine.Config{Store: st, Executor: ex, Resync: time.Minute, Workers: c.workers})
	if err != nil {
		return res, err
	}
	engCtx, stopEngine := context.WithCancel(ctx)
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(engCtx) }()
	defer func() { stopEngine(); <-engDone }()
	for deadline := time.Now().Add(30 * time.Second); !eng.Leading(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the engine did not lead within 30s")
		}
	}
	// etcd's metrics hold the last store opened in the process (mvcc's
	// report functions close over it): the etcd of the run before is
	// garbage only now that this one has started. It is collected and
	// given back, and the peak starts again from here, so that a run
	// does not carry the last one's heap.
	res.rssStartup = procstat.KiB("VmHWM")
	debug.FreeOSMemory()
	res.rssReset = procstat.ResetPeakRSS() && res.rssReset
	res.rssBase = procstat.KiB("VmRSS")
	res.baseSplit = procstat.Status("RssAnon") + " anonymous, " + procstat.Status("RssFile") + " file-backed"
	res.heapBase = procstat.ReadHeap()
	rev0 := figures.Revision(st)

	var seen *finals
	if c.shape != "grid" {
		watchCtx, stopWatch := context.WithCancel(ctx)
		seen = watchFinals(watchCtx, cli, st.Prefix()+"runs/", rev0+1)
		defer func() { stopWatch(); <-seen.done }()
	}
	sampler := procstat.StartHeapSampler(c.memProfile)
	start := time.Now()
	run, err := eng.Submit(ctx, engine.Submission{Spec: spec, Source: "sweep.yaml"})
	if err != nil {
		sampler.Stop()
		return res, fmt.Errorf("submitting: %w", err)
	}
	submitted := time.Now()
	res.submit = submitted.Sub(start)
	res.rssSubmitted = procstat.KiB("VmHWM")

	var mat *store.Run
	for deadline := submitted.Add(c.timeout); ; time.Sleep(5 * time.Millisecond) {
		if mat, _, err = st.Get(ctx, run.UUID); err != nil {
			sampler.Stop()
			return res, err
		}
		if mat.Status.Final() {
			break
		}
		if time.Now().After(deadline) {
			sampler.Stop()
			return res, fmt.Errorf("matrix %s still %s after %v", run.UUID, mat.Status, c.timeout)
		}
	}
	// The matrix's last condition says when it ended; the poll only
	// finds out.
	last := mat.Conditions[len(mat.Conditions)-1]
	res.complete = last.Time.Sub(submitted.Round(0))
	res.status, res.summary = mat.Status, last.Message
	res.heapPeak = sampler.Stop()
	res.heapEnd = procstat.ReadHeap()
	res.heapPeak = res.heapPeak.Max(res.heapEnd)
	res.rss = procstat.KiB("VmHWM") // before the children are read back for the figures
	res.rssNow = procstat.Status("RssAnon") + " anonymous, " + procstat.Status("RssFile") + " file-backed"
	res.writes = figures.Revision(st) - rev0
	if s, err := cli.Status(ctx, emb.Endpoint); err == nil {
		res.dbSize = s.DbSize
	}

	listStart := time.Now()
	trials, err := listTrials(ctx, st, run.UUID, &res)
	if err != nil {
		return res, err
	}
	res.list = time.Since(listStart)
	res.rssListed = procstat.KiB("VmHWM")
	graphStart := time.Now()
	g, err := eng.Graph(ctx, run.UUID)
	if err != nil {
		return res, fmt.Errorf("reading the graph: %w", err)
	}
	res.graph = time.Since(graphStart)
	res.rssGraph = procstat.KiB("VmHWM")
	if g.Matrix != nil {
		res.kind, res.total = g.Matrix.Kind, g.Matrix.Total
	}

	dispatched, ended := inst.Dispatched(), inst.Ended()
	since := make([]time.Duration, 0, len(dispatched))
	for _, t := range dispatched {
		since = append(since, t.Sub(submitted))
	}
	slices.Sort(since)
	for i, f := range []float64{0.1, 0.5, 0.9, 1} {
		res.progress[i] = figures.Pct(since, f)
	}
	for _, t := range trials {
		if t.index == 0 && !t.created.IsZero() {
			res.firstCreated = t.created.Sub(submitted.Round(0))
		}
	}
	if c.shape != "grid" {
		steps(&res, trials, dispatched, ended, seen.get())
	}
	return res, nil
}

// listTrials reads the matrix's children from the store, a page at a
// time, counting them by status and checking that each is a distinct
// trial; it keeps what the steps need of each.
func listTrials(ctx context.Context, st *store.Store, parent string, res *result) ([]trial, error) {
	const page = 1000
	var out []trial
	seen := map[int]bool{}
	after := ""
	for {
		uuids, more, err := st.ChildrenAfter(ctx, parent, after, page)
		if err != nil {
			return nil, err
		}
		if len(uuids) == 0 {
			break
		}
		after = uuids[len(uuids)-1]
		runs, err := st.GetMany(ctx, uuids)
		if err != nil {
			return nil, err
		}
		if len(runs) != len(uuids) {
			return nil, fmt.Errorf("%d children listed, %d read", len(uuids), len(runs))
		}
		for _, r := range runs {
			res.children++
			res.byStatus[r.Status]++
			if r.Status == store.Succeeded {
				res.succeeded++
			}
			i, err := strconv.Atoi(r.Node)
			if err != nil || i < 0 || seen[i] {
				res.badNodes++
				continue
			}
			seen[i] = true
			res.maxIndex = max(res.maxIndex, i)
			t := trial{index: i, uuid: r.UUID}
			if len(r.Conditions) > 0 {
				t.created = r.Conditions[0].Time
				if r.Status.Final() {
					t.ended = r.Conditions[len(r.Conditions)-1].Time
				}
			}
			out = append(out, t)
		}
		if !more {
			break
		}
	}
	return out, nil
}

// steps finds the trials created when every trial created before them
// had ended, and measures the engine's step to each from the last of
// those ends.
func steps(res *result, trials []trial, dispatched, ended, seen map[string]time.Time) {
	slices.SortFunc(trials, func(a, b trial) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.index, b.index))
	})
	var last *trial  // of the trials created so far, the one that ended last
	running := false // whether one of them has not ended
	for i := range trials {
		t := &trials[i]
		if last != nil && !running && !t.created.Before(last.ended) {
			res.steps = append(res.steps, t.created.Sub(last.ended))
			sl := slow{index: t.index, step: t.created.Sub(last.ended), seen: -1}
			if at, ok := seen[last.uuid]; ok {
				sl.seen = at.Round(0).Sub(last.ended)
				res.committed = append(res.committed, sl.seen)
				res.afterCommit = append(res.afterCommit, t.created.Sub(at.Round(0)))
			}
			res.slowest = append(res.slowest, sl)
			d, sent := dispatched[t.uuid]
			if sent {
				res.dispatch = append(res.dispatch, d.Round(0).Sub(t.created))
			}
			if e, ok := ended[last.uuid]; ok {
				res.endParts = append(res.endParts, last.ended.Sub(e.Round(0)))
				if sent {
					res.whole = append(res.whole, d.Sub(e))
				}
			}
		}
		if t.ended.IsZero() {
			running = true
		} else if last == nil || t.ended.After(last.ended) {
			last = t
		}
	}
	for _, s := range [][]time.Duration{res.steps, res.endParts, res.dispatch, res.whole, res.committed, res.afterCommit} {
		slices.Sort(s)
	}
	slices.SortFunc(res.slowest, func(a, b slow) int { return cmp.Compare(b.step, a.step) })
	res.slowest = res.slowest[:min(3, len(res.slowest))]
}

// check says what is wrong with the matrix's end: "" when it succeeded
// with every trial it should have, each succeeded.
func check(c config, r result) string {
	want := r.total
	if c.shape == "grid" || c.shape == "chain" {
		want = c.n
	}
	var bad []string
	if r.status != store.Succeeded {
		bad = append(bad, fmt.Sprintf("the matrix is %s, not succeeded", r.status))
	}
	if r.children != want {
		bad = append(bad, fmt.Sprintf("%d children, want %d", r.children, want))
	}
	if r.succeeded != r.children {
		bad = append(bad, fmt.Sprintf("%d of %d children succeeded", r.succeeded, r.children))
	}
	if r.badNodes > 0 {
		bad = append(bad, fmt.Sprintf("%d children with no trial index of their own", r.badNodes))
	}
	if r.children > 0 && r.maxIndex >= r.children {
		bad = append(bad, fmt.Sprintf("trial indices up to %d among %d children", r.maxIndex, r.children))
	}
	return strings.Join(bad, "; ")
}

// report prints one run's figures; it returns what is wrong with the
// matrix's end ("" if nothing).
func report(c config, i int, r result) string {
	what := fmt.Sprintf("%s matrix", r.kind)
	switch c.shape {
	case "grid":
		n1, n2 := gridSides(c.n)
		what = fmt.Sprintf("grid matrix of %d points (%d × %d)", c.n, n1, n2)
	case "chain":
		what = fmt.Sprintf("%s matrix of %d trials, concurrency 1", r.kind, c.n)
	case "hyperband":
		what = fmt.Sprintf("hyperband matrix, maxIterations %d, eta 3 (up to %d trials)", c.maxIter, r.total)
	}
	fmt.Printf("run %d: %s, op-time %v, cache %v (%.1f KiB of Polyaxonfile), %s: %s\n", i, what, c.opTime, c.cache,
		float64(r.specBytes)/1024, r.status, r.summary)
	fmt.Printf("  submission (parse, compile, store)   %v\n", r.submit.Round(time.Millisecond))
	fmt.Printf("  submission -> trial 0 created        %v\n", r.firstCreated.Round(10*time.Microsecond))
	fmt.Printf("  submission -> matrix ended           %v\n", r.complete.Round(time.Millisecond))
	fmt.Printf("  throughput                           %.0f trials/s\n", float64(r.children)/r.complete.Seconds())
	fmt.Printf("  dispatched (from submission)         10%% %v, 50%% %v, 90%% %v, all %v; the matrix ended %v after the last\n",
		r.progress[0].Round(time.Millisecond), r.progress[1].Round(time.Millisecond), r.progress[2].Round(time.Millisecond),
		r.progress[3].Round(time.Millisecond), (r.complete - r.progress[3]).Round(time.Millisecond))
	if c.shape != "grid" {
		fmt.Printf("  step: a trial's end (final condition) -> the next trial created (first condition), %d steps\n", len(r.steps))
		fmt.Printf("    p50 %v  p90 %v  max %v\n", figures.Pct(r.steps, 0.5), figures.Pct(r.steps, 0.9), figures.Pct(r.steps, 1))
		fmt.Printf("    around it, p50 / p90 / max:\n")
		for _, p := range []struct {
			what string
			ds   []time.Duration
		}{
			{"executor's end -> its success decided", r.endParts},
			{"(step) success decided -> its record seen in etcd", r.committed},
			{"(step) record seen in etcd -> next trial created", r.afterCommit},
			{"next trial created -> dispatched", r.dispatch},
			{"executor's end -> next trial dispatched (the whole)", r.whole},
		} {
			fmt.Printf("      %-54s %v / %v / %v\n", p.what, figures.Pct(p.ds, 0.5), figures.Pct(p.ds, 0.9), figures.Pct(p.ds, 1))
		}
		var slowest []string
		for _, s := range r.slowest {
			what := fmt.Sprintf("to trial %d %v", s.index, s.step.Round(10*time.Microsecond))
			if s.seen >= 0 {
				what += fmt.Sprintf(" (%v of it to etcd)", s.seen.Round(10*time.Microsecond))
			}
			slowest = append(slowest, what)
		}
		fmt.Printf("    slowest: %s\n", strings.Join(slowest, ", "))
	}
	var statuses []string
	for _, s := range slices.Sorted(maps.Keys(r.byStatus)) {
		statuses = append(statuses, fmt.Sprintf("%d %s", r.byStatus[s], s))
	}
	fmt.Printf("  children (listed from the store)     %d: %s; listed and read a page at a time in %v (peak RSS then %s)\n",
		r.children, strings.Join(statuses, ", "), r.list.Round(time.Millisecond), kib(r.rssListed))
	fmt.Printf("  the graph (ops get --graph)          %v (peak RSS then %s)\n", r.graph.Round(time.Millisecond), kib(r.rssGraph))
	fmt.Printf("  etcd writes                          %d (%.1f per trial), db %.1f MiB\n", r.writes,
		float64(r.writes)/float64(max(r.children, 1)), float64(r.dbSize)/(1<<20))
	fmt.Printf("  Go heap in use                       %.1f MiB at the end, %.1f MiB at most (objects, live or not yet swept)\n",
		mib(r.heapEnd.InUse), mib(r.heapPeak.InUse))
	fmt.Printf("  Go live heap                         %.1f MiB at the end, %.1f MiB at most (marked by the last GC; sampled every 100ms)\n",
		mib(r.heapEnd.Live), mib(r.heapPeak.Live))
	from := "since etcd and the engine had started"
	if !r.rssReset {
		from = "since the process started: the peak could not be reset"
	}
	fmt.Printf("  peak RSS                             %s (the process: engine and embedded etcd, %s); %s at most as they started, %s once they had, %s at most once the matrix was submitted\n",
		kib(r.rss), from, kib(r.rssStartup), kib(r.rssBase), kib(r.rssSubmitted))
	fmt.Printf("  RSS when the matrix ended            %s\n", r.rssNow)
	fmt.Printf("  RSS once etcd and the engine started %s; Go heap in use %.1f MiB, live %.1f MiB\n", r.baseSplit,
		mib(r.heapBase.InUse), mib(r.heapBase.Live))
	return check(c, r)
}

// table prints every run and the medians.
func table(c config, rs []result) {
	fmt.Printf("\n%-7s %10s %12s %9s %12s", "run", "submit", "to end", "trials/s", "peak RSS")
	if c.shape != "grid" {
		fmt.Printf(" %10s %10s %10s", "step p50", "step p90", "step max")
	}
	fmt.Println()
	row := func(name string, submit, complete time.Duration, rate float64, rss int64, p50, p90, pmax time.Duration) {
		fmt.Printf("%-7s %10v %12v %9.0f %12s", name, submit.Round(time.Millisecond), complete.Round(time.Millisecond), rate, kib(rss))
		if c.shape != "grid" {
			fmt.Printf(" %10v %10v %10v", p50, p90, pmax)
		}
		fmt.Println()
	}
	var submit, complete, p50, p90, pmax []time.Duration
	var rate []float64
	var rss []int64
	for i, r := range rs {
		x := float64(r.children) / r.complete.Seconds()
		a, b, m := figures.Pct(r.steps, 0.5), figures.Pct(r.steps, 0.9), figures.Pct(r.steps, 1)
		row(strconv.Itoa(i+1), r.submit, r.complete, x, r.rss, a, b, m)
		submit, complete, rate, rss = append(submit, r.submit), append(complete, r.complete), append(rate, x), append(rss, r.rss)
		p50, p90, pmax = append(p50, a), append(p90, b), append(pmax, m)
	}
	if len(rs) > 1 {
		row("median", median(submit), median(complete), median(rate), median(rss), median(p50), median(p90), median(pmax))
	}
}

// median is the middle of xs (the upper one of an even count).
func median[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func kib(k int64) string {
	if k < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(k)/1024)
}
