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
	prog, err := expr.Compile(src, expr.AllowUndefinedVariables(), expr.AsBool())
	if err != nil {
		return nil, fmt.Errorf("condition %q does not compile: %w", cond, firstLine(err))
	}
	return prog, nil
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
