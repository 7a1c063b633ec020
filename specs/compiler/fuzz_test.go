package compiler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

// FuzzCompile: anything specs accepts compiles or fails with a
// CompilationError, never a panic; and what compiles lowers or fails the
// same way.
func FuzzCompile(f *testing.F) {
	var paths []string
	for _, c := range ownFiles(f) {
		paths = append(paths, c.Path)
	}
	golden, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range append(paths, golden...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "lr=0.1")
	}
	f.Fuzz(func(t *testing.T, data []byte, param string) {
		files, err := specs.Parse("fuzz.yaml", data)
		if err != nil || len(files) == 0 {
			return
		}
		op, comp := files[0].Operation, files[0].Component
		if op == nil {
			op = &specs.Operation{}
		} else if op.Component != nil && op.HubRef == "" && op.PathRef == "" && op.URLRef == "" {
			comp = op.Component
		}
		if comp == nil {
			return
		}
		extra := map[string]specs.Param{}
		if k, v, ok := strings.Cut(param, "="); ok && k != "" {
			extra[k] = specs.Param{Value: v}
		}
		c, err := Compile(op, comp, Options{Run: testRun, Params: extra, Connections: testConnections})
		var ce *CompilationError
		if err != nil {
			if !errors.As(err, &ce) {
				t.Fatalf("Compile returned %T %v, want a *CompilationError", err, err)
			}
			return
		}
		if isPipeline(c.Operation, c.Component) {
			return
		}
		if _, err := Lower(c, testRun, LowerOptions{Attempt: 1}); err != nil && !errors.As(err, &ce) {
			t.Fatalf("Lower returned %T %v, want a *CompilationError", err, err)
		}
	})
}
