package k8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// Config configures the executor. The zero value reads the kubeconfig as
// kubectl does (KUBECONFIG, ~/.kube/config, or in-cluster).
type Config struct {
	// Kubeconfig is the kubeconfig file; Context the context in it.
	Kubeconfig, Context string
	// Namespace is where runs go (default: the context's namespace, or
	// "default").
	Namespace string
	// QPS and Burst bound the client's requests (default 200 and 400;
	// client-go's own defaults, 5 and 10, would throttle dispatch).
	QPS   float32
	Burst int
	// CreatesPerSecond bounds object creations (default 100), so a burst
	// of runs does not flood the API server.
	CreatesPerSecond float32
	// InitImage runs the built-in init steps (default the compiler's).
	InitImage string
	// ArtifactsStore names the connection (a volume claim or a host path)
	// that is the default artifacts store (compiler.LowerOptions).
	ArtifactsStore string
	// BarePods dispatches a job that runs one pod once as that pod, with
	// no Job (pods.go).
	BarePods bool
	Log      *slog.Logger
}

// Executor runs compiled jobs as Kubernetes Jobs and services as a
// Deployment with a Service, and reports their statuses from one shared
// informer factory on the objects labelled plexus.io/run.
type Executor struct {
	cs      kubernetes.Interface
	ns      string
	cfg     Config
	limiter flowcontrol.RateLimiter
	stop    chan struct{}
	jobs    batchlisters.JobLister
	pods    corelisters.PodLister
	// byAttempt indexes the pods by attempt (attemptIndex): what an
	// attempt's news reads, without a scan of every pod.
	byAttempt cache.Indexer
	deps      appslisters.DeploymentLister

	mu       sync.Mutex
	last     map[executor.RunRef]executor.StatusUpdate // what was last reported of each attempt
	sent     map[executor.RunRef]bool                  // created by this executor, maybe not seen yet
	stopping map[executor.RunRef]bool
	subs     map[chan executor.StatusUpdate]struct{}
}

// RESTConfig loads the client configuration as kubectl does: the given
// kubeconfig (or KUBECONFIG, or ~/.kube/config) and context, else the
// in-cluster service account. It also returns the context's namespace.
func RESTConfig(kubeconfig, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("k8s executor: loading the kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("k8s executor: the kubeconfig's namespace: %w", err)
	}
	return rc, ns, nil
}

// New connects to the cluster cfg names and starts watching it.
func New(ctx context.Context, cfg Config) (*Executor, error) {
	rc, ns, err := RESTConfig(cfg.Kubeconfig, cfg.Context)
	if err != nil {
		return nil, err
	}
	if cfg.Namespace == "" {
		cfg.Namespace = ns
	}
	return NewForConfig(ctx, rc, cfg)
}

// NewForConfig is New with a client configuration at hand.
func NewForConfig(ctx context.Context, rc *rest.Config, cfg Config) (*Executor, error) {
	rc = rest.CopyConfig(rc)
	if cfg.QPS <= 0 {
		cfg.QPS = 200
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 400
	}
	rc.QPS, rc.Burst = cfg.QPS, cfg.Burst
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("k8s executor: %w", err)
	}
	return NewForClient(ctx, cs, cfg)
}

// NewForClient starts the executor on a clientset and waits until its
// informers have listed what exists.
func NewForClient(ctx context.Context, cs kubernetes.Interface, cfg Config) (*Executor, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.CreatesPerSecond <= 0 {
		cfg.CreatesPerSecond = 100
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	e := &Executor{cs: cs, ns: cfg.Namespace, cfg: cfg, stop: make(chan struct{}),
		limiter: flowcontrol.NewTokenBucketRateLimiter(cfg.CreatesPerSecond, max(1, int(cfg.CreatesPerSecond))),
		last:    map[executor.RunRef]executor.StatusUpdate{}, sent: map[executor.RunRef]bool{},
		stopping: map[executor.RunRef]bool{}, subs: map[chan executor.StatusUpdate]struct{}{}}
	if err := e.preflight(ctx); err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(cfg.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = compiler.LabelRun }))
	jobs, pods, deps := factory.Batch().V1().Jobs(), factory.Core().V1().Pods(), factory.Apps().V1().Deployments()
	e.jobs, e.pods, e.deps = jobs.Lister(), pods.Lister(), deps.Lister()
	if err := pods.Informer().AddIndexers(cache.Indexers{attemptIndex: attemptKeys}); err != nil {
		return nil, fmt.Errorf("k8s executor: %w", err)
	}
	e.byAttempt = pods.Informer().GetIndexer()
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { e.changed(obj, false) },
		UpdateFunc: func(_, obj any) { e.changed(obj, false) },
		DeleteFunc: func(obj any) { e.changed(obj, true) },
	}
	for _, inf := range []cache.SharedIndexInformer{jobs.Informer(), pods.Informer(), deps.Informer()} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("k8s executor: %w", err)
		}
	}
	factory.Start(e.stop)
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			close(e.stop)
			factory.Shutdown()
			return nil, fmt.Errorf("k8s executor: listing %v in namespace %s did not finish", typ, e.ns)
		}
	}
	go func() { <-e.stop; factory.Shutdown() }()
	return e, nil
}

