package specs

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
)

// RunKind is the kind of a component's runtime (`run.kind`).
type RunKind string

// Run kinds a Polyaxonfile may use.
const (
	RunJob        RunKind = "job"
	RunService    RunKind = "service"
	RunDAG        RunKind = "dag"
	RunTFJob      RunKind = "tfjob"
	RunPyTorchJob RunKind = "pytorchjob"
	RunMPIJob     RunKind = "mpijob"
	RunMXJob      RunKind = "mxjob"
	RunXGBoostJob RunKind = "xgbjob"
	RunPaddleJob  RunKind = "paddlejob"
	RunSpark      RunKind = "spark"
	RunDask       RunKind = "dask"
	RunFlink      RunKind = "flink"
	RunRay        RunKind = "ray"
	RunNotifier   RunKind = "notifier"
	RunCleaner    RunKind = "cleaner"
	RunTuner      RunKind = "tuner"
)

// RunKinds lists every run kind, in the reference's order.
var RunKinds = []RunKind{RunJob, RunService, RunDAG, RunTFJob, RunPyTorchJob, RunMPIJob, RunMXJob,
	RunXGBoostJob, RunPaddleJob, RunSpark, RunDask, RunFlink, RunRay, RunNotifier, RunCleaner, RunTuner}

// Run is a component's runtime. Its concrete types are *Job (also for
// notifier, cleaner and tuner), *Service, *DAG, *TFJob, *PyTorchJob,
// *MPIJob, *MXJob, *XGBoostJob, *PaddleJob, *Spark, *Dask, *Flink and *Ray.
type Run interface {
	RunKind() RunKind
	validate(p Path, c vctx) ErrorList
}

// vctx carries what validation of a nested section needs from above.
type vctx struct {
	// imagePatched is set when an operation's runPatch or presets may
	// provide the container image.
	imagePatched bool
}

// newRun returns an empty run of the given kind.
func newRun(k RunKind) Run {
	switch k {
	case RunJob, RunNotifier, RunCleaner, RunTuner:
		return &Job{Kind: k}
	case RunService:
		return &Service{Kind: k}
	case RunDAG:
		return &DAG{Kind: k}
	case RunTFJob:
		return &TFJob{Kind: k}
	case RunPyTorchJob:
		return &PyTorchJob{Kind: k}
	case RunMPIJob:
		return &MPIJob{Kind: k}
	case RunMXJob:
		return &MXJob{Kind: k}
	case RunXGBoostJob:
		return &XGBoostJob{Kind: k}
	case RunPaddleJob:
		return &PaddleJob{Kind: k}
	case RunSpark:
		return &Spark{Kind: k}
	case RunDask:
		return &Dask{Kind: k}
	case RunFlink:
		return &Flink{Kind: k}
	case RunRay:
		return &Ray{Kind: k}
	}
	return nil
}

func init() {
	interfaceDecoders[reflect.TypeFor[Run]()] = decodeRun
}

// decodeRun dispatches on `kind`; a missing kind means job (the reference
// requires it; Plexus accepts the shortest manifest).
func decodeRun(d *decoder, n *yaml.Node, p Path) reflect.Value {
	kind, kn, ok := d.kindOf(n, p)
	if !ok {
		return reflect.Value{}
	}
	if kind == "" {
		kind = string(RunJob)
	}
	r := newRun(RunKind(kind))
	if r == nil {
		d.errorAt(kn, NotSupported(p.Child("kind"), kind, RunKinds))
		return reflect.Value{}
	}
	d.decodeStructSkipping(n, reflect.ValueOf(r).Elem(), p, nil)
	return reflect.ValueOf(r)
}

// Replica holds the fields of one pod: a job, a service, or one replica of
// a distributed job.
type Replica struct {
	Environment *Environment       `json:"environment,omitempty"`
	Connections []string           `json:"connections,omitempty"`
	Volumes     []corev1.Volume    `json:"volumes,omitempty"`
	Init        []Init             `json:"init,omitempty"`
	Sidecars    []corev1.Container `json:"sidecars,omitempty"`
	Container   *corev1.Container  `json:"container,omitempty"`
}

