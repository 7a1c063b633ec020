package specs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Validation of the run section: its kinds, Kubernetes fields, init
// entries, termination, cache, plugins, hooks and build.

func TestValidateRunKinds(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"job without kind": {src: vtComponent(vtJob)},
		"job":              {src: vtRunBody("  kind: job", "  container: {image: a}")},
		"notifier":         {src: vtRunBody("  kind: notifier", "  container: {image: a}")},
		"cleaner":          {src: vtRunBody("  kind: cleaner", "  container: {image: a}")},
		"tuner":            {src: vtRunBody("  kind: tuner", "  container: {image: a}")},
		"service": {src: vtRunBody("  kind: service", "  ports: [6006, 8888]", "  rewritePath: true", "  isExternal: false",
			"  replicas: 2", "  container: {image: a}")},
		"service ports template": {src: vtRunBody("  kind: service", `  ports: "{{ ports }}"`, "  container: {image: a}")},
		"unknown kind": {
			src:  vtRunBody("  kind: daskjob", "  container: {image: a}"),
			want: []vtErr{{"run.kind", `unsupported value "daskjob": must be one of "job", "service", "dag"`, 4}},
		},
		"ports on a job": {
			src:  vtRunBody("  container: {image: a}", "  ports: [80]"),
			want: []vtErr{{"run.ports", `unknown field "ports"`, 5}},
		},
		"service ports out of range": {
			src: vtRunBody("  kind: service", "  ports: [0, 8888, 70000]", "  container: {image: a}"),
			want: []vtErr{
				{"run.ports[0]", "a port is between 1 and 65535, got 0", 5},
				{"run.ports[2]", "a port is between 1 and 65535, got 70000", 5},
			},
		},
		"service port not a number is one error": {
			src:  vtRunBody("  kind: service", "  ports: [http]", "  container: {image: a}"),
			want: []vtErr{{"run.ports[0]", `expected an integer, got "http"`, 5}},
		},
		"service negative replicas": {
			src:  vtRunBody("  kind: service", "  replicas: -1", "  container: {image: a}"),
			want: []vtErr{{"run.replicas", "must not be negative, got -1", 5}},
		},
		"tfjob": {src: vtRunBody("  kind: tfjob", "  cleanPodPolicy: running", "  enableDynamicWorker: true",
			"  schedulingPolicy: {minAvailable: 2, queue: q}",
			"  chief: {replicas: 1, container: {image: a}}", "  worker: {replicas: 2, container: {image: a}}",
			"  ps: {replicas: 1, container: {image: a}}", "  evaluator: {replicas: 1, container: {image: a}}")},
		"pytorchjob": {src: vtRunBody("  kind: pytorchjob", "  master: {replicas: 1, container: {image: a}}",
			"  worker: {replicas: 2, container: {image: a}}")},
		"mpijob": {src: vtRunBody("  kind: mpijob", "  slotsPerWorker: 2", "  launcher: {replicas: 1, container: {image: a}}",
			"  worker: {replicas: 2, container: {image: a}}")},
		"mxjob": {src: vtRunBody("  kind: mxjob", "  mode: MXTune", "  scheduler: {replicas: 1, container: {image: a}}",
			"  tunerTracker: {replicas: 1, container: {image: a}}")},
		"xgbjob (unlike the reference's bug)": {src: vtRunBody("  kind: xgbjob",
			"  master: {replicas: 1, container: {image: a}}", "  worker: {replicas: 2, container: {image: a}}")},
		"paddlejob": {src: vtRunBody("  kind: paddlejob", "  master: {replicas: 1, container: {image: a}}")},
		"tfjob without replicas": {
			src:  vtRunBody("  kind: tfjob"),
			want: []vtErr{{"run", "a distributed job needs at least one replica role (chief, evaluator, ps, worker)", 4}},
		},
		"pytorchjob without replicas": {
			src:  vtRunBody("  kind: pytorchjob", "  cleanPodPolicy: All"),
			want: []vtErr{{"run", "needs at least one replica role (master, worker)", 4}},
		},
		"mpijob without replicas": {
			src:  vtRunBody("  kind: mpijob"),
			want: []vtErr{{"run", "(launcher, worker)", 4}},
		},
		"mxjob without replicas": {
			src:  vtRunBody("  kind: mxjob"),
			want: []vtErr{{"run", "(scheduler, server, tuner, tunerServer, tunerTracker, worker)", 4}},
		},
		"xgbjob without replicas": {
			src:  vtRunBody("  kind: xgbjob"),
			want: []vtErr{{"run", "(master, worker)", 4}},
		},
		"paddlejob without replicas": {
			src:  vtRunBody("  kind: paddlejob"),
			want: []vtErr{{"run", "(master, worker)", 4}},
		},
		"replica role of another kind": {
			src:  vtRunBody("  kind: tfjob", "  chief: {replicas: 1, container: {image: a}}", "  master: {replicas: 1}"),
			want: []vtErr{{"run.master", `unknown field "master"`, 6}},
		},
		"negative replicas": {
			src:  vtRunBody("  kind: pytorchjob", "  master: {replicas: 1, container: {image: a}}", "  worker: {replicas: -2, container: {image: a}}"),
			want: []vtErr{{"run.worker.replicas", "must not be negative, got -2", 6}},
		},
		"replica container needs an image": {
			src:  vtRunBody("  kind: pytorchjob", "  master:", "    container: {command: [train]}"),
			want: []vtErr{{"run.master.container.image", "the container needs an image", 6}},
		},
		"cleanPodPolicy": {
			src:  vtRunBody("  kind: tfjob", "  cleanPodPolicy: sometimes", "  chief: {container: {image: a}}"),
			want: []vtErr{{"run.cleanPodPolicy", `unsupported value "sometimes": must be one of "All", "Running", "None"`, 5}},
		},
		"negative minAvailable": {
			src:  vtRunBody("  kind: tfjob", "  schedulingPolicy: {minAvailable: -1}", "  chief: {container: {image: a}}"),
			want: []vtErr{{"run.schedulingPolicy.minAvailable", "must not be negative", 5}},
		},
		"slotsPerWorker 0": {
			src:  vtRunBody("  kind: mpijob", "  slotsPerWorker: 0", "  worker: {container: {image: a}}"),
			want: []vtErr{{"run.slotsPerWorker", "must be at least 1", 5}},
		},
		"mxjob mode": {
			src:  vtRunBody("  kind: mxjob", "  mode: MXFoo", "  worker: {container: {image: a}}"),
			want: []vtErr{{"run.mode", `unsupported value "MXFoo": must be one of "MXTrain", "MXTune"`, 5}},
		},
		"spark": {src: vtRunBody("  kind: spark", "  type: python", `  pythonVersion: "3"`, "  deployMode: cluster",
			"  sparkVersion: 3.1.1", "  mainApplicationFile: local:///app.py", "  sparkConf: {spark.executor.memory: 1g}",
			"  driver: {replicas: 1, container: {image: a}}", "  executor: {replicas: 2, container: {image: a}}")},
		"spark pythonVersion as a number": {src: vtRunBody("  kind: spark", "  pythonVersion: 2")},
		"spark enums": {
			src: vtRunBody("  kind: spark", "  type: Python", "  pythonVersion: cluster", "  deployMode: local"),
			want: []vtErr{
				{"run.type", `unsupported value "Python": must be one of "java", "scala", "python", "r"`, 5},
				{"run.pythonVersion", `unsupported value "cluster": must be one of "2", "3"`, 6},
				{"run.deployMode", `unsupported value "local": must be one of "cluster", "client", "in_cluster_client"`, 7},
			},
		},
		"spark executor replicas": {
			src:  vtRunBody("  kind: spark", "  executor: {replicas: -1, container: {image: a}}"),
			want: []vtErr{{"run.executor.replicas", "must not be negative", 5}},
		},
		"dask": {src: vtRunBody("  kind: dask", "  threads: 2", "  scale: 3", "  adaptMin: 1", "  adaptMax: 4",
			"  adaptInterval: 1000", "  container: {image: a}")},
		"dask adaptMin above adaptMax": {
			src:  vtRunBody("  kind: dask", "  adaptMin: 5", "  adaptMax: 2", "  container: {image: a}"),
			want: []vtErr{{"run.adaptMin", "adaptMin must not exceed adaptMax", 5}},
		},
		"flink": {src: vtRunBody("  kind: flink", "  spec: {job: {jarURI: local:///x.jar}}")},
		"ray":   {src: vtRunBody("  kind: ray", "  spec: {entrypoint: python x.py}")},
		"flink without spec": {
			src:  vtRunBody("  kind: flink"),
			want: []vtErr{{"run.spec", "`spec` is required", 4}},
		},
		"ray with a null spec": {
			src:  vtRunBody("  kind: ray", "  spec: null"),
			want: []vtErr{{"run.spec", "ray needs a spec", 5}},
		},
		"run not a mapping": {
			src:  vtComponent("run: job"),
			want: []vtErr{{"run", "expected a mapping, got a string", 3}},
		},
	})
}