// preflight lists each kind the informers watch once, so that a missing
// permission or an unreachable cluster is a clear error at start rather
// than informers retrying for ever.
func (e *Executor) preflight(ctx context.Context) error {
	opts := metav1.ListOptions{LabelSelector: compiler.LabelRun, Limit: 1}
	for _, check := range []struct {
		what string
		list func() error
	}{
		{"jobs", func() error { _, err := e.cs.BatchV1().Jobs(e.ns).List(ctx, opts); return err }},
		{"pods", func() error { _, err := e.cs.CoreV1().Pods(e.ns).List(ctx, opts); return err }},
		{"deployments", func() error { _, err := e.cs.AppsV1().Deployments(e.ns).List(ctx, opts); return err }},
	} {
		if err := retryTransient(ctx, check.list); err != nil {
			return fmt.Errorf("k8s executor: listing %s in namespace %s: %w", check.what, e.ns, err)
		}
	}
	return nil
}

// permanent says whether trying a call that failed with err again cannot
// mend it: no permission, no such namespace, a request the API server
// refuses as it is. Anything else (throttling, a server error, a timeout,
// an unreachable server) may pass on another try.
func permanent(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) || apierrors.IsNotFound(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsInvalid(err) || apierrors.IsMethodNotSupported(err) ||
		apierrors.IsRequestEntityTooLargeError(err)
}

