// Command dag measures the engine driving one large dag run on an embedded
// etcd, with an executor that succeeds every attempt as it is dispatched
// (or, with -op-time, after a random time that holds no CPU):
// how long submission takes (parse, compile, store), how long the dag
// takes from then to its end, nodes per second, the overhead of each step
// (from the end of an operation's last upstream to its dispatch), and the
// memory of the process, which holds the engine and etcd both.
//
// Three shapes: layered, n operations in layers of -width, each depending
// on 2 or 3 operations of the layer before (a fixed seed); fan, a root, n
// operations after it and a sink after them all (n+2 operations); and
// chain, n operations one after the other, where a step waits for nothing
// but the engine's own latency.
//
//	go run ./e2e/bench/dag -shape layered -n 10000
//	go run ./e2e/bench/dag -shape fan -n 100000
//	go run ./e2e/bench/dag -shape chain -n 1000
//	go run ./e2e/bench/dag -shape layered -n 10000 -op-time 100ms
//
// With operations that take no time, the engine is saturated: every
// layer's operations end at once and wait on the engine together, so a
// step is mostly the wait behind the others (on average, the operations
// waiting at once over the throughput, which the report shows). With
// -op-time, operations take from 0 to twice that, their ends spread out,
// and a step is the engine's own overhead.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/e2e/bench/figures"
	"github.com/plexus-ml/plexus/e2e/bench/instant"
	"github.com/plexus-ml/plexus/e2e/bench/procstat"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

// graph is a dag's operations and the upstreams of each, in an order
// where every upstream comes first.
type graph struct {
	names []string
	ups   map[string][]string
}

// layered is n operations in layers of width; each operation past the
// first layer depends on 2 or 3 distinct operations of the layer before.
func layered(n, width int, seed uint64) graph {
	rng := rand.New(rand.NewPCG(seed, seed))
	g := graph{ups: map[string][]string{}}
	var prev []string
	for layer := 0; len(g.names) < n; layer++ {
		var cur []string
		for i := 0; i < width && len(g.names) < n; i++ {
			name := fmt.Sprintf("l%d-%d", layer, i)
			if len(prev) > 0 {
				k := min(2+rng.IntN(2), len(prev))
				for _, j := range rng.Perm(len(prev))[:k] {
					g.ups[name] = append(g.ups[name], prev[j])
				}
			}
			g.names = append(g.names, name)
			cur = append(cur, name)
		}
		prev = cur
	}
	return g
}

// fan is a root, n operations after it, and a sink after all of them.
func fan(n int) graph {
	g := graph{names: []string{"root"}, ups: map[string][]string{}}
	mids := make([]string, n)
	for i := range mids {
		mids[i] = fmt.Sprintf("m%d", i+1)
		g.names = append(g.names, mids[i])
		g.ups[mids[i]] = []string{"root"}
	}
	g.names = append(g.names, "sink")
	g.ups["sink"] = mids
	return g
}

// chain is n operations, each after the one before.
func chain(n int) graph {
	g := graph{ups: map[string][]string{}}
	for i := range n {
		name := fmt.Sprintf("c%d", i+1)
		if i > 0 {
			g.ups[name] = []string{g.names[i-1]}
		}
		g.names = append(g.names, name)
	}
	return g
}

// polyaxonfile is the operation running g as a dag: one component, and
// every operation a dagRef to it.
// polyaxonfile is the dag of g, every operation the same no-op. Without
// cache, the cache is disabled (every operation would otherwise reuse the
// first one's result); with it, each operation has a param of its own,
// so that each looks the cache up and misses.
func polyaxonfile(g graph, cache bool) string {
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: operation\nname: bench\ncomponent:\n  name: bench\n  run:\n    kind: dag\n    operations:\n")
	for i, name := range g.names {
		fmt.Fprintf(&b, "      - {name: %s, dagRef: noop", name)
		if cache {
			fmt.Fprintf(&b, ", params: {i: {value: %d}}", i)
		}
		if ups := g.ups[name]; len(ups) > 0 {
			fmt.Fprintf(&b, ", dependencies: [%s]", strings.Join(ups, ", "))
		}
		b.WriteString("}\n")
	}
	if cache {
		b.WriteString("    components:\n      - {name: noop, inputs: [{name: i, type: int}], run: {kind: job, container: {image: alpine, command: ['true']}}}\n")
	} else {
		b.WriteString("    components:\n      - {name: noop, cache: {disable: true}, run: {kind: job, container: {image: alpine, command: ['true']}}}\n")
	}
	return b.String()
}

// slow is one of the slowest steps.
type slow struct {
	node string
	step time.Duration
}

