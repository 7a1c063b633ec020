package compiler

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// MaxJoinRuns is the most runs one join selects, the reference's hard cap.
const MaxJoinRuns = 5000

// JoinResolver finds the runs a join selects (§4.3 of the spec). The
// engine implements it over its store; without one, Compile refuses
// operations with joins.
type JoinResolver interface {
	// ResolveJoin returns the runs that match every condition of q.Query,
	// ordered by q.Sort, without the first q.Offset, at most q.Limit.
	ResolveJoin(q JoinQuery) ([]JoinedRun, error)
}

// JoinQuery is a join's search, rendered and parsed.
type JoinQuery struct {
	Query Query
	// Sort is the join's `sort`, or DefaultSort.
	Sort Sort
	// Limit is between 1 and MaxJoinRuns; Offset is not negative.
	Limit, Offset int
}

// Uses reports whether the query or its sort reads field (such as
// FieldKind): a resolver may skip finding out what no query asks.
func (q JoinQuery) Uses(field string) bool {
	return slices.ContainsFunc(q.Query, func(c Condition) bool { return c.Field == field }) ||
		slices.ContainsFunc(q.Sort, func(k SortKey) bool { return k.Field == field })
}

// JoinedRun is one run a join matched.
type JoinedRun interface {
	UUID() string
	// Select reads a selector off the run as the value of a `ref` param
	// does: `outputs.loss`, `inputs.lr`, `globals.name`, ...
	Select(selector string) (any, error)
}

// joinParam is a param one of the operation's joins gives.
type joinParam struct {
	join int
	name string
	prm  specs.Param
}

// joinParams lists the params the joins give: not those params or extra
// give (a param of the operation wins), and of two joins giving the same
// name, the later.
func joinParams(joins []specs.Join, given map[string]specs.Param) []joinParam {
	byName := map[string]joinParam{}
	for i, j := range joins {
		for name, prm := range j.Params {
			if _, own := given[name]; !own {
				byName[name] = joinParam{join: i, name: name, prm: prm}
			}
		}
	}
	out := make([]joinParam, 0, len(byName))
	for _, jp := range byName {
		out = append(out, jp)
	}
	slices.SortFunc(out, func(a, b joinParam) int {
		return cmp.Or(cmp.Compare(a.join, b.join), strings.Compare(a.name, b.name))
	})
	return out
}

// resolverError is a stage's error when what it asked failed: a resolver
// of refs or joins that could not read the runs (the params stage), a hub
// that refused or could not read a component (the resolve stage). It
// reads as the stage's error and also unwraps to what it was told (a
// store that did not answer, an access refusal), which may be no fault
// of the spec.
type resolverError struct {
	*CompilationError
	causes []error
}

func (e *resolverError) Unwrap() []error { return append([]error{e.CompilationError}, e.causes...) }

