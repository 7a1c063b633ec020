package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/e2e/cluster"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// What kwok does with a Job's pod, chosen by the pod's annotations.
func TestJobOutcomes(t *testing.T) {
	c := cluster.Shared(t)
	tests := map[string]struct {
		annotations map[string]string
		wantJob     batchv1.JobConditionType
		wantExit    int32
		wantReason  string
		wantMessage string
		minDuration time.Duration // create to finished, at least
	}{
		"succeeds": {
			wantJob: batchv1.JobComplete, wantExit: 0, wantReason: "Completed",
		},
		"fails": {
			annotations: map[string]string{cluster.AnnotationFail: "true"},
			wantJob:     batchv1.JobFailed, wantExit: 1, wantReason: "Error",
		},
		"fails with an exit code": {
			annotations: map[string]string{cluster.AnnotationExitCode: "3"},
			wantJob:     batchv1.JobFailed, wantExit: 3, wantReason: "Error",
		},
		"fail and exit code": {
			annotations: map[string]string{cluster.AnnotationFail: "true", cluster.AnnotationExitCode: "42"},
			wantJob:     batchv1.JobFailed, wantExit: 42, wantReason: "Error",
		},
		"exit code 0 succeeds": {
			annotations: map[string]string{cluster.AnnotationExitCode: "0"},
			wantJob:     batchv1.JobComplete, wantExit: 0, wantReason: "Completed",
		},
		"message on success": {
			annotations: map[string]string{cluster.AnnotationMessage: `{"loss": 0.1, "note": "a \"quoted\"\nline"}`},
			wantJob:     batchv1.JobComplete, wantExit: 0, wantReason: "Completed",
			wantMessage: `{"loss": 0.1, "note": "a \"quoted\"\nline"}`,
		},
		"message on failure": {
			annotations: map[string]string{cluster.AnnotationExitCode: "2", cluster.AnnotationMessage: "out of memory"},
			wantJob:     batchv1.JobFailed, wantExit: 2, wantReason: "Error",
			wantMessage: "out of memory",
		},
		"delay": {
			annotations: map[string]string{cluster.AnnotationDelay: "2s"},
			wantJob:     batchv1.JobComplete, wantExit: 0, wantReason: "Completed",
			minDuration: 2 * time.Second,
		},
		"delay then failure": {
			annotations: map[string]string{cluster.AnnotationDelay: "1500ms", cluster.AnnotationFail: "true"},
			wantJob:     batchv1.JobFailed, wantExit: 1, wantReason: "Error",
			minDuration: 1500 * time.Millisecond,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := c.Namespace(t)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			began := time.Now()
			job, err := c.Client().BatchV1().Jobs(ns).Create(ctx, newJob("job", tc.annotations), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := waitJobFinished(t, ctx, c.Client(), job)
			took := time.Since(began)
			t.Logf("created to %s in %v", got, took.Round(time.Millisecond))
			if got != tc.wantJob {
				t.Fatalf("job ended %s, want %s", got, tc.wantJob)
			}
			if took < tc.minDuration {
				t.Errorf("job ended after %v, want at least %v", took, tc.minDuration)
			}

			pod := onlyPod(t, ctx, c.Client(), job)
			wantPhase := corev1.PodSucceeded
			if tc.wantJob == batchv1.JobFailed {
				wantPhase = corev1.PodFailed
			}
			if pod.Status.Phase != wantPhase {
				t.Errorf("pod phase %s, want %s", pod.Status.Phase, wantPhase)
			}
			if len(pod.Status.ContainerStatuses) != 1 || pod.Status.ContainerStatuses[0].State.Terminated == nil {
				t.Fatalf("container statuses %+v, want one terminated", pod.Status.ContainerStatuses)
			}
			term := pod.Status.ContainerStatuses[0].State.Terminated
			if term.ExitCode != tc.wantExit || term.Reason != tc.wantReason || term.Message != tc.wantMessage {
				t.Errorf("terminated: exit %d reason %q message %q; want exit %d reason %q message %q",
					term.ExitCode, term.Reason, term.Message, tc.wantExit, tc.wantReason, tc.wantMessage)
			}
		})
	}
}

// A pod that fits no node stays Pending, marked Unschedulable by the
// scheduler; a bare pod that fits runs and keeps running (only Jobs' pods
// end by themselves).
func TestSchedulingAndBarePods(t *testing.T) {
	c := cluster.Shared(t)
	t.Run("unschedulable", func(t *testing.T) {
		t.Parallel()
		ns := c.Namespace(t)
		pod := newPod("nowhere", nil)
		pod.Spec.NodeSelector = map[string]string{"plexus.io/pool": "no-such-pool"}
		pod, err := c.Client().CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := waitPod(t, c.Client(), pod, "PodScheduled=False", func(p *corev1.Pod) bool {
			cond := podCondition(p, corev1.PodScheduled)
			return cond != nil && cond.Status == corev1.ConditionFalse
		})
		if cond := podCondition(p, corev1.PodScheduled); cond.Reason != corev1.PodReasonUnschedulable {
			t.Errorf("PodScheduled reason %q, want %q (%s)", cond.Reason, corev1.PodReasonUnschedulable, cond.Message)
		}
		time.Sleep(time.Second)
		p = getPod(t, c.Client(), pod)
		if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" {
			t.Errorf("pod %s on %q, want Pending on no node", p.Status.Phase, p.Spec.NodeName)
		}
	})
	t.Run("bare pod keeps running", func(t *testing.T) {
		t.Parallel()
		ns := c.Namespace(t)
		pod := runningPod(t, c, ns, "bare", nil)
		time.Sleep(1500 * time.Millisecond)
		if p := getPod(t, c.Client(), pod); p.Status.Phase != corev1.PodRunning {
			t.Errorf("bare pod %s after 1.5s, want Running", p.Status.Phase)
		}
	})
}

