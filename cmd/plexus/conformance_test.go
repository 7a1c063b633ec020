package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// conformanceDir holds real-world Polyaxonfiles with the reference's
// verdicts in INDEX.md. They are read in place, never copied into the repo.
const conformanceDir = "../../../shared/conformance"

// rejectPaths says, for each file the reference rejects, the paths our
// errors must name (each must appear among the error paths). INDEX.md gives
// the reference's messages; these are the fields those messages are about.
var rejectPaths = map[string][]string{
	"bad-missing-version.yaml":            {"version"},
	"bad-missing-kind.yaml":               {"kind"},
	"bad-unsupported-version.yaml":        {"version"},
	"bad-examples-version-1.yaml":         {"version"},
	"bad-missing-run.yaml":                {"run"},
	"bad-toplevel-environment.yaml":       {"environment"},
	"bad-matrix-kind-and-io-type.yaml":    {"matrix.params.lr.kind", "component.inputs[0].type"},
	"bad-examples-range-four-values.yaml": {"matrix.params.n_estimators.value", "matrix.numRuns"},
	"bad-cyclic-dag.yaml":                 {"run.operations[0]"},
	"bad-dag-missing-component.yaml":      {"run.operations[0].dagRef"},
	"bad-dag-no-operations.yaml":          {"run.operations"},
	"bad-events-unresolvable-refs.yaml":   {"run.operations[0].pathRef", "run.operations[1].urlRef"},
}

// rejectMessages are substrings the rejection must also contain.
var rejectMessages = map[string][]string{
	"bad-cyclic-dag.yaml":                 {"A -> B -> A"},
	"bad-examples-range-four-values.yaml": {"got 4"},
	"bad-matrix-kind-and-io-type.yaml":    {`"activation"`, `"string"`},
}

// corpusSources resolve the corpus's references as the reference's run did:
// hubRefs from the built-in hub, and the one example URL served locally (a
// stand-in component with the inputs its operation passes). No network.
var corpusSources = compiler.Sources{
	Hub: compiler.StubHub(),
	URL: urlMap{
		"https://raw.githubusercontent.com/polyaxon/polyaxon-examples/master/in_cluster/kubeflow/tfjob/component.yaml": `version: 1.1
kind: component
inputs:
  - {name: optimizer, type: str, isOptional: true, value: adam}
  - {name: epochs, type: int, isOptional: true, value: 10}
run:
  kind: tfjob
  worker:
    replicas: 2
    container: {image: tensorflow/tensorflow, command: [python, train.py]}
`,
	},
}

// urlMap serves fixed documents by URL.
type urlMap map[string]string

func (m urlMap) Fetch(_ context.Context, url string) ([]byte, error) {
	if doc, ok := m[url]; ok {
		return []byte(doc), nil
	}
	return nil, fmt.Errorf("GET %s: 404 Not Found", url)
}

type verdict struct {
	file   string
	check  string // the INDEX's check column
	reject bool   // rejected without params
	// params, when set, make a file rejected without them acceptable.
	params []string
}

var paramFlagRE = regexp.MustCompile(`-P ([A-Za-z0-9_-]+)=([^\s` + "`" + `;)]+)`)

