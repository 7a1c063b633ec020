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
//     every fake node Ready without taints, kwok's kubelet endpoint, the
//     default ServiceAccount.
//   - Credentials: an admin bearer token (group system:masters), a generated
//     service-account key pair, and a kubeconfig trusting the API server's
//     self-signed serving certificate.
//   - Pod logs: kwok serves the kubelet API of every fake node, and the
//     harness gives pods that ask for it a log of their own; see below.
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
// annotation.
//
// # Pod logs
//
// GET pods/log (kubectl logs, the Kubernetes executor's Logs) works: the API
// server reaches kwok's kubelet endpoint on 127.0.0.1 through each fake
// node's InternalIP and status.daemonEndpoints, over TLS with a certificate
// the harness makes and the API server trusts (--kubelet-certificate-authority).
// Every container's log is [PodLog] ("plexus kwok log line 1" to 3), unless
// the pod chooses its own:
//
//	plexus.io/kwok-logs: "epoch 1\nepoch 2"  the log, one line per line of the value
//
// The value is read when the pod is created. The harness writes it to a
// file and creates a kwok Logs object for the pod (its CRD is installed at
// start), then marks the pod plexus.io/kwok-logs-ready; the pod starts only
// then, so its log is served as soon as it runs. [Cluster.AppendLog] adds
// lines to such a log, as a running container prints them. The log
// options (tailLines, limitBytes, timestamps, sinceSeconds) go to the log
// reader a kubelet uses too.
//
// With follow, the stream sends the log, then each line appended, and stays
// open until the client cancels it, even after the pod has ended: kwok has
// no container runtime to tell it that the container exited. Follow a log
// with a context that ends. A follow request on an empty log gets no answer,
// headers included, before its first line. A pod that fits no node (an unmatched nodeSelector, say) is
// left to the scheduler: Pending, PodScheduled=False, reason Unschedulable.
//
// # Using it
//
// [ForTest] starts a cluster for one test and stops it in t.Cleanup. To share
// one cluster among a test binary's tests, call [RunTests] from TestMain and
// [Shared] from the tests; [Cluster.Namespace] then gives each test its own
// namespace. A Cluster is safe for concurrent use.
package cluster
