package matrix

import (
	"fmt"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// Trial is one suggestion of a search: the params of one child run.
type Trial struct {
	// Index numbers the trials of a search from 0 in the order they are
	// suggested; the child run is named after it, so a trial is created
	// once whatever leader creates it.
	Index int
	// Params are the suggestion's values by param name.
	Params map[string]any
	// Group says where the trial belongs in its search, for people: a
	// hyperband bracket and rung ("bracket 3, rung 1"), a bayes iteration;
	// "" when it has no place other than its index.
	Group string
	// From is the trial a hyperband trial is promoted from: the same
	// params with a larger resource (nil for a new configuration).
	From *int
	// Resume says that the trial continues the run of From where it
	// stopped (hyperband's resume) rather than starting afresh.
	Resume bool
}

// Result is a trial and what became of its run.
type Result struct {
	Trial
	// Done reports that the run is final.
	Done bool
	// Succeeded reports that it ended succeeded.
	Succeeded bool
	// Metric is the optimisation metric the run gave (its output of that
	// name), valid when HasMetric is set.
	Metric    float64
	HasMetric bool
}

// Search decides a matrix's trials.
type Search interface {
	// Next returns the trials that follow results, at most limit of them
	// (limit > 0). results are every trial suggested so far, in index order
	// (results[i].Index == i), with what became of each. done reports that
	// no trial will follow, whatever becomes of those already suggested;
	// an empty list without done means the search waits for some of them
	// to end.
	//
	// The answer depends only on the search's configuration and results:
	// a search rebuilt after a leader change answers the same. A result,
	// once Done, does not change (a search may keep what it decided from
	// it).
	Next(results []Result, limit int) (trials []Trial, done bool, err error)
	// Total is the most trials the search suggests in all.
	Total() int
}

// New returns the search of a matrix whose templates (numRuns,
// maxIterations, ...) have been rendered. seed is the matrix's seed when it
// sets one; the engine derives one from the run otherwise, so that a
// search resumed on another leader suggests the same trials. at is the
// matrix's path, which errors name.
func New(at specs.Path, m specs.Matrix, seed int64) (Search, error) {
	switch m := m.(type) {
	case *specs.GridMatrix:
		return newGrid(at, m)
	case *specs.RandomMatrix:
		return newRandom(at, m, seedOf(m.Seed, seed))
	case *specs.MappingMatrix:
		return newMapping(at, m)
	case *specs.HyperbandMatrix:
		return newHyperband(at, m, seedOf(m.Seed, seed))
	case *specs.BayesMatrix:
		return newBayes(at, m, seedOf(m.Seed, seed))
	case *specs.HyperoptMatrix:
		return newHyperopt(at, m, seedOf(m.Seed, seed))
	case nil:
		return nil, fmt.Errorf("%s: no matrix", at)
	}
	return nil, fmt.Errorf("%s: a %s matrix is not run by this engine yet", at.Child("kind"), m.MatrixKind())
}

func seedOf(declared *int, derived int64) int64 {
	if declared != nil {
		return int64(*declared)
	}
	return derived
}

// count reads a rendered integer field of a matrix; def is used when the
// field is absent (def < 0: the field is required).
func count(at specs.Path, v *specs.IntOrRef, def, least int) (int, error) {
	if v == nil {
		if def < 0 {
			return 0, fmt.Errorf("%s: required", at)
		}
		return def, nil
	}
	if v.IsTemplate() {
		return 0, fmt.Errorf("%s: %q was not rendered before the search started", at, v.Template)
	}
	if v.Value < least {
		return 0, fmt.Errorf("%s: must be at least %d, got %d", at, least, v.Value)
	}
	return v.Value, nil
}

// Maximize reports whether an optimisation maximises (any case).
func Maximize(o specs.Optimization) bool {
	return strings.EqualFold(string(o), string(specs.Maximize))
}

// FieldError is an error of New or Next, "PATH: message", as a field
// error at that path (at, the matrix's path, when it names none), so that
// it can be located in the file.
func FieldError(at specs.Path, err error) *specs.FieldError {
	msg := err.Error()
	if p, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(p, string(at)) && !strings.ContainsAny(p, " \n") {
		return &specs.FieldError{Path: specs.Path(p), Type: specs.ErrInvalid, Detail: rest}
	}
	return &specs.FieldError{Path: at, Type: specs.ErrInvalid, Detail: msg}
}

// Check builds the searches of the matrices of a file, as they are
// written: its operation's, and those of the operations of its dag (and of
// dags in those). It returns what does not start (a space that does not
// parse, an eta of 1, ...) at its path. A matrix whose fields are
// templates is checked when it is compiled; an iterative one, which no
// search here runs, is not.
func Check(f *specs.File) specs.ErrorList {
	var errs specs.ErrorList
	var op func(at specs.Path, o *specs.Operation, depth int)
	var comp func(at specs.Path, c *specs.Component, depth int)
	op = func(at specs.Path, o *specs.Operation, depth int) {
		if _, later := o.Matrix.(*specs.IterativeMatrix); o.Matrix != nil && !later {
			mat := at.Child("matrix")
			if _, err := New(mat, o.Matrix, 0); err != nil && !strings.Contains(err.Error(), "was not rendered") {
				errs = append(errs, FieldError(mat, err))
			}
		}
		if o.Component != nil {
			comp(at.Child("component"), o.Component, depth+1)
		}
	}
	comp = func(at specs.Path, c *specs.Component, depth int) {
		d, ok := c.Run.(*specs.DAG)
		if !ok || depth > 32 {
			return
		}
		for i := range d.Operations {
			op(at.Child("run").Child("operations").Index(i), &d.Operations[i], depth)
		}
		for i := range d.Components {
			comp(at.Child("run").Child("components").Index(i), &d.Components[i], depth+1)
		}
	}
	switch {
	case f.Operation != nil:
		op("", f.Operation, 0)
	case f.Component != nil:
		comp("", f.Component, 0)
	}
	return errs
}
