package compiler

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/plexus-ml/plexus/specs"
)

// StageLower turns a compiled run into Kubernetes objects.
const StageLower Stage = "lower"

// Labels and annotations Plexus sets on what it creates.
const (
	LabelRun       = "plexus.io/run"
	LabelProject   = "plexus.io/project"
	LabelAttempt   = "plexus.io/attempt"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	AnnotationName = "plexus.io/name"
	// MainContainer is the main container's name when the file gives none.
	MainContainer = "plexus-main"
	// OutputsPath is where a component writes its outputs as a JSON
	// object: the container's termination message file, so outputs reach
	// the pod status with no sidecar (DESIGN §5).
	OutputsPath = "/dev/termination-log"
	// DefaultInitImage runs the built-in init handlers (`plexus init`).
	DefaultInitImage = "plexus:latest"
)

// The environment of a built-in init container: the entry, the run's
// context path, and the entry's connection (its schema as JSON, its kind).
const (
	EnvInitSpec           = "PLEXUS_INIT_SPEC"
	EnvContextPath        = "PLEXUS_CONTEXT_PATH"
	EnvInitConnection     = "PLEXUS_INIT_CONNECTION"
	EnvInitConnectionKind = "PLEXUS_INIT_CONNECTION_KIND"
)

// Objects are the Kubernetes objects a run becomes: a Job for a job, a
// Deployment and a Service for a service, a Kubeflow training-operator
// resource for a distributed job.
type Objects struct {
	Job        *batchv1.Job       `json:"job,omitempty"`
	Deployment *appsv1.Deployment `json:"deployment,omitempty"`
	Service    *corev1.Service    `json:"service,omitempty"`
	// Custom is a distributed run's training-operator resource.
	Custom *unstructured.Unstructured `json:"custom,omitempty"`
}

// Manifests returns the objects in the order they are applied, each as
// its mapping without the empty values Kubernetes types write for fields
// nobody set (`name: ""`, `resources: {}`, `status: {}`), as they would be
// shown or applied.
func (o *Objects) Manifests() []map[string]any {
	var out []map[string]any
	for _, obj := range o.List() {
		out = append(out, toMap(obj))
	}
	return out
}

// List returns the objects in the order they are applied.
func (o *Objects) List() []any {
	var out []any
	if o.Job != nil {
		out = append(out, o.Job)
	}
	if o.Deployment != nil {
		out = append(out, o.Deployment)
	}
	if o.Service != nil {
		out = append(out, o.Service)
	}
	if o.Custom != nil {
		out = append(out, o.Custom.Object)
	}
	return out
}

// LowerOptions configure lowering.
type LowerOptions struct {
	// Attempt numbers the run's tries; it is part of every object's name,
	// so a retry never collides with the try before it.
	Attempt int
	// InitImage runs the built-in init handlers (default DefaultInitImage).
	InitImage string
	// ArtifactsStore names the connection of the catalogue (a volume claim
	// or a host path) that is the default artifacts store: runs keep their
	// artifacts there, and init entries read other runs' from it
	// (artifacts.go). Empty: none, and those entries are refused.
	ArtifactsStore string
}

// ObjectName is the deterministic name of a run's objects for an attempt.
func ObjectName(uuid string, attempt int) string {
	return "plexus-" + uuid + "-" + strconv.Itoa(attempt)
}

// Lower turns a compiled job or service into its Kubernetes objects. The
// output is deterministic: the same compilation gives the same objects.
func Lower(c *Compiled, ri RunInfo, opts LowerOptions) (*Objects, error) {
	ri = ri.withDefaults()
	if opts.InitImage == "" {
		opts.InitImage = DefaultInitImage
	}
	l := &lowering{c: c, ri: ri, opts: opts}
	var objs Objects
	switch run := c.Component.Run.(type) {
	case *specs.Job:
		pod := l.podTemplate(&run.Replica, "run")
		objs.Job = l.job(pod)
	case *specs.Service:
		pod := l.podTemplate(&run.Replica, "run")
		pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
		objs.Deployment, objs.Service = l.service(run, pod)
	case *specs.TFJob, *specs.PyTorchJob, *specs.MPIJob, *specs.MXJob, *specs.XGBoostJob, *specs.PaddleJob:
		objs.Custom = l.distributed(run)
	default:
		kind := specs.RunKind("")
		if run != nil {
			kind = run.RunKind()
		}
		l.errs = append(l.errs, specs.Invalidf("run.kind", kind, "lowering %s runs to Kubernetes is not supported yet (jobs, services and the Kubeflow kinds are)", kind))
	}
	if err := stageError(StageLower, l.errs); err != nil {
		return nil, err
	}
	return &objs, nil
}

