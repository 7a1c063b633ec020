package dag

import (
	"strings"
	"testing"
)

func TestCondition(t *testing.T) {
	params := map[string]any{"loss": 0.2, "mode": "full", "tags": []any{"a", "b"}, "flag": true, "none": nil}
	for _, tc := range []struct {
		cond string
		want bool
	}{
		{"{{ loss < 0.5 }}", true},
		{"{{ loss < 0.5 and mode == 'quick' }}", false},
		{"{{ loss < 0.5 or mode == 'quick' }}", true},
		{"{{ not flag }}", false},
		{"{{ 'a' in tags }}", true},
		{"{{ none is none }}", true},
		{"{{ mode is not none and flag == True }}", true},
		{"loss > 1", false}, // braces may be left out
	} {
		got, err := Condition(tc.cond, params)
		if err != nil || got != tc.want {
			t.Errorf("Condition(%q) = %v, %v; want %v", tc.cond, got, err, tc.want)
		}
	}
	if _, err := Condition("{{ loss < }}", params); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("a broken condition: %v", err)
	}
}
