package main

import (
	"bytes"
	"testing"

	"github.com/plexus-ml/plexus/engine/store"
)

// TestPrintService: a service on a cluster is reached through a
// port-forward command, or at its in-cluster address; one on the local
// executor at its URL; one that ended or does not answer yet says so.
func TestPrintService(t *testing.T) {
	for name, tc := range map[string]struct {
		run  store.Run
		want string
	}{
		"cluster": {
			run: store.Run{UUID: "u1", Status: store.Running, Service: &store.Service{Namespace: "ml", Name: "plx-u1-1", Ports: []int{6006, 7007}, Path: "/services/v1/ml/plexus/default/runs/u1/"}},
			want: "service plx-u1-1 in namespace ml, port 6006\n" +
				"from this machine:\n  kubectl port-forward -n ml service/plx-u1-1 6006:6006\n  then http://127.0.0.1:6006/services/v1/ml/plexus/default/runs/u1/\n" +
				"inside the cluster:\n  http://plx-u1-1.ml.svc:6006/services/v1/ml/plexus/default/runs/u1/\n",
		},
		"local": {
			run:  store.Run{UUID: "u2", Status: store.Running, Service: &store.Service{URL: "http://127.0.0.1:41000/", Ports: []int{41000}, Path: "/"}},
			want: "http://127.0.0.1:41000/\n",
		},
		"starting": {
			run:  store.Run{UUID: "u3", Status: store.Starting, Service: &store.Service{URL: "http://127.0.0.1:41001/", Ports: []int{41001}, Path: "/"}},
			want: "run u3 is starting: its service does not answer yet\nhttp://127.0.0.1:41001/\n",
		},
		"stopped": {
			run: store.Run{UUID: "u4", Status: store.Stopped, Service: &store.Service{Namespace: "ml", Name: "plx-u4-1", Ports: []int{80}, Path: "/"}},
			want: "run u4 is stopped: its service is gone\nservice plx-u4-1 in namespace ml, port 80\n" +
				"from this machine:\n  kubectl port-forward -n ml service/plx-u4-1 8080:80\n  then http://127.0.0.1:8080/\n" +
				"inside the cluster:\n  http://plx-u4-1.ml.svc:80/\n",
		},
	} {
		var b bytes.Buffer
		if err := printService(&b, &tc.run); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.String() != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", name, b.String(), tc.want)
		}
	}
}