type lowering struct {
	c    *Compiled
	ri   RunInfo
	opts LowerOptions
	errs specs.ErrorList
}

func (l *lowering) labels(extra map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, extra)
	out[LabelRun] = l.ri.UUID
	out[LabelProject] = l.ri.Project
	out[LabelAttempt] = strconv.Itoa(l.opts.Attempt)
	out[LabelManagedBy] = "plexus"
	return out
}

func (l *lowering) meta(env *specs.Environment) metav1.ObjectMeta {
	var labels, annotations map[string]string
	if env != nil {
		labels, annotations = env.Labels, env.Annotations
	}
	ann := map[string]string{}
	maps.Copy(ann, annotations)
	if l.ri.Name != "" {
		ann[AnnotationName] = l.ri.Name
	}
	if len(ann) == 0 {
		ann = nil
	}
	return metav1.ObjectMeta{
		Name:        ObjectName(l.ri.UUID, l.opts.Attempt),
		Namespace:   l.ri.Namespace,
		Labels:      l.labels(labels),
		Annotations: ann,
	}
}

// podTemplate builds the pod of a replica: the environment's pod fields,
// the main container with the run's context in its environment, init
// containers, sidecars and volumes.
func (l *lowering) podTemplate(r *specs.Replica, p specs.Path) corev1.PodTemplateSpec {
	env := r.Environment
	if env == nil {
		env = &specs.Environment{}
	}
	meta := l.meta(env)
	meta.Name, meta.Namespace = "", ""
	spec := corev1.PodSpec{
		RestartPolicy:      corev1.RestartPolicyNever,
		NodeSelector:       env.NodeSelector,
		Affinity:           env.Affinity,
		Tolerations:        env.Tolerations,
		NodeName:           env.NodeName,
		ServiceAccountName: env.ServiceAccountName,
		HostAliases:        env.HostAliases,
		SecurityContext:    env.SecurityContext,
		DNSPolicy:          env.DNSPolicy,
		DNSConfig:          env.DNSConfig,
		SchedulerName:      env.SchedulerName,
		PriorityClassName:  env.PriorityClassName,
		Priority:           env.Priority,
		Volumes:            append([]corev1.Volume{contextVolume()}, r.Volumes...),
	}
	if env.RestartPolicy != "" {
		spec.RestartPolicy = env.RestartPolicy
	}
	if env.HostNetwork != nil {
		spec.HostNetwork = *env.HostNetwork
	}
	if env.HostPID != nil {
		spec.HostPID = *env.HostPID
	}
	for _, name := range env.ImagePullSecrets {
		spec.ImagePullSecrets = append(spec.ImagePullSecrets, corev1.LocalObjectReference{Name: name})
	}
	for i := range r.Init {
		ip := p.Child("init").Index(i)
		ic := l.initContainer(&r.Init[i], i, ip)
		if r.Init[i].Connection != "" {
			vols, mounts, connEnv, envFrom, _, errs := connectionMounts(l.c.Connections, []string{r.Init[i].Connection}, ip.Child("connection"))
			l.errs = append(l.errs, errs...)
			spec.Volumes = appendVolumes(spec.Volumes, vols)
			ic.VolumeMounts = append(ic.VolumeMounts, mounts...)
			ic.Env = append(ic.Env, connEnv...)
			ic.EnvFrom = append(ic.EnvFrom, envFrom...)
		}
		spec.InitContainers = append(spec.InitContainers, ic)
	}
	main := l.mainContainer(r.Container, p.Child("container"))
	vols, mounts, connEnv, envFrom, ann, errs := connectionMounts(l.c.Connections, r.Connections, p.Child("connections"))
	l.errs = append(l.errs, errs...)
	spec.Volumes = appendVolumes(spec.Volumes, vols)
	main.VolumeMounts = append(main.VolumeMounts, mounts...)
	main.Env = append(main.Env, connEnv...)
	main.EnvFrom = append(main.EnvFrom, envFrom...)
	if len(ann) > 0 {
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		for k, v := range ann {
			if _, own := meta.Annotations[k]; !own {
				meta.Annotations[k] = v
			}
		}
	}
	spec.Containers = append(spec.Containers, main)
	l.mountStore(&spec, r.Init, len(spec.Containers)-1)
	for _, s := range r.Sidecars {
		sc := *s.DeepCopy()
		sc.VolumeMounts = append(sc.VolumeMounts, l.contextMount())
		spec.Containers = append(spec.Containers, sc)
	}
	return corev1.PodTemplateSpec{ObjectMeta: meta, Spec: spec}
}

