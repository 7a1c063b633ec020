package compiler

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-ml/plexus/specs"
)

// TestLowerArtifactsStore: with a default artifacts store, a run's own
// artifacts directory is the store's <uuid> (a subPath mount), and the
// init containers that read the store, only they, see it whole,
// read-only, where PLEXUS_ARTIFACTS_STORE says; a store that is not a
// volume connection is an error.
func TestLowerArtifactsStore(t *testing.T) {
	files, err := specs.Parse("tb.yaml", []byte(`version: 1.1
kind: component
run:
  kind: service
  ports: [6006]
  init:
    - artifacts: {dirs: ["0a1b/outputs"]}
    - file: {content: x, filename: x.txt}
    - tensorboard: {uuids: ["0a1b"]}
  container: {image: tb, command: [tensorboard]}
`))
	if err != nil {
		t.Fatal(err)
	}
	cat := Catalogue{
		"store":    {Name: "store", Kind: "volume_claim", Schema: map[string]any{"volumeClaim": "artifacts-pvc", "mountPath": "/store"}},
		"registry": {Name: "registry", Kind: "registry", Schema: map[string]any{"url": "r"}},
	}
	c, err := Compile(&specs.Operation{}, files[0].Component, Options{Run: testRun, Connections: cat})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Lower(c, testRun, LowerOptions{Attempt: 1, ArtifactsStore: "store"})
	if err != nil {
		t.Fatal(err)
	}
	pod := objs.Deployment.Spec.Template.Spec
	var claim string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.Name + "=" + v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != "plexus-claim-store=artifacts-pvc" {
		t.Fatalf("volumes %+v", pod.Volumes)
	}
	mountOf := func(c corev1.Container) *corev1.VolumeMount {
		for i := range c.VolumeMounts {
			if c.VolumeMounts[i].Name == "plexus-claim-store" {
				return &c.VolumeMounts[i]
			}
		}
		return nil
	}
	want := corev1.VolumeMount{Name: "plexus-claim-store", MountPath: "/plx-context/artifacts/" + testRun.UUID, SubPath: testRun.UUID}
	if m := mountOf(pod.Containers[0]); m == nil || !reflect.DeepEqual(*m, want) {
		t.Fatalf("main mount %+v, want %+v", m, want)
	}
	for i, reads := range []bool{true, false, true} {
		ic := pod.InitContainers[i]
		m := mountOf(ic)
		env := ""
		for _, e := range ic.Env {
			if e.Name == EnvArtifactsStore {
				env = e.Value
			}
		}
		if reads != (m != nil) || reads != (env == ArtifactsStorePath) {
			t.Fatalf("init[%d]: mount %+v, %s=%q", i, m, EnvArtifactsStore, env)
		}
		if m != nil && (m.MountPath != ArtifactsStorePath || !m.ReadOnly || m.SubPath != "") {
			t.Fatalf("init[%d] mount %+v", i, m)
		}
	}

	// Without a store, nothing of it.
	objs, err = Lower(c, testRun, LowerOptions{Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, ctr := range append(objs.Deployment.Spec.Template.Spec.InitContainers, objs.Deployment.Spec.Template.Spec.Containers...) {
		if mountOf(ctr) != nil {
			t.Fatalf("%s mounts a store", ctr.Name)
		}
	}
	for _, name := range []string{"registry", "nosuch"} {
		_, err := Lower(c, testRun, LowerOptions{Attempt: 1, ArtifactsStore: name})
		if err == nil || !strings.Contains(err.Error(), "artifactsStore: the artifacts store \""+name+"\" is not a volume_claim or host_path connection") {
			t.Fatalf("store %s: %v", name, err)
		}
	}
}
