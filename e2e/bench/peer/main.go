// Command peer runs the same work on Plexus and on Argo Workflows, one
// after the other, on one real control plane (e2e/cluster: etcd,
// kube-apiserver, controller-manager, scheduler, kwok), and prints them
// side by side.
//
//	make bench-peer        # or: go run ./e2e/bench/peer -argo-dir $(scripts/argo-bin.sh)
//
// Plexus is `plexus server --executor k8s` on its embedded etcd, run
// twice: with a Job per operation (the default), and with --bare-pods (a
// pod per one-pod job, no Job controller in between); Argo is its workflow-controller at the version
// tools/argo/go.mod pins (built by scripts/argo-bin.sh), with
// LEADER_ELECTION_DISABLE=true and its metrics off (their port is fixed).
// Pods are kwok's: each runs for -delay, then succeeds (the pod-succeed
// stage completes pods owned by a Job or a Workflow). Each system is
// warmed up with one single-step run first.
//
// Scenarios: one single-step run, submit → done; -n single-step runs
// submitted at once by -c submitters, their completion rate (first submit
// → last done); a chain of -chain steps, time per step; a fan-out of -fan
// parallel steps, submit → done. Plexus learns of a run's end through its
// API (a run polled every 10 ms, a dag every 100 ms, the project's
// succeeded runs listed every 250 ms: that reading is in the server's CPU
// figure); Argo's Workflows are followed by an informer.
//
// Tuned (-tuned, the default), both get -qps API queries a second (burst
// twice that); Plexus creates up to -qps objects a second; Argo requeues a
// Workflow after -argo-requeue (DEFAULT_REQUEUE_TIME, default 10 s) and
// runs -argo-workers workers. Each system's controller is measured for its
// CPU time per scenario and its peak RSS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/plexus-ml/plexus/e2e/cluster"
)

type options struct {
	n, submitters, chain, fan int
	delay                     time.Duration
	tuned                     bool
	qps                       int
	argoRequeue               time.Duration
	argoWorkers               int
	argoDir                   string
	systems                   []string
	scenarios                 []string
	timeout                   time.Duration
	keep                      bool
	profile                   string
}

