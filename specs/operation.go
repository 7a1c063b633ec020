package specs

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Operation runs a component with params and overrides (`kind: operation`).
// Exactly one reference names its component: an inline Component, HubRef,
// DagRef (inside a dag), URLRef or PathRef. HubRef together with an inline
// component is allowed; the inline component is then used.
type Operation struct {
	Base `json:",inline"`

	Component *Component `json:"component,omitempty"`
	HubRef    string     `json:"hubRef,omitempty"`
	DagRef    string     `json:"dagRef,omitempty"`
	URLRef    string     `json:"urlRef,omitempty"`
	PathRef   string     `json:"pathRef,omitempty"`

	Params        map[string]Param `json:"params,omitempty"`
	RunPatch      map[string]any   `json:"runPatch,omitempty"`
	PatchStrategy PatchStrategy    `json:"patchStrategy,omitempty"`
	IsPreset      bool             `json:"isPreset,omitempty"`

	Matrix             Matrix   `json:"matrix,omitempty"`
	Joins              []Join   `json:"joins,omitempty"`
	Schedule           Schedule `json:"schedule,omitempty"`
	Events             []Event  `json:"events,omitempty"`
	Dependencies       []string `json:"dependencies,omitempty"`
	Trigger            Trigger  `json:"trigger,omitempty"`
	Conditions         string   `json:"conditions,omitempty"`
	SkipOnUpstreamSkip *bool    `json:"skipOnUpstreamSkip,omitempty"`
}

// Param is the value given to one input or output of the component.
type Param struct {
	// Value is a literal, or with Ref a selector such as `outputs.loss`.
	Value       any    `json:"value"`
	Ref         string `json:"ref,omitempty"`
	ContextOnly bool   `json:"contextOnly,omitempty"`
	Connection  string `json:"connection,omitempty"`
	ToInit      bool   `json:"toInit,omitempty"`
	ToEnv       string `json:"toEnv,omitempty"`
}

// PatchStrategy says how presets and runPatch merge into what they patch.
type PatchStrategy string

// Patch strategies (§9 of the reference). The default is post_merge.
const (
	PatchReplace   PatchStrategy = "replace"
	PatchIsNull    PatchStrategy = "isnull"
	PatchPostMerge PatchStrategy = "post_merge"
	PatchPreMerge  PatchStrategy = "pre_merge"
)

// PatchStrategies lists every strategy.
var PatchStrategies = []PatchStrategy{PatchReplace, PatchIsNull, PatchPostMerge, PatchPreMerge}

// Trigger is a dag operation's rule over its upstream statuses.
type Trigger string

// Trigger rules. The default is all_succeeded.
const (
	TriggerAllSucceeded Trigger = "all_succeeded"
	TriggerAllFailed    Trigger = "all_failed"
	TriggerAllDone      Trigger = "all_done"
	TriggerOneSucceeded Trigger = "one_succeeded"
	TriggerOneFailed    Trigger = "one_failed"
	TriggerOneDone      Trigger = "one_done"
)

// Triggers lists every trigger rule.
var Triggers = []Trigger{TriggerAllSucceeded, TriggerAllFailed, TriggerAllDone, TriggerOneSucceeded, TriggerOneFailed, TriggerOneDone}

// Join collects values from the runs a query matches into list params.
type Join struct {
	Query  string           `json:"query" plexus:"required"`
	Sort   string           `json:"sort,omitempty"`
	Limit  *IntOrRef        `json:"limit,omitempty"`
	Offset *IntOrRef        `json:"offset,omitempty"`
	Params map[string]Param `json:"params,omitempty"`
}

// Event subscribes an operation to status changes of another run.
type Event struct {
	Kinds []EventKind `json:"kinds" plexus:"required"`
	Ref   string      `json:"ref" plexus:"required"`
}

// EventKind is one kind of event an operation can wait for.
type EventKind string