// retryTransient calls do until it succeeds, fails in a way that trying
// again cannot mend (no permission, no such namespace, a bad request), or
// ctx ends; an API server that throttles, fails for a moment or cannot
// be reached yet is tried again, from 100ms apart up to 2s.
func retryTransient(ctx context.Context, do func() error) error {
	wait := 100 * time.Millisecond
	for {
		err := do()
		if err == nil || permanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Close stops the informers and ends every watch.
func (e *Executor) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	return nil
}

// Namespace is where the executor creates runs.
func (e *Executor) Namespace() string { return e.ns }

// Client is the executor's clientset.
func (e *Executor) Client() kubernetes.Interface { return e.cs }

// refOf reads the attempt an object belongs to from its labels.
func refOf(m metav1.Object) (executor.RunRef, bool) {
	l := m.GetLabels()
	uuid, a := l[compiler.LabelRun], l[compiler.LabelAttempt]
	attempt, err := strconv.Atoi(a)
	if uuid == "" || err != nil {
		return executor.RunRef{}, false
	}
	return executor.RunRef{UUID: uuid, Attempt: attempt}, true
}

// changed recomputes the status of the attempt an object belongs to, and
// reports it if it is news.
func (e *Executor) changed(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	ref, ok := refOf(m)
	if !ok {
		return
	}
	_, isPod := obj.(*corev1.Pod)
	isPod = isPod && !isBare(m) // a bare pod is the attempt's own object
	u, known := e.observe(ref)
	if !known && deleted && !isPod {
		// Its Job or Deployment is gone: stopped if asked, else lost.
		e.mu.Lock()
		stopping := e.stopping[ref]
		e.mu.Unlock()
		u = executor.StatusUpdate{Status: executor.Stopped, Reason: "Stopped", Message: "deleted on request"}
		if !stopping {
			u = executor.StatusUpdate{Status: executor.Failed, Reason: "Deleted", Message: "its objects were deleted outside Plexus"}
		}
		known = true
	}
	if known {
		e.report(ref, u)
	}
	if deleted && !isPod {
		if _, still := e.observe(ref); !still {
			// Gone for good: forget it, so that a long-running
			// executor's memory does not grow with every attempt.
			e.mu.Lock()
			delete(e.last, ref)
			delete(e.sent, ref)
			delete(e.stopping, ref)
			e.mu.Unlock()
		}
	}
}

// observe reads the attempt's status from the informers' caches; known
// is false when the attempt has no Job or Deployment.
func (e *Executor) observe(ref executor.RunRef) (executor.StatusUpdate, bool) {
	name := compiler.ObjectName(ref.UUID, ref.Attempt)
	pods := e.attemptPods(ref)
	if job, err := e.jobs.Jobs(e.ns).Get(name); err == nil {
		return jobStatus(job, pods), true
	}
	if dep, err := e.deps.Deployments(e.ns).Get(name); err == nil {
		return deploymentStatus(dep, pods), true
	}
	if pod, err := e.pods.Pods(e.ns).Get(name); err == nil && isBare(pod) {
		return barePodStatus(pod), true
	}
	return executor.StatusUpdate{}, false
}

// report sends news of an attempt to every watcher: a status, reason or
// message it did not have. An ended attempt's status does not change.
func (e *Executor) report(ref executor.RunRef, u executor.StatusUpdate) {
	u.Run = ref
	if u.Time.IsZero() {
		u.Time = time.Now()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	prev, seen := e.last[ref]
	if seen && (prev.Status.Final() || prev.Status == u.Status && prev.Reason == u.Reason && prev.Message == u.Message) {
		return
	}
	e.last[ref] = u
	if u.Status == executor.Pending {
		return // nothing to say yet
	}
	for ch := range e.subs {
		select {
		case ch <- u:
		default:
			// A watcher with no room misses this one; the engine asks
			// Status when it checks the run.
		}
	}
}

// Dispatch creates the attempt's objects: a Job, or a Deployment and a
// Service. An object that exists already counts as created, so a second
// dispatch of an attempt changes nothing. The Job does not retry by
// itself (backoffLimit 0): the engine retries with a new attempt, a new
// Job.
func (e *Executor) Dispatch(ctx context.Context, ref executor.RunRef, c *compiler.Compiled) error {
	ri := c.Run
	ri.UUID, ri.Namespace = ref.UUID, e.ns
	objs, err := compiler.Lower(c, ri, compiler.LowerOptions{Attempt: ref.Attempt, InitImage: e.cfg.InitImage, ArtifactsStore: e.cfg.ArtifactsStore})
	if err != nil {
		return err
	}
	switch {
	case objs.Job != nil && e.cfg.BarePods && barePod(objs.Job) != nil:
		objs.Job.Spec.BackoffLimit = ptr(int32(0))
		pod := barePod(objs.Job)
		err = e.create(ctx, func(ctx context.Context) error {
			_, err := e.cs.CoreV1().Pods(e.ns).Create(ctx, pod, metav1.CreateOptions{})
			return err
		})
	case objs.Job != nil:
		objs.Job.Spec.BackoffLimit = ptr(int32(0))
		err = e.create(ctx, func(ctx context.Context) error {
			_, err := e.cs.BatchV1().Jobs(e.ns).Create(ctx, objs.Job, metav1.CreateOptions{})
			return err
		})
	case objs.Deployment != nil:
		err = e.create(ctx, func(ctx context.Context) error {
			_, err := e.cs.AppsV1().Deployments(e.ns).Create(ctx, objs.Deployment, metav1.CreateOptions{})
			return err
		})
		if err == nil && objs.Service != nil && len(objs.Service.Spec.Ports) > 0 {
			err = e.create(ctx, func(ctx context.Context) error {
				_, err := e.cs.CoreV1().Services(e.ns).Create(ctx, objs.Service, metav1.CreateOptions{})
				return err
			})
		}
	default:
		return fmt.Errorf("k8s executor: %T runs are not dispatched yet (jobs and services are)", c.Component.Run)
	}
	if err != nil && !permanent(err) {
		return fmt.Errorf("k8s executor: dispatching %s/%d: %w (%w)", ref.UUID, ref.Attempt, err, executor.ErrTransient)
	}
	if err != nil {
		return fmt.Errorf("k8s executor: dispatching %s/%d: %w", ref.UUID, ref.Attempt, err)
	}
	e.mu.Lock()
	e.sent[ref] = true
	e.mu.Unlock()
	return nil
}

func (e *Executor) create(ctx context.Context, do func(context.Context) error) error {
	if err := e.limiter.Wait(ctx); err != nil {
		return err
	}
	if err := do(ctx); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// Status is the attempt's status from the informers' caches. An attempt
// with no object, that this executor did not just create, is unknown.
func (e *Executor) Status(_ context.Context, ref executor.RunRef) (executor.StatusUpdate, error) {
	e.mu.Lock()
	last, seen := e.last[ref]
	sent := e.sent[ref]
	e.mu.Unlock()
	if seen && last.Status.Final() {
		return last, nil
	}
	u, known := e.observe(ref)
	switch {
	case known:
		u.Run = ref
		return u, nil
	case sent:
		return executor.StatusUpdate{Run: ref, Status: executor.Pending}, nil
	}
	return executor.StatusUpdate{}, fmt.Errorf("%s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
}

// Stop deletes the attempt's objects, their pods with them (background
// propagation); it is reported stopped once they are gone.
func (e *Executor) Stop(ctx context.Context, ref executor.RunRef) error {
	name := compiler.ObjectName(ref.UUID, ref.Attempt)
	e.mu.Lock()
	e.stopping[ref] = true
	e.mu.Unlock()
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	found := false
	for _, del := range []func() error{
		func() error { return e.cs.BatchV1().Jobs(e.ns).Delete(ctx, name, opts) },
		func() error { return e.cs.AppsV1().Deployments(e.ns).Delete(ctx, name, opts) },
		func() error { return e.cs.CoreV1().Services(e.ns).Delete(ctx, name, opts) },
		// A pod named as the attempt's objects is a bare one (a Job's and
		// a Deployment's pods have names of their own).
		func() error {
			if pod, err := e.pods.Pods(e.ns).Get(name); !e.cfg.BarePods && (err != nil || !isBare(pod)) {
				return apierrors.NewNotFound(corev1.Resource("pods"), name)
			}
			return e.cs.CoreV1().Pods(e.ns).Delete(ctx, name, opts)
		},
	} {
		switch err := del(); {
		case err == nil:
			found = true
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("k8s executor: stopping %s/%d: %w", ref.UUID, ref.Attempt, err)
		}
	}
	if !found {
		return fmt.Errorf("stopping %s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
	}
	return nil
}

// Watch replays the status of every attempt the cluster holds, then
// streams news until ctx ends or the executor closes.
func (e *Executor) Watch(ctx context.Context) (<-chan executor.StatusUpdate, error) {
	refs, err := e.Attempts(ctx)
	if err != nil {
		return nil, err
	}
	var replay []executor.StatusUpdate
	for _, ref := range refs {
		if u, ok := e.observe(ref); ok && u.Status != executor.Pending {
			u.Run, u.Time = ref, time.Now()
			replay = append(replay, u)
		}
	}
	ch := make(chan executor.StatusUpdate, len(replay)+1024)
	for _, u := range replay {
		ch <- u
	}
	e.mu.Lock()
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-e.stop:
		}
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
		close(ch)
	}()
	return ch, nil
}

// Attempts lists the attempts whose objects the cluster holds: what the
// engine reconciles against its store after a restart.
func (e *Executor) Attempts(context.Context) ([]executor.RunRef, error) {
	var out []executor.RunRef
	jobs, err := e.jobs.Jobs(e.ns).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if ref, ok := refOf(j); ok {
			out = append(out, ref)
		}
	}
	deps, err := e.deps.Deployments(e.ns).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, d := range deps {
		if ref, ok := refOf(d); ok {
			out = append(out, ref)
		}
	}
	pods, err := e.pods.Pods(e.ns).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, p := range pods {
		if ref, ok := refOf(p); ok && isBare(p) {
			out = append(out, ref)
		}
	}
	return out, nil
}

// Logs streams the main container's log of the attempt's newest pod; with
// follow it waits for the pod to start and for more until it ends.
func (e *Executor) Logs(ctx context.Context, ref executor.RunRef, follow bool) (io.ReadCloser, error) {
	for {
		pod := newest(e.attemptPods(ref))
		if pod != nil && (pod.Status.Phase != corev1.PodPending || !follow) {
			opts := &corev1.PodLogOptions{Follow: follow}
			if len(pod.Spec.Containers) > 0 {
				opts.Container = pod.Spec.Containers[0].Name
			}
			return e.cs.CoreV1().Pods(e.ns).GetLogs(pod.Name, opts).Stream(ctx)
		}
		if pod == nil && !follow {
			if _, known := e.observe(ref); !known {
				return nil, fmt.Errorf("logs of %s/%d: %w", ref.UUID, ref.Attempt, executor.ErrUnknownRun)
			}
			return nil, errors.New("k8s executor: the run has no pod yet")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func ptr[T any](v T) *T { return &v }

var _ executor.Executor = (*Executor)(nil)
