package specs

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// decoder turns a YAML node tree into spec types. It is strict: an unknown
// key is an error naming its path and the nearest valid key. It keeps going
// after an error so that one pass reports every problem.
//
// Kubernetes objects (any type from a k8s.io package) follow the reference's
// rules: their keys may be camelCase or snake_case, and keys nested below the
// object's own top level that Kubernetes does not know are reported as
// warnings instead of errors.
type decoder struct {
	errs     ErrorList
	warnings ErrorList
	// k8sDepth is the number of Kubernetes structs we are inside.
	k8sDepth int
	// visits counts decoded nodes, aliases expanded, to stop documents
	// that expand without bound ("billion laughs").
	visits    int
	maxVisits int
	overflow  bool
	// depth is how many mappings and lists of the document's structure
	// (not of a free-form value) we are inside; deep says the structure
	// was found nested deeper than MaxDepth, reported once.
	depth int
	deep  bool
	// ops, when set, is a list of operations read a chunk at a time
	// where its placeholder is decoded (stream.go).
	ops *streamedOps
}

// MaxDepth is how deep a Polyaxonfile may nest: a free-form value (a
// param's value, an input's default, a runPatch, a Kubernetes value read
// as plain data) holds at most MaxDepth levels of mappings and lists,
// counted from the value itself, and the structure of a document around
// its values (dags inside dags, Kubernetes sections) at most MaxDepth,
// counted from its top. Submission holds params given beside the file to
// the same limit (CheckDepth), so that a run's record, which wraps a
// document in a few more levels, always reads back: encoding/json and the
// YAML parser stop at 10,000.
const MaxDepth = 100

// tooDeep is the detail of a value nested deeper than MaxDepth.
var tooDeep = fmt.Sprintf("nested deeper than %d levels", MaxDepth)

// CheckDepth reports, at p, a plain value (what encoding/json or generic
// decoding makes: maps, slices and scalars) that nests deeper than
// MaxDepth levels of mappings and lists.
func CheckDepth(p Path, v any) *FieldError {
	if depthOver(reflect.ValueOf(v), 0) {
		return Invalid(p, nil, tooDeep)
	}
	return nil
}

// depthOver says whether v, found inside level mappings and lists, takes
// them past MaxDepth.
func depthOver(v reflect.Value, level int) bool {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		v = v.Elem()
	}
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Map:
		if level == MaxDepth {
			return true
		}
		for it := v.MapRange(); it.Next(); {
			if depthOver(it.Value(), level+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return false // bytes: a string in JSON
		}
		if level == MaxDepth {
			return true
		}
		for i := range v.Len() {
			if depthOver(v.Index(i), level+1) {
				return true
			}
		}
	}
	return false
}

// visitBudget is how many nodes a document may expand to: eight times its
// own size, and at least a million. Aliases may repeat a value a few
// times, not without bound.
func visitBudget(root *yaml.Node) int {
	n := 0
	var count func(*yaml.Node)
	count = func(x *yaml.Node) {
		n++
		for _, c := range x.Content {
			count(c)
		}
	}
	count(root)
	return max(1<<20, 8*n)
}

// visit counts a node and reports whether decoding may go on.
func (d *decoder) visit(n *yaml.Node, p Path) bool {
	d.visits++
	if d.maxVisits == 0 || d.visits <= d.maxVisits {
		return true
	}
	if !d.overflow {
		d.overflow = true
		d.errorAt(n, Invalidf(p, nil, "the document expands to more than %d values through YAML aliases", d.maxVisits))
	}
	return false
}

// nodeDecoder is implemented by spec types that decode themselves, such as
// values that may be either a literal or a "{{ }}" template.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, p Path)
}

// interfaceDecoders decode the polymorphic sections (run, matrix, schedule,
// early stopping) by their `kind` key. Registered by the files owning them.
var interfaceDecoders = map[reflect.Type]func(d *decoder, n *yaml.Node, p Path) reflect.Value{}

func (d *decoder) errorAt(n *yaml.Node, e *FieldError) {
	if n != nil && e.Line == 0 {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) warnAt(n *yaml.Node, e *FieldError) {
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.warnings = append(d.warnings, e)
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	nodeDecoderType     = reflect.TypeFor[nodeDecoder]()
)

// resolve follows aliases and unwraps document nodes.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// mappingPairs returns the key/value pairs of a mapping, expanding YAML merge
// keys (`<<: *anchor`); explicit keys win over merged ones.
func mappingPairs(n *yaml.Node) [][2]*yaml.Node {
	pairs := make([][2]*yaml.Node, 0, len(n.Content)/2)
	var merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			for _, src := range mergeSources(resolve(v)) {
				merged = append(merged, mappingPairs(src)...)
			}
			continue
		}
		pairs = append(pairs, [2]*yaml.Node{k, v})
	}
	if len(merged) == 0 {
		return pairs
	}
	seen := make(map[string]bool, len(pairs))
	for _, kv := range pairs {
		seen[kv[0].Value] = true
	}
	for _, kv := range merged {
		if !seen[kv[0].Value] {
			seen[kv[0].Value] = true
			pairs = append(pairs, kv)
		}
	}
	return pairs
}