// result is what one run of the benchmark measured.
type result struct {
	nodes     int
	submit    time.Duration
	complete  time.Duration
	status    store.Status
	summary   string
	steps     []time.Duration
	slowest   []slow
	parts     [4][]time.Duration // the step in parts: see report
	missing   int                // operations never dispatched
	writes    int64
	dbSize    int64
	rss       string // the process's peak resident set when the dag ended
	rssNow    string // its resident set then: anonymous (the heaps), file-backed (the binary, etcd's mapped db)
	heapEnd   procstat.Heap
	heapPeak  procstat.Heap
	specBytes int
	graph     time.Duration // to read the dag's graph once it ended
	// cpu is the process's CPU time (engine and etcd) from submission to
	// the dag's end, cpuSubmit that of the submission alone.
	cpu, cpuSubmit time.Duration
	// rssSubmitted is the process's peak resident set once the dag was
	// submitted (parse and compile hold the whole file at once).
	rssSubmitted string
	// rssReset says the peak resident set was started again once the dag
	// was submitted: rss is then the run's own; heapSubmitted is the
	// largest heap of the submission.
	rssReset      bool
	heapSubmitted procstat.Heap
	// progress is when (from submission) a tenth, half, nine tenths and
	// all of the operations had been dispatched.
	progress [4]time.Duration
}

func main() {
	shape := flag.String("shape", "layered", "layered, fan or chain")
	n := flag.Int("n", 10000, "layered, chain: operations in all; fan: operations between the root and the sink (n+2 in all)")
	width := flag.Int("width", 100, "operations per layer of the layered shape")
	seed := flag.Uint64("seed", 1, "seed of the layered shape's dependencies")
	runs := flag.Int("runs", 1, "times to run the dag, each on a fresh etcd and engine")
	workers := flag.Int("workers", 0, "the engine's workers (0: the engine's default)")
	cache := flag.Bool("cache", false, "operations use the cache (each misses): the cost of the lookups")
	opTime := flag.Duration("op-time", 0, "the mean time an operation takes (uniform from 0 to twice it, on a timer); 0: none")
	timeout := flag.Duration("timeout", 20*time.Minute, "give up on a dag that has not ended by then")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the runs (submission to end) to this file")
	memProfile := flag.String("memprofile", "", "write a heap profile to this file, taken when the heap was largest, and one to FILE.end when the dag ended")
	mutexProfile := flag.String("mutexprofile", "", "write a profile of mutex contention in the runs to this file")
	flag.Parse()
	log.SetFlags(0)

	var g graph
	switch *shape {
	case "layered":
		g = layered(*n, *width, *seed)
	case "fan":
		g = fan(*n)
	case "chain":
		g = chain(*n)
	default:
		log.Fatalf("-shape %q: want layered, fan or chain", *shape)
	}
	spec := polyaxonfile(g, *cache)

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
	if *mutexProfile != "" {
		runtime.SetMutexProfileFraction(10)
	}
	fmt.Printf("%d CPUs, load average %s\n", runtime.NumCPU(), procstat.LoadAverage())
	var results []result
	for i := range *runs {
		r, err := once(g, spec, *workers, *opTime, *seed, *timeout, *memProfile)
		if err != nil {
			pprof.StopCPUProfile()
			log.Fatalf("run %d: %v", i+1, err)
		}
		results = append(results, r)
		report(*shape, i+1, r)
		fmt.Printf("  load average after                  %s\n", procstat.LoadAverage())
	}
	pprof.StopCPUProfile()
	if *mutexProfile != "" {
		if err := procstat.WriteProfile("mutex", *mutexProfile); err != nil {
			log.Fatal(err)
		}
	}
	if len(results) > 1 {
		var c, s, u []time.Duration
		for _, r := range results {
			c, s, u = append(c, r.complete), append(s, r.submit), append(u, r.cpu)
		}
		slices.Sort(c)
		slices.Sort(s)
		slices.Sort(u)
		fmt.Printf("median of %d runs: submission %v, completion %v, %.0f nodes/s, CPU %.0f µs per operation\n", len(results),
			s[len(s)/2].Round(time.Millisecond), c[len(c)/2].Round(time.Millisecond),
			float64(results[0].nodes)/c[len(c)/2].Seconds(), float64(u[len(u)/2].Microseconds())/float64(results[0].nodes))
	}
}

