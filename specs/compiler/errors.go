package compiler

import (
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// Stage names a compiler stage.
type Stage string

// Compiler stages, in the order they run.
const (
	StageResolve Stage = "resolve"
)

// CompilationError reports every problem one stage found, each with the
// path of what was wrong.
type CompilationError struct {
	Stage  Stage
	Errors specs.ErrorList
}

// Error renders one problem per line, each prefixed by the stage.
func (e *CompilationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = string(e.Stage) + ": " + fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As access to the field errors.
func (e *CompilationError) Unwrap() error { return e.Errors }

// stageError returns a *CompilationError for errs, or nil when there are
// none.
func stageError(stage Stage, errs specs.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return &CompilationError{Stage: stage, Errors: errs}
}
