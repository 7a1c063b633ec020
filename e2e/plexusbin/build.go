package plexusbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// defaultFlags are the Makefile's BUILDFLAGS, for a `go test` run by hand.
var defaultFlags = []string{"-trimpath", "-gcflags=all=-dwarf=false"}

// Build compiles ./cmd/plexus into dir/plexus and returns its path. The go
// command is $GO when set, else go; the flags are $BUILDFLAGS when set,
// else those of `make build`.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "plexus")
	flags := strings.Fields(os.Getenv("BUILDFLAGS"))
	if len(flags) == 0 {
		flags = defaultFlags
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	args := append(append([]string{"build"}, flags...), "-o", bin, "./cmd/plexus")
	build := exec.Command(goCmd, args...)
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building plexus in %s: %w\n%s", build.Dir, err, out)
	}
	return bin, nil
}

// moduleRoot is the nearest folder at or above the working directory (a
// test's package folder) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding the module root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}