// EventKinds lists every event kind of the reference.
var EventKinds = []EventKind{
	"run_status_created", "run_status_resuming", "run_status_compiled", "run_status_on_schedule",
	"run_status_queued", "run_status_scheduled", "run_status_starting", "run_status_running",
	"run_status_processing", "run_status_stopping", "run_status_failed", "run_status_stopped",
	"run_status_succeeded", "run_status_skipped", "run_status_warning", "run_status_unschedulable",
	"run_status_upstream_failed", "run_status_retrying", "run_status_unknown", "run_status_done",
	"run_approved_actor", "run_invalidated_actor", "run_new_artifacts", "connection_git_commit",
	"connection_dataset_version", "connection_registry_image", "alert_info", "alert_warning",
	"alert_critical", "model_version_new_metric", "project_custom_event", "org_custom_event",
}

// Hook runs a hub component when the run reaches a final status.
type Hook struct {
	HubRef          string           `json:"hubRef" plexus:"required"`
	Trigger         HookTrigger      `json:"trigger,omitempty"`
	Connection      string           `json:"connection,omitempty"`
	Conditions      string           `json:"conditions,omitempty"`
	Queue           string           `json:"queue,omitempty"`
	Presets         []string         `json:"presets,omitempty"`
	Params          map[string]Param `json:"params,omitempty"`
	DisableDefaults bool             `json:"disableDefaults,omitempty"`
}

// HookTrigger is the final status a hook fires on.
type HookTrigger string

// HookTriggers lists the statuses a hook can fire on; done means any.
var HookTriggers = []HookTrigger{"succeeded", "failed", "stopped", "skipped", "upstream_failed", "done"}

// Build runs a separate build operation (usually kaniko) before the run and
// sets the run's image to what it built.
type Build struct {
	HubRef        string           `json:"hubRef" plexus:"required"`
	Connection    string           `json:"connection,omitempty"`
	Queue         string           `json:"queue,omitempty"`
	Presets       []string         `json:"presets,omitempty"`
	Cache         *Cache           `json:"cache,omitempty"`
	Params        map[string]Param `json:"params,omitempty"`
	RunPatch      map[string]any   `json:"runPatch,omitempty"`
	PatchStrategy PatchStrategy    `json:"patchStrategy,omitempty"`
}

// Validate checks the operation on its own: sections, references, params
// against an inline component, and, for a dag component, its graph.
// Like Component.Validate, it checks `version` only when set.
func (o *Operation) Validate() ErrorList {
	return o.validate("", o.Version != nil, nil)
}

// dagScope is what an operation inside a dag may refer to.
type dagScope struct {
	ops        map[string]*Operation
	components map[string]*Component
	// componentPaths locate the components, for errors about their IO.
	componentPaths map[string]Path
}