// once runs the dag of g on a fresh etcd and engine.
func once(g graph, spec string, workers int, opTime time.Duration, seed uint64, timeout time.Duration, memProfile string) (result, error) {
	res := result{nodes: len(g.names), specBytes: len(spec)}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "plexus-bench-dag")
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

	ex := instant.Taking(opTime, seed)
	st := store.New(cli, "/bench/", nil)
	// A long resync: progress is what events bring, not the periodic
	// re-read of every active run.
	eng, err := engine.New(engine.Config{Store: st, Executor: ex, Resync: time.Minute, Workers: workers})
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
	rev0 := figures.Revision(st)

	sampler := procstat.StartHeapSampler(memProfile)
	start, cpu0 := time.Now(), procstat.CPU()
	run, err := eng.Submit(ctx, engine.Submission{Spec: spec, Source: "bench.yaml"})
	if err != nil {
		return res, fmt.Errorf("submitting: %w", err)
	}
	submitted, cpu1 := time.Now(), procstat.CPU()
	res.cpuSubmit = cpu1 - cpu0
	res.submit = submitted.Sub(start)
	res.rssSubmitted = procstat.Status("VmHWM")
	res.heapSubmitted = sampler.Peak()
	res.rssReset = procstat.ResetPeakRSS() // the peak of the run on its own from here

	var dag *store.Run
	for deadline := submitted.Add(timeout); ; time.Sleep(5 * time.Millisecond) {
		if dag, _, err = st.Get(ctx, run.UUID); err != nil {
			return res, err
		}
		if dag.Status.Final() {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("dag %s still %s after %v", run.UUID, dag.Status, timeout)
		}
	}
	// The dag's last condition says when it ended; the poll only finds out.
	end := dag.Conditions[len(dag.Conditions)-1].Time
	res.complete = end.Sub(submitted.Round(0))
	res.status, res.summary = dag.Status, dag.Conditions[len(dag.Conditions)-1].Message
	res.cpu = procstat.CPU() - cpu1
	res.heapPeak = sampler.Stop()
	if memProfile != "" {
		// What the engine and etcd hold once the dag ended.
		runtime.GC()
		if err := procstat.WriteProfile("heap", memProfile+".end"); err != nil {
			return res, err
		}
	}
	res.heapEnd = procstat.ReadHeap()
	res.rss = procstat.Status("VmHWM") // before the children are read back for the figures
	res.rssNow = procstat.Status("RssAnon") + " anonymous, " + procstat.Status("RssFile") + " file-backed"
	res.heapPeak = res.heapPeak.Max(res.heapEnd)
	// What `plexus ops get --graph` and `plexus run` ask first.
	graphStart := time.Now()
	if _, err := eng.Graph(ctx, run.UUID); err != nil {
		return res, fmt.Errorf("reading the graph: %w", err)
	}
	res.graph = time.Since(graphStart)
	res.writes = figures.Revision(st) - rev0
	if s, err := cli.Status(ctx, emb.Endpoint); err == nil {
		res.dbSize = s.DbSize
	}

	var dagStart time.Time // the dag's move to running
	for _, c := range dag.Conditions {
		if c.Type == store.Running {
			dagStart = c.Time
			break
		}
	}
	children, err := st.ChildRuns(ctx, run.UUID)
	if err != nil {
		return res, err
	}
	child := make(map[string]*store.Run, len(children))
	for _, ch := range children {
		child[ch.Node] = ch
	}
	dispatched := ex.Dispatched()
	var since []time.Duration
	for _, t := range dispatched {
		since = append(since, t.Sub(submitted))
	}
	slices.Sort(since)
	for i, f := range []float64{0.1, 0.5, 0.9, 1} {
		res.progress[i] = figures.Pct(since, f)
	}
	ends := ex.Ended()
	ended := func(name string) time.Time { // on the executor's clock
		if ch := child[name]; ch != nil {
			return ends[ch.UUID]
		}
		return time.Time{}
	}
	var slows []slow
	for _, name := range g.names {
		ch := child[name]
		if ch == nil {
			res.missing++
			continue
		}
		at, ok := dispatched[ch.UUID]
		if !ok {
			res.missing++
			continue
		}
		// From the end of its last upstream, or for a root from the dag's
		// start (the engine's clock, on the wall).
		var last string
		var from time.Time
		for _, up := range g.ups[name] {
			if t := ended(up); t.After(from) {
				last, from = up, t
			}
		}
		var step time.Duration
		var recorded time.Time // the last upstream's end, as the engine recorded it
		if last == "" {
			step, recorded = at.Round(0).Sub(dagStart), dagStart
		} else {
			step = at.Sub(from)
			recorded = conditionTime(child[last], store.Succeeded)
			res.parts[0] = append(res.parts[0], recorded.Sub(from.Round(0)))
		}
		created, scheduled := conditionTime(ch, store.Created), conditionTime(ch, store.Scheduled)
		res.parts[1] = append(res.parts[1], created.Sub(recorded))
		res.parts[2] = append(res.parts[2], scheduled.Sub(created))
		res.parts[3] = append(res.parts[3], at.Round(0).Sub(scheduled))
		res.steps = append(res.steps, step)
		slows = append(slows, slow{name, step})
	}
	slices.SortFunc(slows, func(a, b slow) int { return cmp.Compare(b.step, a.step) })
	res.slowest = slows[:min(3, len(slows))]
	for i := range res.parts {
		slices.Sort(res.parts[i])
	}
	slices.Sort(res.steps)
	return res, nil
}

