package chaos

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
)

// Config is a chaos run.
type Config struct {
	Seed uint64
	// Servers is the number of `plexus server` processes (3).
	Servers int
	// LeaseTTL is the servers' --lease-ttl in seconds.
	LeaseTTL int
	// Kills of the leader (SIGKILL), Pauses of the leader (SIGSTOP until
	// a new leader is elected, then SIGCONT), EtcdRestarts (SIGKILL a
	// member, start it again on its data) and ProxyWindows (the fault
	// proxy's faults on for 5 to 15 s), in a seeded random order.
	Kills, Pauses, EtcdRestarts, ProxyWindows int
	Workload                                  Workload
	// Settle bounds the wait for every run to end once the faults stop.
	Settle time.Duration
	// Plexus is the plexus binary; Dir receives the servers' homes and
	// logs.
	Plexus, Dir string
	Logf        func(format string, args ...any)
}

// Report is what a chaos run did and found.
type Report struct {
	Kills, Pauses, EtcdRestarts, ProxyWindows int
	Proxy                                     FaultCounts
	// Takeovers are the times from a leader's kill or pause to a new
	// leader's election key, in order.
	Takeovers []time.Duration
	Findings  Findings
	Took      time.Duration
}

// Run starts the control plane (with an audit log of creates), an etcd
// cluster of 3 members, the fault proxy and the servers; submits the
// workload; injects the faults; waits for every run to end; and checks
// the whole history.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	began := time.Now()
	logf := cfg.Logf
	rnd := mrand.New(mrand.NewPCG(cfg.Seed, 0x7a3c))

	c, err := cluster.Start(ctx, cluster.Options{Audit: true, Logf: logf})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	ns := "chaos"
	if _, err := c.Client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("the namespace: %w", err)
	}
	bin, err := cluster.BinDir()
	if err != nil {
		return nil, err
	}
	procs := cluster.NewProcesses(cfg.Dir)
	defer procs.Close(5 * time.Second)
	ec, err := startEtcd(ctx, procs, filepath.Join(bin, "etcd"), cfg.Dir, 3)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: ec.endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	defer cli.Close()
	proxy, err := StartProxy(cfg.Dir, c.RESTConfig(), DefaultFaults, cfg.Seed)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()

	srv := newServers(procs, cfg.Plexus, cfg.Dir, cfg.Servers, []string{
		"--executor", "k8s", "--kubeconfig", proxy.Kubeconfig(), "--namespace", ns,
		"--etcd-endpoints", strings.Join(ec.endpoints(), ","), "--lease-ttl", fmt.Sprint(cfg.LeaseTTL),
	}, cli)
	for _, sv := range srv.list {
		if err := srv.start(ctx, sv); err != nil {
			return nil, err
		}
	}
	if _, err := srv.awaitLeader(ctx, term{}, 30*time.Second); err != nil {
		return nil, err
	}
	logf("chaos: control plane, etcd of 3 and %d servers up after %v", cfg.Servers, time.Since(began).Round(time.Millisecond))

	x, err := submit(ctx, srv, cfg.Workload)
	if err != nil {
		return nil, err
	}
	logf("chaos: workload submitted after %v", time.Since(began).Round(time.Millisecond))

	rep := &Report{}
	if err := inject(ctx, cfg, rnd, srv, ec, proxy, rep); err != nil {
		return rep, err
	}
	proxy.SetFaults(false)
	logf("chaos: faults done after %v: %d kills, %d pauses, %d etcd restarts, %d proxy windows", time.Since(began).Round(time.Millisecond), rep.Kills, rep.Pauses, rep.EtcdRestarts, rep.ProxyWindows)

	st := store.New(cli, "", nil)
	if err := finish(ctx, st, srv, x, cfg.Settle, logf); err != nil {
		logf("chaos: %v", err)
	}
	for _, sv := range srv.list {
		sv.proc.Stop(5 * time.Second)
	}
	h, err := history(ctx, st, c, ns)
	if err != nil {
		return rep, err
	}
	rep.Findings = h.check(x)
	rep.Proxy = proxy.Counts()
	rep.Took = time.Since(began)
	return rep, nil
}

