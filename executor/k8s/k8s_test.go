package k8s

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

func compile(t *testing.T, uuid, spec string) *compiler.Compiled {
	t.Helper()
	files, err := specs.Parse("c.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	c, err := compiler.Compile(&specs.Operation{}, files[0].Component, compiler.Options{Run: compiler.RunInfo{UUID: uuid, Name: "train"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDispatchShape: the Job a dispatch creates (pure object shape, on
// client-go's fake clientset; behaviour is tested on a real control plane
// in e2e).
func TestDispatchShape(t *testing.T) {
	ctx := t.Context()
	cs := fake.NewClientset()
	ex, err := NewForClient(ctx, cs, Config{Namespace: "ml"})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	uuid := "0123456789abcdef0123456789abcdef"
	c := compile(t, uuid, `version: 1.1
kind: component
termination: {maxRetries: 3, timeout: 60}
run:
  kind: job
  environment: {annotations: {plexus.io/kwok-delay: 2s}}
  container: {image: alpine, command: [echo, hi]}
`)
	ref := executor.RunRef{UUID: uuid, Attempt: 2}
	for range 2 { // the second dispatch finds the Job and creates nothing
		if err := ex.Dispatch(ctx, ref, c); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := cs.BatchV1().Jobs("ml").List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 1 {
		t.Fatalf("%d jobs, err %v", len(jobs.Items), err)
	}
	j := jobs.Items[0]
	if j.Name != "plexus-"+uuid+"-2" || j.Labels[compiler.LabelRun] != uuid || j.Labels[compiler.LabelAttempt] != "2" {
		t.Fatalf("name %s labels %v", j.Name, j.Labels)
	}
	if *j.Spec.BackoffLimit != 0 || *j.Spec.ActiveDeadlineSeconds != 60 {
		t.Fatalf("backoffLimit %d (the engine retries), activeDeadlineSeconds %d", *j.Spec.BackoffLimit, *j.Spec.ActiveDeadlineSeconds)
	}
	if j.Spec.Template.Labels[compiler.LabelRun] != uuid || j.Spec.Template.Annotations["plexus.io/kwok-delay"] != "2s" {
		t.Fatalf("pod labels %v annotations %v", j.Spec.Template.Labels, j.Spec.Template.Annotations)
	}
	if _, err := ex.Status(ctx, executor.RunRef{UUID: uuid, Attempt: 1}); !errors.Is(err, executor.ErrUnknownRun) {
		t.Fatalf("status of an attempt never dispatched: %v", err)
	}

	// Stop deletes the Job; once the informer sees it gone, the attempt
	// is stopped.
	updates, err := ex.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.Stop(ctx, ref); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Run == ref && u.Status == executor.Stopped {
				return
			}
		case <-timeout:
			t.Fatal("no stopped update after Stop")
		}
	}
}

func TestStopUnknown(t *testing.T) {
	ex, err := NewForClient(context.Background(), fake.NewClientset(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	if err := ex.Stop(t.Context(), executor.RunRef{UUID: "x", Attempt: 1}); !errors.Is(err, executor.ErrUnknownRun) {
		t.Fatalf("got %v", err)
	}
}

// TestRetryTransient: the preflight listing tries again through throttling
// and passing server errors, and gives up at once on what cannot mend.
func TestRetryTransient(t *testing.T) {
	gr := schema.GroupResource{Group: "batch", Resource: "jobs"}
	transient := []error{
		apierrors.NewTooManyRequests("slow down", 1),
		apierrors.NewInternalError(errors.New("boom")),
		apierrors.NewServiceUnavailable("starting"),
		errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
	}
	calls := 0
	err := retryTransient(t.Context(), func() error {
		calls++
		if calls <= len(transient) {
			return transient[calls-1]
		}
		return nil
	})
	if err != nil || calls != len(transient)+1 {
		t.Fatalf("after %d calls: %v; want success on call %d", calls, err, len(transient)+1)
	}

	for _, permanent := range []error{
		apierrors.NewForbidden(gr, "", errors.New("no")),
		apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "ml"),
		apierrors.NewUnauthorized("who are you"),
	} {
		calls = 0
		err := retryTransient(t.Context(), func() error { calls++; return permanent })
		if calls != 1 || err != permanent {
			t.Errorf("%v: %d calls, %v; want one call and the error", permanent, calls, err)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	last := apierrors.NewInternalError(errors.New("still down"))
	if err := retryTransient(ctx, func() error { return last }); err != last {
		t.Fatalf("at the deadline: %v, want the last error", err)
	}
}
