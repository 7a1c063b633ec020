package k8s

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/executor"
)

// Container waiting reasons that say the pod will not start as it is: the
// run is in warning until they clear (or its timeout ends it).
var warningReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "CrashLoopBackOff": true,
	"RunContainerError": true,
}

// jobStatus says what a Job and its pods mean for the attempt: the Job's
// conditions decide the end; before it, the newest pod says whether the
// attempt waits for a node, cannot start, is starting or runs.
func jobStatus(job *batchv1.Job, pods []*corev1.Pod) executor.StatusUpdate {
	pod := newest(pods)
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			u := executor.StatusUpdate{Status: executor.Succeeded, Reason: "Completed"}
			if t := mainTerminated(pod); t != nil {
				u.ExitCode = intp(int(t.ExitCode))
				u.Outputs = outputs(t.Message)
			}
			return u
		case batchv1.JobFailed:
			u := executor.StatusUpdate{Status: executor.Failed, Reason: c.Reason, Message: c.Message}
			if c.Reason == batchv1.JobReasonDeadlineExceeded {
				u.Reason = "Timeout"
			}
			if t := mainTerminated(pod); t != nil && c.Reason != batchv1.JobReasonDeadlineExceeded {
				exitedWith(&u, t)
			}
			return u
		}
	}
	if pod == nil {
		return executor.StatusUpdate{Status: executor.Pending}
	}
	if pod.Status.Phase == corev1.PodSucceeded && onePod(job) {
		// The Job will say Complete once its controller has synced (it
		// batches pod updates for a second); with one pod and no retries,
		// that pod's success is the Job's, known now.
		if t := mainTerminated(pod); t != nil && t.ExitCode == 0 {
			return executor.StatusUpdate{Status: executor.Succeeded, Reason: "Completed", ExitCode: intp(0), Outputs: outputs(t.Message)}
		}
	}
	return podStatus(pod)
}

// exitedWith says in u how the main container ended: its exit code, its
// reason, and its termination message unless that holds outputs.
func exitedWith(u *executor.StatusUpdate, t *corev1.ContainerStateTerminated) {
	u.ExitCode = intp(int(t.ExitCode))
	u.Reason = firstOf(t.Reason, "Error")
	u.Message = fmt.Sprintf("exit code %d", t.ExitCode)
	if msg := strings.TrimSpace(t.Message); msg != "" && outputs(msg) == nil {
		u.Message += ": " + msg
	}
}

// onePod says whether a Job runs one pod, once: its first pod's end is
// its own.
func onePod(job *batchv1.Job) bool {
	one := func(p *int32) bool { return p == nil || *p == 1 }
	return one(job.Spec.Completions) && one(job.Spec.Parallelism) && job.Spec.BackoffLimit != nil && *job.Spec.BackoffLimit == 0
}

// deploymentStatus: a service runs once a replica is available; until
// then its pods say why not.
func deploymentStatus(d *appsv1.Deployment, pods []*corev1.Pod) executor.StatusUpdate {
	if d.Status.AvailableReplicas > 0 {
		return executor.StatusUpdate{Status: executor.Running}
	}
	pod := newest(pods)
	if pod == nil {
		return executor.StatusUpdate{Status: executor.Pending}
	}
	return podStatus(pod)
}

// podStatus is what a pod that has not ended says: unschedulable, a
// container that cannot start, starting or running.
func podStatus(pod *corev1.Pod) executor.StatusUpdate {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return executor.StatusUpdate{Status: executor.Unschedulable, Reason: c.Reason, Message: c.Message}
		}
	}
	statuses := append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && warningReasons[w.Reason] {
			return executor.StatusUpdate{Status: executor.Warning, Reason: w.Reason,
				Message: strings.TrimSpace(fmt.Sprintf("container %s: %s", cs.Name, w.Message))}
		}
	}
	if pod.Status.Phase == corev1.PodRunning {
		return executor.StatusUpdate{Status: executor.Running}
	}
	if pod.Status.Phase == corev1.PodPending {
		return executor.StatusUpdate{Status: executor.Starting}
	}
	// Succeeded or Failed: the Job's conditions follow; until then it
	// still counts as running.
	return executor.StatusUpdate{Status: executor.Running}
}

// newest is the pod created last (a Job may have replaced one).
func newest(pods []*corev1.Pod) *corev1.Pod {
	if len(pods) == 0 {
		return nil
	}
	sorted := append([]*corev1.Pod(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i].CreationTimestamp, sorted[j].CreationTimestamp
		if a.Equal(&b) {
			return sorted[i].Name < sorted[j].Name
		}
		return a.Before(&b)
	})
	return sorted[len(sorted)-1]
}

// mainTerminated is the main container's (the first's) terminated state.
func mainTerminated(pod *corev1.Pod) *corev1.ContainerStateTerminated {
	if pod == nil || len(pod.Spec.Containers) == 0 {
		return nil
	}
	name := pod.Spec.Containers[0].Name
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == name {
			if t := cs.State.Terminated; t != nil {
				return t
			}
			return cs.LastTerminationState.Terminated
		}
	}
	return nil
}

// outputs reads a termination message as the outputs the component wrote
// (a JSON object), or nil when it is not one.
func outputs(msg string) map[string]any {
	msg = strings.TrimSpace(msg)
	if !strings.HasPrefix(msg, "{") {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(msg), &out); err != nil {
		return nil
	}
	return out
}

func intp(i int) *int { return &i }

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
