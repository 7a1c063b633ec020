package specs

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// SchemaID is the `$id` of the JSON Schema that JSONSchema returns.
const SchemaID = "https://plexus-ml.github.io/schemas/polyaxonfile-v1.1.json"

// JSONSchema returns an indented JSON Schema (draft 2020-12) of a
// Polyaxonfile document, for editors (such as yaml-language-server) to
// check and complete Polyaxonfiles with. A file opts in with the modeline
// `# yaml-language-server: $schema=<URL or path of the schema>`.
//
// The schema is generated from the spec types by reflection: a struct is an
// object whose properties are its json keys (embedded inline structs are
// flattened) and whose required keys carry the `plexus:"required"` tag;
// polymorphic sections (run, matrix, schedule, early stopping, stopping
// policy) are a oneOf their concrete types, told apart by `kind`. Kubernetes
// objects are described by their Go types too, but loosely, as the parser
// reads them: they take unknown and snake_case keys, a single string for a
// list of strings and, below their top level, a single object for a list of
// objects. The output is deterministic.
func JSONSchema() ([]byte, error) {
	b, err := jsonSchemaOnce()
	if err != nil {
		return nil, err
	}
	return slices.Clone(b), nil
}

var jsonSchemaOnce = sync.OnceValues(func() ([]byte, error) {
	root, err := buildSchema()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
})