// TestValidateRunKindDefaultsToJob checks that a run without kind is a job
// (Plexus accepts the shortest manifest) and that the kind is kept.
func TestValidateRunKindDefaultsToJob(t *testing.T) {
	files, errs := vtParse(t, vtComponent(vtJob))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	job, ok := files[0].Component.Run.(*Job)
	if !ok {
		t.Fatalf("Run is %T, want *Job", files[0].Component.Run)
	}
	if job.RunKind() != RunJob {
		t.Errorf("RunKind() = %q, want %q", job.RunKind(), RunJob)
	}
}

func TestValidateKubernetes(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"snake_case container keys": {src: vtRunBody(
			"  container:",
			"    image: a",
			"    image_pull_policy: IfNotPresent",
			"    working_dir: /code",
			"    volume_mounts: [{name: data, mount_path: /data, read_only: true}]",
			"    command: python train.py",
			"    resources: {limits: {cpu: 1, memory: 1Gi}, requests: {nvidia.com/gpu: 1}}",
			"  volumes: [{name: data, persistent_volume_claim: {claim_name: data}}]")},
		"environment": {src: vtRunBody(
			"  environment:",
			"    labels: {team: ml}",
			"    nodeSelector: {gpu: true, n: 1}",
			"    restartPolicy: OnFailure",
			"    dnsPolicy: ClusterFirst",
			"    serviceAccountName: sa",
			"    imagePullSecrets: [regcred]",
			"    hostPID: true",
			"    tolerations: [{key: gpu, operator: Exists, effect: NoSchedule, toleration_seconds: 10}]",
			"    securityContext: {run_as_user: 1000, fs_group: 100}",
			"    affinity: {node_affinity: {}}",
			"  container: {image: a}")},
		"unknown container key": {
			src:  vtRunBody("  container:", "    image: a", "    imagePullPolicy2: Always"),
			want: []vtErr{{"run.container.imagePullPolicy2", `did you mean "imagePullPolicy"?`, 6}},
		},
		"unknown container key far from any": {
			src:  vtRunBody("  container: {image: a, zzzzzzzzz: 1}"),
			want: []vtErr{{"run.container.zzzzzzzzz", `unknown field "zzzzzzzzz"`, 4}},
		},
		"imagePullPolicy enum": {
			src:  vtRunBody("  container: {image: a, imagePullPolicy: Sometimes}"),
			want: []vtErr{{"run.container.imagePullPolicy", `unsupported value "Sometimes": must be one of "Always", "Never", "IfNotPresent"`, 4}},
		},
		"container without image": {
			src:  vtRunBody("  container:", "    command: [train]"),
			want: []vtErr{{"run.container.image", "the container needs an image", 5}},
		},
		"image comes from the build": {src: vtComponent("build: {hubRef: kaniko}", "run: {container: {command: [train]}}")},
		"env var without name": {
			src:  vtRunBody("  container:", "    image: a", "    env: [{value: x}]"),
			want: []vtErr{{"run.container.env[0].name", "an env var needs a name", 6}},
		},
		"containerPort above 65535": {
			src:  vtRunBody("  container: {image: a, ports: [{containerPort: 70000}]}"),
			want: []vtErr{{"run.container.ports[0].containerPort", "a port is between 1 and 65535", 4}},
		},
		"containerPort 0": {
			src:  vtRunBody("  container: {image: a, ports: [{containerPort: 0}]}"),
			want: []vtErr{{"run.container.ports[0].containerPort", "a port is between 1 and 65535", 4}},
		},
		"sidecar without name": {
			src:  vtRunBody("  container: {image: a}", "  sidecars: [{image: b}]"),
			want: []vtErr{{"run.sidecars[0].name", "a sidecar needs a name", 5}},
		},
		"duplicate volume names": {
			src:  vtRunBody("  container: {image: a}", "  volumes:", "  - {name: v, emptyDir: {}}", "  - {name: v, emptyDir: {}}"),
			want: []vtErr{{"run.volumes[1].name", `duplicate value "v": volume names must be unique`, 7}},
		},
		"restartPolicy enum": {
			src:  vtRunBody("  environment: {restartPolicy: Sometimes}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.restartPolicy", `unsupported value "Sometimes": must be one of "Always", "OnFailure", "Never"`, 4}},
		},
		"dnsPolicy enum": {
			src:  vtRunBody("  environment: {dnsPolicy: Google}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.dnsPolicy", `unsupported value "Google"`, 4}},
		},
		"environment keys are Polyaxon keys, camelCase": {
			src:  vtRunBody("  environment:", "    node_selector: {a: b}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.node_selector", `keys are camelCase, did you mean "nodeSelector"?`, 5}},
		},
		"environment typo": {
			src:  vtRunBody("  environment: {nodeSelectr: {a: b}}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.nodeSelectr", `did you mean "nodeSelector"?`, 4}},
		},
		"toleration operator": {
			src: vtRunBody("  environment:", "    tolerations:", "    - {key: a, operator: Exists}", "    - {key: b, operator: Maybe}",
				"  container: {image: a}"),
			want: []vtErr{{"run.environment.tolerations[1].operator", `unsupported value "Maybe": must be one of "Exists", "Equal"`, 7}},
		},
		"toleration Exists with a value": {
			src:  vtRunBody("  environment:", "    tolerations: [{key: a, operator: Exists, value: x}]", "  container: {image: a}"),
			want: []vtErr{{"run.environment.tolerations[0].value", "a toleration with operator Exists takes no value", 5}},
		},
		"toleration unknown key": {
			src:  vtRunBody("  environment:", "    tolerations: [{key: a, operatr: Exists}]", "  container: {image: a}"),
			want: []vtErr{{"run.environment.tolerations[0].operatr", `did you mean "operator"?`, 5}},
		},
		"empty image pull secret": {
			src:  vtRunBody("  environment: {imagePullSecrets: ['']}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.imagePullSecrets[0]", "an image pull secret needs a name", 4}},
		},
		"nodeSelector not a mapping": {
			src:  vtRunBody("  environment: {nodeSelector: [a]}", "  container: {image: a}"),
			want: []vtErr{{"run.environment.nodeSelector", "expected a mapping, got a list", 4}},
		},
	})
}

