package api

// Who a bearer token is, and what it may do: its user and teams (what the
// access policy is applied to), the projects it may act in, and its role.
// A TokenSet is made once and not changed: the server swaps the whole set
// when the tokens file is read again (Server.SetTokens).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/plexus-ml/plexus/specs/compiler"
)

// Role is what a token may do.
type Role string

const (
	// RoleRead may only read (GET): list, get, logs, graphs.
	RoleRead Role = "read"
	// RoleSubmit may also submit, stop, approve, resume and restart runs
	// of its projects.
	RoleSubmit Role = "submit"
	// RoleAdmin may do everything, in every project.
	RoleAdmin Role = "admin"
)

func (r Role) valid() bool { return r == RoleRead || r == RoleSubmit || r == RoleAdmin }

// Identity is who a token authenticates and what it may do.
type Identity struct {
	User  string   `json:"user"`
	Teams []string `json:"teams,omitempty"`
	// Projects are the projects the token may act in (submit to, read and
	// change the runs of); "*" is any. With none, only the default
	// project. An admin acts in every project, whatever it lists.
	Projects []string `json:"projects,omitempty"`
	Role     Role     `json:"role"`
}

// mayActIn says whether the identity may read and change the runs of a
// project.
func (id *Identity) mayActIn(project string) bool {
	if id.Role == RoleAdmin {
		return true
	}
	if project == "" {
		project = compiler.DefaultProject
	}
	if len(id.Projects) == 0 {
		return project == compiler.DefaultProject
	}
	return slices.Contains(id.Projects, project) || slices.Contains(id.Projects, "*")
}

// projectsText names the projects an identity may act in, for errors.
func (id *Identity) projectsText() string {
	switch {
	case id.Role == RoleAdmin || slices.Contains(id.Projects, "*"):
		return "any"
	case len(id.Projects) == 0:
		return compiler.DefaultProject
	}
	return strings.Join(id.Projects, ", ")
}

// TokenSet maps bearer tokens to who they authenticate. It is not
// changed once made, so it is safe for concurrent use.
type TokenSet struct {
	ids map[string]*Identity
}

// NewTokenSet makes a set of the tokens given; it keeps copies.
func NewTokenSet(tokens map[string]Identity) *TokenSet {
	ts := &TokenSet{ids: make(map[string]*Identity, len(tokens))}
	for tok, id := range tokens {
		id.Teams, id.Projects = slices.Clone(id.Teams), slices.Clone(id.Projects)
		ts.ids[tok] = &id
	}
	return ts
}

// AdminIdentity is a user as an admin of every project: who the old
// `TOKEN USER` lines, and --token, authenticate.
func AdminIdentity(user string) Identity {
	return Identity{User: user, Role: RoleAdmin, Projects: []string{"*"}}
}

// Len is the number of tokens in the set.
func (ts *TokenSet) Len() int {
	if ts == nil {
		return 0
	}
	return len(ts.ids)
}

// TokenEntry is one entry of a tokens file: the token, or the file that
// holds it, and who it is.
type TokenEntry struct {
	Token string `json:"token,omitempty"`
	// TokenFile is a file holding the token (surrounding white space
	// dropped), relative to the tokens file.
	TokenFile string `json:"tokenFile,omitempty"`
	Identity
}

// TokensFile is what `plexus server --tokens FILE` reads.
type TokensFile struct {
	Tokens []json.RawMessage `json:"tokens"`
}

// FileToken is a token read from a tokens file, and where.
type FileToken struct {
	// Where is the file, the line of its entry when known, and the entry's
	// path: "tokens.yaml:4: tokens[1]".
	Where string
	Token string
	Identity
}

// ReadTokens reads a tokens file (YAML or JSON): `tokens: [{token |
// tokenFile, user, teams, projects, role}, ...]`, in the file's order.
// Unknown fields are refused. Every problem is reported at once, each with
// the file, the line of its entry when known, and the entry's path; no
// error quotes a token.
func ReadTokens(path string) ([]FileToken, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokens: %w", err)
	}
	tokens, errs := parseTokens(path, data)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return tokens, nil
}

// parseTokens reads a tokens file's content; path names it in errors
// and locates its tokenFiles.
func parseTokens(path string, data []byte) ([]FileToken, []error) {
	js, err := sigsyaml.YAMLToJSON(data)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", path, err)}
	}
	var doc TokensFile
	if err := strictJSON(js, &doc); err != nil {
		return nil, []error{fmt.Errorf("%s: %w", path, err)}
	}
	if len(doc.Tokens) == 0 {
		return nil, []error{fmt.Errorf("%s: tokens: the file holds no token", path)}
	}
	lines := entryLines(data)
	var errs []error
	var tokens []FileToken
	first := map[string]int{} // token -> the entry that first holds it
	for i, raw := range doc.Tokens {
		at := fmt.Sprintf("%s: tokens[%d]", path, i)
		if i < len(lines) && lines[i] > 0 {
			at = fmt.Sprintf("%s:%d: tokens[%d]", path, lines[i], i)
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s%s", at, fmt.Sprintf(format, args...)))
		}
		var e TokenEntry
		if err := strictJSON(raw, &e); err != nil {
			bad(": %v", err)
			continue
		}
		token := e.Token
		switch {
		case e.Token != "" && e.TokenFile != "":
			bad(": token and tokenFile: give one of them")
		case e.TokenFile != "":
			file := e.TokenFile
			if !filepath.IsAbs(file) {
				file = filepath.Join(filepath.Dir(path), file)
			}
			content, err := os.ReadFile(file)
			if err != nil {
				bad(".tokenFile: %v", err)
				continue
			}
			if token = strings.TrimSpace(string(content)); token == "" {
				bad(".tokenFile: %s holds no token", file)
			}
		case e.Token == "":
			bad(": no token: give token or tokenFile")
		}
		if strings.ContainsAny(token, " \t\r\n") {
			bad(": the token holds white space, which no bearer token may")
			token = ""
		}
		if e.User == "" {
			bad(".user: required: the user the token authenticates")
		}
		switch {
		case e.Role == "":
			bad(".role: required: read, submit or admin")
		case !e.Role.valid():
			bad(".role: %q is not a role: want read, submit or admin", e.Role)
		}
		for j, p := range e.Projects {
			if p == "" {
				bad(".projects[%d]: empty: name a project, or \"*\" for any", j)
			}
		}
		for j, t := range e.Teams {
			if t == "" {
				bad(".teams[%d]: empty", j)
			}
		}
		if token == "" {
			continue
		}
		if k, dup := first[token]; dup {
			bad(": the same token as tokens[%d]: each token is one user's", k)
			continue
		}
		first[token] = i
		tokens = append(tokens, FileToken{Where: at, Token: token, Identity: e.Identity})
	}
	return tokens, errs
}

// strictJSON decodes JSON, refusing fields v has not.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// entryLines are the lines the entries of a tokens file's `tokens` start
// at, when it is YAML (JSON is YAML too); none when it cannot be read.
func entryLines(data []byte) []int {
	var doc yamlv3.Node
	if yamlv3.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "tokens" && root.Content[i+1].Kind == yamlv3.SequenceNode {
			var lines []int
			for _, item := range root.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}