// submit sends the workload through the API, the subscriptions first
// (they must listen before the runs they follow end).
func submit(ctx context.Context, srv *servers, w Workload) (expectations, error) {
	x := expectations{fires: w.Fires, every: w.FireEvery, pipelineN: w.Pipeline, sweepN: w.Sweep}
	cl, err := srv.client()
	if err != nil {
		return x, err
	}
	send := func(spec string) (string, error) {
		r, err := cl.Submit(ctx, api.SubmitRequest{Spec: spec})
		if err != nil {
			return "", fmt.Errorf("submitting:\n%s\n%w", spec, err)
		}
		x.submitted = append(x.submitted, r.UUID)
		return r.UUID, nil
	}
	listening := func(uuid string) error {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			r, err := cl.Get(ctx, uuid)
			if err == nil && r.Status == store.OnSchedule {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("run %s is not on_schedule after 60s (%v)", uuid, err)
			}
		}
	}
	if x.singlesSub, err = send(subscriptionSpec("chaos-on-single", "components.chaos-single")); err != nil {
		return x, err
	}
	if x.schedule, err = send(w.scheduleSpec()); err != nil {
		return x, err
	}
	if x.scheduleSub, err = send(subscriptionSpec("chaos-on-schedule", "runs."+x.schedule)); err != nil {
		return x, err
	}
	for _, uuid := range []string{x.singlesSub, x.scheduleSub} {
		if err := listening(uuid); err != nil {
			return x, err
		}
	}
	if x.pipeline, err = send(w.pipelineSpec()); err != nil {
		return x, err
	}
	if x.sweep, err = send(w.sweepSpec()); err != nil {
		return x, err
	}
	for i := range w.Singles {
		uuid, err := send(w.singleSpec(i))
		if err != nil {
			return x, err
		}
		x.singles = append(x.singles, uuid)
	}
	return x, nil
}

// action is one fault of the schedule.
type action int

const (
	killLeader action = iota
	pauseLeader
	restartEtcd
	proxyWindow
)

// inject runs the faults in a seeded random order, each after a random
// gap.
func inject(ctx context.Context, cfg Config, rnd *mrand.Rand, srv *servers, ec *etcdCluster, proxy *Proxy, rep *Report) error {
	var plan []action
	for range cfg.Kills {
		plan = append(plan, killLeader)
	}
	for range cfg.Pauses {
		plan = append(plan, pauseLeader)
	}
	for range cfg.EtcdRestarts {
		plan = append(plan, restartEtcd)
	}
	for range cfg.ProxyWindows {
		plan = append(plan, proxyWindow)
	}
	rnd.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })

	var windows sync.WaitGroup
	defer windows.Wait()
	var mu sync.Mutex
	until := time.Time{}
	ttl := time.Duration(cfg.LeaseTTL) * time.Second
	for i, a := range plan {
		gap := time.Duration(500+rnd.IntN(2000)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(gap):
		}
		switch a {
		case killLeader, pauseLeader:
			t, err := srv.awaitLeader(ctx, term{}, 30*time.Second)
			if err != nil {
				return err
			}
			sv := srv.byID(t.id)
			if sv == nil {
				return fmt.Errorf("the leader %q is none of the servers", t.id)
			}
			at := time.Now()
			if a == killLeader {
				srv.kill(sv)
			} else if err := sv.proc.Signal(syscall.SIGSTOP); err != nil {
				return err
			}
			next, err := srv.awaitLeader(ctx, t, 4*ttl+30*time.Second)
			if err != nil {
				return fmt.Errorf("after %s of %s: %w", name(a), t.id, err)
			}
			took := time.Since(at)
			rep.Takeovers = append(rep.Takeovers, took)
			cfg.Logf("chaos: %d/%d %s %s: %s leads after %v", i+1, len(plan), name(a), t.id, next.id, took.Round(time.Millisecond))
			if a == killLeader {
				rep.Kills++
				if err := srv.start(ctx, sv); err != nil {
					return err
				}
				continue
			}
			rep.Pauses++
			// Awake, the old leader finds itself deposed.
			time.Sleep(time.Duration(rnd.IntN(1000)) * time.Millisecond)
			if err := sv.proc.Signal(syscall.SIGCONT); err != nil {
				return err
			}
		case restartEtcd:
			m := rnd.IntN(len(ec.members))
			down := time.Duration(1000+rnd.IntN(3000)) * time.Millisecond
			cfg.Logf("chaos: %d/%d etcd member %s down for %v", i+1, len(plan), ec.members[m].name, down)
			if err := ec.restart(ctx, m, down); err != nil {
				return err
			}
			rep.EtcdRestarts++
		case proxyWindow:
			d := time.Duration(5000+rnd.IntN(10000)) * time.Millisecond
			cfg.Logf("chaos: %d/%d proxy faults on for %v", i+1, len(plan), d)
			mu.Lock()
			until = time.Now().Add(d)
			mu.Unlock()
			proxy.SetFaults(true)
			rep.ProxyWindows++
			windows.Add(1)
			go func() {
				defer windows.Done()
				time.Sleep(d)
				mu.Lock()
				defer mu.Unlock()
				if !time.Now().Before(until) {
					proxy.SetFaults(false)
				}
			}()
		}
	}
	return nil
}

