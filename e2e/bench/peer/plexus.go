package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/e2e/plexusbin"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
)

// plexusNamespace is where the Plexus server runs its Jobs ("-pods" after
// it with bare pods).
const plexusNamespace = "plexus"

// plexus is `plexus server --executor k8s`, a process of its own on an
// embedded etcd, reached through its API.
type plexus struct {
	o     options
	label string
	cmd   *exec.Cmd
	log   *os.File
	api   *api.Client
	seq   atomic.Int64
}

// startPlexus builds and starts the server, tuned as o says.
func startPlexus(ctx context.Context, c *cluster.Cluster, o options, dir string, barePods bool) (*plexus, error) {
	bin, err := plexusbin.Build(dir)
	if err != nil {
		return nil, err
	}
	p := &plexus{o: o, label: "Plexus"}
	suffix := ""
	if barePods {
		p.label, suffix = "Plexus pods", "-pods"
	}
	ns := plexusNamespace + suffix
	if _, err := c.Client().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	if p.log, err = os.Create(filepath.Join(dir, "plexus-server"+suffix+".log")); err != nil {
		return nil, err
	}
	addr := filepath.Join(dir, "plexus"+suffix+".addr")
	args := []string{"server", "--executor", "k8s", "--kubeconfig", c.Kubeconfig(), "--namespace", ns,
		"--listen", "127.0.0.1:0", "--addr-file", addr}
	if barePods {
		args = append(args, "--bare-pods")
	}
	if o.tuned {
		args = append(args, "--kube-api-qps", strconv.Itoa(o.qps), "--kube-api-burst", strconv.Itoa(2*o.qps),
			"--kube-creates-per-second", strconv.Itoa(o.qps))
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "PLEXUS_HOME="+filepath.Join(dir, "plexus-home"+suffix))
	if o.profile != "" {
		p.cmd.Env = append(p.cmd.Env, "PLEXUS_CPU_PROFILE="+o.profile+suffix)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(addr); err == nil && strings.HasSuffix(string(b), "\n") {
			p.api = &api.Client{BaseURL: "http://" + strings.TrimSpace(string(b))}
			if a := strings.TrimSpace(string(b)); strings.HasPrefix(a, "http") {
				p.api.BaseURL = a
			}
			return p, nil
		}
		if time.Now().After(deadline) {
			p.close()
			return nil, fmt.Errorf("plexus server did not start: see %s", p.log.Name())
		}
	}
}

func (p *plexus) name() string { return p.label }
func (p *plexus) pid() int     { return p.cmd.Process.Pid }

func (p *plexus) close() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	}
	p.log.Close()
}

// step is the job every run here runs: one container, kept on kwok for
// o.delay; never a cache hit (every run really runs, as Argo's do).
func (p *plexus) step() string {
	return fmt.Sprintf(`cache: {disable: true}
run:
  kind: job
  environment: {annotations: {plexus.io/kwok-delay: %q}}
  container: {image: busybox, command: ["true"]}
`, p.o.delay.String())
}

// submit submits spec in project, and returns the run's uuid.
func (p *plexus) submit(ctx context.Context, spec, project string) (string, error) {
	r, err := p.api.Submit(ctx, api.SubmitRequest{Spec: spec, Project: project})
	if err != nil {
		return "", err
	}
	return r.UUID, nil
}

