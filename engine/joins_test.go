package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/engine/store/storetest"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// TestJoinCollectsOutputs: a join gives its param the outputs of the
// runs its query matches, in the order of its sort, as the list its
// input declares.
func TestJoinCollectsOutputs(t *testing.T) {
	e := startEngine(t)
	producer := func(loss float64, exit int) string {
		return fmt.Sprintf(`version: 1.1
kind: component
outputs: [{name: loss, type: float}]
run: {container: {image: x, command: [sh, -c, 'echo "{\"loss\": %v}" > $PLEXUS_OUTPUTS_PATH; exit %d']}}
`, loss, exit)
	}
	// The failed run keeps no outputs: the join must pass it by.
	var done []string
	for _, p := range []struct {
		loss float64
		exit int
	}{{0.3, 0}, {0.1, 0}, {0.7, 0}, {0.2, 1}} {
		run, err := e.Submit(t.Context(), Submission{Source: "producer.yaml", Spec: producer(p.loss, p.exit)})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, run.UUID)
	}
	for i, uuid := range done {
		want := store.Succeeded
		if i == 3 {
			want = store.Failed
		}
		if r := waitFinal(t, e, uuid); r.Status != want {
			t.Fatalf("producer %d: %s, want %s: %v", i, r.Status, want, r.Conditions)
		}
	}
	run, err := e.Submit(t.Context(), Submission{Source: "join.yaml", Spec: `version: 1.1
kind: operation
joins:
  - query: "status:succeeded, outputs.loss:<0.5, kind:job, project.name:{{ globals.project_name }}"
    sort: outputs.loss
    params:
      losses: {value: outputs.loss}
component:
  inputs: [{name: losses, type: float, isList: true}]
  outputs: [{name: seen, type: float, isList: true}]
  run: {container: {image: x, command: [sh, -c, 'echo "{\"seen\": {{ params.losses.as_str }}}" > $PLEXUS_OUTPUTS_PATH']}}
`})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFinal(t, e, run.UUID)
	if r.Status != store.Succeeded {
		t.Fatalf("the join's run %s: %v", r.Status, r.Conditions)
	}
	if diff := cmp.Diff([]any{0.1, 0.3}, r.Outputs["seen"]); diff != "" {
		t.Errorf("losses the run saw (-want +got):\n%s", diff)
	}
	// The join's values are pinned at submission: a later compilation (a
	// new leader's, a retry's) sees the same runs, whatever ran since.
	var stored resolved
	if err := json.Unmarshal(r.Compiled, &stored); err != nil {
		t.Fatal(err)
	}
	if s := string(stored.Operation); strings.Contains(s, `"joins"`) || !strings.Contains(s, `"losses":{"value":[0.1,0.3]}`) {
		t.Errorf("the stored operation: %s", s)
	}
}

