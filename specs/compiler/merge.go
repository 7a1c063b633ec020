package compiler

import (
	"encoding/json"
	"reflect"

	"github.com/plexus-ml/plexus/specs"
)

// Stages of merging.
const (
	StagePresets Stage = "presets"
	StagePatch   Stage = "patch"
)

// presetKept are the operation fields a preset never overwrites: they say
// what runs and how it is patched, which only the operation decides. The
// runPatch is merged apart, as a typed run.
var presetKept = map[string]bool{
	"version": true, "kind": true, "isPreset": true, "hubRef": true, "dagRef": true, "urlRef": true,
	"pathRef": true, "component": true, "runPatch": true, "patchStrategy": true,
}

// ApplyPresets patches op with each preset in order, each under its own
// patchStrategy (post_merge when unset), as the reference applies the files
// after the first `-f`. comp is the component op runs: the runPatches of op
// and preset merge as runs of its kind. op is not changed (with no presets
// it is what is returned).
func ApplyPresets(op *specs.Operation, comp *specs.Component, presets []*specs.Operation) (*specs.Operation, error) {
	if len(presets) == 0 {
		return op, nil // nothing to apply: op itself, unchanged
	}
	out := Patch(op, &specs.Operation{}, specs.PatchPostMerge) // a copy
	var errs specs.ErrorList
	for i, preset := range presets {
		pp := specs.Path("").Child("presets").Index(i)
		strategy := preset.PatchStrategy
		if strategy == "" {
			strategy = specs.PatchPostMerge
		}
		p := &patcher{strategy: strategy, skip: presetKept}
		p.merge(reflect.ValueOf(out).Elem(), reflect.ValueOf(preset).Elem())
		if preset.RunPatch == nil {
			continue
		}
		if out.RunPatch == nil {
			out.RunPatch = deepCopy(reflect.ValueOf(preset.RunPatch)).Interface().(map[string]any)
			continue
		}
		merged, perrs := mergeRunPatches(pp.Child("runPatch"), out.RunPatch, preset.RunPatch, comp, strategy)
		errs = append(errs, perrs...)
		out.RunPatch = merged
	}
	return out, stageError(StagePresets, errs)
}

// mergeRunPatches merges two runPatches as typed runs of comp's kind; when
// they are of different shapes (a whole distributed job and one replica),
// as mappings.
func mergeRunPatches(p specs.Path, cur, nv map[string]any, comp *specs.Component, strategy specs.PatchStrategy) (map[string]any, specs.ErrorList) {
	a, errs := specs.DecodeRunPatch(p, cur, comp)
	b, berrs := specs.DecodeRunPatch(p, nv, comp)
	if errs = append(errs, berrs...); len(errs) > 0 {
		return cur, errs
	}
	pt := &patcher{strategy: strategy}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var merged reflect.Value
	if va.Type() == vb.Type() {
		merged = deepCopy(va)
		pt.merge(merged.Elem(), vb.Elem())
	} else {
		m := reflect.New(reflect.TypeOf(cur)).Elem()
		m.Set(deepCopy(reflect.ValueOf(cur)))
		pt.merge(m, reflect.ValueOf(nv))
		return m.Interface().(map[string]any), nil
	}
	m := toMap(merged.Interface())
	delete(m, "kind") // the component's, not the patch's
	return m, nil
}

// toMap returns the mapping form of a value, without empty values.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic("compiler: a spec value does not marshal: " + err.Error())
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	prune(m)
	return m
}

// prune drops what the Kubernetes types write for fields nobody set:
// empty strings (`name: ""`), nulls (`creationTimestamp: null`) and empty
// `resources` and `status`. Other empty mappings stay: `emptyDir: {}`
// means something.
func prune(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if x == "" {
				delete(m, k)
			}
		case map[string]any:
			prune(x)
			if len(x) == 0 && (k == "resources" || k == "status") {
				delete(m, k)
			}
		case []any:
			for _, it := range x {
				if im, ok := it.(map[string]any); ok {
					prune(im)
				}
			}
		}
	}
}

// Merge applies the operation to the component it runs and returns the
// result: the component's run patched with the operation's runPatch, then
// the component's own fields (name, tags, termination, plugins, cache, ...)
// patched with the operation's, both under the operation's patchStrategy
// (post_merge when unset). Neither argument is changed.
func Merge(op *specs.Operation, comp *specs.Component) (*specs.Component, error) {
	strategy := op.PatchStrategy
	if strategy == "" {
		strategy = specs.PatchPostMerge
	}
	out := copyForMerge(comp, op.RunPatch == nil, strategy)
	if op.RunPatch != nil {
		patch, errs := specs.DecodeRunPatch(specs.Path("runPatch"), op.RunPatch, comp)
		if len(errs) > 0 {
			return nil, stageError(StagePatch, errs)
		}
		out.Run = patchRun(out.Run, patch, strategy)
	}
	p := &patcher{strategy: strategy, skip: map[string]bool{"version": true, "kind": true}}
	p.merge(reflect.ValueOf(&out.Base).Elem(), reflect.ValueOf(&op.Base).Elem())
	return out, nil
}

// copyForMerge copies a component for Merge. Without a runPatch, a dag's
// operations and components are shared, not copied: nothing compiling the
// dag changes them (each operation is compiled, into a copy, as it runs),
// and a dag of 100,000 operations is not held twice.
func copyForMerge(comp *specs.Component, share bool, strategy specs.PatchStrategy) *specs.Component {
	d, ok := comp.Run.(*specs.DAG)
	if !share || !ok || d == nil || len(d.Operations)+len(d.Components) == 0 {
		return Patch(comp, &specs.Component{}, strategy)
	}
	light, ld := *comp, *d
	ld.Operations, ld.Components = nil, nil
	light.Run = &ld
	out := Patch(&light, &specs.Component{}, strategy)
	od := out.Run.(*specs.DAG)
	od.Operations, od.Components = d.Operations, d.Components
	return out
}

// patchRun applies a decoded runPatch: a run of the same kind, or one
// replica applied to every role of a distributed job.
func patchRun(run specs.Run, patch any, strategy specs.PatchStrategy) specs.Run {
	p := &patcher{strategy: strategy}
	rv := reflect.ValueOf(run)
	if replica, ok := patch.(*specs.KFReplica); ok {
		forEachRole(rv.Elem(), func(role reflect.Value) {
			p.merge(role, reflect.ValueOf(replica).Elem())
		})
		return run
	}
	p.merge(rv.Elem(), reflect.ValueOf(patch).Elem())
	return run
}

// forEachRole calls fn with each replica role a distributed job sets,
// looking into embedded structs (MasterWorker).
func forEachRole(v reflect.Value, fn func(reflect.Value)) {
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case f.Type() == reflect.TypeFor[*specs.KFReplica]() && !f.IsNil():
			fn(f.Elem())
		case sf.Anonymous && f.Kind() == reflect.Struct:
			forEachRole(f, fn)
		}
	}
}