func main() {
	var o options
	var scenarios string
	flag.IntVar(&o.n, "n", 500, "single-step runs of the throughput scenario")
	flag.IntVar(&o.submitters, "c", 16, "concurrent submitters")
	flag.IntVar(&o.chain, "chain", 20, "steps of the chain")
	flag.IntVar(&o.fan, "fan", 1000, "parallel steps of the fan-out")
	flag.DurationVar(&o.delay, "delay", 0, "how long each pod runs on kwok")
	flag.BoolVar(&o.tuned, "tuned", true, "tune both systems (QPS, Argo's requeue)")
	flag.IntVar(&o.qps, "qps", 500, "tuned: API queries a second of each controller")
	flag.DurationVar(&o.argoRequeue, "argo-requeue", 200*time.Millisecond, "tuned: Argo's DEFAULT_REQUEUE_TIME")
	flag.IntVar(&o.argoWorkers, "argo-workers", 32, "Argo's --workflow-workers")
	flag.StringVar(&o.argoDir, "argo-dir", "", "the folder of Argo's workflow-controller and CRDs (scripts/argo-bin.sh prints it)")
	var systems string
	flag.StringVar(&systems, "systems", "plexus,plexus-pods,argo", "which systems, in order: plexus (a Job per operation), plexus-pods (--bare-pods: a pod per one-pod job), argo")
	flag.StringVar(&scenarios, "scenarios", "single,throughput,chain,fan", "which scenarios, in order")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound on each scenario")
	flag.BoolVar(&o.keep, "keep", false, "keep the cluster's folder and the controllers' logs")
	flag.StringVar(&o.profile, "cpuprofile", "", "write each Plexus server's CPU profile to this file (-pods after it with bare pods)")
	flag.Parse()
	o.scenarios, o.systems = strings.Split(scenarios, ","), strings.Split(systems, ",")
	if o.argoDir == "" && slices.Contains(o.systems, "argo") {
		fmt.Fprintln(os.Stderr, "peer bench: -argo-dir is required (scripts/argo-bin.sh builds Argo and prints it)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "peer bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// system is one of the two engines, running the scenarios.
type system interface {
	name() string
	pid() int
	single(ctx context.Context) (time.Duration, error)
	throughput(ctx context.Context, n int) (time.Duration, error)
	chain(ctx context.Context, steps int) (time.Duration, error)
	fan(ctx context.Context, width int) (time.Duration, error)
	close()
}

// result is one scenario's figure on one system.
type result struct {
	took time.Duration
	cpu  time.Duration
	err  error
}

func run(ctx context.Context, o options) error {
	c, err := cluster.Start(ctx, cluster.Options{Logf: logf})
	if err != nil {
		return err
	}
	if o.keep {
		c.KeepDir()
	}
	defer c.Stop()
	dir := c.Dir()
	logf("cluster up: %s", dir)
	results := map[string]map[string]result{}
	peaks := map[string]float64{}
	var names []string
	for _, which := range o.systems {
		var s system
		switch which {
		case "plexus", "plexus-pods":
			s, err = startPlexus(ctx, c, o, dir, which == "plexus-pods")
		case "argo":
			s, err = startArgo(ctx, c, o, dir)
		default:
			err = errors.New("unknown system (plexus, plexus-pods or argo)")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", which, err)
		}
		names = append(names, s.name())
		results[s.name()] = runScenarios(ctx, s, o)
		peaks[s.name()], _ = peakRSS(s.pid())
		s.close()
	}
	printTable(os.Stdout, o, names, results, peaks)
	return nil
}

// runScenarios warms s up with one run, then runs each scenario.
func runScenarios(ctx context.Context, s system, o options) map[string]result {
	out := map[string]result{}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	took, err := s.single(wctx)
	cancel()
	logf("%s: warm-up run in %v (err %v)", s.name(), took.Round(time.Millisecond), err)
	resetPeakRSS(s.pid())
	for _, sc := range o.scenarios {
		sctx, cancel := context.WithTimeout(ctx, o.timeout)
		before, _ := cpuTime(s.pid())
		var r result
		switch sc {
		case "single":
			r.took, r.err = s.single(sctx)
		case "throughput":
			r.took, r.err = s.throughput(sctx, o.n)
		case "chain":
			r.took, r.err = s.chain(sctx, o.chain)
		case "fan":
			r.took, r.err = s.fan(sctx, o.fan)
		default:
			r.err = fmt.Errorf("unknown scenario %q", sc)
		}
		cancel()
		after, _ := cpuTime(s.pid())
		r.cpu = after - before
		logf("%s: %s in %v, CPU %v (err %v)", s.name(), sc, r.took.Round(time.Millisecond), r.cpu, r.err)
		out[sc] = r
	}
	return out
}

// submitAll calls submit n times from c goroutines, and returns what each
// call returned, in no order; the first error stops it.
func submitAll(ctx context.Context, n, c int, submit func(context.Context) (string, error)) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var out []string
	var first error
	next := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				id, err := submit(ctx)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				if err == nil {
					out = append(out, id)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil && !errors.Is(first, context.Canceled) {
		return nil, first
	}
	return out, ctx.Err()
}

// printTable writes each scenario's figure on each system, and the ratio
// Plexus / Argo (for a rate, Plexus's over Argo's).
func printTable(w *os.File, o options, names []string, results map[string]map[string]result, peaks map[string]float64) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "scenario"
	for _, n := range names {
		header += "\t" + n + "\t" + n + " CPU"
	}
	argo := slices.Index(names, "Argo")
	for i, n := range names {
		if argo >= 0 && i != argo {
			header += "\t" + n + "/Argo"
		}
	}
	fmt.Fprintln(tw, header)
	for _, sc := range o.scenarios {
		label, figs := scenarioLabel(sc, o), make([]float64, 0, 2)
		line := label
		for _, n := range names {
			r := results[n][sc]
			if r.err != nil {
				line += "\terror: " + strings.SplitN(r.err.Error(), "\n", 2)[0] + "\t-"
				figs = append(figs, 0)
				continue
			}
			fig, text := figure(sc, r.took, o)
			figs = append(figs, fig)
			line += "\t" + text + "\t" + r.cpu.Round(10*time.Millisecond).String()
		}
		for i := range names {
			if argo < 0 || i == argo {
				continue
			}
			if figs[i] > 0 && figs[argo] > 0 {
				line += fmt.Sprintf("\t%.2f", figs[i]/figs[argo])
			} else {
				line += "\t-"
			}
		}
		fmt.Fprintln(tw, line)
	}
	peak := "peak RSS (MiB)"
	for _, n := range names {
		peak += fmt.Sprintf("\t%.0f\t", peaks[n])
	}
	fmt.Fprintln(tw, peak)
	_ = tw.Flush()
	fmt.Fprintf(w, "pods run %v on kwok; tuned=%v (QPS %d, Argo requeue %v, %d Argo workers)\n", o.delay, o.tuned, o.qps, o.argoRequeue, o.argoWorkers)
}

func scenarioLabel(sc string, o options) string {
	switch sc {
	case "single":
		return "1 single-step run, submit → done"
	case "throughput":
		return fmt.Sprintf("%d single-step runs (per minute)", o.n)
	case "chain":
		return fmt.Sprintf("%d-step chain (per step)", o.chain)
	case "fan":
		return fmt.Sprintf("%d-way fan-out", o.fan)
	}
	return sc
}

// figure is a scenario's figure: a time (lower is better), or for
// throughput a rate per minute (higher is better).
func figure(sc string, took time.Duration, o options) (float64, string) {
	switch sc {
	case "throughput":
		rate := float64(o.n) / took.Minutes()
		return rate, fmt.Sprintf("%.0f/min", rate)
	case "chain":
		per := took / time.Duration(o.chain)
		return per.Seconds(), per.Round(time.Millisecond).String()
	}
	return took.Seconds(), took.Round(time.Millisecond).String()
}