func (r *Replica) validate(p Path, c vctx) ErrorList {
	var errs ErrorList
	errs = append(errs, r.Environment.validate(p.Child("environment"))...)
	for i, name := range r.Connections {
		if name == "" {
			errs = append(errs, Required(p.Child("connections").Index(i), "a connection needs a name"))
		}
	}
	seen := map[string]bool{}
	for i, v := range r.Volumes {
		vp := p.Child("volumes").Index(i)
		if v.Name == "" {
			errs = append(errs, Required(vp.Child("name"), "a volume needs a name"))
		} else if seen[v.Name] {
			errs = append(errs, Duplicate(vp.Child("name"), v.Name, "volume names must be unique"))
		}
		seen[v.Name] = true
	}
	for i := range r.Init {
		errs = append(errs, r.Init[i].validate(p.Child("init").Index(i))...)
	}
	for i := range r.Sidecars {
		sp := p.Child("sidecars").Index(i)
		errs = append(errs, validateContainer(sp, &r.Sidecars[i], false)...)
		if r.Sidecars[i].Name == "" {
			errs = append(errs, Required(sp.Child("name"), "a sidecar needs a name"))
		}
	}
	if r.Container != nil {
		errs = append(errs, validateContainer(p.Child("container"), r.Container, !c.imagePatched)...)
	}
	return errs
}

var pullPolicies = []corev1.PullPolicy{corev1.PullAlways, corev1.PullNever, corev1.PullIfNotPresent}

func validateContainer(p Path, c *corev1.Container, needImage bool) ErrorList {
	var errs ErrorList
	if needImage && c.Image == "" {
		errs = append(errs, Required(p.Child("image"), "the container needs an image"))
	}
	if c.ImagePullPolicy != "" && !slices.Contains(pullPolicies, c.ImagePullPolicy) {
		errs = append(errs, NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, pullPolicies))
	}
	for i, e := range c.Env {
		if e.Name == "" {
			errs = append(errs, Required(p.Child("env").Index(i).Child("name"), "an env var needs a name"))
		}
	}
	for i, port := range c.Ports {
		if port.ContainerPort < 1 || port.ContainerPort > 65535 {
			errs = append(errs, Invalidf(p.Child("ports").Index(i).Child("containerPort"), port.ContainerPort, "a port is between 1 and 65535"))
		}
	}
	return errs
}

// Job runs a container to completion. The notifier, cleaner and tuner kinds
// are jobs too.
type Job struct {
	Kind    RunKind `json:"kind"`
	Replica `json:",inline"`
}

// RunKind returns the job's kind.
func (j *Job) RunKind() RunKind { return j.Kind }

func (j *Job) validate(p Path, c vctx) ErrorList { return j.Replica.validate(p, c) }

// Service runs a long-lived container exposed on ports (a notebook, a
// tensorboard, an app).
type Service struct {
	Kind        RunKind `json:"kind"`
	Replica     `json:",inline"`
	Ports       ListOrRef[int] `json:"ports,omitzero"`
	RewritePath *bool          `json:"rewritePath,omitempty"`
	IsExternal  *bool          `json:"isExternal,omitempty"`
	Replicas    *IntOrRef      `json:"replicas,omitempty"`
}

// RunKind returns service.
func (s *Service) RunKind() RunKind { return s.Kind }

func (s *Service) validate(p Path, c vctx) ErrorList {
	errs := s.Replica.validate(p, c)
	for i, port := range s.Ports.Items {
		if port < 1 || port > 65535 {
			errs = append(errs, Invalidf(p.Child("ports").Index(i), port, "a port is between 1 and 65535, got %d", port))
		}
	}
	errs = append(errs, BoundReplicas.checkRef(p.Child("replicas"), s.Replicas)...)
	return errs
}

// KFReplica is one role of a distributed job: a replica count and a pod.
type KFReplica struct {
	Replicas *IntOrRef `json:"replicas,omitempty"`
	Replica  `json:",inline"`
}

func (r *KFReplica) validate(p Path, c vctx) ErrorList {
	if r == nil {
		return nil
	}
	errs := BoundReplicas.checkRef(p.Child("replicas"), r.Replicas)
	return append(errs, r.Replica.validate(p, c)...)
}

// SchedulingPolicy is the gang-scheduling policy of a distributed job.
type SchedulingPolicy struct {
	MinAvailable  *int   `json:"minAvailable,omitempty"`
	Queue         string `json:"queue,omitempty"`
	PriorityClass string `json:"priorityClass,omitempty"`
}

// Distributed holds what every Kubeflow-style job shares.
type Distributed struct {
	CleanPodPolicy   string            `json:"cleanPodPolicy,omitempty"`
	SchedulingPolicy *SchedulingPolicy `json:"schedulingPolicy,omitempty"`
}

// CleanPodPolicies are the values cleanPodPolicy accepts (any case).
var CleanPodPolicies = []string{"All", "Running", "None"}

