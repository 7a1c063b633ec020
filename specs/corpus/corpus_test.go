package corpus

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	c, err := ParseHeader("bad.yaml", []byte(`# exercises: a cycle
#   prose lines and blank ones are skipped

# expect: reject
# error: run.operations[0]: A -> B -> A
# error: (document)
version: 1.1
# error: not.a.header
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Case{Name: "bad.yaml", Exercises: "a cycle", Expect: Reject, Warnings: []string{},
		Errors: []Want{{Path: "run.operations[0]", Message: "A -> B -> A"}, {Path: ""}}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}

	c, err = ParseHeader("p.yaml", []byte("# expect: needs-params\n# params: a=1 b=x=y\n# warning: run.x\n# compile: reject: not yet\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Params, []string{"a=1", "b=x=y"}) || !c.Accepted() || c.CompileReject != "not yet" ||
		!reflect.DeepEqual(c.Warnings, []string{"run.x"}) {
		t.Errorf("got %+v", c)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"version: 1.1\n", "no `# expect:` line"},
		{"# expect: maybe\n", `"maybe" is not accept, reject or needs-params`},
		{"# expect: accept\n# expect: reject\n", "a second expect"},
		{"# expect: needs-params\n", "needs-params without a params line"},
		{"# expect: reject\n", "reject without an error line"},
		{"# expect: accept\n# error: x\n", "error lines on a file that is accepted"},
		{"# expect: accept\n# params: novalue\n", `"novalue" is not name=value`},
		{"# expect: reject\n# error: \n", "no path"},
		{"# expect: accept\n# compile: maybe\n", "is not accept or reject: MESSAGE"},
		{"# expect: accept\n# compile: reject:\n", "what must the error say"},
		{"# expect: accept\n# note: x\n", `unknown header "note"`},
		{"# expect: reject\n# error: kind\n# compile: reject: x\n", "a compile verdict on a file check rejects"},
	} {
		_, err := ParseHeader("f.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadHeaders(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b.yaml", "# expect: accept\nversion: 1.1\n")
	write(t, dir, "a.yaml", "# expect: reject\n# error: kind\nversion: 1.1\n")
	if err := os.Mkdir(filepath.Join(dir, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "refs"), "c.yaml", "version: 1.1\n")
	cases, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].Name != "a.yaml" || cases[1].Name != "b.yaml" || cases[0].Path != filepath.Join(dir, "a.yaml") {
		t.Errorf("got %+v", cases)
	}
	if data, ok, err := ReadRef(dir, RefsURL+"c.yaml"); !ok || err != nil || string(data) != "version: 1.1\n" {
		t.Errorf("ReadRef of refs/c.yaml: %q %v %v", data, ok, err)
	}
	for _, url := range []string{"https://example.com/c.yaml", RefsURL + "../a.yaml", RefsURL} {
		if _, ok, _ := ReadRef(dir, url); ok {
			t.Errorf("ReadRef(%s) served a file", url)
		}
	}
	write(t, dir, "c.yaml", "version: 1.1\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "c.yaml: no `# expect:` line") {
		t.Errorf("a file without a verdict: got %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no *.yaml files") {
		t.Errorf("an empty folder: got %v", err)
	}
}

func TestLoadIndex(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", "version: 1.1\n")
	write(t, dir, "bad.yaml", "version: 1.1\n")
	write(t, dir, "flags.yaml", "version: 1.1\n")
	write(t, dir, "noted.yaml", "# needs -P uuid=abc to pass\nversion: 1.1\n")
	index := `# Index

| file | exercises | check | compile |
|---|---|---|---|
| ok.yaml | a job | accept | accept |
| bad.yaml | no kind | **reject**: "kind must be given" | – |
| flags.yaml | required inputs | reject without params; **accept** with ` + "`-P loss=… -P flag=true`" + ` | accept |
| noted.yaml | a hub service | reject with no params; **accept** with the params below | accept |
`
	write(t, dir, "INDEX.md", index)
	cases, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Case{}
	for _, c := range cases {
		got[c.Name] = c
	}
	if got["ok.yaml"].Expect != Accept || got["bad.yaml"].Expect != Reject || !got["bad.yaml"].FromIndex {
		t.Errorf("got %+v", cases)
	}
	if c := got["flags.yaml"]; c.Expect != NeedsParams || !reflect.DeepEqual(c.Params, []string{"loss=MeanSquaredError", "flag=true"}) {
		t.Errorf("flags.yaml: got %+v", c)
	}
	if c := got["noted.yaml"]; c.Expect != NeedsParams || !reflect.DeepEqual(c.Params, []string{"uuid=abc"}) {
		t.Errorf("noted.yaml: got %+v", c)
	}

	write(t, dir, "extra.yaml", "version: 1.1\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not listed: extra.yaml") {
		t.Errorf("a file the index does not list: got %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "extra.yaml")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "INDEX.md", index+"| gone.yaml | x | accept | accept |\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "lists gone.yaml") {
		t.Errorf("a listed file that is not there: got %v", err)
	}
	write(t, dir, "INDEX.md", "| ok.yaml | x | maybe | – |\n")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "neither accept nor reject") {
		t.Errorf("a verdict that is neither: got %v", err)
	}
}