func (o *Operation) validate(p Path, topLevel bool, scope *dagScope) ErrorList {
	var errs ErrorList
	topLevel = topLevel && !o.IsPreset
	errs = append(errs, o.Base.validate(p, topLevel, KindOperation)...)
	errs = append(errs, o.validateRefs(p, scope)...)
	if o.Component != nil {
		vc := vctx{imagePatched: o.RunPatch != nil || o.Build != nil || len(o.Presets.Items) > 0 || o.Presets.Template != ""}
		errs = append(errs, o.Component.validate(p.Child("component"), false, vc)...)
	}
	if o.PatchStrategy != "" && !slices.Contains(PatchStrategies, o.PatchStrategy) {
		errs = append(errs, NotSupported(p.Child("patchStrategy"), o.PatchStrategy, PatchStrategies))
	}
	if o.Trigger != "" && !slices.Contains(Triggers, o.Trigger) {
		errs = append(errs, NotSupported(p.Child("trigger"), o.Trigger, Triggers))
	}
	errs = append(errs, validateParams(p.Child("params"), o.Params, true)...)
	for i := range o.Joins {
		errs = append(errs, o.Joins[i].validate(p.Child("joins").Index(i))...)
	}
	for i, e := range o.Events {
		errs = append(errs, e.validate(p.Child("events").Index(i), scope)...)
	}
	if o.Matrix != nil {
		errs = append(errs, o.Matrix.validate(p.Child("matrix"))...)
	}
	if o.Schedule != nil {
		errs = append(errs, o.Schedule.validate(p.Child("schedule"))...)
	}
	if o.Conditions != "" {
		if _, err := CompileCondition(o.Conditions); err != nil {
			errs = append(errs, Invalidf(p.Child("conditions"), o.Conditions, "%v", err))
		}
	}
	seenDep := map[string]bool{}
	for i, dep := range o.Dependencies {
		dp := p.Child("dependencies").Index(i)
		switch {
		case seenDep[dep]:
			errs = append(errs, Duplicate(dp, dep, "the dependency is listed twice"))
		case scope == nil:
			errs = append(errs, Forbidden(dp, "dependencies only apply to operations inside a dag"))
		case dep == o.Name:
			errs = append(errs, Invalidf(dp, dep, "operation %q depends on itself", dep))
		case scope.ops[dep] == nil:
			errs = append(errs, Invalidf(dp, dep, "unknown operation %q%s", dep, suggestName(dep, scope.ops)))
		}
		seenDep[dep] = true
	}
	for _, name := range sortedKeys(o.Params) {
		errs = append(errs, validateParamRef(p.Child("params").Key(name), o.Params[name], scope, o.Name)...)
	}
	if comp := o.resolvedComponent(scope); comp != nil && !o.IsPreset {
		errs = append(errs, validateRunPatch(p.Child("runPatch"), o.RunPatch, comp)...)
		if scope != nil {
			// Inside a dag nothing else can supply params. A file's own
			// operation may still get them from the command line: see
			// File.CheckParams.
			cp := p.Child("component")
			if o.DagRef != "" {
				cp = scope.componentPaths[o.DagRef]
			}
			errs = append(errs, comp.CheckParams(ParamsCheck{Params: o.Params, Joins: o.Joins, Matrix: o.Matrix, Path: p, Component: cp})...)
		}
	} else if o.RunPatch != nil {
		errs = append(errs, validateRunPatch(p.Child("runPatch"), o.RunPatch, nil)...)
	}
	return errs
}

// resolvedComponent returns the component an operation runs when the spec
// itself holds it (inline or dagRef); nil when it must be fetched.
func (o *Operation) resolvedComponent(scope *dagScope) *Component {
	if o.Component != nil && o.URLRef == "" && o.PathRef == "" && o.DagRef == "" {
		return o.Component
	}
	if o.DagRef != "" && scope != nil {
		return scope.components[o.DagRef]
	}
	return nil
}

func (o *Operation) validateRefs(p Path, scope *dagScope) ErrorList {
	var errs ErrorList
	var set []string
	for _, r := range []struct {
		name, val string
	}{{"hubRef", o.HubRef}, {"dagRef", o.DagRef}, {"urlRef", o.URLRef}, {"pathRef", o.PathRef}} {
		if r.val != "" {
			set = append(set, r.name)
		}
	}
	if o.IsPreset {
		if len(set) > 0 || o.Component != nil {
			errs = append(errs, Forbidden(p, "a preset (isPreset: true) cannot hold a component or a hubRef, dagRef, urlRef or pathRef"))
		}
		return errs
	}
	if o.Component != nil && !(len(set) == 1 && set[0] == "hubRef") {
		set = append(set, "component")
	}
	switch {
	case len(set) == 0:
		errs = append(errs, Required(p, "an operation needs exactly one of component, hubRef, dagRef, urlRef or pathRef"))
	case len(set) > 1:
		errs = append(errs, Invalidf(p.Child(set[1]), nil, "only one reference may be set, got %s", strings.Join(set, " and ")))
	}
	if o.HubRef != "" {
		errs = append(errs, requireHubRef(p, o.HubRef, "an operation")...)
	}
	if o.DagRef != "" {
		switch {
		case scope == nil:
			errs = append(errs, Forbidden(p.Child("dagRef"), "dagRef only works for operations inside a dag"))
		case scope.components[o.DagRef] == nil:
			errs = append(errs, Invalidf(p.Child("dagRef"), o.DagRef, "the dag has no component named %q%s", o.DagRef, suggestName(o.DagRef, scope.components)))
		}
	}
	if o.URLRef != "" {
		u, err := url.Parse(o.URLRef)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, Invalidf(p.Child("urlRef"), o.URLRef, "urlRef must be an http(s) URL, got %q", o.URLRef))
		}
	}
	if o.PathRef != "" && strings.ContainsRune(o.PathRef, 0) {
		errs = append(errs, Invalid(p.Child("pathRef"), o.PathRef, "pathRef is not a valid path"))
	}
	return errs
}

