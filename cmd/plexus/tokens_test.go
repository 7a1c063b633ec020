package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/engine/api"
)

// TestLoadTokens: --token, --tokens-file and --tokens together are the
// union of their tokens, the first two admins of every project; a token
// given twice is an error naming both places and not the token.
func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	lines := write("lines", "# admins\ntok-line ada\n")
	yaml := write("tokens.yaml", "tokens:\n  - token: tok-yaml\n    user: bob\n    role: read\n")
	got, err := loadTokens(serverOptions{token: "tok-flag", tokensFile: lines, tokensYAML: yaml})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]api.Identity{"tok-flag": api.AdminIdentity("admin"), "tok-line": api.AdminIdentity("ada"), "tok-yaml": {User: "bob", Role: api.RoleRead}}
	if len(got) != len(want) {
		t.Fatalf("%d tokens, want %d: %+v", len(got), len(want), got)
	}
	for tok, id := range want {
		if g, ok := got[tok]; !ok || g.User != id.User || g.Role != id.Role || strings.Join(g.Projects, ",") != strings.Join(id.Projects, ",") {
			t.Errorf("%s: %+v, want %+v", tok, g, id)
		}
	}
	if got, err := loadTokens(serverOptions{}); got != nil || err != nil {
		t.Errorf("no flags: %v, %v; want an open API", got, err)
	}

	dupYAML := write("dup.yaml", "tokens:\n  - token: tok-b\n    user: bob\n    role: read\n  - token: tok-flag\n    user: eve\n    role: admin\n")
	dupLines := write("dup-lines", "tok-b carol\n")
	_, err = loadTokens(serverOptions{token: "tok-flag", tokensFile: dupLines, tokensYAML: dupYAML})
	if err == nil {
		t.Fatal("a token given twice was taken")
	}
	msg := strings.ReplaceAll(err.Error(), dir+"/", "")
	for _, w := range []string{"dup.yaml:2: tokens[0]: the same token as dup-lines:1", "dup.yaml:5: tokens[1]: the same token as --token"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "tok-") {
		t.Errorf("the error quotes a token: %s", msg)
	}
	if _, err := loadTokens(serverOptions{tokensFile: write("bad-lines", "a b c\n")}); err == nil || !strings.Contains(err.Error(), "bad-lines:1: want TOKEN USER") {
		t.Errorf("a bad line: %v", err)
	}
}