// TestJoinResolver searches runs made directly in the store: runs of
// their own, a dag with its operations (inline, by dagRef, a nested
// dag), and a run kept in chunks; kinds and tags come from what each was
// compiled from, or from its dag.
func TestJoinResolver(t *testing.T) {
	var tick atomic.Int64
	clock := func() time.Time { return time.Date(2026, 1, 1, 0, 0, int(tick.Add(1)), 0, time.UTC) }
	st := store.New(storetest.Client(t), storetest.Prefix(t), clock)
	uuid := func(n int) string { return fmt.Sprintf("%032x", n) }
	compiled := func(op, comp string) json.RawMessage {
		b, err := json.Marshal(resolved{Operation: json.RawMessage(op), Component: json.RawMessage(comp)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dagComp := `{"run": {"kind": "dag",
  "operations": [
    {"name": "prep", "tags": ["prep"], "component": {"run": {"kind": "job"}}},
    {"name": "fit", "dagRef": "trainer"},
    {"name": "inner", "component": {"run": {"kind": "dag", "operations": [{"name": "deep", "dagRef": "server"}], "components": [{"name": "server", "run": {"kind": "service"}}]}}}],
  "components": [{"name": "trainer", "tags": ["best"], "run": {"kind": "job"}}]}}`
	runs := []*store.Run{
		{UUID: uuid(1), Name: "train", Project: "mnist", Status: store.Succeeded, Outputs: map[string]any{"loss": 0.4},
			Compiled: compiled(`{"tags": ["mine"]}`, `{"tags": ["best"], "run": {"kind": "job"}}`)},
		{UUID: uuid(2), Name: "serve", Project: "mnist", Status: store.Running, Compiled: compiled(`{}`, `{"run": {"kind": "service"}}`)},
		{UUID: uuid(3), Name: "pipe", Project: "mnist", Status: store.Running, Compiled: compiled(`{}`, dagComp)},
		{UUID: uuid(4), Name: "prep", Node: "prep", Parent: uuid(3), Project: "mnist", Status: store.Succeeded, Outputs: map[string]any{"loss": 0.2}},
		{UUID: uuid(5), Name: "fit", Node: "fit", Parent: uuid(3), Project: "mnist", Status: store.Succeeded, Outputs: map[string]any{"loss": 0.1}},
		{UUID: uuid(6), Name: "inner", Node: "inner", Parent: uuid(3), Project: "mnist", Status: store.Running},
		{UUID: uuid(7), Name: "deep", Node: "deep", Parent: uuid(6), Project: "mnist", Status: store.Running},
		{UUID: uuid(8), Name: "big", Project: "cifar", Status: store.Succeeded, Outputs: map[string]any{"loss": 0.3},
			Spec: strings.Repeat("#", 1<<20), Compiled: compiled(`{}`, `{"run": {"kind": "job"}}`)},
		{UUID: uuid(9), Name: "orphan", Node: "gone", Parent: uuid(99), Project: "mnist", Status: store.Failed},
		{UUID: uuid(10), Name: "old", Project: "mnist", Status: store.Failed, Outputs: map[string]any{"loss": 0.05},
			Compiled: compiled(`{}`, `{"run": {"kind": "job"}}`)},
	}
	for _, r := range runs {
		if err := st.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, err := st.Get(t.Context(), uuid(8)); err != nil || got.Blobs == 0 {
		t.Fatalf("run 8 is not kept in chunks: %v", err)
	}
	cases := map[string]struct {
		query, sort   string
		self          string
		limit, offset int
		want          []int
	}{
		"jobs, on their own or in a dag": {query: "kind:job", sort: "uuid", want: []int{1, 4, 5, 8, 10}},
		"services, in a nested dag too":  {query: "kind:service", sort: "uuid", want: []int{2, 7}},
		"dags":                           {query: "kind:dag", sort: "uuid", want: []int{3, 6}},
		"no kind known":                  {query: "kind:nil", want: []int{9}},
		"tags of a component":            {query: "tags:best", sort: "uuid", want: []int{1, 5}},
		"tags of an operation":           {query: "tags:mine|prep", sort: "uuid", want: []int{1, 4}},
		"operations of a dag":            {query: "pipeline:" + uuid(3), sort: "name", want: []int{5, 6, 4}},
		"any status":                     {query: "outputs.loss:<0.35", sort: "outputs.loss", want: []int{10, 5, 4, 8}},
		"outputs, sorted":                {query: "status:succeeded, outputs.loss:<0.35", sort: "outputs.loss", want: []int{5, 4, 8}},
		"never the run compiled":         {query: "status:succeeded, outputs.loss:<0.35", sort: "outputs.loss", self: uuid(5), want: []int{4, 8}},
		"offset and limit":               {query: "status:succeeded", sort: "-outputs.loss", offset: 1, limit: 2, want: []int{8, 4}},
		"an offset past the end":         {query: "status:succeeded", offset: 10, want: nil},
		"by default the latest updated":  {query: "project:mnist, status:running", want: []int{7, 6, 3, 2}},
		"every condition":                {query: "project:mnist, kind:job, name:%t%", sort: "uuid", want: []int{1, 5}},
		"created in a range":             {query: "created_at:2026-01-01..2026-01-01, name:~big", sort: "uuid", want: []int{1, 2, 3, 4, 5, 6, 7, 9, 10}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			q, err := compiler.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			s := compiler.DefaultSort
			if tc.sort != "" {
				if s, err = compiler.ParseSort(tc.sort); err != nil {
					t.Fatal(err)
				}
			}
			limit := compiler.MaxJoinRuns
			if tc.limit > 0 {
				limit = tc.limit
			}
			got, err := runJoins{ctx: t.Context(), st: st, self: tc.self}.ResolveJoin(compiler.JoinQuery{Query: q, Sort: s, Limit: limit, Offset: tc.offset})
			if err != nil {
				t.Fatal(err)
			}
			var want, gotIDs []string
			for _, n := range tc.want {
				want = append(want, uuid(n))
			}
			for _, r := range got {
				gotIDs = append(gotIDs, r.UUID())
			}
			if diff := cmp.Diff(want, gotIDs); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
	// A matched run's values are read as a ref's are, whatever its status.
	q, _ := compiler.ParseQuery("name:fit|serve")
	got, err := runJoins{ctx: t.Context(), st: st}.ResolveJoin(compiler.JoinQuery{Query: q, Sort: compiler.Sort{{Field: "name"}}, Limit: 10})
	if err != nil || len(got) != 2 {
		t.Fatalf("got %d runs: %v", len(got), err)
	}
	if v, err := got[0].Select("outputs.loss"); err != nil || v != 0.1 {
		t.Errorf("outputs.loss of fit: %v, %v", v, err)
	}
	if v, err := got[1].Select("globals.status"); err != nil || v != "running" {
		t.Errorf("globals.status of serve: %v, %v", v, err)
	}
	if _, err := got[1].Select("outputs.loss"); err == nil || !strings.Contains(err.Error(), `has no output "loss"`) {
		t.Errorf("an output serve does not have: %v", err)
	}
}

// TestDagJoinPinned: an operation of a dag with joins, compiled again
// after its first compilation (by a new leader, for a retry), sees the
// runs its joins found then, not the runs they would find now.
func TestDagJoinPinned(t *testing.T) {
	e := startEngine(t)
	produce := func(loss float64) {
		t.Helper()
		run, err := e.Submit(t.Context(), Submission{Source: "producer.yaml", Spec: fmt.Sprintf(`version: 1.1
kind: component
outputs: [{name: loss, type: float}]
run: {container: {image: x, command: [sh, -c, 'echo "{\"loss\": %v}" > $PLEXUS_OUTPUTS_PATH']}}
`, loss)})
		if err != nil {
			t.Fatal(err)
		}
		if r := waitFinal(t, e, run.UUID); r.Status != store.Succeeded {
			t.Fatalf("producer: %s: %v", r.Status, r.Conditions)
		}
	}
	produce(0.3)
	dagRun, ch := submitDag(t, e, dagSpec("", `
      - name: gather
        joins:
          - query: "status:succeeded, outputs.loss:<0.5, kind:job"
            sort: outputs.loss
            params:
              losses: {value: outputs.loss}
        component:
          inputs: [{name: losses, type: float, isList: true}]
          run: {kind: job, container: {image: x, command: [sh, -c, 'echo {{ losses }}']}}
`, ""))
	gather := ch["gather"]
	if dagRun.Status != store.Succeeded || gather == nil || gather.Status != store.Succeeded {
		t.Fatalf("dag %s, children %s", dagRun.Status, nodeStatuses(ch))
	}
	if diff := cmp.Diff([]any{0.3}, gather.Inputs["losses"]); diff != "" {
		t.Fatalf("the losses gather was compiled with (-want +got):\n%s", diff)
	}
	produce(0.1) // now the join would find two runs
	// A new term compiles the run again from the store alone.
	c, err := newLeading(e, e.cfg.Store).compileChild(t.Context(), gather)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Params.Get("losses"); cmp.Diff([]any{0.3}, p.Value) != "" {
		t.Errorf("compiled again, losses = %v, want the first compilation's [0.3]", p.Value)
	}
	// Without the recorded inputs (a first compilation), the join runs.
	fresh := *gather
	fresh.Inputs = nil
	if c, err = newLeading(e, e.cfg.Store).compileChild(t.Context(), &fresh); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Params.Get("losses"); cmp.Diff([]any{0.1, 0.3}, p.Value) != "" {
		t.Errorf("a first compilation: losses = %v, want [0.1 0.3]", p.Value)
	}
}
