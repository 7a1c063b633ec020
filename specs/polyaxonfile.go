package specs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is one Polyaxonfile document, parsed and validated. Exactly one of
// Component and Operation is set, unless the document's kind was missing
// or unknown (then Errors says so).
type File struct {
	// Source names where the document came from (a path, or "-").
	Source string
	// Index is the document's position in a multi-document source.
	Index     int
	Component *Component
	Operation *Operation
	// Errors are the document's problems; a valid document has none.
	Errors ErrorList
	// Warnings are problems that do not make the file invalid, such as
	// Kubernetes fields that Kubernetes will ignore.
	Warnings ErrorList

	root *yaml.Node
	// stream, when set, is the list of operations read a chunk at a
	// time (stream.go): root is the skeleton without its items.
	stream *streamedOps
}

// Locate fills in the line and column of errors found after parsing (for
// example by CheckParams) from the document's source.
func (f *File) Locate(errs ErrorList) ErrorList {
	for _, e := range errs {
		e.Source = f.Source
		if e.Line == 0 && f.root != nil {
			n, exact := f.nodeAt(e.Path)
			if !exact && e.at != "" {
				n, exact = f.nodeAt(e.at)
			}
			if !exact && n == f.root && len(splitPath(string(e.Path))) > 1 {
				// Nothing closer than the whole document for a nested
				// path: the value came from elsewhere (the command line),
				// so no line applies.
				n = nil
			}
			if n != nil {
				e.Line, e.Column = n.Line, n.Column
			}
		}
	}
	return errs
}

// nodeAt finds the node a path names, or its deepest existing ancestor,
// in the document or in the items of its streamed list.
func (f *File) nodeAt(p Path) (*yaml.Node, bool) {
	if n, exact, ok := f.stream.locate(p); ok {
		return n, exact
	}
	return nodeAt(f.root, p)
}

// Kind returns the document's kind.
func (f *File) Kind() Kind {
	if f.Component != nil {
		return KindComponent
	}
	return KindOperation
}

// Spec returns the parsed component or operation (nil when the kind was
// unreadable).
func (f *File) Spec() any {
	if f.Component != nil {
		return f.Component
	}
	if f.Operation != nil {
		return f.Operation
	}
	return nil
}

// sections are the top-level keys any v1.1 Polyaxonfile may hold.
var sections = []string{"version", "kind", "name", "cost", "description", "tags", "isApproved", "params",
	"isPreset", "presets", "patchStrategy", "template", "cache", "queue", "plugins", "build", "hooks",
	"events", "termination", "connections", "matrix", "joins", "operations", "schedule", "dependencies",
	"trigger", "conditions", "skipOnUpstreamSkip", "hubRef", "dagRef", "pathRef", "urlRef", "component",
	"inputs", "outputs", "contexts", "run", "runPatch"}

// legacySections explain pre-1.1 layouts.
var legacySections = map[string]string{
	"environment":  "it belongs under `run` in v1.1",
	"parallel":     "v1.1 calls it `matrix`",
	"declarations": "v1.1 declares `inputs` and passes `params`",
	"settings":     "it was removed in v1.1",
	"ports":        "it belongs under `run` (a service) in v1.1",
	"secrets":      "reference them from `run.container` or `run.environment` in v1.1",
}

// ParseFile reads and parses the Polyaxonfile at path.
func ParseFile(path string) ([]*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading Polyaxonfile: %w", err)
	}
	return Parse(path, data)
}

// ParseReader reads r to its end and parses it.
func ParseReader(source string, r io.Reader) ([]*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return Parse(source, data)
}

// Parse decodes one or several YAML or JSON documents strictly and
// validates each. Every problem of every document is returned at once as an
// ErrorList; each names its path and, where known, its line. Every document
// that could be read is returned, valid or not: File.Errors says which.
func Parse(source string, data []byte) ([]*File, error) {
	return parse(source, data, false)
}

// ParsePresets parses documents that are presets whether or not they say
// `isPreset: true`, as the reference reads every `-f` file after the
// first: they need no version or kind, and hold no component or reference.
func ParsePresets(source string, data []byte) ([]*File, error) {
	return parse(source, data, true)
}

func parse(source string, data []byte, presets bool) ([]*File, error) {
	if skeleton, ops := splitOperations(data); ops != nil {
		if files, err, ok := parseStreamed(source, skeleton, ops, presets); ok {
			return files, err
		}
	}
	return parseWhole(source, data, presets)
}

// parseWhole parses every document of data from its whole node tree.
func parseWhole(source string, data []byte, presets bool) ([]*File, error) {
	var files []*File
	var errs ErrorList
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for index := 0; ; {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, syntaxError(source, data, err))
			break
		}
		root := resolve(&doc)
		if root == nil || isNull(root) {
			continue
		}
		f, ferrs := parseDocument(source, index, root, presets, nil)
		index++
		errs = append(errs, f.settle(ferrs)...)
		files = append(files, f)
	}
	errs.Sort()
	if len(files) == 0 && len(errs) == 0 {
		errs = append(errs, &FieldError{Source: source, Type: ErrRequired, Detail: "no Polyaxonfile found: the input is empty"})
	}
	return files, errs.Err()
}