// resolveJoins gives the params the joins give (§4.3): each join's query,
// sort, limit and offset are rendered with the globals and the params
// resolved so far, r finds the runs it selects, and each of its params
// becomes the list of what its selector reads off each run, in order,
// coerced to its input's type (an artifacts input instead gets the files
// and dirs of every run, under the run's uuid).
func resolveJoins(joins []specs.Join, comp *specs.Component, pending []joinParam, params Params, globals map[string]any, r JoinResolver) (Params, error) {
	if len(pending) == 0 {
		return params, nil
	}
	ctx, err := Context(globals, params, nil, nil)
	if err != nil {
		return nil, err
	}
	w := &walker{r: newRenderer(ctx)}
	var causes []error
	var contextOnly []Param
	for i := range joins {
		var mine []joinParam
		for _, jp := range pending {
			if jp.join == i {
				mine = append(mine, jp)
			}
		}
		if len(mine) == 0 {
			continue
		}
		p := specs.Path("joins").Index(i)
		q, ok := joinQuery(w, p, &joins[i])
		if !ok {
			continue
		}
		runs, err := r.ResolveJoin(q)
		if err != nil {
			w.errs = append(w.errs, specs.Invalidf(p.Child("query"), joins[i].Query, "searching the runs: %v", err))
			causes = append(causes, err)
			continue
		}
		runs = runs[:min(len(runs), q.Limit)]
		for _, jp := range mine {
			pp := p.Child("params").Key(jp.name)
			if jp.prm.ContextOnly {
				v, errs := joinValue(pp, jp, runs, nil, nil)
				w.errs = append(w.errs, errs...)
				contextOnly = append(contextOnly, Param{Name: jp.name, Value: v, ContextOnly: true, Connection: jp.prm.Connection})
				continue
			}
			at := slices.IndexFunc(params, func(prm Param) bool { return prm.Name == jp.name && !prm.ContextOnly })
			if at < 0 {
				continue // CheckParams reported it
			}
			target := &params[at]
			v, errs := joinValue(pp, jp, runs, target, ioOptions(comp, jp.name))
			w.errs = append(w.errs, errs...)
			target.Value = v
			if jp.prm.Connection != "" {
				target.Connection = jp.prm.Connection
			}
			if jp.prm.ToEnv != "" {
				target.ToEnv = jp.prm.ToEnv
			}
			target.ToInit = target.ToInit || jp.prm.ToInit
		}
	}
	if len(w.errs) > 0 {
		ce := &CompilationError{Stage: StageParams, Errors: w.errs}
		if len(causes) > 0 {
			return nil, &resolverError{CompilationError: ce, causes: causes}
		}
		return nil, ce
	}
	if len(contextOnly) > 0 {
		params = append(params, contextOnly...)
		first := slices.IndexFunc(params, func(p Param) bool { return p.ContextOnly })
		slices.SortStableFunc(params[first:], func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	}
	return params, nil
}

// joinQuery renders and parses a join's query, sort, limit and offset,
// reporting each problem at its path.
func joinQuery(w *walker, p specs.Path, j *specs.Join) (JoinQuery, bool) {
	before := len(w.errs)
	q := JoinQuery{Sort: DefaultSort, Limit: MaxJoinRuns}
	if s, ok := w.renderString(p.Child("query"), j.Query); ok {
		var errs []error
		q.Query, errs = parseQuery(s)
		for _, err := range errs {
			w.errs = append(w.errs, specs.Invalidf(p.Child("query"), s, "%v", err))
		}
	}
	if s, ok := w.renderString(p.Child("sort"), j.Sort); ok && strings.TrimSpace(s) != "" {
		sort, err := ParseSort(s)
		for _, e := range unjoin(err) {
			w.errs = append(w.errs, specs.Invalidf(p.Child("sort"), s, "%v", e))
		}
		if len(sort) > 0 {
			q.Sort = sort
		}
	}
	if n, ok := joinInt(w, p.Child("limit"), j.Limit); ok && n > 0 {
		// 0, as no limit, is the cap: the reference's pagination reads a
		// limit of 0 as none given.
		q.Limit = min(n, MaxJoinRuns)
	}
	if n, ok := joinInt(w, p.Child("offset"), j.Offset); ok {
		q.Offset = n
	}
	return q, len(w.errs) == before
}

// joinInt is a join's limit or offset, rendered when it is a template; a
// negative number is an error.
func joinInt(w *walker, p specs.Path, v *specs.IntOrRef) (int, bool) {
	if v == nil {
		return 0, false
	}
	n := v.Value
	if v.IsTemplate() {
		s, ok := w.renderString(p, v.Template)
		if !ok {
			return 0, false
		}
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			w.errs = append(w.errs, specs.Invalidf(p, v.Template, "%q renders %q, not a whole number", v.Template, s))
			return 0, false
		}
	}
	if n < 0 {
		w.errs = append(w.errs, specs.Invalidf(p, n, "must not be negative, got %d", n))
		return 0, false
	}
	return n, true
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

// ioOptions are the options of comp's input or output called name.
func ioOptions(comp *specs.Component, name string) []any {
	for _, ios := range [][]specs.IO{comp.Inputs, comp.Outputs} {
		for i := range ios {
			if ios[i].Name == name {
				return ios[i].Options
			}
		}
	}
	return nil
}

// joinValue is what a join param resolves to from the runs: the list of
// what its selector reads off each run, each item coerced to the type of
// target (nil for a context-only param) and one of options when there are
// some; for an artifacts input, or an `{files, dirs}` selector, the files
// and dirs of every run under its uuid.
func joinValue(p specs.Path, jp joinParam, runs []JoinedRun, target *Param, options []any) (any, specs.ErrorList) {
	var errs specs.ErrorList
	typ := specs.IOType("")
	if target != nil {
		typ = target.Type
	}
	mapping, isMapping := jp.prm.Value.(map[string]any)
	if isMapping || typ == specs.IOTypeArtifacts && !target.IsList {
		out := map[string]any{"files": []any{}, "dirs": []any{}}
		for _, run := range runs {
			v := any(mapping)
			if !isMapping {
				var err error
				if v, err = selectFrom(run, jp.prm.Value); err != nil {
					errs = append(errs, specs.Invalidf(p.Child("value"), jp.prm.Value, "%v", err))
					continue
				}
			}
			a, err := specs.CoerceValue(specs.IOTypeArtifacts, false, v)
			if err != nil {
				errs = append(errs, specs.Invalidf(p.Child("value"), jp.prm.Value, "run %s: not artifacts: %v", run.UUID(), err))
				continue
			}
			am, _ := a.(map[string]any)
			for _, section := range []string{"files", "dirs"} {
				items, _ := am[section].([]any)
				for _, it := range items {
					out[section] = append(out[section].([]any), underRun(run.UUID(), it))
				}
			}
		}
		return out, errs
	}
	list := make([]any, 0, len(runs))
	for _, run := range runs {
		v, err := selectFrom(run, jp.prm.Value)
		if err != nil {
			errs = append(errs, specs.Invalidf(p.Child("value"), jp.prm.Value, "%v", err))
			continue
		}
		if target != nil && typ != "" {
			c, err := specs.CoerceValue(typ, false, v)
			if err != nil {
				errs = append(errs, specs.Invalidf(p.Child("value"), jp.prm.Value, "run %s gives %s for %q, which is a list of %s: %v", run.UUID(), renderAny(v), jp.name, typ, err))
				continue
			}
			v = c
		}
		if len(options) > 0 && !specs.InOptions(v, options) {
			errs = append(errs, specs.Invalidf(p.Child("value"), jp.prm.Value, "run %s gives %s for %q, which is not one of its options %s", run.UUID(), renderAny(v), jp.name, renderAny(options)))
			continue
		}
		list = append(list, v)
	}
	return list, errs
}

// selectFrom reads a join param's selector off a run.
func selectFrom(run JoinedRun, value any) (any, error) {
	sel, _ := value.(string)
	sel = strings.TrimSpace(stripBraces(sel))
	v, err := run.Select(sel)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", run.UUID(), err)
	}
	return v, nil
}

// underRun puts an artifacts path (or the source of a [from, to] pair)
// under the run's uuid.
func underRun(uuid string, item any) any {
	switch x := item.(type) {
	case string:
		return path.Join(uuid, x)
	case []any:
		if len(x) > 0 {
			if s, ok := x[0].(string); ok {
				return append([]any{path.Join(uuid, s)}, x[1:]...)
			}
		}
	}
	return item
}

func renderAny(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