// schema is one JSON Schema node. Its fields are written in this order;
// maps are written with sorted keys, so the output is deterministic.
type schema struct {
	Schema               string             `json:"$schema,omitempty"`
	ID                   string             `json:"$id,omitempty"`
	Ref                  string             `json:"$ref,omitempty"`
	Title                string             `json:"title,omitempty"`
	Description          string             `json:"description,omitempty"`
	Type                 any                `json:"type,omitempty"` // a string or a list of strings
	Const                any                `json:"const,omitempty"`
	Enum                 []any              `json:"enum,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	Properties           map[string]*schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties any                `json:"additionalProperties,omitempty"` // a bool or a *schema
	Items                *schema            `json:"items,omitempty"`
	OneOf                []*schema          `json:"oneOf,omitempty"`
	AnyOf                []*schema          `json:"anyOf,omitempty"`
	AllOf                []*schema          `json:"allOf,omitempty"`
	Defs                 map[string]*schema `json:"$defs,omitempty"`
}

// templatePattern matches a string holding a "{{ }}" template (IsTemplate).
const templatePattern = `\{\{[\s\S]*\}\}`

func refTo(name string) *schema { return &schema{Ref: "#/$defs/" + name} }

// schemaVariants lists, for each polymorphic section, its concrete values
// (one per kind; the kind is read back from the value). Kinds that decode
// into the same Go type share one variant.
var schemaVariants = map[reflect.Type]func() []any{
	reflect.TypeFor[Run](): func() []any {
		out := make([]any, 0, len(RunKinds))
		for _, k := range RunKinds {
			out = append(out, newRun(k))
		}
		return out
	},
	reflect.TypeFor[Matrix](): func() []any {
		return []any{&GridMatrix{}, &RandomMatrix{}, &HyperbandMatrix{}, &BayesMatrix{},
			&HyperoptMatrix{}, &IterativeMatrix{}, &MappingMatrix{}}
	},
	reflect.TypeFor[Schedule](): func() []any {
		return []any{&CronSchedule{}, &IntervalSchedule{}, &DateTimeSchedule{}}
	},
	reflect.TypeFor[EarlyStopping](): func() []any {
		return []any{&MetricEarlyStopping{}, &FailureEarlyStopping{}}
	},
	reflect.TypeFor[StoppingPolicy](): func() []any {
		return []any{&MedianStoppingPolicy{}, &TruncationStoppingPolicy{}, &DiffStoppingPolicy{}}
	},
}

// defaultVariantKind is the kind a polymorphic section has when its `kind`
// is left out; sections not listed here require a kind.
var defaultVariantKind = map[reflect.Type]string{
	reflect.TypeFor[Run](): string(RunJob),
}

// variantKind returns the kind of a concrete value of a polymorphic section.
func variantKind(v any) string {
	switch x := v.(type) {
	case Run:
		return string(x.RunKind())
	case Matrix:
		return string(x.MatrixKind())
	case Schedule:
		return x.ScheduleKind()
	case EarlyStopping:
		return x.EarlyStoppingKind()
	case StoppingPolicy:
		return x.PolicyKind()
	}
	return ""
}

// schemaEnums are the values of string types with a fixed set of values.
var schemaEnums = map[reflect.Type][]any{
	reflect.TypeFor[IOType]():         enumOf(IOTypes),
	reflect.TypeFor[PatchStrategy]():  enumOf(PatchStrategies),
	reflect.TypeFor[Trigger]():        enumOf(Triggers),
	reflect.TypeFor[HookTrigger]():    enumOf(HookTriggers),
	reflect.TypeFor[EventKind]():      enumOf(EventKinds),
	reflect.TypeFor[HyperParamKind](): enumOf(HyperParamKinds),
	reflect.TypeFor[RunKind]():        enumOf(RunKinds),
	reflect.TypeFor[MatrixKind]():     enumOf(MatrixKinds),
}

func enumOf[T ~string](l []T) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = string(s)
	}
	return out
}

// documentKinds is the `kind` a component or an operation may state.
var documentKinds = map[reflect.Type]Kind{
	reflect.TypeFor[Component](): KindComponent,
	reflect.TypeFor[Operation](): KindOperation,
}

// schemaExtraRequired are keys the parser requires that carry no
// `plexus:"required"` tag (they are checked by custom decoding or by
// validation).
var schemaExtraRequired = map[reflect.Type][]string{
	reflect.TypeFor[Param]():     {"value"},
	reflect.TypeFor[Component](): {"run"},
}

// schemaTypeDocs and schemaFieldDocs describe types and fields ("Type.key")
// in the schema, for editors' hovers.
var schemaTypeDocs = map[string]string{
	"Component":            "A reusable, containerised action with typed inputs and outputs and one runtime (kind: component).",
	"Operation":            "Runs a component with params and overrides (kind: operation).",
	"IO":                   "One input or output of a component.",
	"Param":                "The value given to one input or output of the component: a literal, or with ref a selector such as outputs.loss.",
	"Run":                  "The component's runtime, told apart by kind (job when left out).",
	"Matrix":               "Expands an operation into many runs (a hyper-parameter search or a mapping).",
	"Schedule":             "When an operation runs again and again.",
	"EarlyStopping":        "Stops a matrix or a dag early.",
	"StoppingPolicy":       "Decides which runs a metric early stopping stops.",
	"Environment":          "Pod-level settings of a run.",
	"Init":                 "One init step of a run: at most one handler, with an optional connection, path and container.",
	"Job":                  "A container run to completion (kinds job, notifier, cleaner and tuner).",
	"Service":              "A long-lived container exposed on ports (a notebook, a tensorboard, an app).",
	"DAG":                  "A pipeline of operations wired by dependencies, param refs and events.",
	"HyperParam":           "One dimension of a search space: {kind, value}.",
	"Hook":                 "A hub component run when the run reaches a final status.",
	"Build":                "A build operation (usually kaniko) run before the run; it sets the run's image.",
	"Join":                 "Collects values from the runs a query matches into list params.",
	"Event":                "Waits for status changes of another run.",
	"Termination":          "Retries, timeout and time-to-live of a run.",
	"Cache":                "Whether a run may reuse the result of an identical earlier run.",
	"Plugins":              "Switches the platform's helpers on or off for a run.",
	"KFReplica":            "One role of a distributed job: a replica count and a pod.",
	"Version":              "The Polyaxonfile version: 1.1.",
	"MetricEarlyStopping":  "Stops when a child's metric reaches a value, or by a policy.",
	"FailureEarlyStopping": "Stops when a percentage of children failed.",
}

var schemaFieldDocs = map[string]string{
	"Component.version":       "The Polyaxonfile version: 1.1.",
	"Component.kind":          "The document kind: component.",
	"Component.inputs":        "The component's inputs.",
	"Component.outputs":       "The component's outputs.",
	"Component.run":           "The runtime: job (the default), service, dag, tfjob, pytorchjob, mpijob, ...",
	"Component.presets":       "Presets (operations with isPreset: true) applied to every run, by name.",
	"Component.hooks":         "Hub components run when the run reaches a final status.",
	"Operation.version":       "The Polyaxonfile version: 1.1.",
	"Operation.kind":          "The document kind: operation (may be left out in a preset).",
	"Operation.component":     "The inline component to run.",
	"Operation.hubRef":        "The hub component to run, such as tensorboard:single-run.",
	"Operation.dagRef":        "Inside a dag: the name of a component of the dag's components.",
	"Operation.urlRef":        "The URL of a Polyaxonfile holding the component.",
	"Operation.pathRef":       "The path of a Polyaxonfile holding the component.",
	"Operation.params":        "Values of the component's inputs and outputs, by name.",
	"Operation.runPatch":      "A patch merged into the component's run.",
	"Operation.patchStrategy": "How presets and runPatch merge: replace, isnull, post_merge (the default) or pre_merge.",
	"Operation.isPreset":      "Marks the file as a preset: a partial operation merged into others.",
	"Operation.dependencies":  "Inside a dag: operations to wait for.",
	"Operation.trigger":       "Inside a dag: the rule over the upstream statuses (default all_succeeded).",
	"Operation.conditions":    "An expression; the operation is skipped when it is false.",
	"IO.type":                 "The value type, such as str, int, float, bool, dict, list, path, image, ...",
	"IO.isOptional":           "The input may be left out; value is then its default.",
	"IO.isList":               "The value is a list of type.",
	"IO.isFlag":               "A bool rendered as --name when true.",
	"IO.delayValidation":      "Accept a missing value at check time (default false for inputs, true for outputs).",
	"IO.toEnv":                "Also expose the value as this environment variable.",
	"Param.value":             "A literal value, or with ref a selector such as outputs.loss (may be null).",
	"Param.ref":               "Where value is taken from: ops.<operation>, runs.<uuid> or dag.",
	"Param.contextOnly":       "Pass the param to templates only, not as an input.",
	"Param.toInit":            "Resolve the param in an init container.",
}

// schemaGen builds the $defs of the schema.
type schemaGen struct {
	defs  map[string]*schema
	names map[reflect.Type]string
	// variantOf holds the kind schema of each concrete type of a
	// polymorphic section, and whether its kind may be left out.
	variantOf map[reflect.Type]variantInfo
	err       error
}

type variantInfo struct {
	kinds    []string
	optional bool
}

func buildSchema() (*schema, error) {
	g := &schemaGen{defs: map[string]*schema{}, names: map[reflect.Type]string{}, variantOf: map[reflect.Type]variantInfo{}}
	for it, mk := range schemaVariants {
		for _, v := range mk() {
			t := reflect.TypeOf(v)
			if !t.Implements(it) {
				return nil, fmt.Errorf("schema: %s does not implement %s", t, it)
			}
			vi := g.variantOf[t.Elem()]
			k := variantKind(v)
			vi.kinds = append(vi.kinds, k)
			if k == defaultVariantKind[it] {
				vi.optional = true
			}
			g.variantOf[t.Elem()] = vi
		}
	}
	comp := g.typeSchema(reflect.TypeFor[Component](), false)
	op := g.typeSchema(reflect.TypeFor[Operation](), false)
	if g.err != nil {
		return nil, g.err
	}
	return &schema{
		Schema: "https://json-schema.org/draft/2020-12/schema",
		ID:     SchemaID,
		Title:  "Polyaxonfile v1.1",
		Description: "A Polyaxonfile (Polyaxon spec version 1.1) as Plexus reads it: a component (kind: component) " +
			"or an operation (kind: operation, or a preset with isPreset: true).",
		OneOf: []*schema{
			{
				Title: "Component",
				AllOf: []*schema{comp, {Required: []string{"version", "kind"}}},
			},
			{
				Title: "Operation",
				AllOf: []*schema{op, {AnyOf: []*schema{
					{Required: []string{"version", "kind"}},
					{Required: []string{"isPreset"}, Properties: map[string]*schema{"isPreset": {Const: true}}},
				}}},
			},
		},
		Defs: g.defs,
	}, nil
}

// Foreign types that read themselves from JSON, by package path and name.
var foreignSchemas = map[string]func() *schema{
	"k8s.io/apimachinery/pkg/api/resource.Quantity":   func() *schema { return &schema{Type: []string{"string", "number"}} },
	"k8s.io/apimachinery/pkg/util/intstr.IntOrString": func() *schema { return &schema{Type: []string{"string", "integer"}} },
	"k8s.io/apimachinery/pkg/apis/meta/v1.Time":       func() *schema { return &schema{Type: "string"} },
	"k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime":  func() *schema { return &schema{Type: "string"} },
	"k8s.io/apimachinery/pkg/apis/meta/v1.Duration":   func() *schema { return &schema{Type: "string"} },
	"k8s.io/apimachinery/pkg/runtime.RawExtension":    func() *schema { return &schema{} },
	"k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1":   func() *schema { return &schema{} },
}

// scalarSchema accepts any scalar: the values of string maps, which the
// parser writes as their text.
func scalarSchema() *schema {
	return &schema{Type: []string{"string", "number", "boolean", "null"}}
}

// typeSchema returns the schema of t; inK8s says t is a field of a
// Kubernetes object.
func (g *schemaGen) typeSchema(t reflect.Type, inK8s bool) *schema {
	switch t {
	case reflect.TypeFor[Version]():
		return g.def(t, func() *schema {
			return &schema{Enum: []any{SpecVersion, "1.1"}}
		})
	case reflect.TypeFor[SearchSpace]():
		return g.def(t, func() *schema {
			return &schema{
				Description:          "The params to search over, by name, in the order a grid expands them.",
				Type:                 "object",
				AdditionalProperties: g.typeSchema(reflect.TypeFor[HyperParam](), false),
			}
		})
	case reflect.TypeFor[IntOrRef]():
		return g.def(t, func() *schema {
			return &schema{
				Description: `An integer, or a "{{ }}" template.`,
				OneOf: []*schema{{Type: "integer"}, {
					Type:    "string",
					Pattern: templatePattern + `|^\s*[-+]?[0-9]+\s*$`,
				}},
			}
		})
	}
	if t.PkgPath() == reflect.TypeFor[IntOrRef]().PkgPath() && strings.HasPrefix(t.Name(), "ListOrRef[") {
		f, ok := t.FieldByName("Items")
		if !ok {
			g.fail(fmt.Errorf("schema: %s has no Items", t))
			return &schema{}
		}
		et := f.Type.Elem()
		str := &schema{Type: "string", Description: `A "{{ }}" template rendering to the list.`, Pattern: templatePattern}
		if et.Kind() == reflect.String {
			// A plain string is a list of one.
			str = &schema{Type: "string", Description: `A "{{ }}" template rendering to the list, or a list of one.`}
		}
		return &schema{OneOf: []*schema{{Type: "array", Items: g.typeSchema(et, false)}, str}}
	}
	if t.Kind() == reflect.Pointer {
		return g.typeSchema(t.Elem(), inK8s)
	}
	if isForeign(t) && t.Name() != "" {
		if mk := foreignSchemas[t.PkgPath()+"."+t.Name()]; mk != nil {
			return mk()
		}
		if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
			// An unknown type reading itself from JSON: accept anything.
			return &schema{}
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &schema{}
		}
		if _, ok := schemaVariants[t]; !ok {
			g.fail(fmt.Errorf("schema: no concrete types listed for %s", t))
			return &schema{}
		}
		return g.def(t, func() *schema { return g.interfaceSchema(t) })
	case reflect.Struct:
		return g.def(t, func() *schema { return g.structSchema(t) })
	case reflect.Map:
		s := &schema{Type: "object"}
		if et := t.Elem(); et.Kind() == reflect.String && !reflect.PointerTo(et).Implements(nodeDecoderType) {
			s.AdditionalProperties = scalarSchema()
		} else if et.Kind() != reflect.Interface || et.NumMethod() != 0 {
			s.AdditionalProperties = g.typeSchema(et, inK8s)
		}
		return s
	case reflect.Slice, reflect.Array:
		et := t.Elem()
		if et.Kind() == reflect.Uint8 {
			return &schema{Type: "string"} // []byte: base64
		}
		items := g.typeSchema(et, inK8s)
		switch {
		case inK8s && et.Kind() == reflect.String:
			// command: "python main.py" is a list of one.
			return &schema{Type: []string{"array", "string"}, Items: items}
		case inK8s && derefType(et).Kind() == reflect.Struct:
			// The parser reads a single object as a list of one.
			return &schema{AnyOf: []*schema{{Type: "array", Items: items}, items}}
		}
		return &schema{Type: "array", Items: items}
	case reflect.String:
		if e, ok := schemaEnums[t]; ok {
			return g.def(t, func() *schema { return &schema{Type: "string", Enum: e} })
		}
		return &schema{Type: "string"}
	case reflect.Bool:
		return &schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &schema{Type: "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		zero := 0.0
		return &schema{Type: "integer", Minimum: &zero}
	case reflect.Float32, reflect.Float64:
		return &schema{Type: "number"}
	}
	g.fail(fmt.Errorf("schema: cannot describe %s", t))
	return &schema{}
}

func (g *schemaGen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// def returns a reference to the $defs entry of the named type t, building
// it on first use. The entry is registered before it is built, so
// recursive types refer to themselves.
func (g *schemaGen) def(t reflect.Type, build func() *schema) *schema {
	if name, ok := g.names[t]; ok {
		return refTo(name)
	}
	name := defName(t)
	if _, taken := g.defs[name]; taken {
		g.fail(fmt.Errorf("schema: two types are named %s", name))
	}
	g.names[t] = name
	g.defs[name] = &schema{} // placeholder while building
	s := build()
	if s.Description == "" {
		s.Description = schemaTypeDocs[name]
	}
	g.defs[name] = s
	return refTo(name)
}

// defName names a type's $defs entry: its Go name for Plexus types; for
// foreign ones, its package path in reverse-domain form and its name, as
// Kubernetes' OpenAPI does (io.k8s.api.core.v1.Container).
func defName(t reflect.Type) string {
	if !isForeign(t) {
		return t.Name()
	}
	host, rest, _ := strings.Cut(t.PkgPath(), "/")
	parts := strings.Split(host, ".")
	slices.Reverse(parts)
	name := strings.Join(parts, ".")
	if rest != "" {
		name += "." + strings.ReplaceAll(rest, "/", ".")
	}
	return name + "." + t.Name()
}

func (g *schemaGen) interfaceSchema(t reflect.Type) *schema {
	s := &schema{}
	seen := map[reflect.Type]bool{}
	for _, v := range schemaVariants[t]() {
		ct := reflect.TypeOf(v).Elem()
		if seen[ct] {
			continue
		}
		seen[ct] = true
		s.OneOf = append(s.OneOf, g.typeSchema(ct, false))
	}
	return s
}

func (g *schemaGen) structSchema(t reflect.Type) *schema {
	k8s := isK8s(t)
	s := &schema{Type: "object", Properties: map[string]*schema{}, AdditionalProperties: k8s}
	if k8s {
		s.Description = "Kubernetes " + t.Name() + " (camelCase or snake_case keys)."
	}
	// The kind of a polymorphic section's variant, or of a document, is
	// fixed here rather than read from its field's type.
	fixed := map[string]*schema{}
	if vi, ok := g.variantOf[t]; ok {
		ks := &schema{Type: "string"}
		if len(vi.kinds) == 1 {
			ks.Const = vi.kinds[0]
		} else {
			ks.Enum = enumOf(vi.kinds)
		}
		if vi.optional {
			ks.Description = "The kind; " + vi.kinds[0] + " when left out."
		}
		fixed["kind"] = ks
	}
	if k, ok := documentKinds[t]; ok {
		fixed["kind"] = &schema{Type: "string", Const: string(k)}
	}
	var required []string
	g.collectProperties(t, s, &required, k8s, fixed)
	if vi, ok := g.variantOf[t]; ok && !vi.optional && !slices.Contains(required, "kind") {
		required = append([]string{"kind"}, required...)
	}
	for _, r := range schemaExtraRequired[t] {
		if !slices.Contains(required, r) {
			required = append(required, r)
		}
	}
	s.Required = required
	for name, p := range s.Properties {
		if d := schemaFieldDocs[t.Name()+"."+name]; d != "" && p.Description == "" && !isForeign(t) {
			if p.Ref != "" {
				// Keep $ref alone in its object: older drafts ignore siblings.
				s.Properties[name] = &schema{Description: d, AllOf: []*schema{p}}
			} else {
				p.Description = d
			}
		}
	}
	return s
}

// collectProperties adds the fields of t, as the decoder reads them
// (collectFields in decode.go), to s.
func (g *schemaGen) collectProperties(t reflect.Type, s *schema, required *[]string, k8s bool, fixed map[string]*schema) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			if ft := derefType(f.Type); ft.Kind() == reflect.Struct {
				g.collectProperties(ft, s, required, k8s, fixed)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if fs, ok := fixed[name]; ok {
			s.Properties[name] = fs
		} else {
			s.Properties[name] = g.typeSchema(f.Type, k8s)
		}
		if f.Tag.Get("plexus") == "required" {
			*required = append(*required, name)
		}
	}
}