const contextVolumeName = "plexus-context"

func contextVolume() corev1.Volume {
	return corev1.Volume{Name: contextVolumeName, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

func (l *lowering) contextMount() corev1.VolumeMount {
	return corev1.VolumeMount{Name: contextVolumeName, MountPath: l.ri.ContextPath}
}

// mainContainer is the run's container with the Plexus context variables,
// the params' toEnv variables and the outputs protocol.
func (l *lowering) mainContainer(c *corev1.Container, p specs.Path) corev1.Container {
	var out corev1.Container
	if c == nil {
		l.errs = append(l.errs, specs.Required(p, "the run has no container to run"))
	} else {
		out = *c.DeepCopy()
	}
	if out.Name == "" {
		out.Name = MainContainer
	}
	if out.Image == "" && c != nil {
		l.errs = append(l.errs, specs.Required(p.Child("image"), "the container needs an image"))
	}
	out.Env = append(out.Env, l.contextEnv()...)
	out.TerminationMessagePath = OutputsPath
	out.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	out.VolumeMounts = append(out.VolumeMounts, l.contextMount())
	return out
}

// contextEnv are the variables every run's main container gets.
func (l *lowering) contextEnv() []corev1.EnvVar {
	return l.c.Env(l.opts.Attempt, l.ri.ContextPath, OutputsPath)
}

// Env returns the variables a run's main process gets besides its own:
// who it is (uuid, name, project, attempt), where its context is, where to
// write its outputs, and its params' toEnv variables, sorted.
func (c *Compiled) Env(attempt int, contextPath, outputsPath string) []corev1.EnvVar {
	str := func(k string) string { s, _ := c.Globals[k].(string); return s }
	env := []corev1.EnvVar{
		{Name: "PLEXUS_RUN_UUID", Value: str("uuid")},
		{Name: "PLEXUS_RUN_NAME", Value: str("name")},
		{Name: "PLEXUS_PROJECT", Value: str("owner_name") + "/" + str("project_name")},
		{Name: "PLEXUS_ATTEMPT", Value: strconv.Itoa(attempt)},
		{Name: EnvContextPath, Value: contextPath},
		{Name: "PLEXUS_OUTPUTS_PATH", Value: outputsPath},
	}
	var toEnv []corev1.EnvVar
	for _, p := range c.Params {
		if p.ToEnv != "" && p.Value != nil {
			toEnv = append(toEnv, corev1.EnvVar{Name: p.ToEnv, Value: p.AsStr()})
		}
	}
	sort.Slice(toEnv, func(i, j int) bool { return toEnv[i].Name < toEnv[j].Name })
	return append(env, toEnv...)
}

// initContainer lowers an init entry: its own container, or the init
// image running the built-in handler with the entry as its spec.
func (l *lowering) initContainer(in *specs.Init, i int, p specs.Path) corev1.Container {
	var c corev1.Container
	if in.Container != nil {
		c = *in.Container.DeepCopy()
	}
	if c.Name == "" {
		c.Name = "plexus-init-" + strconv.Itoa(i)
	}
	handler := *in
	handler.Container = nil
	spec, err := json.Marshal(handler)
	if err != nil {
		l.errs = append(l.errs, specs.Invalidf(p, nil, "cannot encode the init entry: %v", err))
	}
	if string(spec) != "{}" {
		if c.Image == "" {
			c.Image = l.opts.InitImage
		}
		if len(c.Command) == 0 && len(c.Args) == 0 {
			c.Args = []string{"init"}
		}
		c.Env = append(c.Env, corev1.EnvVar{Name: EnvInitSpec, Value: string(spec)})
		if conn, ok := l.c.Connections[in.Connection]; ok && in.Connection != "" {
			schema, _ := json.Marshal(conn.Schema)
			c.Env = append(c.Env, corev1.EnvVar{Name: EnvInitConnection, Value: string(schema)},
				corev1.EnvVar{Name: EnvInitConnectionKind, Value: conn.Kind})
		}
	} else if c.Image == "" {
		l.errs = append(l.errs, specs.Required(p.Child("container").Child("image"), "an init container needs an image"))
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: EnvContextPath, Value: l.ri.ContextPath})
	c.VolumeMounts = append(c.VolumeMounts, l.contextMount())
	return c
}

// job wraps a pod into a batch/v1 Job with the run's termination.
func (l *lowering) job(pod corev1.PodTemplateSpec) *batchv1.Job {
	env := (*specs.Environment)(nil)
	if j, ok := l.c.Component.Run.(*specs.Job); ok {
		env = j.Environment
	}
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: l.meta(env),
		Spec:       batchv1.JobSpec{Template: pod, BackoffLimit: ptr(int32(0))},
	}
	if t := l.c.Component.Termination; t != nil {
		p := specs.Path("termination")
		if t.MaxRetries != nil {
			if n, ok := l.int32Of(p.Child("maxRetries"), t.MaxRetries.Value, specs.BoundMaxRetries); ok {
				job.Spec.BackoffLimit = &n
			}
		}
		if t.Timeout != nil {
			if n, ok := l.int64Of(p.Child("timeout"), t.Timeout.Value, specs.BoundTimeout); ok {
				job.Spec.ActiveDeadlineSeconds = &n
			}
		}
		if t.TTL != nil {
			if n, ok := l.int32Of(p.Child("ttl"), t.TTL.Value, specs.BoundTTL); ok {
				job.Spec.TTLSecondsAfterFinished = &n
			}
		}
	}
	return job
}

