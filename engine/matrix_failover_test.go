package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
)

// TestMatrixLeaderChange: the leader crashes in the middle of a
// hyperband sweep; the standby goes on where it was: every trial is the
// one the search suggests from the same seed and results (none lost,
// none repeated), each created once.
func TestMatrixLeaderChange(t *testing.T) {
	prefix := storetest.Prefix(t)
	ex := newRecorder()
	a, _, crashA := startOn(t, prefix, "a", ex)
	time.Sleep(300 * time.Millisecond) // a leads
	_, _, _ = startOn(t, prefix, "b", ex)
	spec := `version: 1.1
kind: operation
name: hb
matrix:
  kind: hyperband
  maxIterations: 9
  resource: {name: epochs, type: int}
  metric: {name: loss, optimization: minimize}
  concurrency: 3
  params:
    lr: {kind: uniform, value: [0, 1]}
component:
  inputs: [{name: lr, type: float}, {name: epochs, type: int}]
  outputs: [{name: loss, type: float}]
  run: {container: {image: x, command: [train]}}
`
	run, err := a.Submit(t.Context(), Submission{Source: "hb.yaml", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{storetest.Endpoint()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st := store.New(cli, prefix, nil)
	loss := func(params map[string]any) float64 {
		lr, _ := matrix.Number(params["lr"])
		epochs, _ := matrix.Number(params["epochs"])
		return (lr - 0.3) * (lr - 0.3) / epochs
	}
	finished := map[string]bool{}
	crashed := false
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sweep did not end; %d trials finished", len(finished))
		}
		r, _, err := st.Get(context.Background(), run.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Final() {
			if r.Status != store.Succeeded {
				t.Fatalf("sweep %s: %v", r.Status, r.Conditions)
			}
			break
		}
		if !crashed && len(finished) >= 10 {
			crashA() // mid-bracket: rung 0 of the first bracket has 9 trials
			crashed = true
		}
		children, err := st.ChildRuns(context.Background(), run.UUID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range children {
			ref := executor.RunRef{UUID: ch.UUID, Attempt: 1}
			if ch.Status.Final() || ex.createdCount(ref) == 0 {
				continue
			}
			// Reported again until recorded: a finish may reach only a
			// leader that is gone.
			finished[ch.UUID] = true
			ex.report(executor.StatusUpdate{Run: ref, Status: executor.Succeeded, Time: time.Now(),
				Outputs: map[string]any{"loss": loss(ch.Params)}})
		}
	}
	if !crashed {
		t.Fatal("the sweep ended before the leader could be crashed")
	}
	children := childrenOf(t, st, run.UUID)
	// The same search, run here with the same results, suggests the same
	// trials in the same order.
	files, err := specs.ParseReader("hb.yaml", strings.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	search, err := matrix.New("matrix", files[0].Operation.Matrix, sweepSeed(run.UUID))
	if err != nil {
		t.Fatal(err)
	}
	var results []matrix.Result
	for {
		trials, done, err := search.Next(results, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range trials {
			results = append(results, matrix.Result{Trial: tr, Done: true, Succeeded: true, Metric: loss(tr.Params), HasMetric: true})
		}
		if done {
			break
		}
	}
	if len(children) != len(results) || len(results) != 9+3+1+5+1+3 {
		t.Fatalf("%d trials run, the search suggests %d (want 22)", len(children), len(results))
	}
	for i, want := range results {
		ch := children[fmt.Sprint(i)]
		if ch == nil || fmt.Sprint(ch.Params) != fmt.Sprint(want.Params) {
			t.Errorf("trial %d ran %v, the search suggests %v", i, ch, want.Params)
			continue
		}
		if n := ex.createdCount(executor.RunRef{UUID: ch.UUID, Attempt: 1}); n != 1 {
			t.Errorf("trial %d created %d times", i, n)
		}
	}
}