// TestValidateKubernetesValues checks how Kubernetes values are read: a
// command given as one string is a one-element list, snake_case keys land
// in their camelCase fields, and unknown nested keys are warnings.
func TestValidateKubernetesValues(t *testing.T) {
	files, errs := vtParse(t, vtRunBody(
		"  container:",
		"    image: a",
		"    image_pull_policy: Always",
		"    command: python train.py --lr=0.1",
		"    args: --epochs=3",
		"    volume_mounts: [{name: data, mount_path: /data}]",
		"    resources: {limits: {cpu: 1}, limitz: {cpu: 2}}"))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	c := files[0].Component.Run.(*Job).Container
	type view struct {
		Command, Args       []string
		PullPolicy          string
		MountName, MountDir string
	}
	var got view
	got.Command, got.Args, got.PullPolicy = c.Command, c.Args, string(c.ImagePullPolicy)
	if len(c.VolumeMounts) == 1 {
		got.MountName, got.MountDir = c.VolumeMounts[0].Name, c.VolumeMounts[0].MountPath
	}
	want := view{
		Command:    []string{"python train.py --lr=0.1"},
		Args:       []string{"--epochs=3"},
		PullPolicy: "Always",
		MountName:  "data",
		MountDir:   "/data",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("container (-want +got):\n%s", diff)
	}
	vtCheck(t, "", files[0].Warnings, []vtErr{{"run.container.resources.limitz", `unknown field "limitz"`, 10}})
}

