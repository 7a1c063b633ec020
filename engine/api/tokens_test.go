package api

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTokens(t *testing.T) {
	for name, tc := range map[string]struct {
		file  string
		extra map[string]string // other files beside it
		want  map[string]Identity
		errs  []string // each a line of the error
	}{
		"every field": {
			file: "tokens:\n  - token: s3cret\n    user: alice\n    teams: [ml]\n    projects: [vision, \"*\"]\n    role: submit\n" +
				"  - tokenFile: bob.token\n    user: bob\n    role: read\n",
			extra: map[string]string{"bob.token": "  b0b-token\n"},
			want: map[string]Identity{
				"s3cret":    {User: "alice", Teams: []string{"ml"}, Projects: []string{"vision", "*"}, Role: RoleSubmit},
				"b0b-token": {User: "bob", Role: RoleRead},
			},
		},
		"json": {
			file: `{"tokens": [{"token": "t", "user": "u", "role": "admin"}]}`,
			want: map[string]Identity{"t": {User: "u", Role: RoleAdmin}},
		},
		"every problem at once, each at its entry": {
			file: "tokens:\n" +
				"  - token: a\n    user: alice\n    role: writer\n" + // line 2
				"  - token: b\n    user: bob\n    rol: read\n" + // line 5
				"  - token: a\n    user: carol\n    role: read\n" + // line 8
				"  - user: dan\n    role: read\n    projects: [\"\"]\n" + // line 11
				"  - token: c\n    tokenFile: c.token\n    role: admin\n", // line 14
			errs: []string{
				`tokens.yaml:2: tokens[0].role: "writer" is not a role: want read, submit or admin`,
				`tokens.yaml:5: tokens[1]: json: unknown field "rol"`,
				`tokens.yaml:8: tokens[2]: the same token as tokens[0]: each token is one user's`,
				`tokens.yaml:11: tokens[3]: no token: give token or tokenFile`,
				`tokens.yaml:11: tokens[3].projects[0]: empty: name a project, or "*" for any`,
				`tokens.yaml:14: tokens[4]: token and tokenFile: give one of them`,
				`tokens.yaml:14: tokens[4].user: required: the user the token authenticates`,
			},
		},
		"a missing token file": {
			file: "tokens:\n  - tokenFile: nope\n    user: u\n    role: read\n",
			errs: []string{"tokens.yaml:2: tokens[0].tokenFile: open "},
		},
		"no role": {
			file: "tokens: [{token: t, user: u}]\n",
			errs: []string{"tokens.yaml:1: tokens[0].role: required: read, submit or admin"},
		},
		"unknown top-level field": {
			file: "tokens: [{token: t, user: u, role: read}]\nusers: []\n",
			errs: []string{`tokens.yaml: json: unknown field "users"`},
		},
		"empty": {
			file: "tokens: []\n",
			errs: []string{"tokens.yaml: tokens: the file holds no token"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for f, content := range tc.extra {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "tokens.yaml")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			read, err := ReadTokens(path)
			if tc.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]Identity{}
				for i, ft := range read {
					if want := fmt.Sprintf("%s:%d: tokens[%d]", path, 2+i*5, i); !strings.HasPrefix(name, "json") && ft.Where != want {
						t.Errorf("token %d is at %q, want %q", i, ft.Where, want)
					}
					got[ft.Token] = ft.Identity
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("identities (-want +got):\n%s", d)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; read %+v", read)
			}
			lines := strings.Split(strings.ReplaceAll(err.Error(), dir+"/", ""), "\n")
			if len(lines) != len(tc.errs) {
				t.Fatalf("%d errors, want %d:\n%s", len(lines), len(tc.errs), strings.Join(lines, "\n"))
			}
			for i, want := range tc.errs {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("error %d: %q, want %q", i, lines[i], want)
				}
			}
			for _, tok := range []string{"a", "b", "c"} {
				if strings.Contains(err.Error(), "token: "+tok) || strings.Contains(err.Error(), `"`+tok+`"`) {
					t.Errorf("the error quotes a token: %v", err)
				}
			}
		})
	}
}

func TestMayActIn(t *testing.T) {
	for name, tc := range map[string]struct {
		id      Identity
		project string
		want    bool
	}{
		"no projects: the default":            {Identity{Role: RoleSubmit}, "default", true},
		"no projects: not another":            {Identity{Role: RoleSubmit}, "vision", false},
		"no projects: an unnamed one":         {Identity{Role: RoleRead}, "", true},
		"listed":                              {Identity{Role: RoleRead, Projects: []string{"vision"}}, "vision", true},
		"not listed, nor the default":         {Identity{Role: RoleRead, Projects: []string{"vision"}}, "default", false},
		"any":                                 {Identity{Role: RoleSubmit, Projects: []string{"*"}}, "nlp", true},
		"an admin acts anywhere":              {Identity{Role: RoleAdmin, Projects: []string{"vision"}}, "nlp", true},
		"an unnamed project is the default's": {Identity{Role: RoleRead, Projects: []string{"vision"}}, "", false},
	} {
		if got := tc.id.mayActIn(tc.project); got != tc.want {
			t.Errorf("%s: %+v in %q: %v, want %v", name, tc.id, tc.project, got, tc.want)
		}
	}
}
