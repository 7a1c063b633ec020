// Command k8s measures how fast the engine, with the Kubernetes executor,
// turns submitted runs into Jobs on a real control plane (e2e/cluster:
// etcd, kube-apiserver, controller-manager, scheduler and kwok), and
// compares that with a plain client-go loop creating the same Jobs under the
// same limits.
//
//	go run ./e2e/bench/k8s -n 1000
//
// Phase A (Plexus): an engine on an embedded etcd store, with the k8s
// executor on a namespace of its own, gets N single-step job runs from -c
// submitters. The executor is wrapped to timestamp each Dispatch that
// returns, that is each Job the API server has accepted. Reported: the
// dispatch rate, N / (first submission to the N-th Job created), each run's
// dispatch latency (Dispatch returned - Submit returned, p50 and p99), and
// the time until every run succeeded (the pods run -delay on kwok).
//
// Phase B (raw): in a second namespace, -c goroutines create N equivalent
// Jobs (the same Job the executor creates, lowered from the same compiled
// run) with a client at the same QPS and burst, behind the same token-bucket
// create limit. Reported: creates per second, and the ratio Plexus / raw.
//
// The cluster's binaries come from `make k8s-bin`. The cluster is stopped at
// the end, on error and on SIGINT/SIGTERM (a second signal kills at once;
// the components die with the process either way).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// options are the command's flags.
type options struct {
	n          int
	submitters int
	workers    int
	qps        float64
	burst      int
	creates    float64
	delay      time.Duration
	nodes      int
	resync     time.Duration
	timeout    time.Duration
	verbose    bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1000, "runs (phase A) and Jobs (phase B)")
	flag.IntVar(&o.submitters, "c", 16, "concurrent submitters (phase A) and creating goroutines (phase B)")
	flag.IntVar(&o.workers, "workers", 0, "engine workers (0: the engine's default, 16)")
	flag.Float64Var(&o.qps, "qps", 200, "client QPS, of the executor and of the raw client")
	flag.IntVar(&o.burst, "burst", 400, "client burst, of the executor and of the raw client")
	flag.Float64Var(&o.creates, "creates", 100, "creations a second (token bucket, burst as many), of the executor and of the raw loop")
	flag.DurationVar(&o.delay, "delay", time.Second, "how long each pod runs on kwok (plexus.io/kwok-delay)")
	flag.IntVar(&o.nodes, "nodes", 1, "fake nodes (each takes up to a million pods)")
	flag.DurationVar(&o.resync, "resync", 5*time.Second, "engine resync")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "bound on each phase's wait")
	flag.BoolVar(&o.verbose, "v", false, "log the cluster's start")
	flag.Parse()
	if o.n <= 0 || o.submitters <= 0 || o.qps <= 0 || o.burst <= 0 || o.creates <= 0 {
		fmt.Fprintln(os.Stderr, "k8s bench: -n, -c, -qps, -burst and -creates must be positive")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// run does both phases; every deferred cleanup runs on error and on a
// signal (ctx cancelled) too.
func run(ctx context.Context, o options) (err error) {
	copts := cluster.Options{Nodes: o.nodes}
	if o.verbose {
		copts.Logf = logf
	}
	began := time.Now()
	c, err := cluster.Start(ctx, copts)
	if err != nil {
		return err
	}
	defer func() {
		logf("stopping the cluster")
		if serr := c.Stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	logf("cluster up in %v (%s, %d fake nodes)", time.Since(began).Round(time.Millisecond), c.URL(), len(c.Nodes()))

	nsA, err := namespace(ctx, c.Client(), "bench-plexus-")
	if err != nil {
		return err
	}
	defer deleteNamespace(c.Client(), nsA)
	nsB, err := namespace(ctx, c.Client(), "bench-raw-")
	if err != nil {
		return err
	}
	defer deleteNamespace(c.Client(), nsB)

	load0 := loadavg()
	a, err := phaseA(ctx, c, nsA, o)
	if err != nil {
		return err
	}
	b, err := phaseB(ctx, c, nsB, a.compiled, o)
	if err != nil {
		return err
	}

	fmt.Printf("N                           %d runs / Jobs\n", o.n)
	fmt.Printf("settings                    QPS %g, burst %d, creates %g/s (token bucket, burst %d), %d submitters / raw goroutines, engine workers %s, resync %v, kwok-delay %v, %d fake node(s)\n",
		o.qps, o.burst, o.creates, max(1, int(o.creates)), o.submitters, workersString(o.workers), o.resync, o.delay, o.nodes)
	fmt.Printf("plexus dispatch             %.1f Jobs/s (%d Jobs in %v, first submit to N-th Job created)\n", a.rate(o.n), o.n, a.dispatchSpan.Round(time.Millisecond))
	fmt.Printf("plexus dispatch latency     p50 %v  p99 %v  (Dispatch returned - Submit returned)\n", pct(a.latencies, 0.5), pct(a.latencies, 0.99))
	fmt.Printf("plexus all succeeded        %v after the first submit (%d succeeded, %d other)\n", a.finalSpan.Round(time.Millisecond), a.succeeded, o.n-a.succeeded)
	fmt.Printf("plexus submissions          %v for all %d\n", a.submitSpan.Round(time.Millisecond), o.n)
	fmt.Printf("raw client-go creates       %.1f Jobs/s (%d Jobs in %v; create latency p50 %v  p99 %v)\n", b.rate(o.n), o.n, b.span.Round(time.Millisecond), pct(b.latencies, 0.5), pct(b.latencies, 0.99))
	fmt.Printf("raw all succeeded           %v after the first create (the control plane's own pace, no engine)\n", b.finalSpan.Round(time.Millisecond))
	fmt.Printf("ratio plexus / raw          %.3f (target >= 0.9)\n", a.rate(o.n)/b.rate(o.n))
	fmt.Printf("load average                %s at the start, %s at the end (%d CPUs; the cluster, the engine and anything else on the machine share them)\n", load0, loadavg(), runtime.NumCPU())
	return nil
}

func workersString(w int) string {
	if w <= 0 {
		return "16 (default)"
	}
	return fmt.Sprint(w)
}

// namespace creates a namespace and waits for its default ServiceAccount,
// without which pods are refused.
func namespace(ctx context.Context, cs kubernetes.Interface, prefix string) (string, error) {
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating a namespace: %w", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		deleteNamespace(cs, ns.Name)
		return "", fmt.Errorf("waiting for the default ServiceAccount in %s: %w", ns.Name, err)
	}
	return ns.Name, nil
}

// deleteNamespace asks for the namespace's deletion; the namespace
// controller empties it in the background (the cluster is stopped soon
// after anyway).
func deleteNamespace(cs kubernetes.Interface, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		logf("deleting namespace %s: %v", ns, err)
	}
}