// requireHubRef checks the required hubRef of a hook, build or tuner.
func requireHubRef(p Path, ref, what string) ErrorList {
	if ref == "" {
		return ErrorList{Required(p.Child("hubRef"), what+" needs a hubRef")}
	}
	if err := checkHubRef(ref); err != nil {
		return ErrorList{Invalidf(p.Child("hubRef"), ref, "%v", err)}
	}
	return nil
}

var hubPartRE = regexp.MustCompile(`^[-a-zA-Z0-9_.]+$`)

// checkHubRef checks the form `[owner/]name[:tag]`.
func checkHubRef(ref string) error {
	if IsTemplate(ref) {
		return nil
	}
	rest, tag, hasTag := strings.Cut(ref, ":")
	if hasTag && (tag == "" || strings.Contains(tag, ":") || !hubPartRE.MatchString(tag)) {
		return fmt.Errorf("hubRef must be [owner/]name[:tag], got %q", ref)
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 2 {
		return fmt.Errorf("hubRef must be [owner/]name[:tag], got %q", ref)
	}
	for _, part := range parts {
		if !hubPartRE.MatchString(part) {
			return fmt.Errorf("hubRef must be [owner/]name[:tag], got %q", ref)
		}
	}
	return nil
}

func validateParams(p Path, params map[string]Param, allowRef bool) ErrorList {
	var errs ErrorList
	for _, name := range sortedKeys(params) {
		prm := params[name]
		pp := p.Key(name)
		if prm.Ref != "" && !allowRef {
			errs = append(errs, Forbidden(pp.Child("ref"), "join params take no ref: the join's query selects the runs"))
		}
		if prm.ToEnv != "" && !envNameRE.MatchString(prm.ToEnv) {
			errs = append(errs, Invalidf(pp.Child("toEnv"), prm.ToEnv, "%q is not a valid environment variable name", prm.ToEnv))
		}
		if prm.Ref != "" || !allowRef {
			errs = append(errs, validateSelector(pp.Child("value"), prm)...)
		}
	}
	return errs
}

var envNameRE = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// validateParamRef checks the `ref` of a param: `ops.<name>` (a dag
// upstream), `runs.<uuid>` or `dag`.
func validateParamRef(p Path, prm Param, scope *dagScope, self string) ErrorList {
	if prm.Ref == "" || IsTemplate(prm.Ref) {
		return nil
	}
	rp := p.Child("ref")
	switch {
	case prm.Ref == "dag":
		if scope == nil {
			return ErrorList{Forbidden(rp, "ref `dag` only works for operations inside a dag")}
		}
		if s, ok := prm.Value.(string); ok && strings.HasPrefix(stripBraces(s), "outputs") {
			return ErrorList{Invalid(p.Child("value"), s, "the outputs of the current dag cannot be used")}
		}
	case strings.HasPrefix(prm.Ref, "ops."):
		op := strings.TrimPrefix(prm.Ref, "ops.")
		switch {
		case scope == nil:
			return ErrorList{Forbidden(rp, "a ref to `ops.` only works for operations inside a dag")}
		case op == self:
			return ErrorList{Invalidf(rp, prm.Ref, "operation %q refers to itself", op)}
		case scope.ops[op] == nil:
			return ErrorList{Invalidf(rp, prm.Ref, "unknown operation %q%s", op, suggestName(op, scope.ops))}
		}
	case strings.HasPrefix(prm.Ref, "runs."):
		if !uuidRE.MatchString(strings.TrimPrefix(prm.Ref, "runs.")) {
			return ErrorList{Invalidf(rp, prm.Ref, "runs.<uuid> needs a valid run uuid, got %q", prm.Ref)}
		}
	default:
		return ErrorList{Invalidf(rp, prm.Ref, "ref must be `ops.<operation>`, `runs.<uuid>` or `dag`, got %q", prm.Ref)}
	}
	return nil
}

func stripBraces(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		s = strings.TrimSpace(s[2 : len(s)-2])
	}
	return s
}

