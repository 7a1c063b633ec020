package specs

// How a large list of operations is read without holding the YAML node
// tree of the whole file: a Polyaxonfile of 100,000 operations is a few
// MiB of text but a node tree of hundreds of MiB. When one block list of
// `operations` is large, the document is parsed without its items (a
// skeleton, where the list's lines are blank and the key says `[]`), and
// the items are parsed and decoded a chunk at a time where the list is
// decoded, each chunk's tree dropped once decoded. Lines and columns stay
// those of the file: the skeleton keeps every line, and a chunk's nodes
// are moved down to where the chunk starts. An error found later (by
// validation, or by Locate's callers) inside an item is located by parsing
// that item's chunk again.
//
// The split is made on the text, so it is taken only where it is sure to
// read what the whole parse would: one document, no tabs in the list's
// indentation, no anchors or aliases in it, items that start at one
// indentation with "- ". Anything else, or a chunk that does not parse,
// is read the usual way.

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// streamMin is how much text a list of operations holds before it is
// read a chunk at a time.
const streamMin = 256 << 10

// chunkBytes is about how much text one chunk of items holds.
const chunkBytes = 256 << 10

// streamedOps is a list of operations read a chunk at a time.
type streamedOps struct {
	data []byte
	// placeholder is the skeleton's node for the list (`[]`), where the
	// decoder reads the chunks instead.
	placeholder *yaml.Node
	line        int // the line of the list's key
	chunks      []opsChunk
	count       int
	// json says the items are JSON values separated by commas: a chunk
	// is read inside brackets.
	json bool
	// discard says the items are decoded to be checked, not kept.
	discard bool
	// path is where the list was decoded (set when it was); failed says
	// a chunk did not parse as the split expected.
	path    Path
	decoded bool
	failed  bool
	// last is the chunk located in last, kept for the next error, which
	// is most often in the same chunk.
	mu   sync.Mutex
	last struct {
		first int
		seq   *yaml.Node
	}
}

// opsChunk is some consecutive items of the list: the text from start to
// end (whole lines), the first item's index, how many, and the line the
// text starts at.
type opsChunk struct {
	start, end int
	first, n   int
	line       int
}

// opsKeys finds the lines `operations:` (indented by spaces, nothing
// after but spaces or a comment): for each, the offsets of the line's
// start and of the key's end (before its newline), and its indentation.
func opsKeys(data []byte) [][3]int {
	var out [][3]int
	key := []byte("operations:")
	for from := 0; ; {
		i := bytes.Index(data[from:], key)
		if i < 0 {
			return out
		}
		at := from + i
		from = at + len(key)
		start := bytes.LastIndexByte(data[:at], '\n') + 1
		if len(bytes.TrimLeft(data[start:at], " ")) != 0 {
			continue
		}
		end := bytes.IndexByte(data[from:], '\n')
		if end < 0 {
			continue
		}
		after := data[from : from+end]
		if rest := bytes.TrimLeft(after, " "); len(rest) > 0 && (rest[0] != '#' || len(rest) == len(after)) {
			continue // a value on the line, or `operations:#...`, a plain scalar
		}
		out = append(out, [3]int{start, from + end, at - start})
	}
}

// documents says whether data holds more than one document, or ends
// one with a marker: a line starting `---` anywhere but at the start, or
// `...`.
func documents(data []byte) bool {
	for _, m := range [][]byte{[]byte("\n---"), []byte("\n..."), []byte("...")} {
		for from := 0; ; {
			i := bytes.Index(data[from:], m)
			if i < 0 {
				break
			}
			at := from + i + len(m)
			from = at
			if m[0] == '.' && from-len(m) != 0 {
				continue // "..." only counts at the start of a line: "\n..." finds the others
			}
			if at == len(data) || data[at] == ' ' || data[at] == '\t' || data[at] == '\n' || data[at] == '\r' {
				return true
			}
		}
	}
	return false
}

// anchorLike says whether text may hold a YAML anchor, alias, tag or
// merge key: one of & * ! < after a space or a flow indicator (or at
// the start), followed by something other than a space.
func anchorLike(text []byte) bool {
	for i, c := range text {
		if c != '&' && c != '*' && c != '!' && c != '<' {
			continue
		}
		if i > 0 {
			switch text[i-1] {
			case ' ', '\t', '\n', '[', '{', ',':
			default:
				continue
			}
		}
		if i+1 < len(text) && text[i+1] != ' ' && text[i+1] != '\t' && text[i+1] != '\n' && text[i+1] != '\r' {
			return true
		}
	}
	return false
}

