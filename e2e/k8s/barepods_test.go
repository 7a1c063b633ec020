package k8s

import (
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestBarePods: with BarePods, a job is its pod, named as the attempt's
// objects, with no Job: it succeeds with the outputs its container
// reports; one that fails is retried as a pod of the next attempt, and
// fails with its exit code; stopping one deletes its pod.
func TestBarePods(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := startWith(t, c, k8s.Config{Namespace: ns, BarePods: true}, storetest.Prefix(t), "a", nil)
	cs := c.Client()

	ok := submit(t, n.e, job("outputs: [{name: loss, type: float}]", `plexus.io/kwok-message: '{"loss": 0.5}'`))
	if r := final(t, n.st, ok); r.Status != store.Succeeded || r.Outputs["loss"] != 0.5 {
		t.Fatalf("ok: %s, outputs %v: %+v", r.Status, r.Outputs, r.Conditions)
	}
	name := compiler.ObjectName(ok, 1)
	if p, err := cs.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{}); err != nil || p.Annotations[k8s.AnnotationBarePod] != "true" || len(p.OwnerReferences) != 0 {
		t.Fatalf("its pod: %v %+v", err, p)
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(t.Context(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Job was made: %v", err)
	}

	bad := submit(t, n.e, job("termination: {maxRetries: 1}", `plexus.io/kwok-exit-code: "3"`))
	r := final(t, n.st, bad)
	if r.Status != store.Failed || r.Attempt != 2 || !strings.Contains(last(r).Message, "exit code 3") {
		t.Fatalf("bad: %s, attempt %d: %+v", r.Status, r.Attempt, r.Conditions)
	}

	long := submit(t, n.e, job("", `plexus.io/kwok-delay: 5m`))
	wait(t, n.st, long, 60*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	if _, err := n.e.Stop(t.Context(), long); err != nil {
		t.Fatal(err)
	}
	if r := final(t, n.st, long); r.Status != store.Stopped {
		t.Fatalf("long: %s %+v", r.Status, r.Conditions)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := cs.CoreV1().Pods(ns).Get(t.Context(), compiler.ObjectName(long, 1), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stopped run's pod is still there: %v", err)
		}
	}
}