func TestValidateInit(t *testing.T) {
	initRun := func(lines ...string) string {
		return vtRunBody(append(append([]string{"  init:"}, lines...), "  container: {image: a}")...)
	}
	vtRun(t, map[string]vtCase{
		"every handler": {src: initRun(
			"  - git: {url: https://github.com/org/repo, revision: main}",
			"  - git: {revision: main}",
			"    connection: repo",
			"  - artifacts: {files: [a.txt, [b.txt, c.txt]], dirs: [d], workers: 2}",
			"  - paths: [a, [b, c]]",
			"  - dockerfile: {image: python:3.11, run: [pip install x], env: {A: 1}}",
			"  - file: {content: 'print(1)', filename: x.py, chmod: '+x'}",
			"  - tensorboard: {port: 6006, uuids: [a, b]}",
			"  - lineageRef: abc:model",
			"  - connection: dataset",
			"    path: /data",
			"  - container: {name: custom, image: busybox}")},
		"two handlers": {
			src:  initRun("  - git: {url: https://x}", "    artifacts: {files: [a]}"),
			want: []vtErr{{"run.init[0].git", "an init entry takes one handler, got artifacts and git", 5}},
		},
		"git without url and connection": {
			src:  initRun("  - git: {revision: main}"),
			want: []vtErr{{"run.init[0].git.url", "a git init needs a url or a connection", 5}},
		},
		"empty entry": {
			src:  initRun("  - {}"),
			want: []vtErr{{"run.init[0]", "an init entry needs a handler", 5}},
		},
		"dockerfile without image": {
			src:  initRun("  - dockerfile: {run: [ls]}"),
			want: []vtErr{{"run.init[0].dockerfile.image", "`image` is required", 5}},
		},
		"file without content": {
			src:  initRun("  - file: {filename: x}"),
			want: []vtErr{{"run.init[0].file.content", "`content` is required", 5}},
		},
		"bad paths": {
			src: initRun("  - paths: [[a, b, c], 1]"),
			want: []vtErr{
				{"run.init[0].paths[0]", "expected a path or a [from, to] pair of paths", 5},
				{"run.init[0].paths[1]", "expected a path or a [from, to] pair of paths", 5},
			},
		},
		"negative workers": {
			src:  initRun("  - artifacts: {files: [a], workers: -1}"),
			want: []vtErr{{"run.init[0].artifacts.workers", "must not be negative", 5}},
		},
		"typo": {
			src:  initRun("  - gti: {url: https://x}"),
			want: []vtErr{{"run.init[0].gti", `did you mean "git"?`, 5}},
		},
		"second entry": {
			src:  initRun("  - git: {url: https://x}", "  - git: {flags: [--depth=1]}"),
			want: []vtErr{{"run.init[1].git.url", "needs a url or a connection", 6}},
		},
	})
}