func (dj *Distributed) validate(p Path, roles map[string]*KFReplica, c vctx) ErrorList {
	var errs ErrorList
	if dj.CleanPodPolicy != "" && !slices.ContainsFunc(CleanPodPolicies, func(s string) bool { return strings.EqualFold(s, dj.CleanPodPolicy) }) {
		errs = append(errs, NotSupported(p.Child("cleanPodPolicy"), dj.CleanPodPolicy, CleanPodPolicies))
	}
	if sp := dj.SchedulingPolicy; sp != nil {
		errs = append(errs, BoundMinAvailable.checkInt(p.Child("schedulingPolicy").Child("minAvailable"), sp.MinAvailable)...)
	}
	hasRole := false
	for _, name := range sortedKeys(roles) {
		if roles[name] != nil {
			hasRole = true
			errs = append(errs, roles[name].validate(p.Child(name), c)...)
		}
	}
	if !hasRole {
		errs = append(errs, Required(p, fmt.Sprintf("a distributed job needs at least one replica role (%s)", strings.Join(sortedKeys(roles), ", "))))
	}
	return errs
}

// MasterWorker holds the roles of PyTorch, XGBoost and Paddle jobs.
type MasterWorker struct {
	Master *KFReplica `json:"master,omitempty"`
	Worker *KFReplica `json:"worker,omitempty"`
}

func (mw *MasterWorker) roles() map[string]*KFReplica {
	return map[string]*KFReplica{"master": mw.Master, "worker": mw.Worker}
}

// TFJob is a distributed TensorFlow job.
type TFJob struct {
	Kind                RunKind `json:"kind"`
	Distributed         `json:",inline"`
	EnableDynamicWorker *bool      `json:"enableDynamicWorker,omitempty"`
	Chief               *KFReplica `json:"chief,omitempty"`
	PS                  *KFReplica `json:"ps,omitempty"`
	Worker              *KFReplica `json:"worker,omitempty"`
	Evaluator           *KFReplica `json:"evaluator,omitempty"`
}

// RunKind returns tfjob.
func (j *TFJob) RunKind() RunKind { return j.Kind }

func (j *TFJob) validate(p Path, c vctx) ErrorList {
	return j.Distributed.validate(p, map[string]*KFReplica{"chief": j.Chief, "ps": j.PS, "worker": j.Worker, "evaluator": j.Evaluator}, c)
}

// PyTorchJob is a distributed PyTorch job.
type PyTorchJob struct {
	Kind         RunKind `json:"kind"`
	Distributed  `json:",inline"`
	MasterWorker `json:",inline"`
}

// RunKind returns pytorchjob.
func (j *PyTorchJob) RunKind() RunKind { return j.Kind }

func (j *PyTorchJob) validate(p Path, c vctx) ErrorList {
	return j.Distributed.validate(p, j.roles(), c)
}

// MPIJob is a distributed MPI job.
type MPIJob struct {
	Kind           RunKind `json:"kind"`
	Distributed    `json:",inline"`
	SlotsPerWorker *int       `json:"slotsPerWorker,omitempty"`
	Launcher       *KFReplica `json:"launcher,omitempty"`
	Worker         *KFReplica `json:"worker,omitempty"`
}

// RunKind returns mpijob.
func (j *MPIJob) RunKind() RunKind { return j.Kind }

func (j *MPIJob) validate(p Path, c vctx) ErrorList {
	errs := j.Distributed.validate(p, map[string]*KFReplica{"launcher": j.Launcher, "worker": j.Worker}, c)
	return append(errs, BoundSlotsPerWorker.checkInt(p.Child("slotsPerWorker"), j.SlotsPerWorker)...)
}

// MXJob is a distributed MXNet job.
type MXJob struct {
	Kind         RunKind `json:"kind"`
	Distributed  `json:",inline"`
	Mode         string     `json:"mode,omitempty"`
	Scheduler    *KFReplica `json:"scheduler,omitempty"`
	Server       *KFReplica `json:"server,omitempty"`
	Worker       *KFReplica `json:"worker,omitempty"`
	TunerTracker *KFReplica `json:"tunerTracker,omitempty"`
	TunerServer  *KFReplica `json:"tunerServer,omitempty"`
	Tuner        *KFReplica `json:"tuner,omitempty"`
}

// MXJobModes are the values mxjob mode accepts.
var MXJobModes = []string{"MXTrain", "MXTune"}

// RunKind returns mxjob.
func (j *MXJob) RunKind() RunKind { return j.Kind }