func mergeSources(v *yaml.Node) []*yaml.Node {
	if v == nil {
		return nil
	}
	if v.Kind == yaml.MappingNode {
		return []*yaml.Node{v}
	}
	var out []*yaml.Node
	if v.Kind == yaml.SequenceNode {
		for _, c := range v.Content {
			if c = resolve(c); c != nil && c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
	}
	return out
}

// lookupKey finds the value of key in a mapping node (exact match).
func lookupKey(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for _, kv := range mappingPairs(n) {
		if kv[0].Value == key {
			return kv[0], resolve(kv[1])
		}
	}
	return nil, nil
}

func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	}
	return "a string"
}

// decode decodes n into v, which must be settable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, p Path) {
	n = resolve(n)
	if n == nil || !d.visit(n, p) {
		return
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		if d.depth == MaxDepth {
			if !d.deep {
				d.deep = true
				d.errorAt(n, Invalid(p, nil, tooDeep))
			}
			return
		}
		d.depth++
		defer func() { d.depth-- }()
	}
	t := v.Type()
	if v.CanAddr() && reflect.PointerTo(t).Implements(nodeDecoderType) {
		v.Addr().Interface().(nodeDecoder).decodeNode(d, n, p)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		fresh := v.IsNil()
		if fresh {
			v.Set(reflect.New(t.Elem()))
		}
		before := len(d.errs)
		d.decode(n, v.Elem(), p)
		if fresh && len(d.errs) > before && n.Kind == yaml.ScalarNode {
			// An unreadable scalar leaves the field unset, not zero.
			v.SetZero()
		}
		return
	case reflect.Interface:
		if fn, ok := interfaceDecoders[t]; ok {
			if isNull(n) {
				v.SetZero()
				return
			}
			if r := fn(d, n, p); r.IsValid() {
				v.Set(r)
			}
			return
		}
		if t.NumMethod() == 0 {
			if g := d.generic(n, p); g != nil {
				v.Set(reflect.ValueOf(g))
			} else {
				v.SetZero()
			}
			return
		}
	}
	if isForeign(t) && v.CanAddr() && reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		d.decodeJSON(n, v, p)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, p)
	case reflect.Map:
		d.decodeMap(n, v, p)
	case reflect.Slice:
		d.decodeSlice(n, v, p)
	case reflect.String:
		if s, ok := d.scalarString(n, p); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if b, ok := d.scalarBool(n, p); ok {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i, ok := d.scalarInt(n, p); ok {
			if v.OverflowInt(i) {
				d.errorAt(n, Invalidf(p, n.Value, "%s is out of range", n.Value))
				return
			}
			v.SetInt(i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if i, ok := d.scalarInt(n, p); ok {
			if i < 0 || v.OverflowUint(uint64(i)) {
				d.errorAt(n, Invalidf(p, n.Value, "%s is out of range", n.Value))
				return
			}
			v.SetUint(uint64(i))
		}
	case reflect.Float32, reflect.Float64:
		if f, ok := d.scalarFloat(n, p); ok {
			v.SetFloat(f)
		}
	default:
		d.errorAt(n, Invalidf(p, nil, "cannot decode into %s", t))
	}
}

func isForeign(t reflect.Type) bool {
	return !strings.HasPrefix(t.PkgPath(), "github.com/plexus-ml/plexus")
}

func isK8s(t reflect.Type) bool {
	return strings.HasPrefix(t.PkgPath(), "k8s.io/")
}

// decodeJSON hands a node to a foreign type's UnmarshalJSON (resource
// quantities, int-or-string, times).
func (d *decoder) decodeJSON(n *yaml.Node, v reflect.Value, p Path) {
	g := d.generic(n, p)
	b, err := json.Marshal(g)
	if err == nil {
		err = v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b)
	}
	if err != nil {
		d.errorAt(n, Invalidf(p, g, "%v", err))
	}
}