// conditionTime is when the run's first condition of type t was decided
// (the engine's clock, on the wall).
func conditionTime(r *store.Run, t store.Status) time.Time {
	for _, c := range r.Conditions {
		if c.Type == t {
			return c.Time
		}
	}
	return time.Time{}
}

func report(shape string, i int, r result) {
	fmt.Printf("run %d: %s dag of %d operations (%.1f MiB of Polyaxonfile), %s: %s\n", i, shape, r.nodes,
		float64(r.specBytes)/(1<<20), r.status, r.summary)
	fmt.Printf("  submission (parse, compile, store)  %v\n", r.submit.Round(time.Millisecond))
	fmt.Printf("  submission -> dag ended             %v\n", r.complete.Round(time.Millisecond))
	fmt.Printf("  throughput                          %.0f nodes/s\n", float64(r.nodes)/r.complete.Seconds())
	fmt.Printf("  CPU (engine and etcd)               %v for the submission; %v from it to the dag's end, %.0f µs per operation, %.2f cores\n",
		r.cpuSubmit.Round(time.Millisecond), r.cpu.Round(time.Millisecond), float64(r.cpu.Microseconds())/float64(r.nodes), r.cpu.Seconds()/r.complete.Seconds())
	fmt.Printf("  dispatched (from submission)        10%% %v, 50%% %v, 90%% %v, all %v; the dag ended %v after the last\n",
		r.progress[0].Round(time.Millisecond), r.progress[1].Round(time.Millisecond), r.progress[2].Round(time.Millisecond),
		r.progress[3].Round(time.Millisecond), (r.complete - r.progress[3]).Round(time.Millisecond))
	fmt.Printf("  step (last upstream ended -> dispatched; roots: dag started -> dispatched)\n")
	fmt.Printf("    p50 %v  p90 %v  p99 %v  max %v  (%d steps)\n", figures.Pct(r.steps, 0.5), figures.Pct(r.steps, 0.9),
		figures.Pct(r.steps, 0.99), figures.Pct(r.steps, 1), len(r.steps))
	var sum time.Duration
	for _, s := range r.steps {
		sum += s
	}
	if len(r.steps) > 0 && r.complete > 0 {
		// Little's law: the mean step is the mean number of operations
		// waiting on the engine at once over its throughput.
		fmt.Printf("    mean %v = %.1f operations waiting on the engine at once, on average, / %.0f nodes/s\n",
			(sum / time.Duration(len(r.steps))).Round(10*time.Microsecond), sum.Seconds()/r.complete.Seconds(),
			float64(r.nodes)/r.complete.Seconds())
	}
	fmt.Printf("    in parts, p50 / p99:\n")
	for i, what := range []string{
		"last upstream ended -> its success decided",
		"-> its run's creation decided (before its batch is written)",
		"-> scheduled (compiled, queued, scheduled decided)",
		"-> dispatched",
	} {
		fmt.Printf("      %-62s %v / %v\n", what, figures.Pct(r.parts[i], 0.5), figures.Pct(r.parts[i], 0.99))
	}
	var slowest []string
	for _, s := range r.slowest {
		slowest = append(slowest, fmt.Sprintf("%s %v", s.node, s.step.Round(time.Millisecond)))
	}
	fmt.Printf("    slowest: %s\n", strings.Join(slowest, ", "))
	if r.missing > 0 {
		fmt.Printf("  NOT DISPATCHED                      %d operations\n", r.missing)
	}
	fmt.Printf("  the graph (ops get --graph)         %v\n", r.graph.Round(time.Millisecond))
	fmt.Printf("  etcd writes                         %d (%.1f per operation), db %.1f MiB\n", r.writes,
		float64(r.writes)/float64(r.nodes), float64(r.dbSize)/(1<<20))
	fmt.Printf("  Go heap in use                      %.1f MiB at the end, %.1f MiB at most (objects, live or not yet swept)\n",
		mib(r.heapEnd.InUse), mib(r.heapPeak.InUse))
	fmt.Printf("  Go live heap                        %.1f MiB at the end, %.1f MiB at most (marked by the last GC; sampled every 100ms)\n",
		mib(r.heapEnd.Live), mib(r.heapPeak.Live))
	since := "since it started"
	if r.rssReset {
		since = "from submission to the dag's end"
	}
	fmt.Printf("  peak RSS                            %s while submitting; %s %s (the process: engine and embedded etcd)\n", r.rssSubmitted, r.rss, since)
	fmt.Printf("  peak anonymous RSS                  %.0f MiB while submitting; %.0f MiB in all (without etcd's mapped db; sampled every 100ms)\n",
		float64(r.heapSubmitted.AnonKiB)/1024, float64(r.heapPeak.AnonKiB)/1024)
	fmt.Printf("  RSS when the dag ended              %s\n", r.rssNow)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
