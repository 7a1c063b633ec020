package compiler

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/plexus-ml/plexus/specs"
)

// kubeflowKinds says how each distributed run kind is written as a
// Kubeflow training-operator resource: its Kind, the key of its replica
// specs, and the name the operator expects of the main container.
var kubeflowKinds = map[specs.RunKind]struct {
	kind, specsKey, container string
}{
	specs.RunTFJob:      {"TFJob", "tfReplicaSpecs", "tensorflow"},
	specs.RunPyTorchJob: {"PyTorchJob", "pytorchReplicaSpecs", "pytorch"},
	specs.RunMPIJob:     {"MPIJob", "mpiReplicaSpecs", "mpi"},
	specs.RunMXJob:      {"MXJob", "mxReplicaSpecs", "mxnet"},
	specs.RunXGBoostJob: {"XGBoostJob", "xgbReplicaSpecs", "xgboost"},
	specs.RunPaddleJob:  {"PaddleJob", "paddleReplicaSpecs", "paddle"},
}

// distributed lowers a distributed run to its training-operator resource
// (kubeflow.org/v1), as an unstructured object: one replica spec per role,
// each with the pod a role's replica becomes.
func (l *lowering) distributed(run specs.Run) *unstructured.Unstructured {
	kf := kubeflowKinds[run.RunKind()]
	replicaSpecs := map[string]any{}
	forEachRoleNamed(reflect.ValueOf(run).Elem(), "run", func(p specs.Path, r *specs.KFReplica) {
		rep := r.Replica
		if rep.Container != nil && rep.Container.Name == "" {
			c := rep.Container.DeepCopy()
			c.Name = kf.container
			rep.Container = c
		}
		pod := l.podTemplate(&rep, p)
		restart := pod.Spec.RestartPolicy
		if rep.Environment == nil || rep.Environment.RestartPolicy == "" {
			restart = corev1.RestartPolicyOnFailure
		}
		pod.Spec.RestartPolicy = ""
		tpl, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&pod)
		if err != nil {
			l.errs = append(l.errs, specs.Invalidf(p, nil, "cannot write the pod: %v", err))
			return
		}
		delete(tpl, "metadata") // set below, the same for every role
		replicas := int64(1)
		if r.Replicas != nil {
			replicas, _ = l.int64Of(p.Child("replicas"), r.Replicas.Value, specs.BoundReplicas)
		}
		role := string(p[strings.LastIndexByte(string(p), '.')+1:])
		replicaSpecs[roleName(role)] = map[string]any{
			"replicas":      replicas,
			"restartPolicy": string(restart),
			"template": map[string]any{
				"metadata": map[string]any{"labels": toAny(l.labels(nil))},
				"spec":     tpl["spec"],
			},
		}
	})
	runPolicy := map[string]any{}
	d := reflect.ValueOf(run).Elem().FieldByName("Distributed").Interface().(specs.Distributed)
	if d.CleanPodPolicy != "" {
		runPolicy["cleanPodPolicy"] = strings.ToUpper(d.CleanPodPolicy[:1]) + strings.ToLower(d.CleanPodPolicy[1:])
	}
	if sp := d.SchedulingPolicy; sp != nil {
		s := map[string]any{}
		if sp.MinAvailable != nil {
			s["minAvailable"], _ = l.int64Of("run.schedulingPolicy.minAvailable", *sp.MinAvailable, specs.BoundMinAvailable)
		}
		if sp.Queue != "" {
			s["queue"] = sp.Queue
		}
		if sp.PriorityClass != "" {
			s["priorityClass"] = sp.PriorityClass
		}
		runPolicy["schedulingPolicy"] = s
	}
	if t := l.c.Component.Termination; t != nil {
		if t.MaxRetries != nil {
			runPolicy["backoffLimit"], _ = l.int64Of("termination.maxRetries", t.MaxRetries.Value, specs.BoundMaxRetries)
		}
		if t.Timeout != nil {
			runPolicy["activeDeadlineSeconds"], _ = l.int64Of("termination.timeout", t.Timeout.Value, specs.BoundTimeout)
		}
		if t.TTL != nil {
			runPolicy["ttlSecondsAfterFinished"], _ = l.int64Of("termination.ttl", t.TTL.Value, specs.BoundTTL)
		}
	}
	spec := map[string]any{kf.specsKey: replicaSpecs}
	if len(runPolicy) > 0 {
		spec["runPolicy"] = runPolicy
	}
	if mpi, ok := run.(*specs.MPIJob); ok && mpi.SlotsPerWorker != nil {
		spec["slotsPerWorker"], _ = l.int64Of("run.slotsPerWorker", *mpi.SlotsPerWorker, specs.BoundSlotsPerWorker)
	}
	meta := l.meta(nil)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1",
		"kind":       kf.kind,
		"metadata": map[string]any{
			"name":      meta.Name,
			"namespace": meta.Namespace,
			"labels":    toAny(meta.Labels),
		},
		"spec": spec,
	}}
	if len(meta.Annotations) > 0 {
		obj.Object["metadata"].(map[string]any)["annotations"] = toAny(meta.Annotations)
	}
	return obj
}

// roleName is the training operator's name of a role: Worker, PS, Chief,
// Master, Launcher, TunerTracker, ...
func roleName(jsonName string) string {
	if jsonName == "ps" {
		return "PS"
	}
	return strings.ToUpper(jsonName[:1]) + jsonName[1:]
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
