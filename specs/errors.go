package specs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Path is the location of a field in a Polyaxonfile, rendered the way users
// read it: `run.operations[2].matrix.params.lr`. The zero value is the root.
type Path string

// Child returns the path of the named field under p.
func (p Path) Child(name string) Path {
	if p == "" {
		return Path(name)
	}
	return p + "." + Path(name)
}

// Index returns the path of the i-th element of the list at p.
func (p Path) Index(i int) Path {
	return p + Path("["+strconv.Itoa(i)+"]")
}

// Key returns the path of a map entry under p. Keys that are plain
// identifiers are joined with a dot; others are quoted in brackets.
func (p Path) Key(k string) Path {
	if isPlainKey(k) {
		return p.Child(k)
	}
	return p + Path("["+strconv.Quote(k)+"]")
}

func (p Path) String() string { return string(p) }

func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// ErrorType says what kind of problem a FieldError reports.
type ErrorType string

// The kinds of field errors.
const (
	ErrRequired     ErrorType = "Required value"
	ErrInvalid      ErrorType = "Invalid value"
	ErrNotSupported ErrorType = "Unsupported value"
	ErrUnknownField ErrorType = "Unknown field"
	ErrDuplicate    ErrorType = "Duplicate value"
	ErrForbidden    ErrorType = "Forbidden"
	ErrType         ErrorType = "Wrong type"
)

// FieldError is one problem found in a Polyaxonfile, with the path of the
// field and, when the input was YAML or JSON text, where it is in the source.
type FieldError struct {
	Path     Path      `json:"path"`
	Type     ErrorType `json:"type"`
	BadValue any       `json:"badValue,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Source is the file the error was found in, when known.
	Source string `json:"source,omitempty"`
	// Line and Column are 1-based positions in Source; 0 when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`

	// at, when set, is where the source line is taken from instead of
	// Path (a missing param is reported where its input is declared).
	at Path
}

// Error renders `path: message (line N)`.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(string(e.Path))
		b.WriteString(": ")
	}
	b.WriteString(e.Message())
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Message is the error without its path and position.
func (e *FieldError) Message() string {
	switch e.Type {
	case ErrRequired, ErrForbidden:
		if e.Detail != "" {
			return e.Detail
		}
		return string(e.Type)
	case ErrNotSupported:
		s := fmt.Sprintf("unsupported value %s", renderValue(e.BadValue))
		if e.Detail != "" {
			s += ": " + e.Detail
		}
		return s
	case ErrDuplicate:
		s := fmt.Sprintf("duplicate value %s", renderValue(e.BadValue))
		if e.Detail != "" {
			s += ": " + e.Detail
		}
		return s
	default:
		if e.Detail != "" {
			return e.Detail
		}
		return fmt.Sprintf("%s: %s", e.Type, renderValue(e.BadValue))
	}
}

func renderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Required reports a missing field.
func Required(p Path, detail string) *FieldError {
	if detail == "" {
		detail = "required value"
	}
	return &FieldError{Path: p, Type: ErrRequired, Detail: detail}
}

// Invalid reports a value that breaks a rule the detail describes.
func Invalid(p Path, value any, detail string) *FieldError {
	return &FieldError{Path: p, Type: ErrInvalid, BadValue: value, Detail: detail}
}

// Invalidf is Invalid with a formatted detail.
func Invalidf(p Path, value any, format string, args ...any) *FieldError {
	return Invalid(p, value, fmt.Sprintf(format, args...))
}

// NotSupported reports a value outside an enumeration, suggesting the
// nearest valid value when one is close.
func NotSupported[T ~string](p Path, value any, valid []T) *FieldError {
	q := make([]string, len(valid))
	for i, v := range valid {
		q[i] = strconv.Quote(string(v))
	}
	detail := "must be one of " + strings.Join(q, ", ")
	if s, ok := value.(string); ok && s != "" {
		best, bestD := "", max(1, len(s)/3)+1
		for _, v := range valid {
			if d := levenshtein(strings.ToLower(s), strings.ToLower(string(v))); d < bestD {
				best, bestD = string(v), d
			}
		}
		if best != "" {
			detail += fmt.Sprintf("; did you mean %q?", best)
		}
	}
	return &FieldError{Path: p, Type: ErrNotSupported, BadValue: value, Detail: detail}
}

// Duplicate reports a value that must be unique.
func Duplicate(p Path, value any, detail string) *FieldError {
	return &FieldError{Path: p, Type: ErrDuplicate, BadValue: value, Detail: detail}
}

// Forbidden reports a field that must not be set here.
func Forbidden(p Path, detail string) *FieldError {
	return &FieldError{Path: p, Type: ErrForbidden, Detail: detail}
}

// ErrorList is every problem found in one pass. It is an error when non-empty.
type ErrorList []*FieldError

// Error renders one problem per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap lets errors.As find a *FieldError in the list.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Sort orders the list by source, then line, then path, for stable output.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Line != b.Line {
			if a.Line == 0 || b.Line == 0 {
				return b.Line == 0
			}
			return a.Line < b.Line
		}
		return a.Path < b.Path
	})
}

// Prefixed returns a copy of l whose paths are under p.
func (l ErrorList) Prefixed(p Path) ErrorList {
	out := make(ErrorList, len(l))
	for i, e := range l {
		c := *e
		switch {
		case c.Path == "":
			c.Path = p
		case p != "" && strings.HasPrefix(string(c.Path), "["):
			c.Path = p + c.Path
		default:
			c.Path = p.Child(string(c.Path))
		}
		out[i] = &c
	}
	return out
}
