// Package cluster runs a real Kubernetes control plane for end-to-end tests,
// with no Docker and no kubelet: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, each a child process on
// free loopback ports, with fake nodes whose pods kwok moves through their
// lives.
//
// # What it owns
//
//   - Finding the binaries: $PLEXUS_K8S_BIN, else
//     .cache/k8s/<kubernetes>-<etcd>-<kwok>/ under the repository root, the
//     versions read from tools/go.mod. scripts/k8s-bin.sh (make k8s-bin)
//     builds them there; Start fails with [ErrNoBinaries] when they are
//     missing, and tests fail rather than skip.
//   - Starting the processes in order, each logging to its own file under
//     [Cluster.Dir], and waiting until the cluster can run a pod: /readyz,
//     every fake node Ready without taints, the default ServiceAccount.
//   - Credentials: an admin bearer token (group system:masters), a generated
//     service-account key pair, and a kubeconfig trusting the API server's
//     self-signed serving certificate.
//   - Stopping: kwok, scheduler, controller-manager, API server, etcd, each
//     SIGTERM then SIGKILL after 10s, by process group. The children are
//     started from one OS thread locked for the cluster's life, with
//     Pdeathsig on Linux, so they die with the test binary even when it is
//     killed or panics.
//   - The kwok stages (stages/*.yaml, embedded), which decide what a pod
//     does: see below.
//
// # Pods on the fake nodes
//
// A pod bound to a fake node is Running at once. A pod owned by a Job then
// ends Succeeded, its containers terminated with exit code 0, after 500ms.
// Other pods stay Running. Annotations on the pod (set them in a Job's pod
// template) change that:
//
//	plexus.io/kwok-fail: "true"            end Failed, exit code 1
//	plexus.io/kwok-exit-code: "3"          end Failed with exit code 3 ("0": succeed)
//	plexus.io/kwok-delay: "2s"             stay Running 2s before ending (a Go duration)
//	plexus.io/kwok-message: '{"loss": 0.1}' each container's state.terminated.message
//	plexus.io/kwok-image-pull-error: "true" never start: Waiting ErrImagePull,
//	                                       then ImagePullBackOff after 1s
//
// An image whose name starts with plexus.io/unpullable behaves like the last
// annotation. A pod that fits no node (an unmatched nodeSelector, say) is
// left to the scheduler: Pending, PodScheduled=False, reason Unschedulable.
//
// # Using it
//
// [ForTest] starts a cluster for one test and stops it in t.Cleanup. To share
// one cluster among a test binary's tests, call [RunTests] from TestMain and
// [Shared] from the tests; [Cluster.Namespace] then gives each test its own
// namespace. A Cluster is safe for concurrent use.
package cluster