// parseStreamed parses a one-document file whose large list of
// operations is read a chunk at a time; ok is false when the split did
// not hold (the file is then parsed whole).
func parseStreamed(source string, skeleton []byte, ops *streamedOps, presets bool) (files []*File, err error, ok bool) {
	var doc yaml.Node
	if yaml.Unmarshal(skeleton, &doc) != nil {
		return nil, nil, false
	}
	root := resolve(&doc)
	if root == nil || isNull(root) {
		return nil, nil, false
	}
	if ops.placeholder = ops.placeholderIn(root); ops.placeholder == nil {
		return nil, nil, false
	}
	f, ferrs := parseDocument(source, 0, root, presets, ops)
	if !ops.decoded || ops.failed {
		return nil, nil, false
	}
	ops.last.seq = nil // a chunk's tree is not kept with the file
	errs := f.settle(ferrs)
	errs.Sort()
	return []*File{f}, errs.Err(), true
}

// settle records a parsed document's errors, each naming the source.
func (f *File) settle(errs ErrorList) ErrorList {
	for _, e := range errs {
		e.Source = f.Source
	}
	for _, w := range f.Warnings {
		w.Source = f.Source
	}
	f.Errors = errs
	return errs
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func syntaxError(source string, data []byte, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg[len(m[0]):], ": ")
	}
	return &FieldError{Source: source, Type: ErrInvalid, Detail: "invalid YAML: " + msg, Line: problemLine(data, line)}
}

// problemLine finds the line a YAML syntax error is on. The parser names
// the line where the enclosing block starts; the problem is on the first
// line at or after it such that the text up to it no longer parses.
func problemLine(data []byte, reported int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	start := max(reported-1, 1)
	for k := start; k <= len(lines) && k < start+500; k++ {
		if !parses(bytes.Join(lines[:k], nil)) {
			return k
		}
	}
	return reported
}

func parses(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return false
		}
	}
}

func parseDocument(source string, index int, root *yaml.Node, preset bool, ops *streamedOps) (*File, ErrorList) {
	f := &File{Source: source, Index: index, root: root, stream: ops}
	d := &decoder{maxVisits: visitBudget(root), ops: ops}
	if root.Kind != yaml.MappingNode {
		d.errorAt(root, Invalid("", nil, "a Polyaxonfile is a mapping with version, kind and the sections of its kind, got "+nodeKindName(root)))
		return f, d.errs
	}
	isPreset := preset
	if _, v := lookupKey(root, "isPreset"); v != nil && v.Kind == yaml.ScalarNode && !preset {
		isPreset, _ = parseYAMLBool(v.Value)
	}
	kind, kindNode, _ := d.kindOf(root, "")
	var target reflect.Value
	switch Kind(kind) {
	case KindComponent:
		f.Component = &Component{}
		target = reflect.ValueOf(f.Component).Elem()
	case KindOperation:
		f.Operation = &Operation{}
		target = reflect.ValueOf(f.Operation).Elem()
	case "":
		if !isPreset {
			d.errorAt(root, Required("kind", "the Polyaxonfile `kind` must be specified: component or operation"))
			return f, d.errs
		}
		f.Operation = &Operation{}
		target = reflect.ValueOf(f.Operation).Elem()
	default:
		d.errorAt(kindNode, NotSupported("kind", kind, []Kind{KindComponent, KindOperation}))
		return f, d.errs
	}
	skip := map[string]bool{}
	si := infoOf(target.Type())
	for _, kv := range mappingPairs(root) {
		k := kv[0].Value
		if _, ok := si.byName[k]; ok {
			continue
		}
		switch {
		case slices.Contains(sections, k):
			d.errorAt(kv[0], &FieldError{Path: Path("").Key(k), Type: ErrUnknownField, BadValue: k,
				Detail: fmt.Sprintf("section `%s` does not belong in %s", k, article(strings.ToLower(target.Type().Name())))})
		case legacySections[k] != "":
			d.errorAt(kv[0], &FieldError{Path: Path("").Key(k), Type: ErrUnknownField, BadValue: k,
				Detail: fmt.Sprintf("unexpected section `%s` in a v1.1 Polyaxonfile: %s", k, legacySections[k])})
		default:
			continue // the struct decoder reports it, with a suggestion
		}
		skip[k] = true
	}
	d.decodeStructSkipping(root, target, "", skip)
	if preset {
		if f.Operation == nil {
			d.errorAt(root, Invalid("kind", KindComponent, "a preset is an operation, not a component"))
			return f, d.errs
		}
		f.Operation.IsPreset = true
	}
	var verrs ErrorList
	if f.Component != nil {
		verrs = f.Component.validate("", true, vctx{})
	} else {
		verrs = f.Operation.validate("", true, nil)
	}
	f.Warnings = d.warnings
	f.Locate(verrs)
	return f, dedupe(append(d.errs, dropShadowed(verrs, d.errs)...))
}