// validateSelector checks the value of a ref param (or of a join param): a
// selector `section[.key[.sub]]`, or an artifacts mapping.
func validateSelector(p Path, prm Param) ErrorList {
	switch v := prm.Value.(type) {
	case map[string]any:
		for k := range v {
			if k != "files" && k != "dirs" {
				return ErrorList{Invalidf(p, nil, "a selector mapping takes `files` and `dirs`, got %q", k)}
			}
		}
		return nil
	case string:
		s := stripBraces(v)
		parts := strings.Split(s, ".")
		switch parts[0] {
		case "inputs", "outputs", "io", "artifacts", "globals":
		default:
			return ErrorList{Invalidf(p, v, "a selector starts with inputs, outputs, io, artifacts or globals, got %q", v)}
		}
		switch {
		case len(parts) == 1 && parts[0] == "globals":
			return ErrorList{Invalid(p, v, "`globals` needs a key, such as globals.uuid")}
		case len(parts) == 3 && parts[0] != "artifacts":
			return ErrorList{Invalidf(p, v, "only artifacts selectors take three parts, got %q", v)}
		case len(parts) > 3:
			return ErrorList{Invalidf(p, v, "a selector has at most three parts, got %q", v)}
		}
		for _, part := range parts {
			if part == "" {
				return ErrorList{Invalidf(p, v, "empty part in selector %q", v)}
			}
		}
		return nil
	case nil:
		return ErrorList{Required(p, "a ref param needs a value selecting what to take, such as outputs.loss")}
	default:
		return ErrorList{Invalidf(p, v, "with a ref, the value must be a selector string such as outputs.loss")}
	}
}

func (j *Join) validate(p Path) ErrorList {
	var errs ErrorList
	if strings.TrimSpace(j.Query) == "" {
		errs = append(errs, Required(p.Child("query"), "a join needs a query"))
	}
	if j.Limit != nil && !j.Limit.IsTemplate() && (j.Limit.Value < 0 || j.Limit.Value > 5000) {
		errs = append(errs, Invalidf(p.Child("limit"), j.Limit.Value, "limit must be between 0 and 5000"))
	}
	if j.Offset != nil && !j.Offset.IsTemplate() && j.Offset.Value < 0 {
		errs = append(errs, Invalidf(p.Child("offset"), j.Offset.Value, "offset must not be negative"))
	}
	errs = append(errs, validateParams(p.Child("params"), j.Params, false)...)
	return errs
}

