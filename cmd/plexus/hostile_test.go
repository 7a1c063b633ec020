package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/specs/corpus"
)

// TestHostileTemplates runs check and compile on each Polyaxonfile of
// testdata/hostile/templates: templates that panicked inside the template
// library, overflowed the Go stack, or took gigabytes or minutes. Check and
// compile both refuse each one with an error naming the field and the
// limit or the failure, never a panic or a stack trace.
func TestHostileTemplates(t *testing.T) {
	cases, err := corpus.Load("../../testdata/hostile/templates")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 15 {
		t.Fatalf("only %d hostile templates", len(cases))
	}
	src := corpusSources("../../testdata/hostile/templates")
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			checkCase(t, c, src)
			var stdout, stderr bytes.Buffer
			code := run([]string{"compile", "-f", c.Path}, strings.NewReader(""), &stdout, &stderr)
			if code != 1 {
				t.Fatalf("compile exited %d, want 1:\n%s", code, stderr.String())
			}
			out := stderr.String()
			for _, w := range c.Errors {
				if !strings.Contains(out, w.Message) {
					t.Errorf("compile does not say %q:\n%s", w.Message, out)
				}
			}
			for _, bad := range []string{"panic", "goroutine ", "rendering failed"} {
				if strings.Contains(out, bad) {
					t.Errorf("compile's error shows %q:\n%s", bad, out)
				}
			}
		})
	}
}

// TestTemplateLimitFlags: every limit's error names a flag `plexus server`
// has.
func TestTemplateLimitFlags(t *testing.T) {
	flags := newServerCmd().Flags()
	for limit, name := range compiler.TemplateLimitFlags {
		if flags.Lookup(name) == nil {
			t.Errorf("the %s limit names --%s, which plexus server does not have", limit, name)
		}
	}
}
