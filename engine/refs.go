package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// runRefs resolves the params that take their value from another run
// (`ref: runs.<uuid>`, `value: outputs.loss`) from the store. `ops.<name>`
// and `dag` refs belong to pipelines, whose engine resolves them.
type runRefs struct {
	ctx context.Context
	st  *store.Store
}

// errUnavailable marks a compilation that failed because the store could
// not be read: no fault of the run's spec, so the leader compiles it again
// later instead of failing it.
var errUnavailable = errors.New("engine: the store could not be read")

// unavailable marks a store error other than a missing run or an
// unreadable record as errUnavailable.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnreadable) {
		return err
	}
	return fmt.Errorf("%w: %w", errUnavailable, err)
}

// ResolveRef reads selector (`outputs.X`, `inputs.X`, `outputs`, `inputs`,
// `io`, `globals.X`) from the run ref names. Outputs exist once that run
// has succeeded.
func (rr runRefs) ResolveRef(ref, selector string) (any, error) {
	uuid, ok := strings.CutPrefix(ref, "runs.")
	if !ok {
		return nil, fmt.Errorf("%s refers to a pipeline's operation: it resolves inside its pipeline: %w", ref, compiler.ErrNoRuns)
	}
	ctx, cancel := context.WithTimeout(rr.ctx, 10*time.Second)
	defer cancel()
	r, _, err := rr.st.Get(ctx, uuid)
	if err != nil {
		return nil, unavailable(err)
	}
	if section, _, _ := strings.Cut(selector, "."); section == "outputs" && r.Status != store.Succeeded {
		return nil, fmt.Errorf("run %s is %s: its outputs exist once it has succeeded", uuid, r.Status)
	}
	return selectValue(r, selector)
}

// selectValue reads selector off run r: a section (`outputs`, `inputs`,
// `io`) whole, or one of its values (`outputs.loss`, `globals.name`).
func selectValue(r *store.Run, selector string) (any, error) {
	kind, name, _ := strings.Cut(selector, ".")
	var from map[string]any
	switch kind {
	case "outputs":
		from = r.Outputs
	case "io":
		from = merge(inputsOf(r), r.Outputs)
	case "inputs":
		from = inputsOf(r)
	case "globals":
		from = map[string]any{"uuid": r.UUID, "name": r.Name, "project_name": r.Project, "status": string(r.Status),
			"created_at": r.CreatedAt.Format(time.RFC3339)}
	default:
		return nil, fmt.Errorf("selector %q: want outputs.NAME, inputs.NAME, io.NAME or globals.NAME", selector)
	}
	if name == "" {
		return from, nil
	}
	v, ok := from[name]
	if !ok {
		return nil, fmt.Errorf("run %s has no %s %q", r.UUID, strings.TrimSuffix(kind, "s"), name)
	}
	return v, nil
}

// inputsOf is a run's inputs as compiled, or the params it was submitted
// with when it was never compiled.
func inputsOf(r *store.Run) map[string]any {
	if r.Inputs != nil {
		return r.Inputs
	}
	return r.Params
}

func merge(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
