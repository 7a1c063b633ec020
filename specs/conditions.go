package specs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// CompileCondition compiles an operation's `conditions` once. The condition
// is written as in the reference, `"{{ expr }}"` (Jinja's and, or, not, in
// and comparisons mean the same in expr); the braces may be left out.
// Variables are the params, resolved when the condition is evaluated.
func CompileCondition(cond string) (*vm.Program, error) {
	src, err := conditionSource(cond)
	if err != nil {
		return nil, err
	}
	if len(src) > MaxConditionBytes {
		return nil, fmt.Errorf("condition of %d bytes: at most %d", len(src), MaxConditionBytes)
	}
	if n := BracketNesting(src); n > MaxConditionNesting {
		return nil, fmt.Errorf("condition nests brackets %d deep: at most %d", n, MaxConditionNesting)
	}
	prog, err := expr.Compile(src, expr.AllowUndefinedVariables(), expr.AsBool(), expr.MaxNodes(MaxConditionNodes))
	if err != nil {
		return nil, fmt.Errorf("condition %q does not compile: %w", cond, firstLine(err))
	}
	return prog, nil
}

// The bounds of a condition, checked when it compiles (before its parser,
// which recurses on brackets, runs); at run time expr's own memory budget
// (conf.DefaultMemoryBudget) bounds what it allocates, and a panic inside
// it is returned as an error.
const (
	MaxConditionBytes   = 16 << 10
	MaxConditionNesting = 100
	MaxConditionNodes   = 2000
)

// BracketNesting is the deepest nesting of brackets in s: parsers of
// templates and expressions recurse on it.
func BracketNesting(s string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return deepest
}

func firstLine(err error) error {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(s)
}

// conditionSource strips the template braces and maps Jinja's literals
// (True, False, None) to expr's.
func conditionSource(cond string) (string, error) {
	s := strings.TrimSpace(cond)
	if strings.HasPrefix(s, "{{") {
		if !strings.HasSuffix(s, "}}") {
			return "", fmt.Errorf("condition %q opens {{ without closing it", cond)
		}
		s = strings.TrimSpace(s[2 : len(s)-2])
	}
	if strings.Contains(s, "{{") || strings.Contains(s, "}}") {
		return "", fmt.Errorf("condition %q must be one expression, written \"{{ expr }}\"", cond)
	}
	if s == "" {
		return "", fmt.Errorf("condition is empty")
	}
	s = isNotNoneRE.ReplaceAllString(s, "!= nil")
	s = isNoneRE.ReplaceAllString(s, "== nil")
	return mapJinjaLiterals(s), nil
}

// Jinja's `x is none` and `x is not none` tests, the ones conditions use.
var (
	isNotNoneRE = regexp.MustCompile(`\bis\s+not\s+[Nn]one\b`)
	isNoneRE    = regexp.MustCompile(`\bis\s+[Nn]one\b`)
)

// mapJinjaLiterals rewrites the identifiers True, False and None outside
// string literals.
func mapJinjaLiterals(s string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); {
		c := s[i]
		if quote != 0 {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			if c == quote {
				quote = 0
			}
			i++
			continue
		}
		if c == '\'' || c == '"' || c == '`' {
			quote = c
			b.WriteByte(c)
			i++
			continue
		}
		if isIdentStart(c) {
			j := i
			for j < len(s) && (isIdentStart(s[j]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			word := s[i:j]
			switch word {
			case "True":
				word = "true"
			case "False":
				word = "false"
			case "None", "none":
				word = "nil"
			}
			b.WriteString(word)
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
