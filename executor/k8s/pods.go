package k8s

import (
	"maps"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/executor"
)

// With Config.BarePods, a job that runs one pod once is dispatched as
// that pod, with no Job around it: the Job controller's hop (it creates
// the pod, then batches the pod's updates for a second before it says
// the Job ended) is left out. The pod carries the attempt's labels and
// AnnotationBarePod; its status is the attempt's; deleting it is
// stopping the attempt. Jobs of several pods (completions, parallelism)
// stay Jobs.

// AnnotationBarePod marks a pod the executor created without a Job.
const AnnotationBarePod = "plexus.io/bare-pod"

// barePod is the pod that stands for a one-pod Job, or nil when the Job
// runs more than one.
func barePod(job *batchv1.Job) *corev1.Pod {
	if !onePod(job) {
		return nil
	}
	t := job.Spec.Template
	meta := *t.ObjectMeta.DeepCopy()
	meta.Name, meta.Namespace = job.Name, job.Namespace
	meta.Labels = maps.Clone(job.Labels)
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	maps.Copy(meta.Labels, t.Labels)
	meta.Annotations = maps.Clone(job.Annotations)
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	maps.Copy(meta.Annotations, t.Annotations)
	meta.Annotations[AnnotationBarePod] = "true"
	spec := *t.Spec.DeepCopy()
	spec.RestartPolicy = corev1.RestartPolicyNever
	if job.Spec.ActiveDeadlineSeconds != nil {
		spec.ActiveDeadlineSeconds = job.Spec.ActiveDeadlineSeconds
	}
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: meta, Spec: spec}
}

// isBare says whether an object is a pod the executor created bare.
func isBare(m metav1.Object) bool {
	_, ok := m.GetAnnotations()[AnnotationBarePod]
	_, pod := m.(*corev1.Pod)
	return ok && pod
}

// barePodStatus is what a bare pod says of its attempt: its phase, with
// the main container's exit code, outputs and reason at the end.
func barePodStatus(pod *corev1.Pod) executor.StatusUpdate {
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		u := executor.StatusUpdate{Status: executor.Succeeded, Reason: "Completed"}
		if t := mainTerminated(pod); t != nil {
			u.ExitCode = intp(int(t.ExitCode))
			u.Outputs = outputs(t.Message)
		}
		return u
	case corev1.PodFailed:
		if pod.Status.Reason == "DeadlineExceeded" {
			return executor.StatusUpdate{Status: executor.Failed, Reason: "Timeout", Message: firstOf(pod.Status.Message, "the pod ran past its deadline")}
		}
		u := executor.StatusUpdate{Status: executor.Failed, Reason: firstOf(pod.Status.Reason, "Error"), Message: pod.Status.Message}
		if t := mainTerminated(pod); t != nil {
			exitedWith(&u, t)
		}
		return u
	}
	return podStatus(pod)
}

// attemptIndex indexes pods by the attempt they belong to, "uuid/attempt".
const attemptIndex = "attempt"

func attemptKeys(obj any) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil
	}
	ref, ok := refOf(m)
	if !ok {
		return nil, nil
	}
	return []string{attemptKey(ref)}, nil
}

func attemptKey(ref executor.RunRef) string { return ref.UUID + "/" + strconv.Itoa(ref.Attempt) }

// attemptPods are the pods of an attempt, from the informer's index.
func (e *Executor) attemptPods(ref executor.RunRef) []*corev1.Pod {
	objs, _ := e.byAttempt.ByIndex(attemptIndex, attemptKey(ref))
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Namespace == e.ns {
			pods = append(pods, p)
		}
	}
	return pods
}