func (j *MXJob) validate(p Path, c vctx) ErrorList {
	errs := j.Distributed.validate(p, map[string]*KFReplica{"scheduler": j.Scheduler, "server": j.Server, "worker": j.Worker,
		"tunerTracker": j.TunerTracker, "tunerServer": j.TunerServer, "tuner": j.Tuner}, c)
	if j.Mode != "" && !slices.Contains(MXJobModes, j.Mode) {
		errs = append(errs, NotSupported(p.Child("mode"), j.Mode, MXJobModes))
	}
	return errs
}

// XGBoostJob is a distributed XGBoost job.
type XGBoostJob struct {
	Kind         RunKind `json:"kind"`
	Distributed  `json:",inline"`
	MasterWorker `json:",inline"`
}

// RunKind returns xgbjob.
func (j *XGBoostJob) RunKind() RunKind { return j.Kind }

func (j *XGBoostJob) validate(p Path, c vctx) ErrorList {
	return j.Distributed.validate(p, j.roles(), c)
}

// PaddleJob is a distributed PaddlePaddle job.
type PaddleJob struct {
	Kind         RunKind `json:"kind"`
	Distributed  `json:",inline"`
	MasterWorker `json:",inline"`
}

// RunKind returns paddlejob.
func (j *PaddleJob) RunKind() RunKind { return j.Kind }

func (j *PaddleJob) validate(p Path, c vctx) ErrorList {
	return j.Distributed.validate(p, j.roles(), c)
}

// SparkReplica is the driver or the executors of a Spark application.
type SparkReplica struct {
	Replicas    *IntOrRef          `json:"replicas,omitempty"`
	Environment *Environment       `json:"environment,omitempty"`
	Init        []Init             `json:"init,omitempty"`
	Sidecars    []corev1.Container `json:"sidecars,omitempty"`
	Container   *corev1.Container  `json:"container,omitempty"`
}

// Spark is a Spark application (parsed and validated; not run by Plexus yet).
type Spark struct {
	Kind                RunKind           `json:"kind"`
	Connections         []string          `json:"connections,omitempty"`
	Volumes             []corev1.Volume   `json:"volumes,omitempty"`
	Type                string            `json:"type,omitempty"`
	SparkVersion        string            `json:"sparkVersion,omitempty"`
	PythonVersion       string            `json:"pythonVersion,omitempty"`
	DeployMode          string            `json:"deployMode,omitempty"`
	MainClass           string            `json:"mainClass,omitempty"`
	MainApplicationFile string            `json:"mainApplicationFile,omitempty"`
	Arguments           []string          `json:"arguments,omitempty"`
	HadoopConf          map[string]string `json:"hadoopConf,omitempty"`
	SparkConf           map[string]string `json:"sparkConf,omitempty"`
	HadoopConfigMap     string            `json:"hadoopConfigMap,omitempty"`
	SparkConfigMap      string            `json:"sparkConfigMap,omitempty"`
	Executor            *SparkReplica     `json:"executor,omitempty"`
	Driver              *SparkReplica     `json:"driver,omitempty"`
}

// Spark enumerations.
var (
	SparkTypes          = []string{"java", "scala", "python", "r"}
	SparkPythonVersions = []string{"2", "3"}
	SparkDeployModes    = []string{"cluster", "client", "in_cluster_client"}
)

// RunKind returns spark.
func (s *Spark) RunKind() RunKind { return s.Kind }

func (s *Spark) validate(p Path, c vctx) ErrorList {
	var errs ErrorList
	if s.Type != "" && !slices.Contains(SparkTypes, s.Type) {
		errs = append(errs, NotSupported(p.Child("type"), s.Type, SparkTypes))
	}
	if s.PythonVersion != "" && !slices.Contains(SparkPythonVersions, s.PythonVersion) {
		errs = append(errs, NotSupported(p.Child("pythonVersion"), s.PythonVersion, SparkPythonVersions))
	}
	if s.DeployMode != "" && !slices.Contains(SparkDeployModes, s.DeployMode) {
		errs = append(errs, NotSupported(p.Child("deployMode"), s.DeployMode, SparkDeployModes))
	}
	for name, r := range map[string]*SparkReplica{"executor": s.Executor, "driver": s.Driver} {
		if r == nil {
			continue
		}
		rp := p.Child(name)
		rep := Replica{Environment: r.Environment, Init: r.Init, Sidecars: r.Sidecars, Container: r.Container}
		errs = append(errs, nonNegative(rp.Child("replicas"), r.Replicas)...)
		errs = append(errs, rep.validate(rp, c)...)
	}
	return errs
}

