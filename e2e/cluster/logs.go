package cluster

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/yaml"
)

// PodLog is the log of every pod on a fake node that does not choose its
// own with AnnotationLogs: exactly the body of GET pods/log (without
// follow; with follow, the same, and then the stream stays open).
const PodLog = "plexus kwok log line 1\nplexus kwok log line 2\nplexus kwok log line 3\n"

// PodLogLines are PodLog's lines, without their newlines.
var PodLogLines = strings.Split(strings.TrimSuffix(PodLog, "\n"), "\n")

const (
	logsDir         = "kwok-logs"
	defaultLogFile  = "default.log"
	logsFieldOwner  = "plexus-e2e"
	logsConfigFile  = "kwok-logs.yaml"
	logsCRDName     = "logs.kwok.x-k8s.io"
	logsMaxRetries  = 10
	podLogsLog      = "pod-logs.log"
	podLogsWorkers  = 2
	podLogsSyncWait = 30 * time.Second
)

var (
	logsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}
	crdGVR  = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

//go:embed crds/kwok.x-k8s.io_logs.yaml
var logsCRD []byte

// criLog is text in the CRI log format kwok reads (and a kubelet would):
// one "TIME stdout F LINE" record per line of text. A final newline ends
// the last line rather than starting an empty one; "" is an empty log.
func criLog(text string, at time.Time) []byte {
	if text == "" {
		return nil
	}
	ts := at.UTC().Format(time.RFC3339Nano)
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		b.WriteString(ts)
		b.WriteString(" stdout F ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// writeLogsConfig writes the default log file and the kwok config (a
// ClusterLogs for every pod) that serves it; it returns the config's path.
func writeLogsConfig(dir string) (string, error) {
	logs := filepath.Join(dir, logsDir)
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	file := filepath.Join(logs, defaultLogFile)
	if err := os.WriteFile(file, criLog(PodLog, time.Now()), 0o644); err != nil {
		return "", fmt.Errorf("cluster: writing the default pod log: %w", err)
	}
	config := fmt.Sprintf(`# Every pod's log, unless a kwok Logs object for the pod (see logs.go)
# says otherwise.
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: plexus-default-logs
spec:
  logs:
  - logsFile: %q
    follow: true
`, file)
	path := filepath.Join(dir, logsConfigFile)
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return "", fmt.Errorf("cluster: writing the kwok logs config: %w", err)
	}
	return path, nil
}

// createLogsCRD creates kwok's Logs CRD; logsCRDEstablished tells when the
// API server serves it.
func createLogsCRD(ctx context.Context, dyn dynamic.Interface) error {
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(logsCRD, &obj.Object); err != nil {
		return fmt.Errorf("cluster: the Logs CRD: %w", err)
	}
	if _, err := dyn.Resource(crdGVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("cluster: creating the Logs CRD: %w", err)
	}
	return nil
}

func logsCRDEstablished(ctx context.Context, dyn dynamic.Interface) error {
	crd, err := dyn.Resource(crdGVR).Get(ctx, logsCRDName, getOpts)
	if err != nil {
		return err
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		if c, ok := c.(map[string]any); ok && c["type"] == "Established" && c["status"] == "True" {
			return nil
		}
	}
	return fmt.Errorf("CRD %s not Established", logsCRDName)
}

// podLogs gives each pod annotated AnnotationLogs the log it asks for: it
// writes the log file, applies a kwok Logs object naming it (owned by the
// pod, so the garbage collector removes it with the pod), and then sets
// AnnotationLogsReady on the pod, which the pod-ready stage waits for.
type podLogs struct {
	dir     string
	client  kubernetes.Interface
	dyn     dynamic.Interface
	logPath string // what went wrong, for the cluster's LogFiles

	logMu sync.Mutex
	log   *os.File
	logf  func(format string, args ...any)

	informer cache.SharedIndexInformer
	queue    workqueue.TypedRateLimitingInterface[string]
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// startPodLogs starts watching pods' metadata and returns once the watch has
// listed them all.
func startPodLogs(ctx context.Context, cfg *rest.Config, client kubernetes.Interface, dyn dynamic.Interface, dir string, logf func(string, ...any)) (*podLogs, error) {
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	p := &podLogs{
		dir:     filepath.Join(dir, logsDir),
		client:  client,
		dyn:     dyn,
		logPath: filepath.Join(dir, podLogsLog),
		logf:    logf,
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
	}
	p.informer = metadatainformer.NewFilteredMetadataInformer(mc, podsGVR, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	// Only the annotations matter; a benchmark's thousands of pods need not
	// keep their managed fields here.
	if err := p.informer.SetTransform(func(obj any) (any, error) {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			m.ManagedFields = nil
		}
		return obj, nil
	}); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	enqueue := func(obj any) {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok && wantsLog(m) {
			if key, err := cache.MetaNamespaceKeyFunc(m); err == nil {
				p.queue.Add(key)
			}
		}
	}
	if _, err := p.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if p.log, err = os.Create(p.logPath); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Go(func() { p.informer.RunWithContext(p.ctx) })
	for range podLogsWorkers {
		p.wg.Go(func() {
			for p.next() {
			}
		})
	}
	sctx, cancel := context.WithTimeout(ctx, podLogsSyncWait)
	defer cancel()
	if !cache.WaitForCacheSync(sctx.Done(), p.informer.HasSynced) {
		p.stop()
		return nil, fmt.Errorf("cluster: the pod watch for %s did not sync: %w", AnnotationLogs, sctx.Err())
	}
	return p, nil
}

// stop ends the watch and the workers and waits for them.
func (p *podLogs) stop() {
	p.cancel()
	p.queue.ShutDown()
	p.wg.Wait()
	p.log.Close()
}

// errorf records a failure in the log file and with Options.Logf.
func (p *podLogs) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.logMu.Lock()
	fmt.Fprintf(p.log, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), msg)
	p.logMu.Unlock()
	p.logf("%s", msg)
}