func readIndex(t *testing.T) []verdict {
	t.Helper()
	f, err := os.Open(filepath.Join(conformanceDir, "INDEX.md"))
	if err != nil {
		t.Fatalf("the conformance corpus must be at %s: %v", conformanceDir, err)
	}
	defer f.Close()
	var out []verdict
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 5 || !strings.HasSuffix(strings.TrimSpace(cols[1]), ".yaml") {
			continue
		}
		v := verdict{file: strings.TrimSpace(cols[1]), check: strings.TrimSpace(cols[3])}
		low := strings.ToLower(v.check)
		v.reject = strings.HasPrefix(strings.Trim(low, "* "), "reject")
		if v.reject && strings.Contains(low, "accept") {
			for _, m := range paramFlagRE.FindAllStringSubmatch(v.check, -1) {
				v.params = append(v.params, m[1]+"="+m[2])
			}
			if len(v.params) == 0 {
				// "accept with -P": the file's own note names the params.
				v.params = noteParams(t, v.file)
			}
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// noteParams reads `-P name=value` from a file's leading comments.
func noteParams(t *testing.T, file string) []string {
	data, err := os.ReadFile(filepath.Join(conformanceDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var params []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		for _, m := range paramFlagRE.FindAllStringSubmatch(line, -1) {
			params = append(params, m[1]+"="+m[2])
		}
	}
	return params
}

// TestConformance checks every corpus file as `plexus check` does and
// compares with the reference's verdict.
func TestConformance(t *testing.T) {
	verdicts := readIndex(t)
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	indexed := map[string]bool{}
	for _, v := range verdicts {
		indexed[v.file] = true
	}
	var onDisk []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
		if !indexed[filepath.Base(f)] {
			t.Errorf("%s is in the corpus but not in INDEX.md", filepath.Base(f))
		}
	}
	sort.Strings(onDisk)
	if len(verdicts) != len(onDisk) {
		t.Errorf("INDEX.md lists %d files, the directory holds %d", len(verdicts), len(onDisk))
	}
	for _, v := range verdicts {
		t.Run(strings.TrimSuffix(v.file, ".yaml"), func(t *testing.T) {
			path := stagedPath(t, v.file)
			r := checkSource(t.Context(), nil, path, nil, false, corpusSources)
			switch {
			case v.reject && r.Valid:
				t.Fatalf("accepted; the reference rejects it (%s)", v.check)
			case !v.reject && !r.Valid:
				t.Fatalf("rejected; the reference accepts it (%s):\n%v", v.check, r.Errors)
			}
			if !v.reject {
				return
			}
			if len(v.params) > 0 {
				params, err := parseParamFlags(fillPlaceholders(v.params))
				if err != nil {
					t.Fatal(err)
				}
				if r2 := checkSource(t.Context(), nil, path, params, false, corpusSources); !r2.Valid {
					t.Fatalf("rejected with params %v; the reference accepts it:\n%v", v.params, r2.Errors)
				}
				return
			}
			want, ok := rejectPaths[v.file]
			if !ok {
				t.Fatalf("no expected error paths recorded for %s: add them to rejectPaths (errors: %v)", v.file, r.Errors)
			}
			got := map[string]bool{}
			for _, e := range r.Errors {
				got[string(e.Path)] = true
			}
			for _, p := range want {
				if !got[p] {
					t.Errorf("no error names %s; got:\n%v", p, r.Errors)
				}
			}
			all := r.Errors.Error()
			for _, m := range rejectMessages[v.file] {
				if !strings.Contains(all, m) {
					t.Errorf("errors do not mention %s:\n%s", m, all)
				}
			}
			for _, e := range r.Errors {
				if e.Line == 0 {
					t.Errorf("error without a source line: %v", e)
				}
			}
		})
	}
}

// stagedPath returns where to check a corpus file. A file whose pathRef
// only resolves "in its repo" is checked in a temporary copy of that layout
// with a stub component beside it.
func stagedPath(t *testing.T, file string) string {
	src := filepath.Join(conformanceDir, file)
	if file != "examples-random-pathref.yaml" {
		return src
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, file)
	stub := "version: 1.1\nkind: component\nrun: {kind: job, container: {image: stub}}\n"
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "polyaxonfile.yml"), []byte(stub), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// fillPlaceholders replaces the INDEX's "…" placeholder values.
func fillPlaceholders(params []string) []string {
	out := make([]string, len(params))
	for i, p := range params {
		name, value, _ := strings.Cut(p, "=")
		if value == "…" {
			value = "MeanSquaredError"
		}
		out[i] = name + "=" + value
	}
	return out
}

// TestConformanceWarnings pins the warnings accepted files get for what
// Kubernetes would ignore or what Plexus reads differently.
func TestConformanceWarnings(t *testing.T) {
	files, err := specs.ParseFile(filepath.Join(conformanceDir, "job-init-git-dockerfile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range files[0].Warnings {
		got = append(got, string(w.Path))
	}
	want := []string{"run.volumes[1].configMap.configName", "run.container.volumeMounts"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("warnings at %v, want %v", got, want)
	}
}