// service makes a Deployment of the pod and a Service for its ports.
func (l *lowering) service(svc *specs.Service, pod corev1.PodTemplateSpec) (*appsv1.Deployment, *corev1.Service) {
	replicas := int32(1)
	if svc.Replicas != nil {
		replicas, _ = l.int32Of("run.replicas", svc.Replicas.Value, specs.BoundReplicas)
	}
	meta := l.meta(svc.Environment)
	selector := map[string]string{LabelRun: l.ri.UUID, LabelAttempt: strconv.Itoa(l.opts.Attempt)}
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: pod,
		},
	}
	if t := l.c.Component.Termination; t != nil && t.Timeout != nil {
		if n, ok := l.int64Of("termination.timeout", t.Timeout.Value, specs.BoundTimeout); ok {
			dep.Spec.Template.Spec.ActiveDeadlineSeconds = &n
		}
	}
	s := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta,
		Spec:       corev1.ServiceSpec{Selector: selector},
	}
	for i, port := range svc.Ports.Items {
		n, ok := l.int32Of(specs.Path("run.ports").Index(i), port, specs.BoundPort)
		if !ok {
			continue
		}
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{
			Name:       fmt.Sprintf("port-%d", i),
			Port:       n,
			TargetPort: intstr.FromInt32(n),
		})
	}
	return dep, s
}

func ptr[T any](v T) *T { return &v }

// appendVolumes adds volumes the pod does not have yet (two init entries
// may use the same connection).
func appendVolumes(have, more []corev1.Volume) []corev1.Volume {
	for _, v := range more {
		dup := false
		for _, h := range have {
			if h.Name == v.Name {
				dup = true
				break
			}
		}
		if !dup {
			have = append(have, v)
		}
	}
	return have
}
