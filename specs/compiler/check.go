package compiler

import (
	"context"
	"errors"

	"github.com/plexus-ml/plexus/specs"
)

// Check does what `plexus check` does beyond parsing, as the reference's
// check does: it resolves every reference of the file (see Resolve), then
// checks each operation against the component it runs — its runPatch must
// fit the component's run kind and its params the component's inputs and
// outputs. extra holds the command line's params, which apply to the file's
// own operation (or wrap its component). dir is the file's directory.
//
// It returns the errors, and warnings about what it could not check.
func Check(ctx context.Context, f *specs.File, dir string, extra map[string]specs.Param, src Sources) (errs, warnings specs.ErrorList) {
	res, err := Resolve(ctx, f, dir, src)
	if ce := (*CompilationError)(nil); errors.As(err, &ce) {
		errs = append(errs, ce.Errors...)
	}
	// The file's own component, or an operation holding its component
	// inline; operations inside a dag were checked against their inline
	// or dagRef components when the file was parsed.
	errs = append(errs, f.CheckParams(extra)...)
	for _, op := range res.Operations() {
		rv := res.Of(op)
		if rv.From == "inline" || op.DagRef != "" {
			continue // checked with the document
		}
		var opExtra map[string]specs.Param
		if op == f.Operation {
			opExtra = extra
		}
		errs = append(errs, rv.Doc.Locate(op.CheckAgainst(rv.Path, rv.Component, opExtra))...)
	}
	// The file's own operation merged onto its component must be a valid
	// component, as the reference's check compiles it.
	if op := f.Operation; op != nil && len(errs) == 0 && !op.IsPreset {
		if rv := res.Of(op); rv != nil {
			merged, err := Merge(op, rv.Component)
			var ce *CompilationError
			switch {
			case errors.As(err, &ce):
				errs = append(errs, f.Locate(ce.Errors)...)
			case err == nil:
				for _, e := range merged.Validate() {
					e.Detail = "after merging the operation onto its component: " + e.Detail
					errs = append(errs, e)
				}
			}
			if len(errs) == 0 {
				errs = append(errs, f.Locate(checkTemplates(op, rv.Component, extra))...)
			}
		}
	} else if c := f.Component; c != nil && len(errs) == 0 {
		errs = append(errs, f.Locate(checkTemplates(nil, c, extra))...)
	}
	return errs, res.Warnings
}

// LintTemplates renders the templates of a valid file's operation (on the
// component it resolved to) or component as compile would, with a
// placeholder of its type for every value only a run knows: what `check
// --lint` adds to the spec's own checks.
func LintTemplates(f *specs.File, res *Resolution) specs.ErrorList {
	if len(f.Errors) > 0 || res == nil {
		return nil
	}
	if op := f.Operation; op != nil {
		rv := res.Of(op)
		if op.IsPreset || rv == nil {
			return nil
		}
		return f.Locate(checkTemplates(op, rv.Component, nil))
	}
	return f.Locate(checkTemplates(nil, f.Component, nil))
}
