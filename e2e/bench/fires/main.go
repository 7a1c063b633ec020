package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plexus-ml/plexus/e2e/bench/figures"
	"github.com/plexus-ml/plexus/e2e/bench/instant"
	"github.com/plexus-ml/plexus/e2e/bench/procstat"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
)

// target is the p99 of seen − nominal the fires should keep to.
const target = 100 * time.Millisecond

// config is what every run of the benchmark is given.
type config struct {
	schedules int
	fires     int
	frequency int // seconds
	lead      time.Duration
	workers   int
	resync    time.Duration
	timeout   time.Duration
}

// every is the schedules' frequency as a duration.
func (c config) every() time.Duration { return time.Duration(c.frequency) * time.Second }

// polyaxonfile is the schedule every run submits: startAt zero leaves it
// out (the schedule starts at its creation).
func polyaxonfile(c config, startAt time.Time) string {
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: operation\nname: tick\nschedule:\n  kind: interval\n")
	fmt.Fprintf(&b, "  frequency: %d\n  maxRuns: %d\n", c.frequency, c.fires)
	if !startAt.IsZero() {
		fmt.Fprintf(&b, "  startAt: %q\n", startAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("component:\n  name: tick\n  run: {kind: job, container: {image: x, command: [tick]}}\n")
	return b.String()
}

func main() {
	var c config
	flag.IntVar(&c.schedules, "schedules", 100, "concurrent interval schedules")
	flag.IntVar(&c.fires, "fires", 10, "fires of each schedule (its maxRuns)")
	flag.IntVar(&c.frequency, "frequency", 1, "seconds between a schedule's fires")
	flag.DurationVar(&c.lead, "lead", 2*time.Second, "the schedules start at the first whole second this long after submitting starts (their startAt); 0: no startAt, each starts at its creation")
	flag.IntVar(&c.workers, "workers", 0, "the engine's workers (0: the engine's default)")
	flag.DurationVar(&c.resync, "resync", 0, "how often the leader re-reads every active run (0: the engine's default)")
	flag.DurationVar(&c.timeout, "timeout", 0, "give up on schedules not ended by then (0: their last nominal time and two minutes)")
	repeat := flag.Int("repeat", 1, "times to run the schedules, each on a fresh etcd and engine; the report ends with the medians")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	traceFile := flag.String("trace", "", "write an execution trace of the runs to this file")
	flag.Parse()
	log.SetFlags(0)

	switch {
	case c.schedules < 1:
		log.Fatalf("-schedules %d: want at least 1", c.schedules)
	case c.fires < 1:
		log.Fatalf("-fires %d: want at least 1", c.fires)
	case c.frequency < 1:
		log.Fatalf("-frequency %d: want at least 1 (seconds)", c.frequency)
	case c.lead < 0:
		log.Fatalf("-lead %v: want 0 or more", c.lead)
	case *repeat < 1:
		log.Fatalf("-repeat %d: want at least 1", *repeat)
	}
	if c.timeout == 0 {
		c.timeout = c.lead + time.Duration(c.fires)*c.every() + 2*time.Minute
	}

	stop, err := startProfiles(*cpuProfile, *traceFile)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d CPUs, load average %s\n", runtime.NumCPU(), procstat.LoadAverage())
	var results []result
	failed := false
	for i := range *repeat {
		r, err := once(c)
		if err != nil {
			stop()
			log.Fatalf("run %d: %v", i+1, err)
		}
		results = append(results, r)
		if bad := report(c, i+1, r); bad != "" {
			fmt.Printf("  FAILED: %s\n", bad)
			failed = true
		}
		fmt.Printf("  load average after                 %s\n", procstat.LoadAverage())
	}
	stop()
	table(results)
	if failed {
		os.Exit(1)
	}
}

// startProfiles starts the CPU profile and the execution trace asked
// for; the function it returns stops them.
func startProfiles(cpuProfile, traceFile string) (func(), error) {
	var stops []func()
	stop := func() {
		for _, s := range stops {
			s()
		}
		stops = nil
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("creating the CPU profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("starting the CPU profile: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			stop()
			return nil, fmt.Errorf("creating the trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return nil, fmt.Errorf("starting the trace: %w", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	return stop, nil
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1, -1
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// once runs the schedules on a fresh etcd and engine.
func once(c config) (result, error) {
	res := result{schedules: c.schedules, want: c.schedules * c.fires}
	ctx := context.Background()
	// What the runs before left is given back, and the peak resident set
	// starts again from what the process holds now.
	debug.FreeOSMemory()
	res.rssReset = procstat.ResetPeakRSS()

	dir, err := os.MkdirTemp("", "plexus-bench-fires")
	if err != nil {
		return res, fmt.Errorf("creating etcd's directory: %w", err)
	}
	defer os.RemoveAll(dir)
	emb, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		return res, fmt.Errorf("starting etcd: %w", err)
	}
	defer emb.Close()
	cli := emb.Client()
	defer cli.Close()

	st := store.New(cli, "/bench/", nil)
	eng, err := engine.New(engine.Config{Store: st, Executor: instant.New(), Resync: c.resync, Workers: c.workers})
	if err != nil {
		return res, fmt.Errorf("making the engine: %w", err)
	}
	engCtx, stopEngine := context.WithCancel(ctx)
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(engCtx) }()
	defer func() { stopEngine(); <-engDone }()
	for deadline := time.Now().Add(30 * time.Second); !eng.Leading(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return res, errors.New("the engine did not lead within 30s")
		}
	}
	// As the sweep benchmark does: the etcd of the run before is garbage
	// only now that this one has started; the peak starts again here.
	debug.FreeOSMemory()
	res.rssReset = procstat.ResetPeakRSS() && res.rssReset
	res.rssBase = procstat.KiB("VmRSS")
	rev0 := figures.Revision(st)

	// The watch has a client of its own: on the engine's, it would share
	// the stream of the engine's watch of runs/ (every record written,
	// whole), which a tick's burst fills, and etcd then serves every watch
	// of the stream late.
	wcli := emb.Client()
	defer wcli.Close()
	watchCtx, stopWatch := context.WithCancel(ctx)
	w, err := watchFires(watchCtx, wcli, st.Prefix(), rev0+1)
	if err != nil {
		stopWatch()
		return res, err
	}
	defer func() { stopWatch(); <-w.done }()

	user0, sys0 := cpuTime()
	begin := time.Now()
	var startAt time.Time
	if c.lead > 0 {
		startAt = begin.Add(c.lead).Truncate(time.Second)
		if startAt.Before(begin.Add(c.lead)) {
			startAt = startAt.Add(time.Second)
		}
	}
	spec := polyaxonfile(c, startAt)
	scheds := make([]*store.Run, 0, c.schedules)
	for i := range c.schedules {
		r, err := eng.Submit(ctx, engine.Submission{Spec: spec, Source: "fires.yaml", Name: fmt.Sprintf("tick-%d", i)})
		if err != nil {
			return res, fmt.Errorf("submitting schedule %d: %w", i, err)
		}
		scheds = append(scheds, r)
	}
	res.submit = time.Since(begin)
	res.startAt = startAt
	if !startAt.IsZero() {
		res.submitMargin = time.Until(startAt)
	}

	// Every run has ended when the store's index of active runs is empty
	// (a count, so that the look costs the engine little).
	for deadline := begin.Add(c.timeout); ; time.Sleep(100 * time.Millisecond) {
		if err := w.failed(); err != nil {
			return res, err
		}
		resp, err := cli.Get(ctx, st.Prefix()+"active/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			return res, fmt.Errorf("counting the active runs: %w", err)
		}
		if resp.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%d runs still active after %v", resp.Count, c.timeout)
		}
	}
	user1, sys1 := cpuTime()
	res.cpuUser, res.cpuSys = user1-user0, sys1-sys0
	res.rss = procstat.KiB("VmHWM")
	res.writes = figures.Revision(st) - rev0
	// The watch of children/ may be a little behind the one of active/
	// that saw the schedules end; a fire it never sees is reported.
	for deadline := time.Now().Add(5 * time.Second); w.count() < res.want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	if err := measure(ctx, c, st, scheds, begin, startAt, w, &res); err != nil {
		return res, err
	}
	return res, nil
}
