package k8s

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestResyncAfterNoLeader: Jobs that finish while no engine leads are
// recorded by the next leader, which creates nothing again; a Job whose
// run the store does not know is reported and left alone.
func TestResyncAfterNoLeader(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	prefix := storetest.Prefix(t)
	cs := c.Client()

	// A Job labelled as Plexus's, of a run this store never had.
	stranger := "0000000000000000000000000000beef"
	orphan := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: compiler.ObjectName(stranger, 1), Labels: map[string]string{compiler.LabelRun: stranger, compiler.LabelAttempt: "1"}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{cluster.AnnotationDelay: "10m"}},
			Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "x", Image: "x"}}},
		}},
	}
	if _, err := cs.BatchV1().Jobs(ns).Create(t.Context(), orphan, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	a := start(t, c, ns, prefix, "a")
	var uuids []string
	for range 5 {
		uuids = append(uuids, submit(t, a.e, job("outputs: [{name: loss, type: float}]", `plexus.io/kwok-delay: 3s, plexus.io/kwok-message: '{"loss": 1.5}'`)))
	}
	for _, u := range uuids {
		wait(t, a.st, u, 30*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	}
	a.stop() // no leader from here on

	// The Jobs finish unwatched.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		jobs, err := cs.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: compiler.LabelRun})
		if err != nil {
			t.Fatal(err)
		}
		complete := 0
		for _, j := range jobs.Items {
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
					complete++
				}
			}
		}
		if complete == len(uuids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Jobs completed", complete, len(uuids))
		}
	}
	for _, u := range uuids {
		if r, _, _ := a.st.Get(t.Context(), u); r.Status != store.Running {
			t.Fatalf("run %s is %s with no leader", u, r.Status)
		}
	}

	b := start(t, c, ns, prefix, "b")
	reg := prometheus.NewRegistry()
	reg.MustRegister(b.e.Collectors()...)
	for _, u := range uuids {
		r := final(t, b.st, u)
		if r.Status != store.Succeeded || r.Outputs["loss"] != 1.5 {
			t.Fatalf("run %s: %s %v %+v", u, r.Status, r.Outputs, r.Conditions)
		}
	}
	jobs, err := cs.BatchV1().Jobs(ns).List(t.Context(), metav1.ListOptions{LabelSelector: compiler.LabelRun})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != len(uuids)+1 {
		t.Fatalf("%d Jobs, want one per run plus the stranger's", len(jobs.Items))
	}
	// The stranger's Job is reported, and still there.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if gauge(t, reg, "plexus_orphaned_attempts") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Job of an unknown run was not reported")
		}
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(t.Context(), orphan.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("the Job of an unknown run was deleted: %v", err)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	return -1
}
