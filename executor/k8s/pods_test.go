package k8s

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/executor"
)

// TestBarePod: a one-pod Job becomes its pod, named as the Job, with the
// Job's and its template's labels and annotations, marked bare, never
// restarted, with the Job's deadline; a Job of several pods does not.
func TestBarePod(t *testing.T) {
	deadline := int64(60)
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "plexus-u-1", Namespace: "ml", Labels: map[string]string{"plexus.io/run": "u"}, Annotations: map[string]string{"a": "job"}},
		Spec: batchv1.JobSpec{BackoffLimit: new(int32), ActiveDeadlineSeconds: &deadline, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"plexus.io/attempt": "1"}, Annotations: map[string]string{"b": "pod"}},
			Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure, Containers: []corev1.Container{{Name: "main", Image: "x"}}},
		}},
	}
	p := barePod(j)
	if p == nil || p.Name != "plexus-u-1" || p.Namespace != "ml" || p.Labels["plexus.io/run"] != "u" || p.Labels["plexus.io/attempt"] != "1" ||
		p.Annotations["a"] != "job" || p.Annotations["b"] != "pod" || !isBare(p) || p.Spec.RestartPolicy != corev1.RestartPolicyNever ||
		p.Spec.ActiveDeadlineSeconds == nil || *p.Spec.ActiveDeadlineSeconds != 60 || p.Spec.Containers[0].Image != "x" {
		t.Fatalf("pod %+v", p)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure || j.Spec.Template.Annotations[AnnotationBarePod] != "" {
		t.Fatal("the Job was changed")
	}
	two := int32(2)
	j.Spec.Parallelism = &two
	if barePod(j) != nil {
		t.Fatal("a Job of two pods became one pod")
	}
	if isBare(&corev1.Pod{}) || isBare(&batchv1.Job{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{AnnotationBarePod: "true"}}}) {
		t.Fatal("isBare")
	}
}

func TestBarePodStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		want    executor.Status
		reason  string
		message string
	}{
		{"running", pod(corev1.PodRunning), executor.Running, "", ""},
		{"succeeded", pod(corev1.PodSucceeded, terminated(0, "Completed", `{"loss": 1}`)), executor.Succeeded, "Completed", ""},
		{"failed", pod(corev1.PodFailed, terminated(2, "Error", "boom")), executor.Failed, "Error", "exit code 2: boom"},
		{"deadline", pod(corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.Reason, p.Status.Message = "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
		}),
			executor.Failed, "Timeout", "Pod was active on the node longer than the specified deadline"},
	} {
		u := barePodStatus(tc.pod)
		if u.Status != tc.want || u.Reason != tc.reason || u.Message != tc.message {
			t.Errorf("%s: got %s %q %q", tc.name, u.Status, u.Reason, u.Message)
		}
		if tc.name == "succeeded" && (u.Outputs["loss"] != 1.0 || u.ExitCode == nil || *u.ExitCode != 0) {
			t.Errorf("succeeded: outputs %v, exit %v", u.Outputs, u.ExitCode)
		}
	}
}