// An unpullable image, by name or by annotation, leaves the container
// Waiting in ErrImagePull, then ImagePullBackOff, and the pod Pending.
func TestImagePullError(t *testing.T) {
	c := cluster.Shared(t)
	tests := map[string]struct {
		image       string
		annotations map[string]string
	}{
		"by image":      {image: cluster.UnpullableImage + "/trainer:v1"},
		"by annotation": {image: "plexus.io/trainer:v1", annotations: map[string]string{cluster.AnnotationImagePullError: "true"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := c.Namespace(t)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			tmpl := newJob("pull", tc.annotations)
			tmpl.Spec.Template.Spec.Containers[0].Image = tc.image
			job, err := c.Client().BatchV1().Jobs(ns).Create(ctx, tmpl, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var pod *corev1.Pod
			if err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
				pods, err := c.Client().CoreV1().Pods(ns).List(ctx, jobPods(job))
				if err != nil || len(pods.Items) == 0 {
					return false, nil
				}
				pod = &pods.Items[0]
				return waitingReason(pod) == "ErrImagePull", nil
			}); err != nil {
				t.Fatalf("waiting for ErrImagePull: %v; pod %+v", err, podState(pod))
			}
			pod = waitPod(t, c.Client(), pod, "ImagePullBackOff", func(p *corev1.Pod) bool {
				return waitingReason(p) == "ImagePullBackOff"
			})
			if pod.Status.Phase != corev1.PodPending {
				t.Errorf("pod phase %s, want Pending", pod.Status.Phase)
			}
			if msg := pod.Status.ContainerStatuses[0].State.Waiting.Message; msg == "" {
				t.Error("ImagePullBackOff without a message")
			}
		})
	}
}

// newJob is a one-pod Job that does not retry.
func newJob(name string, annotations map[string]string) *batchv1.Job {
	backoff := int32(0)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit: &backoff,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: annotations},
				Spec:       newPod("", nil).Spec,
			},
		},
	}
}

// runningPod creates a bare pod on the fake node and waits until it runs.
func runningPod(t *testing.T, c *cluster.Cluster, ns, name string, annotations map[string]string) *corev1.Pod {
	t.Helper()
	pod := newPod(name, annotations)
	pod.Spec.NodeSelector = map[string]string{cluster.NodeLabel: "true"}
	pod, err := c.Client().CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return waitPod(t, c.Client(), pod, "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
}

func newPod(name string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: "plexus.io/trainer:v1"}},
		},
	}
}

func jobPods(job *batchv1.Job) metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name}
}

// waitJobFinished waits for the Job's Complete or Failed condition.
func waitJobFinished(t *testing.T, ctx context.Context, client kubernetes.Interface, job *batchv1.Job) batchv1.JobConditionType {
	t.Helper()
	var got batchv1.JobConditionType
	var last *batchv1.Job
	err := wait.PollUntilContextCancel(ctx, 25*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		j, err := client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = j
		for _, c := range j.Status.Conditions {
			if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
				got = c.Type
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("waiting for job %s/%s to finish: %v; status %+v", job.Namespace, job.Name, err, last)
	}
	return got
}

func onlyPod(t *testing.T, ctx context.Context, client kubernetes.Interface, job *batchv1.Job) *corev1.Pod {
	t.Helper()
	pods, err := client.CoreV1().Pods(job.Namespace).List(ctx, jobPods(job))
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("job %s has %d pods, want 1", job.Name, len(pods.Items))
	}
	return &pods.Items[0]
}

func getPod(t *testing.T, client kubernetes.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	p, err := client.CoreV1().Pods(pod.Namespace).Get(t.Context(), pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitPod polls pod until ok, for up to 30s.
func waitPod(t *testing.T, client kubernetes.Interface, pod *corev1.Pod, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = p
		return ok(p), nil
	})
	if err != nil {
		t.Fatalf("waiting for pod %s/%s %s: %v; pod %s", pod.Namespace, pod.Name, what, err, podState(last))
	}
	return last
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func waitingReason(p *corev1.Pod) string {
	if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
		return ""
	}
	return p.Status.ContainerStatuses[0].State.Waiting.Reason
}

// podState is a pod's status in one line, for failure messages.
func podState(p *corev1.Pod) string {
	if p == nil {
		return "<none>"
	}
	return fmt.Sprintf("phase=%s node=%q conditions=%+v containers=%+v", p.Status.Phase, p.Spec.NodeName, p.Status.Conditions, p.Status.ContainerStatuses)
}