// recorder is the k8s executor with each successful Dispatch timestamped
// (the first per run: a dispatch again changes nothing). It keeps one
// compiled run, to lower the raw phase's Jobs from.
type recorder struct {
	*k8s.Executor
	mu         sync.Mutex
	dispatched map[string]time.Time
	compiled   *compiler.Compiled
	count      atomic.Int64
}

func (r *recorder) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	if err := r.Executor.Dispatch(ctx, ref, c); err != nil {
		return err
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.dispatched[ref.UUID]; !dup {
		r.dispatched[ref.UUID] = now
		r.count.Add(1)
	}
	if r.compiled == nil {
		r.compiled = c
	}
	return nil
}

var _ executor.Lister = (*recorder)(nil) // the engine sweeps through it

// resultA is what phase A measured.
type resultA struct {
	dispatchSpan time.Duration   // first submit to the N-th Dispatch returned
	submitSpan   time.Duration   // first submit to the last Submit returned
	finalSpan    time.Duration   // first submit to every run ended
	latencies    []time.Duration // Dispatch returned - Submit returned, sorted
	succeeded    int
	compiled     *compiler.Compiled
}

func (a *resultA) rate(n int) float64 { return float64(n) / a.dispatchSpan.Seconds() }

// spec is one single-step job run whose pod runs the given time on kwok.
func spec(delay time.Duration) string {
	return fmt.Sprintf(`version: 1.1
kind: component
inputs: [{name: i, type: int}]
run:
  kind: job
  environment: {annotations: {%s: %q}}
  container: {image: trainer, command: [train, '{{ i }}']}
`, cluster.AnnotationDelay, delay.String())
}