// dropShadowed drops validation errors at or below a path where decoding
// already reported a problem: a value that could not be read is left empty,
// and "required" or "must be at least 1" about it would be noise. So is
// "required" about a section decoding found broken inside.
func dropShadowed(verrs, decodeErrs ErrorList) ErrorList {
	out := verrs[:0]
	for _, v := range verrs {
		shadowed := false
		for _, d := range decodeErrs {
			// At or inside what could not be read; or "missing" about
			// something that is there but broken.
			if under(v.Path, d.Path) || v.Type == ErrRequired && under(d.Path, v.Path) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			out = append(out, v)
		}
	}
	return out
}

// under reports whether p is q or inside it.
func under(p, q Path) bool {
	if !strings.HasPrefix(string(p), string(q)) {
		return false
	}
	return len(p) == len(q) || q == "" || p[len(q)] == '.' || p[len(q)] == '['
}

// dedupe drops an error whose path and type an earlier one already has:
// the decoder and the validator may both see a missing required field.
func dedupe(errs ErrorList) ErrorList {
	type key struct {
		p Path
		t ErrorType
	}
	seen := map[key]bool{}
	out := errs[:0]
	for _, e := range errs {
		k := key{e.Path, e.Type}
		if e.Type == ErrRequired && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}

// nodeAt finds the node a path names, or its deepest existing ancestor;
// exact says which.
func nodeAt(root *yaml.Node, p Path) (n *yaml.Node, exact bool) {
	n = root
	for _, seg := range splitPath(string(p)) {
		n = resolve(n)
		if n == nil {
			return nil, false
		}
		switch {
		case seg.index >= 0 && n.Kind == yaml.SequenceNode:
			if seg.index >= len(n.Content) {
				return n, false
			}
			n = n.Content[seg.index]
		case seg.index >= 0:
			// A single mapping read as a list of one.
		case n.Kind == yaml.MappingNode:
			var next *yaml.Node
			for _, kv := range mappingPairs(n) {
				if kv[0].Value == seg.name || foldKey(kv[0].Value) == foldKey(seg.name) {
					next = kv[1]
					if kv[0].Value == seg.name {
						break
					}
				}
			}
			if next == nil {
				return n, false
			}
			n = next
		default:
			return n, false
		}
	}
	return n, true
}

type pathSeg struct {
	name  string
	index int
}

func splitPath(p string) []pathSeg {
	var segs []pathSeg
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return segs
			}
			inner := p[i+1 : i+end]
			if strings.HasPrefix(inner, `"`) {
				// A quoted key may hold ']'; find the closing quote.
				if s, rest, err := unquotePrefix(p[i+1:]); err == nil && strings.HasPrefix(rest, "]") {
					segs = append(segs, pathSeg{name: s, index: -1})
					i = len(p) - len(rest) + 1
					continue
				}
			}
			n, err := strconv.Atoi(inner)
			if err != nil {
				n = -1
			}
			segs = append(segs, pathSeg{index: n, name: inner})
			i += end + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			segs = append(segs, pathSeg{name: p[i:j], index: -1})
			i = j
		}
	}
	return segs
}

func unquotePrefix(s string) (string, string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, err
	}
	u, err := strconv.Unquote(q)
	return u, s[len(q):], err
}

// MarshalYAML renders a spec (a *Component, *Operation or any part of one)
// as YAML, with keys in the order the Go types declare them (version and
// kind first), not sorted.
func MarshalYAML(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	n, err := jsonToNode(dec)
	if err != nil {
		return nil, fmt.Errorf("converting to YAML: %w", err)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// jsonToNode reads one JSON value into a YAML node, keeping key order.
func jsonToNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t == '{' {
			n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			c, err := jsonToNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// MarshalJSON renders a spec as indented JSON.
func MarshalJSON(v any) ([]byte, error) {
	return json.MarshalIndent(v, "", "  ")
}

// WalkOperations calls fn for the document's operation (if it is one) and
// for every operation of every dag inside it, depth first, with its path.
func (f *File) WalkOperations(fn func(p Path, op *Operation)) {
	if f.Operation != nil {
		walkOperation("", f.Operation, fn)
	} else if f.Component != nil {
		walkComponent("", f.Component, fn)
	}
}

func walkOperation(p Path, op *Operation, fn func(Path, *Operation)) {
	fn(p, op)
	if op.Component != nil {
		walkComponent(p.Child("component"), op.Component, fn)
	}
}

func walkComponent(p Path, c *Component, fn func(Path, *Operation)) {
	g, ok := c.Run.(*DAG)
	if !ok {
		return
	}
	rp := p.Child("run")
	for i := range g.Operations {
		walkOperation(rp.Child("operations").Index(i), &g.Operations[i], fn)
	}
	for i := range g.Components {
		walkComponent(rp.Child("components").Index(i), &g.Components[i], fn)
	}
}

// article prefixes a noun with "a" or "an".
func article(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
