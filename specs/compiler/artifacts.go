package compiler

import (
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/specs"
)

// The default artifacts store on Kubernetes is a connection of the
// catalogue that mounts a volume (a volume claim or a host path), which
// LowerOptions.ArtifactsStore names. A run's own artifacts,
// globals.run_artifacts_path (<context>/artifacts/<uuid>), are the
// store's directory <uuid>, mounted there with a subPath, so what a run
// writes stays after its pod; and the init entries that read the store
// (artifacts without a connection, tensorboard layouts) see all of it,
// read-only, at ArtifactsStorePath, which EnvArtifactsStore names for
// `plexus init`.
const (
	ArtifactsStorePath = "/plexus-artifacts-store"
	EnvArtifactsStore  = "PLEXUS_ARTIFACTS_STORE"
)

// storeVolume is the volume of the artifacts store connection, and the
// mount it is given; false, with the error recorded, when there is none
// or it cannot be mounted.
func (l *lowering) storeVolume(p specs.Path) (corev1.Volume, bool) {
	name := l.opts.ArtifactsStore
	if name == "" {
		return corev1.Volume{}, false
	}
	conn, ok := l.c.Connections[name]
	if !ok || conn.Kind != "volume_claim" && conn.Kind != "host_path" {
		l.errs = append(l.errs, specs.Invalidf(p, name, "the artifacts store %q is not a volume_claim or host_path connection of the catalogue", name))
		return corev1.Volume{}, false
	}
	vols, _, _, _, _, errs := connectionMounts(l.c.Connections, []string{name}, p)
	l.errs = append(l.errs, errs...)
	if len(vols) == 0 {
		return corev1.Volume{}, false
	}
	return vols[len(vols)-1], true
}

// readsStore says whether an init entry reads the default artifacts store.
func readsStore(in *specs.Init) bool {
	return in.Connection == "" && (in.Artifacts != nil || in.Tensorboard != nil)
}

// mountStore gives the pod the artifacts store: the main container writes
// the run's artifacts into it, and the init containers that read it see
// it whole.
func (l *lowering) mountStore(spec *corev1.PodSpec, inits []specs.Init, mainIndex int) {
	vol, ok := l.storeVolume("artifactsStore")
	if !ok {
		return
	}
	spec.Volumes = appendVolumes(spec.Volumes, []corev1.Volume{vol})
	main := &spec.Containers[mainIndex]
	main.VolumeMounts = append(main.VolumeMounts, corev1.VolumeMount{Name: vol.Name,
		MountPath: path.Join(l.ri.ContextPath, "artifacts", l.ri.UUID), SubPath: l.ri.UUID})
	for i := range inits {
		if i >= len(spec.InitContainers) || !readsStore(&inits[i]) {
			continue
		}
		ic := &spec.InitContainers[i]
		ic.VolumeMounts = append(ic.VolumeMounts, corev1.VolumeMount{Name: vol.Name, MountPath: ArtifactsStorePath, ReadOnly: true})
		ic.Env = append(ic.Env, corev1.EnvVar{Name: EnvArtifactsStore, Value: ArtifactsStorePath})
	}
}