// generic decodes a node into plain values: nil, bool, int, float64,
// string, []any and map[string]any. A value nested deeper than MaxDepth
// levels is an error at its path, and decodes to nil.
func (d *decoder) generic(n *yaml.Node, p Path) any {
	deep := false
	v := d.genericAt(n, p, 0, &deep)
	if deep {
		d.errorAt(resolve(n), Invalid(p, nil, tooDeep))
		return nil
	}
	return v
}

// genericAt is generic for a node level mappings and lists inside the
// value; it stops, setting deep, below MaxDepth levels.
func (d *decoder) genericAt(n *yaml.Node, p Path, level int, deep *bool) any {
	n = resolve(n)
	if n == nil || *deep || !d.visit(n, p) {
		return nil
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && level == MaxDepth {
		*deep = true
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for _, kv := range mappingPairs(n) {
			k := kv[0].Value
			if _, dup := m[k]; dup {
				d.errorAt(kv[0], Duplicate(p.Key(k), k, "key appears twice"))
				continue
			}
			m[k] = d.genericAt(kv[1], p.Key(k), level+1, deep)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = d.genericAt(c, p.Index(i), level+1, deep)
		}
		return l
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		b, _ := parseYAMLBool(n.Value)
		return b
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return int(i)
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		return n.Value
	case "!!float":
		f, ok := parseYAMLFloat(n.Value)
		if !ok {
			return n.Value
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorAt(n, Invalidf(p, n.Value, "%s is not a finite number", n.Value))
			return nil
		}
		return f
	}
	return n.Value
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, p Path) {
	et := v.Type().Elem()
	switch {
	case isNull(n):
		v.SetZero()
		return
	case n.Kind == yaml.ScalarNode && et.Kind() == reflect.String:
		// A command or args given as one string is a one-element list, as
		// the reference accepts it.
		s, _ := d.scalarString(n, p)
		l := reflect.MakeSlice(v.Type(), 1, 1)
		l.Index(0).SetString(s)
		v.Set(l)
		return
	case n.Kind == yaml.MappingNode && d.k8sDepth > 0 && derefType(et).Kind() == reflect.Struct:
		// The reference passes nested Kubernetes values through unchecked, so
		// a single object where a list belongs is accepted as a list of one.
		d.warnAt(n, Invalid(p, nil, "expected a list, got a mapping; read as a list of one item"))
		l := reflect.MakeSlice(v.Type(), 1, 1)
		d.decode(n, l.Index(0), p.Index(0))
		v.Set(l)
		return
	case n.Kind != yaml.SequenceNode:
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: "expected a list, got " + nodeKindName(n)})
		return
	}
	if d.ops != nil && n == d.ops.placeholder {
		d.decodeStreamed(d.ops, v, p)
		return
	}
	l := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, l.Index(i), p.Index(i))
	}
	v.Set(l)
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, p Path) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: "expected a mapping, got " + nodeKindName(n)})
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errorAt(n, Invalidf(p, nil, "cannot decode into %s", t))
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	et := t.Elem()
	for _, kv := range mappingPairs(n) {
		k := kv[0].Value
		kp := p.Key(k)
		key := reflect.ValueOf(k).Convert(t.Key())
		if m.MapIndex(key).IsValid() {
			d.errorAt(kv[0], Duplicate(kp, k, "key appears twice"))
			continue
		}
		ev := reflect.New(et).Elem()
		if et.Kind() == reflect.String && !reflect.PointerTo(et).Implements(nodeDecoderType) {
			// Labels, annotations and node selectors: non-string values are
			// written as their JSON text (`gpu: true` is "true").
			ev.SetString(d.stringish(kv[1], kp))
		} else {
			d.decode(kv[1], ev, kp)
		}
		m.SetMapIndex(key, ev)
	}
	v.Set(m)
}

// stringish renders any node as a string: scalars as written, collections
// as JSON.
func (d *decoder) stringish(n *yaml.Node, p Path) string {
	n = resolve(n)
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		s, _ := d.scalarString(n, p)
		return s
	}
	b, _ := json.Marshal(d.generic(n, p))
	return string(b)
}

// structField describes one decodable field of a struct.
type structField struct {
	name     string
	index    []int
	required bool
}

type structInfo struct {
	fields []structField
	byName map[string]int
	// byFold maps a key with underscores removed and lower-cased to a field,
	// for snake_case keys.
	byFold map[string]int
}

var structCache sync.Map // reflect.Type → *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{byName: map[string]int{}, byFold: map[string]int{}}
	collectFields(t, nil, si)
	for i, f := range si.fields {
		si.byName[f.name] = i
		si.byFold[foldKey(f.name)] = i
	}
	structCache.Store(t, si)
	return si
}

