package engine

// A matrix with a tuner (and every iterative matrix) is a sweep whose
// suggestions a tuner component makes: each iteration, the tuner runs as a
// child of the sweep (node "tuner-K"), given the observations so far, and
// the trials it suggests (its output `suggestions`) run next. matrix.Tuned
// decides when a tuner is due and numbers the trials; this file is the
// tuner's run: its component, found in the hub, and its params.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/plexus-ml/plexus/dag"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// The tuner component's contract: the inputs it may declare, which the
// engine gives it, and the output it must declare.
const (
	// TunerMatrix is the matrix section, as JSON (kind, params, metric,
	// ...).
	TunerMatrix = "matrix"
	// TunerObservations are the trials so far (matrix.Observation): index,
	// iteration, params, status, metric, outputs.
	TunerObservations = "observations"
	// TunerIteration is the iteration, from 0.
	TunerIteration = "iteration"
	// TunerSuggestions is the output: a list of params, one per trial to
	// run; an empty list ends the search.
	TunerSuggestions = "suggestions"
)

// tunerNodePrefix names the tuners' nodes: "tuner-0", "tuner-1", ...
const tunerNodePrefix = "tuner-"

// TunerNode says whether a matrix's child node is a tuner's run ("tuner-K"),
// and of which iteration.
func TunerNode(node string) (int, bool) {
	rest, ok := strings.CutPrefix(node, tunerNodePrefix)
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(rest)
	return k, err == nil && k >= 0
}

// tuning is what a tuned sweep knows of its tuner: the search, the
// tuner's section and component, and the matrix it is told of.
type tuning struct {
	search *matrix.Tuned
	spec   *specs.Tuner
	comp   *specs.Component
	matrix any
	// status is what became of each iteration's tuner in this attempt
	// ("" none yet).
	status []string
}

// tunerComponent finds the component of a matrix's tuner in the hub, as
// the run's submitter may read it, and checks that it can be a tuner: a
// job that outputs suggestions and needs no input the engine does not
// give or the tuner's params do not.
func (e *Engine) tunerComponent(ctx context.Context, run *store.Run, at specs.Path, t *specs.Tuner) (*specs.Component, error) {
	p := at.Child("tuner").Child("hubRef")
	h := e.cfg.Sources.Hub
	if h == nil {
		return nil, fmt.Errorf("%s: this engine has no hub to find the tuner %q in", p, t.HubRef)
	}
	if g, ok := h.(compiler.GuardedHub); ok {
		if policy := e.Policy(); policy != nil {
			h = g.For(policy, callerOf(run))
		}
	}
	ref, err := compiler.ParseHubRef(t.HubRef)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	comp, err := h.Component(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if _, job := comp.Run.(*specs.Job); !job {
		return nil, fmt.Errorf("%s: the tuner %s is not a job (it must run to its end and output %s)", p, t.HubRef, TunerSuggestions)
	}
	hasOut := false
	for _, o := range comp.Outputs {
		hasOut = hasOut || o.Name == TunerSuggestions
	}
	if !hasOut {
		return nil, fmt.Errorf("%s: the tuner %s has no output %q, the list of the trials' params it suggests", p, t.HubRef, TunerSuggestions)
	}
	for _, in := range comp.Inputs {
		given := in.Name == TunerMatrix || in.Name == TunerObservations || in.Name == TunerIteration
		if _, ok := t.Params[in.Name]; ok {
			given = true
		}
		if !given && in.Required(true) {
			return nil, fmt.Errorf("%s: the tuner %s needs the input %q: give it in tuner.params", p, t.HubRef, in.Name)
		}
	}
	return comp, nil
}

// newTuning is the tuning of a matrix run: its search and its tuner's
// component.
func (e *Engine) newTuning(ctx context.Context, run *store.Run, at specs.Path, m specs.Matrix) (*tuning, error) {
	search, err := matrix.NewTuned(at.Child("matrix"), m)
	if err != nil {
		return nil, err
	}
	spec := matrix.TunerOf(m)
	comp, err := e.tunerComponent(ctx, run, at.Child("matrix"), spec)
	if err != nil {
		return nil, err
	}
	doc, err := plain(m)
	if err != nil {
		return nil, err
	}
	return &tuning{search: search, spec: spec, comp: comp, matrix: doc}, nil
}

// plain is v as a run's params are stored: through JSON, plain values.
func plain(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(raw, &out)
	return out, err
}

// params are the params of iteration k's tuner, given what the sweep's
// trials gave so far.
func (t *tuning) params(k int, obs []matrix.Observation) (map[string]any, error) {
	out := map[string]any{}
	for name, p := range t.spec.Params {
		out[name] = p.Value
	}
	observations, err := plain(obs)
	if err != nil {
		return nil, err
	}
	for _, in := range t.comp.Inputs {
		switch in.Name {
		case TunerMatrix:
			out[in.Name] = t.matrix
		case TunerObservations:
			out[in.Name] = observations
		case TunerIteration:
			out[in.Name] = k
		}
	}
	return out, nil
}

// op is the operation a tuner's run runs, with the params it was created
// with.
func (t *tuning) op(params map[string]any) *specs.Operation {
	comp := t.comp
	if t.spec.Queue != "" {
		c := *t.comp
		c.Queue = t.spec.Queue
		comp = &c
	}
	op := &specs.Operation{Component: comp, Params: map[string]specs.Param{}}
	for name, v := range params {
		prev := t.spec.Params[name]
		op.Params[name] = specs.Param{Value: v, ContextOnly: prev.ContextOnly, ToEnv: prev.ToEnv, ToInit: prev.ToInit, Connection: prev.Connection}
	}
	return op
}

// answer reads a tuner's suggestions from its outputs.
func answer(outputs map[string]any) ([]map[string]any, error) {
	v, ok := outputs[TunerSuggestions]
	if !ok {
		return nil, errors.New("it gave no suggestions")
	}
	if s, isStr := v.(string); isStr {
		// Written as JSON text.
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("its suggestions are not a JSON list: %w", err)
		}
	}
	list, ok := v.([]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("its suggestions are a %T, not a list of params", v)
	}
	out := make([]map[string]any, 0, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("suggestion %d is a %T, not params by name", i, item)
		}
		out = append(out, m)
	}
	return out, nil
}

