package k8s

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/plexus-ml/plexus/e2e/cluster"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor/k8s"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestDeployRBACIsEnough: deploy/rbac.yaml applied to a namespace, the
// executor run with its ServiceAccount's token dispatches, watches, reads
// the outputs of and stops runs.
func TestDeployRBACIsEnough(t *testing.T) {
	c := cluster.Shared(t)
	ns := c.Namespace(t)
	ctx := t.Context()
	data, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cs := c.Client()
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ServiceAccount":
			var o corev1.ServiceAccount
			mustDecode(t, doc, &o)
			_, err = cs.CoreV1().ServiceAccounts(ns).Create(ctx, &o, metav1.CreateOptions{})
		case "Role":
			var o rbacv1.Role
			mustDecode(t, doc, &o)
			_, err = cs.RbacV1().Roles(ns).Create(ctx, &o, metav1.CreateOptions{})
		case "RoleBinding":
			var o rbacv1.RoleBinding
			mustDecode(t, doc, &o)
			for i := range o.Subjects {
				o.Subjects[i].Namespace = ns
			}
			_, err = cs.RbacV1().RoleBindings(ns).Create(ctx, &o, metav1.CreateOptions{})
		default:
			t.Fatalf("deploy/rbac.yaml: unexpected kind %q", meta.Kind)
		}
		if err != nil {
			t.Fatalf("applying %s: %v", meta.Kind, err)
		}
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "plexus", &authv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin := c.RESTConfig()
	sa := &rest.Config{Host: admin.Host, TLSClientConfig: rest.TLSClientConfig{Insecure: admin.Insecure, CAData: admin.CAData, CAFile: admin.CAFile},
		BearerToken: tok.Status.Token}

	// Without the Role's namespace, the same token is refused.
	if _, err := k8s.NewForConfig(ctx, sa, k8s.Config{Namespace: "default"}); err == nil {
		t.Fatal("the ServiceAccount could watch another namespace")
	}
	ex, err := k8s.NewForConfig(ctx, sa, k8s.Config{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(storetest.Client(t), storetest.Prefix(t), nil)
	n := &node{st: st, ex: ex}
	n.e, err = engine.New(engine.Config{Store: st, Executor: ex, Resync: 500 * time.Millisecond, LeaseTTL: 1,
		RunInfo: func(_ *store.Run, ri compiler.RunInfo) compiler.RunInfo { ri.Namespace = ns; return ri }})
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, n)
	ok := submit(t, n.e, job("outputs: [{name: loss, type: float}]", `plexus.io/kwok-message: '{"loss": 0.5}'`))
	if r := final(t, st, ok); r.Status != store.Succeeded || r.Outputs["loss"] != 0.5 {
		t.Fatalf("got %s %v: %+v", r.Status, r.Outputs, r.Conditions)
	}
	long := submit(t, n.e, job("", `plexus.io/kwok-delay: 5m`))
	wait(t, st, long, 30*time.Second, "running", func(r *store.Run) bool { return r.Status == store.Running })
	if _, err := n.e.Stop(ctx, long); err != nil {
		t.Fatal(err)
	}
	if r := final(t, st, long); r.Status != store.Stopped {
		t.Fatalf("got %s: %+v", r.Status, r.Conditions)
	}
	// pods/log is granted: the API server takes the request on to the
	// node (whose log endpoint the simulated nodes may not serve).
	if logs, err := ex.Logs(ctx, executorRef(ok, 1), false); err == nil {
		logs.Close()
	} else if apierrors.IsForbidden(err) {
		t.Fatalf("reading logs with the Role: %v", err)
	}
}

func mustDecode(t *testing.T, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatal(err)
	}
}