func TestValidateTerminationCachePlugins(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"all set": {src: vtComponent(
			`termination: {maxRetries: 3, ttl: "{{ ttl }}", timeout: 600}`,
			"cache: {disable: false, ttl: 3600, io: [lr], sections: [containers, init, connections]}",
			"plugins: {auth: true, docker: false, shm: true, logLevel: info, sidecar: {sleepInterval: 5}, notifications: [{connections: [slack], trigger: failed}]}",
			vtJob)},
		"templated logLevel": {src: vtComponent(`plugins: {logLevel: "{{ level }}"}`, vtJob)},
		"negative maxRetries": {
			src:  vtComponent("termination: {maxRetries: -1}", vtJob),
			want: []vtErr{{"termination.maxRetries", "must not be negative, got -1", 3}},
		},
		"negative ttl and timeout": {
			src: vtComponent("termination:", "  ttl: -1", "  timeout: -2", vtJob),
			want: []vtErr{
				{"termination.ttl", "must not be negative", 4},
				{"termination.timeout", "must not be negative", 5},
			},
		},
		"timeout not a number": {
			src:  vtComponent("termination: {timeout: soon}", vtJob),
			want: []vtErr{{"termination.timeout", `expected an integer, got "soon"`, 3}},
		},
		"negative cache ttl": {
			src:  vtComponent("cache: {ttl: -5}", vtJob),
			want: []vtErr{{"cache.ttl", "must not be negative", 3}},
		},
		"cache sections enum": {
			src:  vtComponent("cache: {sections: [containers, volumes]}", vtJob),
			want: []vtErr{{"cache.sections[1]", `unsupported value "volumes": must be one of "containers", "init", "connections"`, 3}},
		},
		"cache inputs is the old name of io": {
			src:  vtComponent("cache: {inputs: [lr]}", vtJob),
			want: []vtErr{{"cache.inputs", `unknown field "inputs"`, 3}},
		},
		"logLevel enum": {
			src:  vtComponent("plugins: {logLevel: verbose}", vtJob),
			want: []vtErr{{"plugins.logLevel", `unsupported value "verbose": must be one of "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"`, 3}},
		},
		"negative sidecar interval": {
			src:  vtComponent("plugins: {sidecar: {syncInterval: -1}}", vtJob),
			want: []vtErr{{"plugins.sidecar.syncInterval", "must not be negative", 3}},
		},
		"notification without connections": {
			src:  vtComponent("plugins: {notifications: [{trigger: failed}]}", vtJob),
			want: []vtErr{{"plugins.notifications[0].connections", "`connections` is required", 3}},
		},
		"plugin typo": {
			src:  vtComponent("plugins: {dockr: true}", vtJob),
			want: []vtErr{{"plugins.dockr", `did you mean "docker"?`, 3}},
		},
		"plugin not a bool": {
			src:  vtComponent("plugins: {shm: sometimes}", vtJob),
			want: []vtErr{{"plugins.shm", "expected a boolean", 3}},
		},
	})
}

