package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the plexus command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"plexus": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scripts in testdata/script: each is a txtar
// archive holding its Polyaxonfiles and the commands that check them. The
// repository's examples are copied into every script's work directory, as
// examples/, so scripts check the real files rather than copies of them.
func TestScripts(t *testing.T) {
	examples, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			dir := filepath.Join(env.WorkDir, "examples")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for _, src := range examples {
				data, err := os.ReadFile(src)
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	})
}