// podLogFile is where the log a pod chose is kept, in the cluster's
// kwok-logs folder.
func podLogFile(dir, namespace, name string, uid types.UID) string {
	return filepath.Join(dir, fmt.Sprintf("%s_%s_%s.log", namespace, name, uid))
}

// wantsLog tells whether a pod asks for a log of its own that it has not
// been given yet.
func wantsLog(m *metav1.PartialObjectMetadata) bool {
	_, ok := m.Annotations[AnnotationLogs]
	return ok && m.Annotations[AnnotationLogsReady] != "true" && m.DeletionTimestamp == nil
}

// next handles one queued pod; false once the queue is shut down.
func (p *podLogs) next() bool {
	key, quit := p.queue.Get()
	if quit {
		return false
	}
	defer p.queue.Done(key)
	err := p.sync(key)
	switch {
	case err == nil || p.ctx.Err() != nil:
		p.queue.Forget(key)
	case p.queue.NumRequeues(key) < logsMaxRetries:
		p.errorf("cluster: giving pod %s its %s: %v (will retry)", key, AnnotationLogs, err)
		p.queue.AddRateLimited(key)
	default:
		p.queue.Forget(key)
		p.errorf("cluster: giving pod %s its %s: %v (gave up: the pod stays Pending)", key, AnnotationLogs, err)
	}
	return true
}

// sync gives the pod named by key its log, if it still wants one.
func (p *podLogs) sync(key string) error {
	obj, exists, err := p.informer.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	m := obj.(*metav1.PartialObjectMetadata)
	if !wantsLog(m) {
		return nil
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()

	file := podLogFile(p.dir, m.Namespace, m.Name, m.UID)
	if err := os.WriteFile(file, criLog(m.Annotations[AnnotationLogs], time.Now()), 0o644); err != nil {
		return err
	}
	logs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": logsGVR.GroupVersion().String(),
		"kind":       "Logs",
		"metadata": map[string]any{
			"name":      m.Name,
			"namespace": m.Namespace,
			"ownerReferences": []any{map[string]any{
				"apiVersion": "v1",
				"kind":       "Pod",
				"name":       m.Name,
				"uid":        string(m.UID),
			}},
		},
		"spec": map[string]any{
			"logs": []any{map[string]any{"logsFile": file, "follow": true}},
		},
	}}
	_, err = p.dyn.Resource(logsGVR).Namespace(m.Namespace).Apply(ctx, m.Name, logs, metav1.ApplyOptions{FieldManager: logsFieldOwner, Force: true})
	if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		return nil // the pod goes with its namespace
	}
	if err != nil {
		return fmt.Errorf("applying the kwok Logs: %w", err)
	}
	// The UID makes the patch fail rather than mark a new pod of the same
	// name.
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid":         m.UID,
		"annotations": map[string]string{AnnotationLogsReady: "true"},
	}})
	if err != nil {
		return err
	}
	_, err = p.client.CoreV1().Pods(m.Namespace).Patch(ctx, m.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: logsFieldOwner})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsInvalid(err) {
		return nil // deleted, or the name is another pod's now (a new UID)
	}
	if err != nil {
		return fmt.Errorf("marking the pod %s: %w", AnnotationLogsReady, err)
	}
	return nil
}

// AppendLog adds text's lines to the log of a pod that chose its log with
// AnnotationLogs, as if its containers printed them now: a follow stream
// open on that log gets them. The pod must be past the point where it could
// start (AnnotationLogsReady); other pods share one log, which never grows.
func (c *Cluster) AppendLog(ctx context.Context, namespace, pod, text string) error {
	p, err := c.client.CoreV1().Pods(namespace).Get(ctx, pod, getOpts)
	if err != nil {
		return fmt.Errorf("cluster: AppendLog: %w", err)
	}
	if p.Annotations[AnnotationLogsReady] != "true" {
		return fmt.Errorf("cluster: AppendLog: pod %s/%s has no log of its own (annotation %s, then %s)", namespace, pod, AnnotationLogs, AnnotationLogsReady)
	}
	path := podLogFile(filepath.Join(c.dir, logsDir), p.Namespace, p.Name, p.UID)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("cluster: AppendLog: %w", err)
	}
	_, err = f.Write(criLog(text, time.Now()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cluster: AppendLog: %w", err)
	}
	return nil
}
