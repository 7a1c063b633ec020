package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// runJoins finds the runs of an operation's joins (§4.3 of the spec) in
// the store: every run the query matches but self, the run compiled,
// sorted, then offset and limit applied. Each join reads every run
// record: the store has no index of outputs or statuses.
type runJoins struct {
	ctx  context.Context
	st   *store.Store
	self string
}

// joinListPage is how many matching runs one listing request returns.
const joinListPage = 500

// ResolveJoin implements compiler.JoinResolver.
func (rj runJoins) ResolveJoin(q compiler.JoinQuery) ([]compiler.JoinedRun, error) {
	ctx, cancel := context.WithTimeout(rj.ctx, 30*time.Second)
	defer cancel()
	shapes := &runShapes{ctx: ctx, st: rj.st, known: map[string]*runShape{}}
	var matched []*store.Run
	for after := ""; ; {
		page, err := rj.st.List(ctx, after, joinListPage, func(r *store.Run) bool {
			return r.UUID != rj.self && q.Query.Matches(shapes.fields(r))
		})
		if err != nil {
			return nil, fmt.Errorf("engine: listing the runs of a join: %w", unavailable(err))
		}
		matched = append(matched, page.Runs...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if shapes.err != nil {
		return nil, fmt.Errorf("engine: reading the kind and tags of runs: %w", unavailable(shapes.err))
	}
	slices.SortStableFunc(matched, func(a, b *store.Run) int { return q.Sort.Compare(shapes.fields(a), shapes.fields(b)) })
	matched = matched[min(q.Offset, len(matched)):]
	matched = matched[:min(q.Limit, len(matched))]
	out := make([]compiler.JoinedRun, len(matched))
	for i, r := range matched {
		out[i] = joinedRun{r}
	}
	return out, nil
}

// joinedRun is a run a join matched; its values are read as those of a
// `ref: runs.<uuid>` param, whatever its status.
type joinedRun struct{ r *store.Run }

func (j joinedRun) UUID() string { return j.r.UUID }

func (j joinedRun) Select(selector string) (any, error) { return selectValue(j.r, selector) }

// runShape is what a query may ask of a run beyond its record: the kind
// of its component's run and its tags (the operation's and the
// component's).
type runShape struct {
	op   shapeOperation
	comp *shapeComponent
}

func (s *runShape) kind() string {
	if s == nil || s.comp == nil {
		return ""
	}
	return s.comp.Run.Kind
}

func (s *runShape) tags() []string {
	if s == nil || s.comp == nil {
		return nil
	}
	var out []string
	for _, t := range append(append([]string(nil), s.op.Tags...), s.comp.Tags...) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// shapeComponent and shapeOperation decode only what runShape needs of
// an operation and its component, and of a dag's operations.
type shapeComponent struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
	Run  struct {
		Kind       string           `json:"kind"`
		Operations []shapeOperation `json:"operations"`
		Components []shapeComponent `json:"components"`
	} `json:"run"`
}

type shapeOperation struct {
	Name      string          `json:"name"`
	Tags      []string        `json:"tags"`
	DagRef    string          `json:"dagRef"`
	Component *shapeComponent `json:"component"`
}

// runShapes reads the shapes of runs for one join, each once: a run
// submitted on its own from what it was compiled from, a dag's operation
// from its dag. The first store error is kept in err; a run whose shape
// cannot be read has no kind and no tags.
type runShapes struct {
	ctx   context.Context
	st    *store.Store
	known map[string]*runShape
	err   error
}

// fields gives the query fields of r.
func (s *runShapes) fields(r *store.Run) compiler.Fields {
	return func(field string) (any, bool) {
		switch field {
		case compiler.FieldStatus:
			return string(r.Status), r.Status != ""
		case compiler.FieldName:
			return r.Name, r.Name != ""
		case compiler.FieldUUID:
			return r.UUID, true
		case compiler.FieldProject:
			return r.Project, r.Project != ""
		case compiler.FieldPipeline:
			return r.Parent, r.Parent != ""
		case compiler.FieldCreatedAt:
			return r.CreatedAt, !r.CreatedAt.IsZero()
		case compiler.FieldUpdatedAt:
			return r.UpdatedAt, !r.UpdatedAt.IsZero()
		case compiler.FieldKind:
			k := s.shape(r, 0).kind()
			return k, k != ""
		case compiler.FieldTags:
			t := s.shape(r, 0).tags()
			return t, len(t) > 0
		}
		if strings.HasPrefix(field, compiler.FieldOutputs) || strings.HasPrefix(field, compiler.FieldInputs) {
			v, err := selectValue(r, field)
			return v, err == nil
		}
		return nil, false
	}
}

// shape returns r's shape, or nil when it cannot be known.
func (s *runShapes) shape(r *store.Run, depth int) *runShape {
	if sh, ok := s.known[r.UUID]; ok {
		return sh
	}
	sh := s.read(r, depth)
	s.known[r.UUID] = sh
	return sh
}

func (s *runShapes) read(r *store.Run, depth int) *runShape {
	if len(r.Compiled) > 0 || r.Blobs > 0 {
		if len(r.Compiled) == 0 {
			c := *r
			if err := s.st.Body(s.ctx, &c); err != nil {
				s.fail(err)
				return nil
			}
			r = &c
		}
		var res resolved
		sh := &runShape{comp: &shapeComponent{}}
		if json.Unmarshal(r.Compiled, &res) != nil || json.Unmarshal(res.Operation, &sh.op) != nil || json.Unmarshal(res.Component, sh.comp) != nil {
			return nil
		}
		return sh
	}
	if r.Parent == "" || depth > 32 {
		return nil
	}
	parent, _, err := s.st.Get(s.ctx, r.Parent)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.fail(err)
		}
		return nil
	}
	ps := s.shape(parent, depth+1)
	if ps == nil || ps.comp == nil {
		return nil
	}
	d := &ps.comp.Run
	for _, op := range d.Operations {
		if op.Name != r.Node {
			continue
		}
		comp := op.Component
		for i := range d.Components {
			if op.DagRef != "" && d.Components[i].Name == op.DagRef {
				comp = &d.Components[i]
			}
		}
		return &runShape{op: op, comp: comp}
	}
	return nil
}

func (s *runShapes) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}
