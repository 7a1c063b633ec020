package compiler

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/specs"
)

const testPolicy = `rules:
  - teams: [research]
    projects: [vision]
    namespaces: [ml]
    connections: [registry, datasets]
    secrets: [aws]
    configMaps: ["*"]
    volumes: [emptyDir, secret, configMap, persistentVolumeClaim]
    claims: [shared-data]
    nodeSelectors: {pool: [cpu, gpu]}
    resources: {nvidia.com/gpu: 2, cpu: "16"}
  - users: [alice]
    projects: ["*"]
    namespaces: [ml]
    resources: {nvidia.com/gpu: 8, google.com/tpu: 4}
`

func TestAccess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(testPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := ReadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	bob := Caller{User: "bob", Teams: []string{"research"}, Project: "vision"}
	alice := Caller{User: "alice", Project: "nlp"}
	cases := map[string]struct {
		caller Caller
		ns     string
		run    string
		denied []string // paths of the violations
	}{
		"allowed": {caller: bob, ns: "ml", run: `
  connections: [registry]
  environment: {nodeSelector: {pool: gpu}}
  volumes: [{name: d, persistentVolumeClaim: {claimName: shared-data}}, {name: s, secret: {secretName: aws}}]
  container:
    image: a
    envFrom: [{configMapRef: {name: anything}}]
    resources: {limits: {nvidia.com/gpu: 2, cpu: 8}}`},
		"everything wrong": {caller: bob, ns: "prod", run: `
  connections: [registry, billing]
  init: [{connection: prod-db}]
  environment: {nodeSelector: {pool: highmem, zone: a}}
  volumes:
    - {name: h, hostPath: {path: /var}}
    - {name: s, secret: {secretName: root-keys}}
    - {name: c, persistentVolumeClaim: {claimName: other}}
  container:
    image: a
    env: [{name: K, valueFrom: {secretKeyRef: {name: stripe, key: k}}}]
    resources: {limits: {nvidia.com/gpu: 4}, requests: {google.com/tpu: 1}}`,
			denied: []string{"", "run.connections[1]", "run.container.env[0].valueFrom.secretKeyRef.name",
				"run.container.resources", "run.container.resources", "run.environment.nodeSelector.pool",
				"run.environment.nodeSelector.zone", "run.init[0].connection", "run.volumes[0]",
				"run.volumes[1].secret.secretName", "run.volumes[2].persistentVolumeClaim.claimName"}},
		"a user's own rule": {caller: alice, ns: "ml", run: `
  container: {image: a, resources: {limits: {nvidia.com/gpu: 8, google.com/tpu: 4}}}`},
		"too many gpus over two containers": {caller: alice, ns: "ml", run: `
  container: {image: a, resources: {limits: {nvidia.com/gpu: 6}}}
  sidecars: [{name: b, image: b, resources: {limits: {nvidia.com/gpu: 3}}}]`,
			denied: []string{"run.container.resources"}},
		"nobody": {caller: Caller{User: "eve", Project: "vision"}, ns: "ml", run: "\n  container: {image: a}",
			denied: []string{"", ""}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files, err := specs.Parse("t.yaml", []byte("version: 1.1\nkind: component\nrun:"+tc.run+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			comp := files[0].Component
			ri := testRun
			ri.Namespace = tc.ns
			_, err = Compile(&specs.Operation{}, comp, Options{Run: ri, Policy: policy, Caller: tc.caller})
			var got []string
			var ce *CompilationError
			if errors.As(err, &ce) {
				if ce.Stage != StageAccess {
					t.Fatalf("stage %s: %v", ce.Stage, err)
				}
				for _, e := range ce.Errors {
					got = append(got, string(e.Path))
				}
			} else if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.denied, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

func TestNoPolicyAllowsAll(t *testing.T) {
	files, err := specs.Parse("t.yaml", []byte("version: 1.1\nkind: component\nrun: {volumes: [{name: h, hostPath: {path: /}}], container: {image: a, resources: {limits: {nvidia.com/gpu: 64}}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(&specs.Operation{}, files[0].Component, Options{Run: testRun}); err != nil {
		t.Fatal(err)
	}
}