// Dask is a Dask cluster job (parsed and validated; not run by Plexus yet).
type Dask struct {
	Kind          RunKind `json:"kind"`
	Threads       *int    `json:"threads,omitempty"`
	Scale         *int    `json:"scale,omitempty"`
	AdaptMin      *int    `json:"adaptMin,omitempty"`
	AdaptMax      *int    `json:"adaptMax,omitempty"`
	AdaptInterval *int    `json:"adaptInterval,omitempty"`
	Replica       `json:",inline"`
}

// RunKind returns dask.
func (j *Dask) RunKind() RunKind { return j.Kind }

func (j *Dask) validate(p Path, c vctx) ErrorList {
	errs := j.Replica.validate(p, c)
	if j.AdaptMin != nil && j.AdaptMax != nil && *j.AdaptMin > *j.AdaptMax {
		errs = append(errs, Invalid(p.Child("adaptMin"), *j.AdaptMin, "adaptMin must not exceed adaptMax"))
	}
	return errs
}

// Flink is a Flink application given as a raw spec.
type Flink struct {
	Kind RunKind `json:"kind"`
	Spec any     `json:"spec" plexus:"required"`
}

// RunKind returns flink.
func (j *Flink) RunKind() RunKind { return j.Kind }

func (j *Flink) validate(p Path, c vctx) ErrorList {
	if j.Spec == nil {
		return ErrorList{Required(p.Child("spec"), "flink needs a spec")}
	}
	return nil
}

// Ray is a Ray application given as a raw spec.
type Ray struct {
	Kind RunKind `json:"kind"`
	Spec any     `json:"spec" plexus:"required"`
}

// RunKind returns ray.
func (j *Ray) RunKind() RunKind { return j.Kind }

func (j *Ray) validate(p Path, c vctx) ErrorList {
	if j.Spec == nil {
		return ErrorList{Required(p.Child("spec"), "ray needs a spec")}
	}
	return nil
}

// validateRunPatch checks a runPatch against the schema of the patched
// component's run kind; with no component known, against any kind.
func validateRunPatch(p Path, patch map[string]any, comp *Component) ErrorList {
	_, errs := DecodeRunPatch(p, patch, comp)
	return errs
}

// DecodeRunPatch reads a runPatch as the run kind of comp: a Run of the
// component's own type, or a *KFReplica when a distributed job is patched
// as one replica (which then applies to each of its roles). With comp nil
// it accepts a patch that fits any run kind and returns what it fits.
func DecodeRunPatch(p Path, patch map[string]any, comp *Component) (any, ErrorList) {
	if patch == nil {
		return nil, nil
	}
	var n yaml.Node
	if err := n.Encode(patch); err != nil {
		return nil, ErrorList{Invalidf(p, nil, "cannot read runPatch: %v", err)}
	}
	try := func(t reflect.Type) (any, ErrorList) {
		d := &decoder{}
		v := reflect.New(t)
		d.decodeStructSkipping(&n, v.Elem(), p, map[string]bool{"kind": true})
		if r, ok := v.Interface().(Run); ok && len(d.errs) == 0 && comp != nil && comp.Run != nil {
			// The patch's kind is the component's.
			reflect.ValueOf(r).Elem().FieldByName("Kind").Set(reflect.ValueOf(comp.Run.RunKind()))
		}
		return v.Interface(), d.errs
	}
	var kinds []reflect.Type
	if comp != nil && comp.Run != nil {
		t := reflect.TypeOf(comp.Run).Elem()
		kinds = append(kinds, t)
		switch t {
		case reflect.TypeFor[TFJob](), reflect.TypeFor[PyTorchJob](), reflect.TypeFor[MPIJob](),
			reflect.TypeFor[MXJob](), reflect.TypeFor[XGBoostJob](), reflect.TypeFor[PaddleJob]():
			// A distributed job may be patched as a whole or as one replica.
			kinds = append(kinds, reflect.TypeFor[KFReplica]())
		}
	} else {
		kinds = []reflect.Type{reflect.TypeFor[Service](), reflect.TypeFor[KFReplica](), reflect.TypeFor[DAG](),
			reflect.TypeFor[TFJob](), reflect.TypeFor[MXJob](), reflect.TypeFor[MPIJob](), reflect.TypeFor[Spark](), reflect.TypeFor[Dask]()}
	}
	var first ErrorList
	for i, t := range kinds {
		v, errs := try(t)
		if len(errs) == 0 {
			return v, nil
		}
		if i == 0 {
			first = errs
		}
	}
	if comp != nil && comp.Run != nil {
		for _, e := range first {
			e.Detail += fmt.Sprintf(" (runPatch must fit the component's run kind %q)", comp.Run.RunKind())
		}
	}
	return nil, first
}
