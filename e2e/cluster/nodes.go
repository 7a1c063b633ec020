package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var getOpts = metav1.GetOptions{}

// NodeLabel is set to "true" on every fake node, for tests that want a
// nodeSelector that matches.
const NodeLabel = "plexus.io/kwok-node"

// registerNodes creates n fake nodes, kwok-node-0 and up, with room for any
// test's pods; kwok finds them by their annotation and makes them Ready.
func registerNodes(ctx context.Context, client kubernetes.Interface, n int) ([]string, error) {
	room := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1k"),
		corev1.ResourceMemory: resource.MustParse("1Ti"),
		corev1.ResourcePods:   resource.MustParse("1M"),
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        names[i],
				Annotations: map[string]string{NodeAnnotation: "fake"},
				Labels: map[string]string{
					"kubernetes.io/hostname": names[i],
					"kubernetes.io/os":       "linux",
					"kubernetes.io/arch":     "amd64",
					"type":                   "kwok",
					NodeLabel:                "true",
				},
			},
			Status: corev1.NodeStatus{Allocatable: room, Capacity: room},
		}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("cluster: registering node %s: %w", names[i], err)
		}
	}
	return names, nil
}

// nodesReady returns nil once every named node is Ready and has no taints
// (the API server taints a new node not-ready; the node-lifecycle controller
// lifts the taint when kwok reports it Ready).
func nodesReady(ctx context.Context, client kubernetes.Interface, names []string) error {
	for _, name := range names {
		node, err := client.CoreV1().Nodes().Get(ctx, name, getOpts)
		if err != nil {
			return err
		}
		ready := false
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = c.Status == corev1.ConditionTrue
			}
		}
		if !ready {
			return fmt.Errorf("node %s not Ready", name)
		}
		if len(node.Spec.Taints) > 0 {
			return fmt.Errorf("node %s has taints %v", name, node.Spec.Taints)
		}
	}
	return nil
}