// splitOperations finds the largest block list of operations in data and,
// when it is large enough and safe to split, returns the skeleton and the
// list's chunks.
func splitOperations(data []byte) ([]byte, *streamedOps) {
	if len(data) < streamMin || bytes.IndexByte(data, '\r') >= 0 {
		return nil, nil
	}
	if documents(data) {
		return nil, nil // several documents, or an end marker
	}
	var best *streamedOps
	var bestKey [2]int
	for _, m := range opsKeys(data) {
		s := scanItems(data, m[1], m[2])
		if s != nil && (best == nil || s.chunks[len(s.chunks)-1].end-s.chunks[0].start > best.chunks[len(best.chunks)-1].end-best.chunks[0].start) {
			best, bestKey = s, [2]int{m[0], m[1]}
			best.line = 1 + bytes.Count(data[:m[0]], []byte("\n"))
		}
	}
	if best == nil {
		return nil, nil
	}
	from, to := best.chunks[0].start, best.chunks[len(best.chunks)-1].end
	if to-from < streamMin || anchorLike(data[from:to]) {
		return nil, nil
	}
	// The skeleton: the key says `[]`, the items' lines are blank.
	skeleton := make([]byte, 0, len(data)-(to-from)+bytes.Count(data[from:to], []byte("\n")))
	skeleton = append(skeleton, data[:bestKey[0]]...)
	key := data[bestKey[0]:bestKey[1]]
	if i := bytes.IndexByte(key, '#'); i >= 0 {
		key = key[:i]
	}
	skeleton = append(skeleton, bytes.TrimRight(key, " ")...)
	skeleton = append(skeleton, " []"...)
	skeleton = append(skeleton, data[bestKey[1]:from]...)
	skeleton = append(skeleton, bytes.Repeat([]byte("\n"), bytes.Count(data[from:to], []byte("\n")))...)
	skeleton = append(skeleton, data[to:]...)
	best.data = data
	return skeleton, best
}

// scanItems reads the block list that follows the key `operations:`
// ending at offset at, the key indented by indent: its items' lines, cut
// into chunks. It returns nil for anything but a plain block list.
func scanItems(data []byte, at, indent int) *streamedOps {
	s := &streamedOps{}
	pos := at
	if pos < len(data) && data[pos] == '\n' {
		pos++
	}
	itemIndent := -1
	var cur *opsChunk
	lineNo := 1 + bytes.Count(data[:pos], []byte("\n"))
	end := pos // the end of the last item's last line with content
	for pos < len(data) {
		next := bytes.IndexByte(data[pos:], '\n')
		lineEnd := len(data)
		if next >= 0 {
			lineEnd = pos + next + 1
		}
		line := data[pos:lineEnd]
		trimmed := bytes.TrimLeft(line, " ")
		ind := len(line) - len(trimmed)
		content := bytes.TrimRight(trimmed, " \n")
		switch {
		case len(content) == 0 || content[0] == '#':
			// Blank or a comment: inside the list if more items follow.
		case bytes.HasPrefix(trimmed, []byte("\t")):
			return nil
		case itemIndent < 0:
			if ind < indent || !isItemStart(content) {
				return nil
			}
			itemIndent = ind
			fallthrough
		case ind == itemIndent && isItemStart(content):
			if cur == nil || end-cur.start >= chunkBytes {
				if cur != nil {
					cur.end = end
					s.chunks = append(s.chunks, *cur)
				}
				cur = &opsChunk{start: pos, first: s.count, line: lineNo}
			}
			cur.n++
			s.count++
			end = lineEnd
		case ind > itemIndent:
			end = lineEnd
		default:
			// The list ended.
			pos = len(data)
			continue
		}
		pos = lineEnd
		lineNo++
	}
	if cur == nil {
		return nil
	}
	if data[end-1] != '\n' {
		return nil // the last line has no newline: keep the split simple
	}
	cur.end = end
	s.chunks = append(s.chunks, *cur)
	return s
}

// isItemStart says whether a line's content starts a list item.
func isItemStart(content []byte) bool {
	return len(content) == 1 && content[0] == '-' || bytes.HasPrefix(content, []byte("- "))
}

// parseChunk parses a chunk's items, their lines those of the file.
func (s *streamedOps) parseChunk(c opsChunk) (*yaml.Node, bool) {
	text := s.data[c.start:c.end]
	if s.json {
		text = append(append([]byte("["), text...), ']')
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, false
	}
	seq := resolve(&doc)
	if seq == nil || seq.Kind != yaml.SequenceNode || len(seq.Content) != c.n {
		return nil, false
	}
	shiftLines(seq, c.line-1)
	return seq, true
}

// shiftLines moves a tree's lines down by n.
func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// decodeStreamed decodes the list's items into v (a slice) at p, a chunk
// at a time.
func (d *decoder) decodeStreamed(s *streamedOps, v reflect.Value, p Path) {
	s.decoded, s.path = true, p
	var l, one reflect.Value
	if s.discard {
		one = reflect.New(v.Type().Elem()).Elem()
	} else {
		l = reflect.MakeSlice(v.Type(), s.count, s.count)
	}
	for _, c := range s.chunks {
		seq, ok := s.parseChunk(c)
		if !ok {
			s.failed = true
			return
		}
		d.maxVisits += visitBudget(seq)
		for i, item := range seq.Content {
			if s.discard {
				one.SetZero()
				d.decode(item, one, p.Index(c.first+i))
				continue
			}
			d.decode(item, l.Index(c.first+i), p.Index(c.first+i))
		}
	}
	if !s.discard {
		v.Set(l)
	}
}

