package compiler

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// renderOne renders src with params n=7 and xs=[1,2,3] in a fresh budget.
func renderOne(t testing.TB, src string) (string, error) {
	t.Helper()
	r := newRenderer(map[string]any{"params": map[string]any{"n": 7, "xs": []any{1, 2, 3}, "name": "abc"}})
	return r.render(src)
}

func TestSandboxRefusesHostileTemplates(t *testing.T) {
	cases := map[string]struct {
		src  string
		want string // in the error
	}{
		"modulo by zero literal":   {`{{ 1 % 0 }}`, "modulo by zero"},
		"modulo by zero param":     {`{{ params.n % 0 }}`, "modulo by zero"},
		"floor division by zero":   {`{{ params.n // 0 }}`, "division by zero"},
		"string repetition":        {`{{ 'x' * 10000000000 }}`, "value size limit"},
		"repetition of repetition": {`{{ ('x' * 100000) * 100000 }}`, "value size limit"},
		"recursive macro":          {`{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}`, "macro depth limit"},
		"mutual recursion":         {`{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}`, "macro depth limit"},
		"nested loops":             {`{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}`, "steps limit"},
		"loop over params thrice": {`{% set ys = range(1000) %}{% for a in ys %}{% for b in ys %}{% for c in ys %}{% endfor %}{% endfor %}{% endfor %}`,
			"limit"},
		"huge range":                {`{{ range(1000000000000)|length }}`, "items limit"},
		"center":                    {`{{ 'x'|center(1000000000) }}`, "value size limit"},
		"indent":                    {`{{ 'a\nb'|indent(1000000000) }}`, "value size limit"},
		"indent string":             {`{{ ('a\n' * 1000)|indent('x' * 10000) }}`, "value size limit"},
		"lipsum":                    {`{{ lipsum(1000000) }}`, "at most 1000"},
		"int base":                  {`{{ '10'|int(base=999) }}`, "base 999"},
		"tojson indent":             {`{{ params|tojson(indent=-1) }}`, "indent -1"},
		"format width":              {`{{ '%999999999d'|format(1) }}`, "value size limit"},
		"replace empty":             {`{{ ('x' * 100000)|replace('', 'y' * 1000) }}`, "value size limit"},
		"join":                      {`{{ range(100000)|join('x' * 1000) }}`, "limit"},
		"doubling with set":         {`{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}`, "value size limit"},
		"doubling with a method":    {`{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s.replace('x', 'xx', -1) %}{% endfor %}{{ ns.s|length }}`, "limit"},
		"namespace contains itself": {`{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}`, "nesting limit"},
		"list appended to itself":   {`{% set xs = [] %}{% do xs.append(xs) %}{{ xs }}`, ""},
		"deep parentheses":          {"{{ " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }}", "nesting limit"},
		"field output":              {`{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}`, "limit"},
		"text in a loop":            {`{% macro f() %}{% for i in range(100000) %}` + strings.Repeat("y", 1000) + `{% endfor %}{% endmacro %}{{ f() }}`, "steps limit"},
		"reserved name":             {`{{ __plexus_budget }}`, "reserved"},
		"recursive loop":            {`{% for x in params.xs recursive %}{{ x }}{% endfor %}`, "recursive for loops"},
		"undefined stays clear":     {`{{ nope }}`, `undefined variable "nope"`},
		"string times big float":    {`{{ 'x' * 1e300 }}`, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			out, err := renderOne(t, c.src)
			if c.want == "" {
				// Only bounded: an error or a small output.
				if len(out) > DefaultTemplateLimits.FieldBytes {
					t.Fatalf("output of %d bytes", len(out))
				}
				return
			}
			if err == nil {
				t.Fatalf("rendered %d bytes, want an error with %q", len(out), c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want %q", err, c.want)
			}
			if errors.Is(err, ErrTemplatePanic) {
				t.Fatalf("the library panicked: %v", err)
			}
			t.Logf("%v in %v", err, time.Since(start))
		})
	}
}