func TestValidateHooksAndBuild(t *testing.T) {
	vtRun(t, map[string]vtCase{
		"hooks": {src: vtComponent(
			"hooks:",
			"- {hubRef: slack, trigger: failed, connection: slack, conditions: \"{{ status == 'failed' }}\"}",
			"- {hubRef: acme/notifier:v1, trigger: done, params: {channel: {value: ml}}}",
			vtJob)},
		"hook without hubRef": {
			src:  vtComponent("hooks:", "- trigger: failed", vtJob),
			want: []vtErr{{"hooks[0].hubRef", "`hubRef` is required", 4}},
		},
		"hook trigger enum": {
			src: vtComponent("hooks:", "- {hubRef: slack, trigger: running}", vtJob),
			want: []vtErr{{"hooks[0].trigger",
				`unsupported value "running": must be one of "succeeded", "failed", "stopped", "skipped", "upstream_failed", "done"`, 4}},
		},
		"hook hubRef with two tags": {
			src:  vtComponent("hooks:", "- {hubRef: 'slack:a:b'}", vtJob),
			want: []vtErr{{"hooks[0].hubRef", `hubRef must be [owner/]name[:tag], got "slack:a:b"`, 4}},
		},
		"hook conditions": {
			src:  vtComponent("hooks:", "- hubRef: slack", `  conditions: "{{ status == }}"`, vtJob),
			want: []vtErr{{"hooks[0].conditions", "does not compile", 5}},
		},
		"hook with the old connection-only shape": {
			src:  vtComponent("hooks:", "- connection: slack", vtJob),
			want: []vtErr{{"hooks[0].hubRef", "`hubRef` is required", 4}},
		},
		"build": {src: vtComponent("build:", "  hubRef: kaniko", "  connection: registry", "  patchStrategy: replace",
			"  params: {destination: {value: 'img:{{ globals.uuid }}'}}", "  runPatch: {init: [{git: {url: https://x}}]}", vtJob)},
		"build without hubRef": {
			src:  vtComponent("build: {connection: docker}", vtJob),
			want: []vtErr{{"build.hubRef", "`hubRef` is required", 3}},
		},
		"build patchStrategy enum": {
			src:  vtComponent("build: {hubRef: kaniko, patchStrategy: merge}", vtJob),
			want: []vtErr{{"build.patchStrategy", `unsupported value "merge": must be one of "replace", "isnull", "post_merge", "pre_merge"`, 3}},
		},
		"build cache sections": {
			src:  vtComponent("build:", "  hubRef: kaniko", "  cache: {sections: [layers]}", vtJob),
			want: []vtErr{{"build.cache.sections[0]", `unsupported value "layers"`, 5}},
		},
		"build unknown key": {
			src:  vtComponent("build: {hubRef: kaniko, image: x}", vtJob),
			want: []vtErr{{"build.image", `unknown field "image"`, 3}},
		},
	})
}