// loadTuners takes what the tuners of the sweep's runs so far answered
// (a tuner that succeeded in any attempt: its answer stands), and what
// became of each in the current attempt.
func (s *sweep) loadTuners(all []*store.Run, current map[string]*store.Run) {
	t := s.tuning
	for _, ch := range all {
		k, ok := TunerNode(ch.Node)
		if !ok || ch.Status != store.Succeeded || t.search.Answered(k) {
			continue
		}
		if suggestions, err := answer(ch.Outputs); err == nil {
			t.search.Answer(k, suggestions)
		}
	}
	for node, ch := range current {
		if k, ok := TunerNode(node); ok {
			t.set(k, string(ch.Status))
		}
	}
}

func (t *tuning) set(k int, status string) {
	for len(t.status) <= k {
		t.status = append(t.status, "")
	}
	t.status[k] = status
}

// observe records a tuner's status; true when it ended.
func (t *tuning) observe(k int, st dag.Status) bool {
	if k < len(t.status) && dag.Status(t.status[k]).Final() {
		return false
	}
	t.set(k, string(st))
	return st.Final()
}

// idle says whether no tuner is running or decided to run.
func (t *tuning) idle() bool {
	for _, st := range t.status {
		if st != "" && !dag.Status(st).Final() {
			return false
		}
	}
	return true
}

func (t *tuning) names() []string {
	out := make([]string, len(t.status))
	for k := range t.status {
		out[k] = tunerNodePrefix + strconv.Itoa(k)
	}
	return out
}

// tunerEnded takes the answer of iteration k's tuner, which ended st:
// its suggestions, or why the sweep cannot go on.
func (s *sweep) tunerEnded(k int, st dag.Status, outputs map[string]any) {
	t := s.tuning
	if t.search.Answered(k) {
		return
	}
	if st != dag.Succeeded {
		if s.err == nil {
			s.err = fmt.Errorf("the tuner of iteration %d ended %s", k, st)
		}
		return
	}
	suggestions, err := answer(outputs)
	if err != nil {
		s.err = fmt.Errorf("the tuner of iteration %d: %w", k, err)
		return
	}
	t.search.Answer(k, suggestions)
}

// askTuner decides the tuner that is due, if one is: its run is made
// with the observations so far as its params.
func (s *sweep) askTuner() []dag.Change {
	t := s.tuning
	if t == nil || s.err != nil {
		return nil
	}
	k := t.search.Ask(s.results)
	if k < 0 || k < len(t.status) && t.status[k] != "" {
		return nil
	}
	t.set(k, "decided")
	return []dag.Change{{Node: tunerNodePrefix + strconv.Itoa(k), Decision: dag.Ready}}
}

// tunerParams are the params iteration k's tuner is created with.
func (s *sweep) tunerParams(k int) (map[string]any, error) {
	statuses := make([]string, len(s.status))
	for i, st := range s.status {
		statuses[i] = string(st)
	}
	return s.tuning.params(k, s.tuning.search.Observations(s.results, statuses, s.outputs))
}

// iterationOf is the iteration of a tuned sweep that node (a tuner, or a
// trial it suggested) belongs to.
func (p *pipeline) iterationOf(node string) (int, bool) {
	if p.sweep == nil || p.sweep.tuning == nil {
		return 0, false
	}
	if k, ok := TunerNode(node); ok {
		return k, true
	}
	i, err := strconv.Atoi(node)
	if err != nil {
		return 0, false
	}
	p.mu.Lock()
	k := p.sweep.tuning.search.Iteration(i)
	p.mu.Unlock()
	return k, k >= 0
}