// placeholderIn finds the skeleton's node for the list: the value of the
// key `operations` on the list's line.
func (s *streamedOps) placeholderIn(root *yaml.Node) *yaml.Node {
	return findNode(root, func(n *yaml.Node) *yaml.Node {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == s.line && k.Value == "operations" && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				return v
			}
		}
		return nil
	})
}

// findNode is the first node of a tree, depth first, for which match
// returns a node: that node.
func findNode(n *yaml.Node, match func(*yaml.Node) *yaml.Node) *yaml.Node {
	if found := match(n); found != nil {
		return found
	}
	for _, c := range n.Content {
		if found := findNode(c, match); found != nil {
			return found
		}
	}
	return nil
}

// locate finds the node an error's path names when it is inside the
// list's items, parsing the item's chunk again; ok is false for a path
// outside them.
func (s *streamedOps) locate(p Path) (n *yaml.Node, exact, ok bool) {
	if s == nil || !s.decoded || !strings.HasPrefix(string(p), string(s.path)+"[") {
		return nil, false, false
	}
	rest := string(p)[len(s.path):]
	end := strings.IndexByte(rest, ']')
	k, err := strconv.Atoi(rest[1:max(end, 1)])
	if end < 0 || err != nil || k < 0 || k >= s.count {
		return nil, false, false
	}
	for _, c := range s.chunks {
		if k < c.first || k >= c.first+c.n {
			continue
		}
		s.mu.Lock()
		seq := s.last.seq
		if seq == nil || s.last.first != c.first {
			var parsed bool
			if seq, parsed = s.parseChunk(c); !parsed {
				s.mu.Unlock()
				return nil, false, false
			}
			s.last.first, s.last.seq = c.first, seq
		}
		s.mu.Unlock()
		n, exact = nodeAt(seq, Path("["+strconv.Itoa(k-c.first)+"]"+rest[end+1:]))
		return n, exact, true
	}
	return nil, false, false
}

// jsonMarker stands for a JSON list of operations in its skeleton.
const jsonMarker = "plexus:streamed-operations"

// splitJSONOperations is splitOperations for a JSON document: the items
// of its largest list under a key `operations`, found by reading the
// document's tokens, and the skeleton with the list replaced by a marker.
func splitJSONOperations(data []byte) ([]byte, *streamedOps) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(data) < streamMin || len(trimmed) == 0 || trimmed[0] != '{' || bytes.Contains(data, []byte(jsonMarker)) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var best *streamedOps
	var bestFrom, bestTo int
	var value func(key string) bool
	value = func(key string) bool {
		at := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		d, ok := tok.(json.Delim)
		switch {
		case !ok:
			return true
		case d == '[' && key == "operations":
			s := &streamedOps{json: true}
			var cur *opsChunk
			for dec.More() {
				var raw json.RawMessage
				if dec.Decode(&raw) != nil {
					return false
				}
				end := int(dec.InputOffset())
				start := end - len(raw)
				if cur == nil || end-cur.start >= chunkBytes {
					if cur != nil {
						s.chunks = append(s.chunks, *cur)
					}
					cur = &opsChunk{start: start, first: s.count, line: 1}
				}
				cur.end = end
				cur.n++
				s.count++
			}
			if _, err := dec.Token(); err != nil {
				return false
			}
			if cur != nil {
				s.chunks = append(s.chunks, *cur)
				from := bytes.IndexByte(data[at:], '[') + int(at)
				if best == nil || s.chunks[len(s.chunks)-1].end-s.chunks[0].start > best.chunks[len(best.chunks)-1].end-best.chunks[0].start {
					best, bestFrom, bestTo = s, from, int(dec.InputOffset())
				}
			}
			return true
		case d == '[':
			for dec.More() {
				if !value("") {
					return false
				}
			}
		default:
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				ks, _ := k.(string)
				if !value(ks) {
					return false
				}
			}
		}
		_, err = dec.Token()
		return err == nil
	}
	if !value("") || best == nil || best.chunks[len(best.chunks)-1].end-best.chunks[0].start < streamMin {
		return nil, nil
	}
	skeleton := make([]byte, 0, len(data)-(bestTo-bestFrom)+len(jsonMarker)+4)
	skeleton = append(skeleton, data[:bestFrom]...)
	skeleton = append(skeleton, `["`+jsonMarker+`"]`...)
	skeleton = append(skeleton, data[bestTo:]...)
	best.data = data
	return skeleton, best
}

// markerIn finds the skeleton's node for a JSON list: the list holding
// only the marker.
func (s *streamedOps) markerIn(root *yaml.Node) *yaml.Node {
	return findNode(root, func(n *yaml.Node) *yaml.Node {
		if n.Kind == yaml.SequenceNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Value == jsonMarker {
			return n
		}
		return nil
	})
}