func phaseA(ctx context.Context, c *cluster.Cluster, ns string, o options) (*resultA, error) {
	dir, err := os.MkdirTemp("", "plexus-bench-k8s")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	emb, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	cli := emb.Client()
	defer cli.Close()

	kx, err := k8s.NewForConfig(ctx, c.RESTConfig(), k8s.Config{Namespace: ns,
		QPS: float32(o.qps), Burst: o.burst, CreatesPerSecond: float32(o.creates)})
	if err != nil {
		return nil, err
	}
	defer kx.Close()
	ex := &recorder{Executor: kx, dispatched: map[string]time.Time{}}
	st := store.New(cli, "/bench/", nil)
	eng, err := engine.New(engine.Config{Store: st, Executor: ex, Resync: o.resync, Workers: o.workers,
		RunInfo: func(_ *store.Run, ri compiler.RunInfo) compiler.RunInfo { ri.Namespace = ns; return ri }})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(eng.Collectors()...)
	engCtx, stopEngine := context.WithCancel(ctx)
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(engCtx) }()
	defer func() { stopEngine(); <-engDone }()
	if err := waitUntil(ctx, 30*time.Second, "the engine leading", func() (bool, error) { return leading(reg) }); err != nil {
		return nil, err
	}

	// One run first, to its end: the engine's, the executor's and the API
	// server's connections and caches warm, off the clock.
	warm, err := eng.Submit(ctx, engine.Submission{Spec: spec(100 * time.Millisecond), Source: "bench", Params: map[string]specs.Param{"i": {Value: -1}}})
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, time.Minute, "the warm-up run", func() (bool, error) {
		r, _, err := st.Get(ctx, warm.UUID)
		if err != nil || !r.Status.Final() {
			return false, err
		}
		if r.Status != store.Succeeded {
			return false, fmt.Errorf("the warm-up run ended %s: %+v", r.Status, r.Conditions)
		}
		return true, nil
	}); err != nil {
		return nil, err
	}
	ex.mu.Lock()
	delete(ex.dispatched, warm.UUID)
	ex.count.Store(0)
	ex.mu.Unlock()
	time.Sleep(time.Duration(float64(time.Second) * float64(max(1, int(o.creates))) / o.creates)) // the create bucket full again
	logf("phase A: %d runs from %d submitters into %s", o.n, o.submitters, ns)

	body := spec(o.delay)
	submitted := make([]time.Time, o.n)
	uuids := make([]string, o.n)
	start := time.Now()
	subErr := parallel(o.n, o.submitters, func(i int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := eng.Submit(ctx, engine.Submission{Spec: body, Source: "bench", Params: map[string]specs.Param{"i": {Value: i}}})
		if err != nil {
			return err
		}
		submitted[i], uuids[i] = time.Now(), r.UUID
		return nil
	})
	if subErr != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("submitting: %w", subErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &resultA{submitSpan: time.Since(start)}

	if err := waitUntil(ctx, o.timeout, fmt.Sprintf("%d Jobs dispatched", o.n), func() (bool, error) {
		return ex.count.Load() >= int64(o.n), nil
	}); err != nil {
		return nil, fmt.Errorf("%w (%d dispatched)", err, ex.count.Load())
	}
	ex.mu.Lock()
	var last time.Time
	for i, u := range uuids {
		d := ex.dispatched[u]
		if d.After(last) {
			last = d
		}
		res.latencies = append(res.latencies, max(d.Sub(submitted[i]), 0))
	}
	res.compiled = ex.compiled
	ex.mu.Unlock()
	res.dispatchSpan = last.Sub(start)
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	logf("phase A: %d Jobs dispatched in %v; waiting for the runs to end", o.n, res.dispatchSpan.Round(time.Millisecond))

	if err := waitUntil(ctx, o.timeout, "every run ended", func() (bool, error) {
		active, err := st.Active(ctx)
		return err == nil && len(active) == 0, nil
	}); err != nil {
		return nil, err
	}
	res.finalSpan = time.Since(start)
	ours := make(map[string]bool, len(uuids))
	for _, u := range uuids {
		ours[u] = true
	}
	for after := ""; ; {
		page, err := st.List(ctx, after, 500, nil)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Runs {
			if ours[r.UUID] && r.Status == store.Succeeded {
				res.succeeded++
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	logf("phase A: all ended in %v, %d succeeded", res.finalSpan.Round(time.Millisecond), res.succeeded)
	return res, nil
}

// leading reports whether the engine leads, from its plexus_leader gauge.
func leading(reg *prometheus.Registry) (bool, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return false, err
	}
	for _, mf := range mfs {
		if mf.GetName() == "plexus_leader" {
			for _, m := range mf.GetMetric() {
				if m.GetGauge().GetValue() == 1 {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// resultB is what phase B measured.
type resultB struct {
	span      time.Duration   // first create to the N-th created
	finalSpan time.Duration   // first create to every Job complete
	latencies []time.Duration // each Create's wait and call, sorted
}

func (b *resultB) rate(n int) float64 { return float64(n) / b.span.Seconds() }

// phaseB creates N Jobs like the executor's, lowered from the compiled run
// phase A dispatched, each with a new run id, from o.submitters goroutines
// through a client at the same QPS and burst and the same create limit.
func phaseB(ctx context.Context, c *cluster.Cluster, ns string, compiled *compiler.Compiled, o options) (*resultB, error) {
	if compiled == nil {
		return nil, errors.New("phase A dispatched nothing to copy")
	}
	jobs := make([]*batchv1.Job, o.n)
	for i := range jobs {
		ri := compiled.Run
		ri.UUID, ri.Namespace = newUUID(), ns
		objs, err := compiler.Lower(compiled, ri, compiler.LowerOptions{Attempt: 1})
		if err != nil {
			return nil, err
		}
		if objs.Job == nil {
			return nil, errors.New("the compiled run lowers to no Job")
		}
		objs.Job.Spec.BackoffLimit = ptr(int32(0)) // as the executor sets it
		jobs[i] = objs.Job
	}
	rc := c.RESTConfig()
	rc.QPS, rc.Burst = float32(o.qps), o.burst
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	// Connect off the clock, as the executor had.
	if _, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, err
	}
	// The Jobs' completion is watched with the admin's client, not the
	// measured one.
	var complete atomic.Int64
	done := map[string]bool{}
	var doneMu sync.Mutex
	allDone := make(chan time.Time, 1)
	factory := informers.NewSharedInformerFactoryWithOptions(c.Client(), 0, informers.WithNamespace(ns))
	inf := factory.Batch().V1().Jobs().Informer()
	onJob := func(obj any) {
		j, ok := obj.(*batchv1.Job)
		if !ok || !jobComplete(j) {
			return
		}
		doneMu.Lock()
		defer doneMu.Unlock()
		if !done[j.Name] {
			done[j.Name] = true
			if complete.Add(1) == int64(o.n) {
				allDone <- time.Now()
			}
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onJob, UpdateFunc: func(_, obj any) { onJob(obj) }}); err != nil {
		return nil, err
	}
	stopInf := make(chan struct{})
	defer func() { close(stopInf); factory.Shutdown() }()
	factory.Start(stopInf)
	factory.WaitForCacheSync(ctx.Done())

	limiter := flowcontrol.NewTokenBucketRateLimiter(float32(o.creates), max(1, int(o.creates)))
	logf("phase B: %d Jobs from %d goroutines into %s", o.n, o.submitters, ns)

	lat := make([]time.Duration, o.n)
	start := time.Now()
	createErr := parallel(o.n, o.submitters, func(i int) error {
		t := time.Now()
		if err := limiter.Wait(ctx); err != nil {
			return err
		}
		if _, err := cs.BatchV1().Jobs(ns).Create(ctx, jobs[i], metav1.CreateOptions{}); err != nil {
			return err
		}
		lat[i] = time.Since(t)
		return nil
	})
	res := &resultB{span: time.Since(start), latencies: lat}
	if createErr != nil {
		return nil, fmt.Errorf("creating Jobs: %w", createErr)
	}
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	logf("phase B: %d Jobs created in %v; waiting for them to complete", o.n, res.span.Round(time.Millisecond))
	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	select {
	case t := <-allDone:
		res.finalSpan = t.Sub(start)
	case <-timer.C:
		return nil, fmt.Errorf("waiting for the raw Jobs to complete: %d of %d after %v", complete.Load(), o.n, o.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	logf("phase B: all complete in %v", res.finalSpan.Round(time.Millisecond))
	return res, nil
}

func jobComplete(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// loadavg is the 1-minute load average, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// waitUntil polls cond every 20ms until it holds, fails, or d passes.
func waitUntil(ctx context.Context, d time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[int(p*float64(len(ds)-1))].Round(100 * time.Microsecond)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }

// parallel calls f for 0..n-1 from c goroutines, stopping at the first
// error, which it returns.
func parallel(n, c int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
