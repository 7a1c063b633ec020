package k8s

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/hub"
)

// TestTensorboardReadsTheArtifactsStore: with a default artifacts store
// (a host path), the hub's tensorboard over a run becomes a Deployment
// whose init step reads the store where PLEXUS_ARTIFACTS_STORE says and
// whose main container keeps its own artifacts in the store's <uuid>.
func TestTensorboardReadsTheArtifactsStore(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := startWith(t, c, k8s.Config{Namespace: ns, ArtifactsStore: "store"}, storetest.Prefix(t), "a", func(cfg *engine.Config) {
		cfg.Sources = compiler.Sources{Hub: hub.New()}
		cfg.Connections = compiler.Catalogue{"store": {Name: "store", Kind: "host_path", Schema: map[string]any{"hostPath": "/var/plexus/artifacts", "mountPath": "/store"}}}
	})
	e, st := n.e, n.st

	const trained = "0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"
	uuid := submit(t, e, "version: 1.1\nkind: operation\nhubRef: tensorboard\nparams: {uuid: {value: "+trained+"}}\n")
	wait(t, st, uuid, 60*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	dep, err := c.Client().AppsV1().Deployments(ns).Get(t.Context(), compiler.ObjectName(uuid, 1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	claim := ""
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			claim = v.HostPath.Path
		}
	}
	if claim != "/var/plexus/artifacts" || len(pod.InitContainers) != 1 {
		t.Fatalf("volumes %+v, %d init containers", pod.Volumes, len(pod.InitContainers))
	}
	init := pod.InitContainers[0]
	storeEnv := ""
	for _, v := range init.Env {
		if v.Name == compiler.EnvArtifactsStore {
			storeEnv = v.Value
		}
	}
	if storeEnv != compiler.ArtifactsStorePath || !mounts(init.VolumeMounts, compiler.ArtifactsStorePath, "") {
		t.Fatalf("init: %s=%q, mounts %+v", compiler.EnvArtifactsStore, storeEnv, init.VolumeMounts)
	}
	if !mounts(pod.Containers[0].VolumeMounts, "/plx-context/artifacts/"+uuid, uuid) {
		t.Fatalf("main mounts %+v", pod.Containers[0].VolumeMounts)
	}
	if _, err := e.Stop(t.Context(), uuid); err != nil {
		t.Fatal(err)
	}
	final(t, st, uuid)
}

// mounts says whether one of ms mounts path (with subPath).
func mounts(ms []corev1.VolumeMount, path, subPath string) bool {
	for _, m := range ms {
		if m.MountPath == path && m.SubPath == subPath {
			return true
		}
	}
	return false
}