func (e *Event) validate(p Path, scope *dagScope) ErrorList {
	var errs ErrorList
	if len(e.Kinds) == 0 {
		errs = append(errs, Required(p.Child("kinds"), "an event needs at least one kind, such as run_status_succeeded"))
	}
	for i, k := range e.Kinds {
		if !slices.Contains(EventKinds, k) {
			errs = append(errs, NotSupported(p.Child("kinds").Index(i), k, EventKinds))
		}
	}
	rp := p.Child("ref")
	switch {
	case e.Ref == "":
		errs = append(errs, Required(rp, "an event needs a ref: ops.<operation>, runs.<uuid> or dag"))
	case e.Ref == "dag":
	case strings.HasPrefix(e.Ref, "ops."):
		op := strings.TrimPrefix(e.Ref, "ops.")
		if scope == nil {
			errs = append(errs, Forbidden(rp, "a ref to `ops.` only works for operations inside a dag"))
		} else if scope.ops[op] == nil {
			errs = append(errs, Invalidf(rp, e.Ref, "unknown operation %q%s", op, suggestName(op, scope.ops)))
		}
	case strings.HasPrefix(e.Ref, "runs."):
		if !uuidRE.MatchString(strings.TrimPrefix(e.Ref, "runs.")) {
			errs = append(errs, Invalidf(rp, e.Ref, "runs.<uuid> needs a valid run uuid, got %q", e.Ref))
		}
	case strings.HasPrefix(e.Ref, "components.") && !IsTemplate(e.Ref):
		// Beyond the reference: every run of a component in the project.
		switch {
		case scope != nil:
			errs = append(errs, Forbidden(rp, "components.<name> subscribes an operation submitted on its own; inside a dag, use ops.<operation>"))
		case !nameRE.MatchString(strings.TrimPrefix(e.Ref, "components.")):
			errs = append(errs, Invalidf(rp, e.Ref, "components.<name> needs a component name, got %q", e.Ref))
		}
	default:
		// The reference silently ignores such refs; Plexus says so.
		hint := ""
		if scope != nil && scope.ops[stripBraces(strings.TrimPrefix(stripBraces(e.Ref), "ops."))] != nil {
			hint = fmt.Sprintf(" (did you mean %q?)", "ops."+strings.TrimPrefix(stripBraces(e.Ref), "ops."))
		}
		errs = append(errs, Invalidf(rp, e.Ref, "event ref must be exactly `ops.<operation>`, `runs.<uuid>` or `dag`, got %q%s", e.Ref, hint))
	}
	return errs
}

func (h *Hook) validate(p Path) ErrorList {
	var errs ErrorList
	errs = append(errs, requireHubRef(p, h.HubRef, "a hook")...)
	if h.Trigger != "" && !slices.Contains(HookTriggers, h.Trigger) {
		errs = append(errs, NotSupported(p.Child("trigger"), h.Trigger, HookTriggers))
	}
	if h.Conditions != "" {
		if _, err := CompileCondition(h.Conditions); err != nil {
			errs = append(errs, Invalidf(p.Child("conditions"), h.Conditions, "%v", err))
		}
	}
	errs = append(errs, validateParams(p.Child("params"), h.Params, true)...)
	return errs
}

func (b *Build) validate(p Path) ErrorList {
	if b == nil {
		return nil
	}
	var errs ErrorList
	errs = append(errs, requireHubRef(p, b.HubRef, "a build (such as kaniko)")...)
	if b.PatchStrategy != "" && !slices.Contains(PatchStrategies, b.PatchStrategy) {
		errs = append(errs, NotSupported(p.Child("patchStrategy"), b.PatchStrategy, PatchStrategies))
	}
	errs = append(errs, b.Cache.validate(p.Child("cache"))...)
	errs = append(errs, validateParams(p.Child("params"), b.Params, true)...)
	// The build's runPatch patches the build component (a hub component
	// such as kaniko); the compiler checks it once that is resolved.
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// suggestName returns ` (did you mean "x"?)` for the closest known name.
func suggestName[V any](name string, known map[string]V) string {
	best, bestD := "", len(name)/3+2
	for _, k := range sortedKeys(known) {
		if d := levenshtein(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
