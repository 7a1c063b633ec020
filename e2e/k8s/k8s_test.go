package k8s

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs/compiler"
)

func TestMain(m *testing.M) {
	os.Exit(storetest.Wrap(func() int { return cluster.RunTests(m) }))
}

// node is an engine with its own Kubernetes executor, as a plexus server
// replica is.
type node struct {
	st   *store.Store
	cli  *clientv3.Client
	e    *engine.Engine
	ex   *k8s.Executor
	stop func()
}

// crash kills the node as a lost process would: its etcd client goes
// first, so its lease lapses instead of being resigned.
func (n *node) crash() {
	_ = n.cli.Close()
	n.stop()
}

// start runs an engine with the Kubernetes executor on namespace ns and
// the store prefix.
func start(t *testing.T, c *cluster.Cluster, ns, prefix, id string) *node {
	t.Helper()
	return startWith(t, c, k8s.Config{Namespace: ns}, prefix, id, nil)
}

// startWith is start with the executor's configuration kc (its namespace
// among it), and more of the engine's set by with.
func startWith(t *testing.T, c *cluster.Cluster, kc k8s.Config, prefix, id string, with func(*engine.Config)) *node {
	t.Helper()
	ns := kc.Namespace
	ex, err := k8s.NewForConfig(t.Context(), c.RESTConfig(), kc)
	if err != nil {
		t.Fatal(err)
	}
	cli := storetest.Client(t)
	st := store.New(cli, prefix, nil)
	cfg := engine.Config{ID: id, Store: st, Executor: ex,
		Resync: 500 * time.Millisecond, LeaseTTL: 1, RetryBackoff: 50 * time.Millisecond,
		RunInfo: func(_ *store.Run, ri compiler.RunInfo) compiler.RunInfo { ri.Namespace = ns; return ri }}
	if with != nil {
		with(&cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{st: st, cli: cli, e: e, ex: ex}
	runEngine(t, n)
	return n
}

// runEngine runs the node's engine until n.stop or the test's end; stop
// also closes the executor.
func runEngine(t *testing.T, n *node) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.e.Run(ctx) }()
	var once sync.Once
	n.stop = func() { once.Do(func() { cancel(); <-done; _ = n.ex.Close() }) }
	t.Cleanup(n.stop)
}

// repoRoot is the repository's folder, where cmd/ and deploy/ are.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func executorRef(uuid string, attempt int) executor.RunRef {
	return executor.RunRef{UUID: uuid, Attempt: attempt}
}