func collectFields(t reflect.Type, index []int, si *structInfo) {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := derefType(f.Type)
			if ft.Kind() == reflect.Struct {
				collectFields(ft, idx, si)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		si.fields = append(si.fields, structField{
			name:     name,
			index:    idx,
			required: f.Tag.Get("plexus") == "required",
		})
	}
}

func foldKey(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", ""))
}

// fieldByIndex returns the field at index, allocating embedded pointers.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, p Path) {
	d.decodeStructSkipping(n, v, p, nil)
}

// decodeStructSkipping decodes a mapping into a struct, ignoring the keys in
// skip (already handled by the caller, like a polymorphic section's kind).
func (d *decoder) decodeStructSkipping(n *yaml.Node, v reflect.Value, p Path, skip map[string]bool) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: "expected a mapping, got " + nodeKindName(n)})
		return
	}
	t := v.Type()
	si := infoOf(t)
	k8s := isK8s(t)
	if k8s {
		d.k8sDepth++
		defer func() { d.k8sDepth-- }()
	}
	seen := make(map[int]*yaml.Node, len(n.Content)/2)
	for _, kv := range mappingPairs(n) {
		k := kv[0].Value
		if skip[k] {
			continue
		}
		i, ok := si.byName[k]
		if !ok && k8s && strings.Contains(k, "_") {
			// Kubernetes keys may be written in snake_case, as the reference
			// accepts them.
			i, ok = si.byFold[foldKey(k)]
		}
		if !ok {
			d.unknownField(kv[0], p, k, si, k8s, t)
			continue
		}
		f := si.fields[i]
		if prev, dup := seen[i]; dup {
			e := Duplicate(p.Child(f.name), k, fmt.Sprintf("the field is already set on line %d", prev.Line))
			d.errorAt(kv[0], e)
			continue
		}
		seen[i] = kv[0]
		d.decode(kv[1], fieldByIndex(v, f.index), p.Child(f.name))
	}
	for i, f := range si.fields {
		if f.required && seen[i] == nil {
			d.errorAt(n, Required(p.Child(f.name), fmt.Sprintf("`%s` is required", f.name)))
		}
	}
}

// kindOf reads the `kind` key of a polymorphic section.
func (d *decoder) kindOf(n *yaml.Node, p Path) (string, *yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: "expected a mapping, got " + nodeKindName(n)})
		return "", nil, false
	}
	kn, kv := lookupKey(n, "kind")
	if kn == nil || isNull(kv) {
		return "", n, true
	}
	if kv.Kind != yaml.ScalarNode {
		d.errorAt(kv, &FieldError{Path: p.Child("kind"), Type: ErrType, Detail: "expected a string, got " + nodeKindName(kv)})
		return "", nil, false
	}
	return kv.Value, kv, true
}

// Unmarshal decodes YAML or JSON into a spec value (a *Component, an
// *Init, ...) strictly, as Parse decodes files: unknown keys are errors
// with their path. It does not validate.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("specs: Unmarshal needs a non-nil pointer, got %T", v)
	}
	// A stored dag of many operations is decoded without the node tree
	// of all of them at once (stream.go).
	if skeleton, ops := splitJSONOperations(data); ops != nil {
		if err, ok := unmarshal(skeleton, rv, ops); ok {
			return err
		}
		rv.Elem().SetZero()
	}
	err, _ := unmarshal(data, rv, nil)
	return err
}

// Check reports what Unmarshal would of data decoded into v, without
// keeping what it decodes: a large list of operations is decoded an item
// at a time, each dropped (v is left without them). It checks that a
// record reads back without holding a second copy of it.
func Check(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("specs: Check needs a non-nil pointer, got %T", v)
	}
	if skeleton, ops := splitJSONOperations(data); ops != nil {
		ops.discard = true
		if err, ok := unmarshal(skeleton, rv, ops); ok {
			return err
		}
		rv.Elem().SetZero()
	}
	err, _ := unmarshal(data, rv, nil)
	return err
}

// unmarshal decodes data into rv; with ops, data is a skeleton whose
// list ops streams, and ok is false when that did not hold.
func unmarshal(data []byte, rv reflect.Value, ops *streamedOps) (err error, ok bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return syntaxError("", data, err), ops == nil
	}
	root := resolve(&doc)
	if root == nil {
		return nil, ops == nil
	}
	if ops != nil {
		if ops.placeholder = ops.markerIn(root); ops.placeholder == nil {
			return nil, false
		}
	}
	d := &decoder{maxVisits: visitBudget(root), ops: ops}
	d.decode(root, rv.Elem(), "")
	if ops != nil && (!ops.decoded || ops.failed) {
		return nil, false
	}
	return d.errs.Err(), true
}
