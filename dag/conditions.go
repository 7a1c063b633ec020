package dag

import (
	"fmt"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/plexus-ml/plexus/specs"
)

// programs holds each condition compiled once, by its text: a pipeline's
// operations share few distinct conditions, whatever its size.
var programs sync.Map // string → *vm.Program

// Condition evaluates an operation's `conditions` ("{{ expr }}") over its
// params (their resolved values, upstream outputs included): false means
// the operation is skipped. A condition that does not compile, or does not
// give a boolean, is an error.
func Condition(cond string, params map[string]any) (bool, error) {
	p, ok := programs.Load(cond)
	if !ok {
		prog, err := specs.CompileCondition(cond)
		if err != nil {
			return false, err
		}
		p, _ = programs.LoadOrStore(cond, prog)
	}
	out, err := expr.Run(p.(*vm.Program), params)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", cond, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition %q gave %v, not a boolean", cond, out)
	}
	return b, nil
}
