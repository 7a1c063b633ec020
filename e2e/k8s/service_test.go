package k8s

import (
	"reflect"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestServiceRunsAndStops: a service becomes a Deployment and a Service,
// runs once a replica is available, and both go when it is stopped.
func TestServiceRunsAndStops(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, `version: 1.1
kind: component
run:
  kind: service
  ports: [6006]
  container: {image: tensorboard, command: [tensorboard, --logdir, /plx-context/artifacts]}
`)
	wait(t, n.st, uuid, 60*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	name := compiler.ObjectName(uuid, 1)
	cs := c.Client()
	svc, err := cs.CoreV1().Services(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 6006 {
		t.Fatalf("service ports %+v", svc.Spec.Ports)
	}
	// The run says how to reach it: that Service, its port, the path.
	r, _, err := n.st.Get(t.Context(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Service{Namespace: ns, Name: name, Ports: []int{6006}, Path: "/services/v1/" + ns + "/plexus/default/runs/" + uuid + "/"}
	if r.Service == nil || !reflect.DeepEqual(*r.Service, want) {
		t.Fatalf("run's service %+v, want %+v", r.Service, want)
	}
	if _, err := n.e.Stop(t.Context(), uuid); err != nil {
		t.Fatal(err)
	}
	if r := final(t, n.st, uuid); r.Status != store.Stopped {
		t.Fatalf("got %s: %+v", r.Status, r.Conditions)
	}
	if _, err := cs.AppsV1().Deployments(ns).Get(t.Context(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("deployment after stop: %v", err)
	}
	if _, err := cs.CoreV1().Services(ns).Get(t.Context(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("service after stop: %v", err)
	}
}

// TestServiceRewritePath: a service with rewritePath answers at /, and
// the run says so.
func TestServiceRewritePath(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	n := start(t, c, ns, storetest.Prefix(t), "a")
	uuid := submit(t, n.e, `version: 1.1
kind: component
run:
  kind: service
  ports: [8888, 9999]
  rewritePath: true
  container: {image: notebook, command: [jupyter, lab, "--port={{ globals.ports[0] }}"]}
`)
	r := wait(t, n.st, uuid, 60*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	name := compiler.ObjectName(uuid, 1)
	want := store.Service{Namespace: ns, Name: name, Ports: []int{8888, 9999}, Path: "/"}
	if r.Service == nil || !reflect.DeepEqual(*r.Service, want) {
		t.Fatalf("run's service %+v, want %+v", r.Service, want)
	}
	svc, err := c.Client().CoreV1().Services(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 2 || svc.Spec.Ports[1].Port != 9999 {
		t.Fatalf("service ports %+v", svc.Spec.Ports)
	}
	if _, err := n.e.Stop(t.Context(), uuid); err != nil {
		t.Fatal(err)
	}
	if r := final(t, n.st, uuid); r.Status != store.Stopped {
		t.Fatalf("got %s", r.Status)
	}
}