func submit(t *testing.T, e *engine.Engine, spec string) string {
	t.Helper()
	r, err := e.Submit(t.Context(), engine.Submission{Source: "e2e.yaml", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	return r.UUID
}

// job is a component whose pod carries the kwok annotations given.
func job(extra, annotations string) string {
	return fmt.Sprintf(`version: 1.1
kind: component
%s
run:
  kind: job
  environment: {annotations: {%s}}
  container: {image: trainer, command: [train]}
`, extra, annotations)
}

// wait polls a run until cond holds.
func wait(t *testing.T, st *store.Store, uuid string, d time.Duration, what string, cond func(*store.Run) bool) *store.Run {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		r, _, err := st.Get(context.Background(), uuid)
		if err == nil && cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			if r != nil {
				t.Fatalf("run %s: not %s after %v: %s %+v", uuid, what, d, r.Status, r.Conditions)
			}
			t.Fatalf("run %s: %v", uuid, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func final(t *testing.T, st *store.Store, uuid string) *store.Run {
	t.Helper()
	return wait(t, st, uuid, 60*time.Second, "final", func(r *store.Run) bool { return r.Status.Final() })
}

func last(r *store.Run) store.Condition { return r.Conditions[len(r.Conditions)-1] }

func TestJobSucceedsWithOutputs(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, job("outputs: [{name: loss, type: float}]", `plexus.io/kwok-message: '{"loss": 0.125}'`))
	r := final(t, storeOf(n), uuid)
	if r.Status != store.Succeeded || r.Outputs["loss"] != 0.125 {
		t.Fatalf("got %s with outputs %v: %+v", r.Status, r.Outputs, r.Conditions)
	}
	seen := map[store.Status]bool{}
	for _, c := range r.Conditions {
		seen[c.Type] = true
	}
	if !seen[store.Scheduled] || !seen[store.Running] {
		t.Fatalf("conditions %+v: want scheduled and running on the way", r.Conditions)
	}
}

func storeOf(n *node) *store.Store { return n.st }

// TestOutputsFlowDownstream: a Job's outputs reach etcd and, through a
// param `ref: runs.<uuid>`, the command of the next run's Job.
func TestOutputsFlowDownstream(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	up := submit(t, n.e, job("outputs: [{name: lr, type: float}]", `plexus.io/kwok-message: '{"lr": 0.0125}'`))
	if r := final(t, n.st, up); r.Status != store.Succeeded || r.Outputs["lr"] != 0.0125 {
		t.Fatalf("upstream %s %v", r.Status, r.Outputs)
	}
	down := submit(t, n.e, fmt.Sprintf(`version: 1.1
kind: operation
params:
  lr: {ref: runs.%s, value: outputs.lr}
component:
  inputs: [{name: lr, type: float}]
  run: {kind: job, container: {image: trainer, command: [train, "--lr={{ lr }}"]}}
`, up))
	if r := final(t, n.st, down); r.Status != store.Succeeded {
		t.Fatalf("downstream %s", r.Status)
	}
	j, err := c.Client().BatchV1().Jobs(ns).Get(t.Context(), compiler.ObjectName(down, 1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cmd := j.Spec.Template.Spec.Containers[0].Command; len(cmd) != 2 || cmd[1] != "--lr=0.0125" {
		t.Fatalf("downstream command %q", cmd)
	}
}

func TestJobFailsAndIsRetried(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, job("termination: {maxRetries: 2}", `plexus.io/kwok-exit-code: "3"`))
	r := final(t, storeOf(n), uuid)
	if r.Status != store.Failed || r.Attempt != 3 || !strings.Contains(last(r).Message, "exit code 3") {
		t.Fatalf("got %s at attempt %d, last %+v", r.Status, r.Attempt, last(r))
	}
	jobs, err := c.Client().BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, j := range jobs.Items {
		names[j.Name] = true
	}
	for a := 1; a <= 3; a++ {
		if !names[compiler.ObjectName(uuid, a)] {
			t.Errorf("no Job for attempt %d: %v", a, names)
		}
	}
	if len(jobs.Items) != 3 {
		t.Errorf("%d Jobs, want one per attempt (3)", len(jobs.Items))
	}
}

func TestJobTimesOut(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, job("termination: {timeout: 2}", `plexus.io/kwok-delay: 5m`))
	r := final(t, storeOf(n), uuid)
	if r.Status != store.Failed || last(r).Reason != "Timeout" {
		t.Fatalf("got %s, last %+v", r.Status, last(r))
	}
}

func TestJobIsStopped(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	st := storeOf(n)
	uuid := submit(t, n.e, job("", `plexus.io/kwok-delay: 5m`))
	wait(t, st, uuid, 30*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	if _, err := n.e.Stop(t.Context(), uuid); err != nil {
		t.Fatal(err)
	}
	if r := final(t, st, uuid); r.Status != store.Stopped {
		t.Fatalf("got %s: %+v", r.Status, r.Conditions)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := c.Client().BatchV1().Jobs(ns).Get(t.Context(), compiler.ObjectName(uuid, 1), metav1.GetOptions{})
		if err != nil {
			break // gone
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped run's Job is still there")
		}
	}
}

func TestWarningsSurface(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	st := storeOf(n)
	unschedulable := submit(t, n.e, `version: 1.1
kind: component
run:
  kind: job
  environment: {nodeSelector: {gpu: a100-that-no-node-has}}
  container: {image: trainer, command: [train]}
`)
	unpullable := submit(t, n.e, job("", `plexus.io/kwok-image-pull-error: "true"`))
	r := wait(t, st, unschedulable, 30*time.Second, "unschedulable", func(r *store.Run) bool { return r.Status == store.Unschedulable })
	if last(r).Reason != "Unschedulable" || !strings.Contains(last(r).Message, "node") {
		t.Fatalf("unschedulable with %+v", last(r))
	}
	r = wait(t, st, unpullable, 30*time.Second, "warning", func(r *store.Run) bool { return r.Status == store.Warning })
	if reason := last(r).Reason; reason != "ErrImagePull" && reason != "ImagePullBackOff" {
		t.Fatalf("warning with %+v", last(r))
	}
}

// TestLeaderKilledWithJobsInFlight: two replicas; the leader is killed
// (resigning, or crashing so that its lease lapses) while 200 Jobs run;
// afterwards every run has ended and the API server holds exactly one Job
// per (run, attempt).
func TestLeaderKilledWithJobsInFlight(t *testing.T) {
	for _, how := range []string{"stop", "crash"} {
		t.Run(how, func(t *testing.T) {
			c := cluster.Shared(t)
			ns := c.Namespace(t)
			prefix := storetest.Prefix(t)
			a := start(t, c, ns, prefix, "a")
			for deadline := time.Now().Add(10 * time.Second); !a.e.Leading(); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("a never led")
				}
			}
			b := start(t, c, ns, prefix, "b")
			st := storeOf(b)
			const runs = 200
			var uuids []string
			for range runs {
				uuids = append(uuids, submit(t, b.e, job("", `plexus.io/kwok-delay: 3s`)))
			}
			// Kill the leader once half the Jobs exist.
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				jobs, err := c.Client().BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
				if err == nil && len(jobs.Items) >= runs/2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the Jobs were not created")
				}
			}
			if how == "crash" {
				a.crash()
			} else {
				a.stop()
			}
			for _, u := range uuids {
				r := wait(t, st, u, 120*time.Second, "final", func(r *store.Run) bool { return r.Status.Final() })
				if r.Status != store.Succeeded {
					t.Errorf("run %s: %s %+v", u, r.Status, last(r))
				}
			}
			if !b.e.Leading() {
				t.Error("b does not lead")
			}
			jobs, err := c.Client().BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			per := map[string]int{}
			for _, j := range jobs.Items {
				per[j.Labels[compiler.LabelRun]+"/"+j.Labels[compiler.LabelAttempt]]++
			}
			if len(per) != runs {
				t.Errorf("Jobs for %d (run, attempt) pairs, want %d", len(per), runs)
			}
			for k, n := range per {
				if n != 1 {
					t.Errorf("%s: %d Jobs", k, n)
				}
			}
		})
	}
}