func name(a action) string {
	return [...]string{"kill", "pause", "etcd restart", "proxy window"}[a]
}

// finish waits until every run but the subscriptions has ended and the
// subscriptions have started their runs, then stops the subscriptions (they
// listen until stopped) and waits for them to end; at most d in all.
func finish(ctx context.Context, st *store.Store, srv *servers, x expectations, d time.Duration, logf func(string, ...any)) error {
	deadline := time.Now().Add(d)
	subs := []string{x.singlesSub, x.scheduleSub}
	if err := settle(ctx, st, deadline, logf, subs...); err != nil {
		return err
	}
	want := map[string]int{x.singlesSub: len(x.singles), x.scheduleSub: 1}
	for _, sub := range subs {
		for {
			kids, err := st.Children(ctx, sub)
			if err == nil && len(kids) >= want[sub] {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("subscription %s started %d runs, want %d (%v)", sub, len(kids), want[sub], err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// Its runs end too.
		if err := settle(ctx, st, deadline, logf, subs...); err != nil {
			return err
		}
		cl, err := srv.client()
		if err != nil {
			return err
		}
		if _, err := cl.Stop(ctx, sub); err != nil {
			return fmt.Errorf("stopping subscription %s: %w", sub, err)
		}
	}
	return settle(ctx, st, deadline, logf)
}

// settle waits until every run in the store but those of except has
// ended, until deadline.
func settle(ctx context.Context, st *store.Store, deadline time.Time, logf func(string, ...any), except ...string) error {
	said := time.Now()
	for {
		open, err := st.Active(ctx)
		open = slices.DeleteFunc(open, func(uuid string) bool { return slices.Contains(except, uuid) })
		if err == nil && len(open) == 0 {
			return nil
		}
		if time.Since(said) > 15*time.Second {
			logf("chaos: %d runs still open", len(open))
			said = time.Now()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d runs still open (%v)", len(open), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// history reads every run and the API server's audit log of creates.
func history(ctx context.Context, st *store.Store, c *cluster.Cluster, ns string) (*History, error) {
	h := &History{Runs: map[string]*store.Run{}, Jobs: map[string]bool{}}
	jobs, err := c.Client().BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the Jobs: %w", err)
	}
	for _, j := range jobs.Items {
		h.Jobs[j.Name] = true
	}
	for after := ""; ; {
		page, err := st.List(ctx, after, 1000, nil)
		if err != nil {
			return nil, err
		}
		if len(page.Unreadable) > 0 {
			return nil, fmt.Errorf("unreadable runs: %s", strings.Join(page.Unreadable, "; "))
		}
		for _, r := range page.Runs {
			h.Runs[r.UUID] = r
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if h.Creates, err = c.AuditEvents(); err != nil {
		return nil, err
	}
	return h, nil
}

// Print writes the report as the figures a reader wants.
func (r *Report) Print(w interface{ Write([]byte) (int, error) }) {
	f := r.Findings
	p50, max := percentile(r.Takeovers, 50), percentile(r.Takeovers, 100)
	fmt.Fprintf(w, "chaos: %d leader kills, %d leader pauses, %d etcd member restarts, %d proxy windows (%d requests through the proxy: %d throttled, %d failed, %d answers lost, %d delayed, %d watches cut)\n",
		r.Kills, r.Pauses, r.EtcdRestarts, r.ProxyWindows, r.Proxy.Requests, r.Proxy.Throttled, r.Proxy.Failed, r.Proxy.AnswersLost, r.Proxy.Delayed, r.Proxy.WatchesCut)
	fmt.Fprintf(w, "chaos: new leader after a kill or pause: p50 %v, max %v (%d takeovers)\n", p50.Round(time.Millisecond), max.Round(time.Millisecond), len(r.Takeovers))
	fmt.Fprintf(w, "chaos: runs %d, Jobs created %d, duplicates %d, lost %d, late dispatches %d, orphan Jobs %d, schedule faults %d, event faults %d, audit gaps %d, in %v\n",
		f.Runs, f.Jobs, len(f.Duplicates), f.Lost(), len(f.Late), len(f.Orphans), len(f.Fires), len(f.Events), len(f.AuditGaps), r.Took.Round(time.Second))
	for _, l := range [][]string{f.NotFinal, f.Missing, f.Unrecorded, f.Duplicates, f.Late, f.Orphans, f.Fires, f.Events, f.AuditGaps} {
		for i, s := range l {
			if i == 20 {
				fmt.Fprintf(w, "  ... and %d more\n", len(l)-20)
				break
			}
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}