// wait waits until the run ends, and says when it was seen ended: it
// asks every poll (a dag's record, which holds its operations, costs the
// server more to read than a run's).
func (p *plexus) wait(ctx context.Context, uuid string, poll time.Duration) (time.Time, error) {
	for {
		r, err := p.api.Get(ctx, uuid)
		if err != nil {
			return time.Time{}, err
		}
		if r.Status.Final() {
			if r.Status != store.Succeeded {
				return time.Time{}, fmt.Errorf("run %s ended %s", uuid, r.Status)
			}
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func (p *plexus) single(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	uuid, err := p.submit(ctx, "version: 1.1\nkind: component\nname: step\n"+p.step(), "single")
	if err != nil {
		return 0, err
	}
	end, err := p.wait(ctx, uuid, 10*time.Millisecond)
	return end.Sub(start), err
}

func (p *plexus) throughput(ctx context.Context, n int) (time.Duration, error) {
	project := fmt.Sprintf("throughput-%d", p.seq.Add(1))
	spec := "version: 1.1\nkind: component\nname: step\n" + p.step()
	start := time.Now()
	if _, err := submitAll(ctx, n, p.o.submitters, func(ctx context.Context) (string, error) { return p.submit(ctx, spec, project) }); err != nil {
		return 0, err
	}
	// Their ends, seen by listing the project's runs that ended.
	for {
		page, err := p.api.List(ctx, api.ListOptions{Project: project, Status: string(store.Succeeded), Limit: n + 1})
		if err != nil {
			return 0, err
		}
		if len(page.Runs) == n {
			return time.Since(start), nil
		}
		failed, err := p.api.List(ctx, api.ListOptions{Project: project, Status: string(store.Failed), Limit: 1})
		if err == nil && len(failed.Runs) > 0 {
			return 0, fmt.Errorf("run %s failed", failed.Runs[0].UUID)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%d of %d runs succeeded: %w", len(page.Runs), n, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// dag runs a dag of width operations, each after the one before when
// chained.
func (p *plexus) dag(ctx context.Context, width int, chained bool) (time.Duration, error) {
	var b strings.Builder
	b.WriteString("version: 1.1\nkind: operation\nname: dag\ncomponent:\n  run:\n    kind: dag\n    components:\n      - name: step\n")
	for _, line := range strings.Split(strings.TrimRight(p.step(), "\n"), "\n") {
		b.WriteString("        " + line + "\n")
	}
	b.WriteString("    operations:\n")
	for i := 0; i < width; i++ {
		fmt.Fprintf(&b, "      - {name: s%d, dagRef: step", i)
		if chained && i > 0 {
			fmt.Fprintf(&b, ", dependencies: [s%d]", i-1)
		}
		b.WriteString("}\n")
	}
	start := time.Now()
	uuid, err := p.submit(ctx, b.String(), "dags")
	if err != nil {
		return 0, err
	}
	end, err := p.wait(ctx, uuid, 100*time.Millisecond)
	if err == nil && chained {
		p.breakdown(ctx, uuid)
	}
	return end.Sub(start), err
}

// breakdown logs where a chain's time goes, from its steps' conditions
// (medians): from a step's success to the next one's creation, from
// creation to the Job (scheduled), to the pod running, to success.
func (p *plexus) breakdown(ctx context.Context, uuid string) {
	page, err := p.api.List(ctx, api.ListOptions{Parent: uuid, Limit: 1000})
	if err != nil {
		logf("Plexus chain: listing its steps: %v", err)
		return
	}
	at := func(r *store.Run, st store.Status) time.Time {
		for _, c := range r.Conditions {
			if c.Type == st {
				return c.Time
			}
		}
		return time.Time{}
	}
	byNode := map[string]*store.Run{}
	for _, r := range page.Runs {
		byNode[r.Node] = r
	}
	var next, dispatch, start, run []time.Duration
	for i := 0; ; i++ {
		r := byNode[fmt.Sprintf("s%d", i)]
		if r == nil {
			break
		}
		if prev := byNode[fmt.Sprintf("s%d", i-1)]; prev != nil {
			next = append(next, at(r, store.Created).Sub(at(prev, store.Succeeded)))
		}
		dispatch = append(dispatch, at(r, store.Scheduled).Sub(at(r, store.Created)))
		start = append(start, at(r, store.Running).Sub(at(r, store.Scheduled)))
		run = append(run, at(r, store.Succeeded).Sub(at(r, store.Running)))
	}
	var sum time.Duration
	for _, d := range [][]time.Duration{next, dispatch, start, run} {
		for _, x := range d {
			sum += x
		}
	}
	logf("%s chain, median/max per step: success → next created %v/%v, created → scheduled %v/%v, scheduled → running %v/%v, running → succeeded %v/%v; all steps' sum %v",
		p.label, median(next), slices.Max(append(next, 0)).Round(time.Millisecond), median(dispatch), slices.Max(append(dispatch, 0)).Round(time.Millisecond),
		median(start), slices.Max(append(start, 0)).Round(time.Millisecond), median(run), slices.Max(append(run, 0)).Round(time.Millisecond), sum.Round(time.Millisecond))
	if dag, err := p.api.Get(ctx, uuid); err == nil && len(byNode) > 0 {
		first, last := byNode["s0"], byNode[fmt.Sprintf("s%d", len(byNode)-1)]
		if first != nil && last != nil {
			logf("%s chain: dag created → first step created %v, last step succeeded → dag succeeded %v",
				p.label, at(first, store.Created).Sub(at(dag, store.Created)).Round(time.Millisecond), at(dag, store.Succeeded).Sub(at(last, store.Succeeded)).Round(time.Millisecond))
		}
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

func (p *plexus) chain(ctx context.Context, steps int) (time.Duration, error) {
	return p.dag(ctx, steps, true)
}

func (p *plexus) fan(ctx context.Context, width int) (time.Duration, error) {
	return p.dag(ctx, width, false)
}