func TestSandboxKeepsJinja(t *testing.T) {
	cases := map[string]string{
		`{{ params.n * 2 }}`:                                          "14",
		`{{ params.n * 2.5 }}`:                                        "17.5",
		`{{ 'ab' * 3 }}`:                                              "ababab",
		`{{ 'a' ~ 'b' ~ params.n }}`:                                  "ab7",
		`{{ 'a' + 'b' }}`:                                             "ab",
		`{{ 1 + 2 }}`:                                                 "3",
		`{{ [1, 2] + [3] }}`:                                          "[1, 2, 3]",
		`{{ 7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }}`:                       "3 1 -1",
		`{% for x in params.xs %}{{ x }},{% endfor %}`:                "1,2,3,",
		`{% for i in range(3) %}{{ i }}{% endfor %}`:                  "012",
		`{% for i in range(5, 0, -2) %}{{ i }}{% endfor %}`:           "531",
		`{% macro g(x) %}<{{ x }}>{% endmacro %}{{ g(params.name) }}`: "<abc>",
		`{% macro fact(n) %}{% if n > 1 %}{{ n * fact(n - 1)|int }}{% else %}1{% endif %}{% endmacro %}{{ fact(5) }}`: "120",
		`{{ '%05d'|format(3) }}`:                         "00003",
		`{{ params.xs|join('-') }}`:                      "1-2-3",
		`{{ 'x'|center(5) }}`:                            "  x  ",
		`{{ params.name|upper }}`:                        "ABC",
		`{{ params.name.upper() }}`:                      "ABC",
		`{% set ys = [] %}{% do ys.append(1) %}{{ ys }}`: "[1]",
		`{{ params.name if params.n > 3 else 'no' }}`:    "abc",
		`{% set ns = namespace(c=0) %}{% for x in params.xs %}{% set ns.c = ns.c + x %}{% endfor %}{{ ns.c }}`: "6",
	}
	for src, want := range cases {
		out, err := renderOne(t, src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if out != want {
			t.Errorf("%s = %q, want %q", src, out, want)
		}
	}
}

func TestSandboxLimitsAreSettable(t *testing.T) {
	defer SetTemplateLimits(TemplateLimits{})
	SetTemplateLimits(TemplateLimits{Items: 10})
	if _, err := renderOne(t, `{{ range(11)|length }}`); err == nil || !strings.Contains(err.Error(), "--template-max-items") {
		t.Fatalf("range(11) with items 10: %v", err)
	}
	SetTemplateLimits(TemplateLimits{})
	if out, err := renderOne(t, `{{ range(11)|length }}`); err != nil || out != "11" {
		t.Fatalf("range(11) with the defaults: %q, %v", out, err)
	}
}

// The budget is the spec's: many small renders add up.
func TestSandboxBudgetIsPerSpec(t *testing.T) {
	defer SetTemplateLimits(TemplateLimits{})
	SetTemplateLimits(TemplateLimits{Steps: 5000})
	r := newRenderer(map[string]any{})
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = r.render(`{% for i in range(100) %}{{ i }}{% endfor %}`)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != "steps" {
		t.Fatalf("100 renders of 100 iterations with 5000 steps: %v", err)
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`{{ params.n % 0 }}`, `{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}`,
		`{{ 'x' * 100 }}`, `{% for i in range(10) %}{{ i }}{% endfor %}`, `{{ params.xs|join(',') }}`,
		`{{ '%5d'|format(1) }}`, `{% set ns = namespace(s='x') %}{% set ns.s = ns.s ~ ns.s %}{{ ns.s }}`,
		`{{ lipsum(2) }}`, `{{ 'a'|center(9) }}`, `{{ params|tojson(indent=2) }}`, `{{ [1]*3 }}`,
	} {
		f.Add(s)
	}
	lim := TemplateLimits{Steps: 20000, FieldBytes: 4096, SpecBytes: 8192, ValueBytes: 4096, Items: 500, Depth: 8, Nesting: 20, SourceBytes: 4096, Time: time.Second}
	f.Fuzz(func(t *testing.T, src string) {
		r := newRenderer(map[string]any{"params": map[string]any{"n": 7, "xs": []any{1, 2, 3}}})
		r.b = newBudget(lim)
		out, err := r.render(src)
		if err == nil && len(out) > lim.FieldBytes {
			t.Fatalf("%q rendered %d bytes past the limit of %d", src, len(out), lim.FieldBytes)
		}
		if r.b.steps > lim.Steps || r.b.out > lim.SpecBytes {
			t.Fatalf("%q spent %d steps and %d bytes", src, r.b.steps, r.b.out)
		}
	})
}
