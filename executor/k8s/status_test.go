package k8s

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/executor"
)

func pod(phase corev1.PodPhase, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: metav1.NewTime(time.Unix(100, 0))},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main"}, {Name: "sidecar"}}},
		Status:     corev1.PodStatus{Phase: phase},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func terminated(code int32, reason, msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{
			{Name: "sidecar", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 9, Message: "{\"not\": 1}"}}},
			{Name: "main", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Message: msg}}},
		}
	}
}

func waiting(reason, msg string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
	}
}

func job(conds ...batchv1.JobCondition) *batchv1.Job {
	return &batchv1.Job{Status: batchv1.JobStatus{Conditions: conds}}
}

// onceJob is j as the executor dispatches it: one pod, no retries.
func onceJob(j *batchv1.Job) *batchv1.Job {
	zero := int32(0)
	j.Spec.BackoffLimit = &zero
	return j
}

func cond(t batchv1.JobConditionType, reason, msg string) batchv1.JobCondition {
	return batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg}
}

func TestJobStatus(t *testing.T) {
	unschedulable := func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
			Message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."}}
	}
	for _, tc := range []struct {
		name     string
		job      *batchv1.Job
		pods     []*corev1.Pod
		want     executor.Status
		reason   string
		message  string
		exitCode int
		outputs  map[string]any
	}{
		{name: "no pod yet", job: job(), want: executor.Pending},
		{name: "pod pending", job: job(), pods: []*corev1.Pod{pod(corev1.PodPending)}, want: executor.Starting},
		{name: "running", job: job(), pods: []*corev1.Pod{pod(corev1.PodRunning)}, want: executor.Running},
		{name: "unschedulable", job: job(), pods: []*corev1.Pod{pod(corev1.PodPending, unschedulable)}, want: executor.Unschedulable,
			reason: "Unschedulable", message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
		{name: "image pull", job: job(), pods: []*corev1.Pod{pod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image \"x\""))},
			want: executor.Warning, reason: "ImagePullBackOff", message: "container main: Back-off pulling image \"x\""},
		{name: "container creating is not a warning", job: job(), pods: []*corev1.Pod{pod(corev1.PodPending, waiting("ContainerCreating", ""))}, want: executor.Starting},
		{name: "complete with outputs", job: job(cond(batchv1.JobComplete, "", "")),
			pods: []*corev1.Pod{pod(corev1.PodSucceeded, terminated(0, "Completed", `{"loss": 0.25}`))},
			want: executor.Succeeded, reason: "Completed", exitCode: 0, outputs: map[string]any{"loss": 0.25}},
		{name: "complete, message not json", job: job(cond(batchv1.JobComplete, "", "")),
			pods: []*corev1.Pod{pod(corev1.PodSucceeded, terminated(0, "Completed", "done"))}, want: executor.Succeeded, reason: "Completed"},
		{name: "failed with exit code", job: job(cond(batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")),
			pods: []*corev1.Pod{pod(corev1.PodFailed, terminated(3, "Error", "out of memory?"))},
			want: executor.Failed, reason: "Error", message: "exit code 3: out of memory?", exitCode: 3},
		{name: "deadline", job: job(cond(batchv1.JobFailed, "DeadlineExceeded", "Job was active longer than specified deadline")),
			pods: []*corev1.Pod{pod(corev1.PodRunning)}, want: executor.Failed, reason: "Timeout", message: "Job was active longer than specified deadline"},
		{name: "one pod's success before the Job says so", job: onceJob(job()),
			pods: []*corev1.Pod{pod(corev1.PodSucceeded, terminated(0, "Completed", `{"loss": 0.5}`))},
			want: executor.Succeeded, reason: "Completed", outputs: map[string]any{"loss": 0.5}},
		{name: "a Job that may retry waits for its condition", job: job(),
			pods: []*corev1.Pod{pod(corev1.PodSucceeded, terminated(0, "Completed", ""))}, want: executor.Running},
		{name: "a failed pod waits for the Job's condition", job: onceJob(job()),
			pods: []*corev1.Pod{pod(corev1.PodFailed, terminated(3, "Error", ""))}, want: executor.Running},
		{name: "newest pod counts", job: job(), pods: []*corev1.Pod{
			pod(corev1.PodPending, unschedulable, func(p *corev1.Pod) { p.Name, p.CreationTimestamp = "old", metav1.NewTime(time.Unix(50, 0)) }),
			pod(corev1.PodRunning)}, want: executor.Running},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := jobStatus(tc.job, tc.pods)
			if u.Status != tc.want || u.Reason != tc.reason || u.Message != tc.message {
				t.Fatalf("got %s %q %q, want %s %q %q", u.Status, u.Reason, u.Message, tc.want, tc.reason, tc.message)
			}
			if tc.want.Final() && tc.exitCode != 0 && (u.ExitCode == nil || *u.ExitCode != tc.exitCode) {
				t.Fatalf("exit code %v, want %d", u.ExitCode, tc.exitCode)
			}
			if len(u.Outputs) != len(tc.outputs) || tc.outputs != nil && u.Outputs["loss"] != tc.outputs["loss"] {
				t.Fatalf("outputs %v, want %v", u.Outputs, tc.outputs)
			}
		})
	}
}

func TestDeploymentStatus(t *testing.T) {
	d := &appsv1.Deployment{}
	if u := deploymentStatus(d, nil); u.Status != executor.Pending {
		t.Fatalf("no pod: %s", u.Status)
	}
	if u := deploymentStatus(d, []*corev1.Pod{pod(corev1.PodPending, waiting("ErrImagePull", "no such image"))}); u.Status != executor.Warning || u.Reason != "ErrImagePull" {
		t.Fatalf("image pull: %+v", u)
	}
	d.Status.AvailableReplicas = 1
	if u := deploymentStatus(d, nil); u.Status != executor.Running {
		t.Fatalf("available: %s", u.Status)
	}
}
