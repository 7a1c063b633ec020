package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/plexus-ml/plexus/e2e/cluster"
)

var (
	crdGVR      = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	workflowGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
)

// argoNamespace is where the controller runs its Workflows.
const argoNamespace = "argo"

// argo is Argo Workflows' controller, a process of its own, running
// Workflows in argoNamespace. It learns of each Workflow's end through an
// informer (a watch, no polling).
type argo struct {
	o    options
	dyn  dynamic.Interface
	cmd  *exec.Cmd
	log  *os.File
	stop context.CancelFunc

	mu    sync.Mutex
	ended map[string]time.Time // by Workflow name: when it was seen final
	phase map[string]string
	seq   int
}

// startArgo applies Argo's CRDs, its configuration, and starts its
// controller, tuned as o says.
func startArgo(ctx context.Context, c *cluster.Cluster, o options, dir string) (*argo, error) {
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return nil, err
	}
	crds, _ := filepath.Glob(filepath.Join(o.argoDir, "crds", "*.yaml"))
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CRDs under %s/crds: run scripts/argo-bin.sh", o.argoDir)
	}
	for _, f := range crds {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := yaml.Unmarshal(data, &obj); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if _, err := dyn.Resource(crdGVR).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	cs := c.Client()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: argoNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	// Metrics off: the listener's fixed port (9090) is nobody's to take.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "workflow-controller-configmap", Namespace: argoNamespace},
		Data: map[string]string{"metricsConfig": "enabled: false\n", "telemetryConfig": "enabled: false\n"}}
	if _, err := cs.CoreV1().ConfigMaps(argoNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	// The CRDs are served once established.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := dyn.Resource(workflowGVR).Namespace(argoNamespace).List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
			break
		} else if time.Now().After(deadline) {
			return nil, fmt.Errorf("the Workflow CRD is not served: %w", err)
		}
	}
	a := &argo{o: o, dyn: dyn, ended: map[string]time.Time{}, phase: map[string]string{}}
	a.log, err = os.Create(filepath.Join(dir, "workflow-controller.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"--kubeconfig", c.Kubeconfig(), "--namespace", argoNamespace, "--managed-namespace", argoNamespace,
		"--loglevel", "warn", "--workflow-workers", strconv.Itoa(o.argoWorkers)}
	env := append(os.Environ(), "LEADER_ELECTION_DISABLE=true")
	if o.tuned {
		args = append(args, "--qps", strconv.Itoa(o.qps), "--burst", strconv.Itoa(2*o.qps))
		env = append(env, "DEFAULT_REQUEUE_TIME="+o.argoRequeue.String())
	}
	a.cmd = exec.Command(filepath.Join(o.argoDir, "workflow-controller"), args...)
	a.cmd.Env, a.cmd.Stdout, a.cmd.Stderr = env, a.log, a.log
	if err := a.cmd.Start(); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	inf := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, argoNamespace, nil).ForResource(workflowGVR).Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.observe,
		UpdateFunc: func(_, obj any) { a.observe(obj) },
	})
	go inf.Run(wctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, ctx.Err()
	}
	return a, nil
}

func (a *argo) name() string { return "Argo" }
func (a *argo) pid() int     { return a.cmd.Process.Pid }

func (a *argo) close() {
	a.stop()
	if a.cmd != nil && a.cmd.Process != nil {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
	}
	a.log.Close()
}

// observe records a Workflow's phase, and when it was first seen final.
func (a *argo) observe(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	a.mu.Lock()
	defer a.mu.Unlock()
	a.phase[u.GetName()] = phase
	if _, seen := a.ended[u.GetName()]; !seen && (phase == "Succeeded" || phase == "Failed" || phase == "Error") {
		a.ended[u.GetName()] = time.Now()
	}
}

// stepTemplate is the one container every Workflow here runs.
func (a *argo) stepTemplate() map[string]any {
	return map[string]any{"name": "step",
		"metadata":  map[string]any{"annotations": map[string]any{"plexus.io/kwok-delay": a.o.delay.String()}},
		"container": map[string]any{"image": "busybox", "command": []any{"true"}}}
}

// submit creates a Workflow whose entrypoint is main.
func (a *argo) submit(ctx context.Context, main map[string]any) (string, error) {
	a.mu.Lock()
	a.seq++
	name := fmt.Sprintf("wf-%d", a.seq)
	a.mu.Unlock()
	templates := []any{a.stepTemplate()}
	if main != nil {
		templates = append(templates, main)
	}
	entry := "step"
	if main != nil {
		entry = "main"
	}
	wf := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
		"metadata": map[string]any{"name": name, "namespace": argoNamespace},
		"spec":     map[string]any{"entrypoint": entry, "templates": templates},
	}}
	_, err := a.dyn.Resource(workflowGVR).Namespace(argoNamespace).Create(ctx, wf, metav1.CreateOptions{})
	return name, err
}

// wait waits until every named Workflow has ended, and says when the
// last one did; a Workflow that did not succeed is an error.
func (a *argo) wait(ctx context.Context, names []string) (time.Time, error) {
	for {
		a.mu.Lock()
		var last time.Time
		done := 0
		for _, n := range names {
			if t, ok := a.ended[n]; ok {
				if p := a.phase[n]; p != "Succeeded" {
					a.mu.Unlock()
					return time.Time{}, fmt.Errorf("the Workflow %s ended %s", n, p)
				}
				done++
				if t.After(last) {
					last = t
				}
			}
		}
		a.mu.Unlock()
		if done == len(names) {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d of %d Workflows ended: %w", done, len(names), ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (a *argo) single(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	name, err := a.submit(ctx, nil)
	if err != nil {
		return 0, err
	}
	end, err := a.wait(ctx, []string{name})
	return end.Sub(start), err
}

func (a *argo) throughput(ctx context.Context, n int) (time.Duration, error) {
	start := time.Now()
	names, err := submitAll(ctx, n, a.o.submitters, func(ctx context.Context) (string, error) { return a.submit(ctx, nil) })
	if err != nil {
		return 0, err
	}
	end, err := a.wait(ctx, names)
	return end.Sub(start), err
}

func (a *argo) chain(ctx context.Context, steps int) (time.Duration, error) {
	var seq []any
	for i := 0; i < steps; i++ {
		seq = append(seq, []any{map[string]any{"name": fmt.Sprintf("s%d", i), "template": "step"}})
	}
	return a.one(ctx, map[string]any{"name": "main", "steps": seq})
}

func (a *argo) fan(ctx context.Context, width int) (time.Duration, error) {
	tasks := make([]any, width)
	for i := range tasks {
		tasks[i] = map[string]any{"name": fmt.Sprintf("t%d", i), "template": "step"}
	}
	return a.one(ctx, map[string]any{"name": "main", "dag": map[string]any{"tasks": tasks}})
}

// one runs one Workflow with main as its entrypoint.
func (a *argo) one(ctx context.Context, main map[string]any) (time.Duration, error) {
	start := time.Now()
	name, err := a.submit(ctx, main)
	if err != nil {
		return 0, err
	}
	end, err := a.wait(ctx, []string{name})
	return end.Sub(start), err
}
