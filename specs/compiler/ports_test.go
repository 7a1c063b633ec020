package compiler

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plexus-ml/plexus/specs"
)

func compileService(t *testing.T, yaml string, ri RunInfo) (*Compiled, error) {
	t.Helper()
	files, err := specs.Parse("svc.yaml", []byte("version: 1.1\nkind: component\n"+yaml))
	if err != nil {
		t.Fatal(err)
	}
	return Compile(&specs.Operation{}, files[0].Component, Options{Run: ri})
}

// TestAssignedPorts: RunInfo.Ports puts the ports a service listens at in
// place of the declared ones, in the compiled component and in
// globals.ports before the container is rendered; its failure is an
// error at run.ports.
func TestAssignedPorts(t *testing.T) {
	const svc = `run:
  kind: service
  ports: [8000, 8888]
  container: {image: a, command: [serve, "--port={{ globals.ports[0] }}", "--other={{ globals.ports[1] }}", "--base={{ globals.base_url }}"]}
`
	var seen []int
	ri := testRun
	ri.Ports = func(declared []int) ([]int, error) {
		seen = declared
		return []int{40001, 40002}, nil
	}
	c, err := compileService(t, svc, ri)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[8000 8888]" {
		t.Fatalf("declared ports given: %v", seen)
	}
	s := c.Component.Run.(*specs.Service)
	if fmt.Sprint(s.Ports.Items) != "[40001 40002]" || fmt.Sprint(c.Globals["ports"]) != "[40001 40002]" {
		t.Fatalf("ports %v, globals.ports %v", s.Ports.Items, c.Globals["ports"])
	}
	base := "/services/v1/ml/plexus/default/runs/" + testRun.UUID + "/"
	if got := strings.Join(s.Container.Command, " "); got != "serve --port=40001 --other=40002 --base="+base {
		t.Fatalf("command %q", got)
	}
	if c.ServicePath() != base {
		t.Fatalf("path %q", c.ServicePath())
	}

	// Without RunInfo.Ports the declared ports stay; with rewritePath the
	// service answers at /.
	c, err = compileService(t, strings.Replace(svc, "kind: service", "kind: service\n  rewritePath: true", 1), testRun)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.Component.Run.(*specs.Service).Ports.Items) != "[8000 8888]" || c.ServicePath() != "/" {
		t.Fatalf("ports %v, path %q", c.Component.Run.(*specs.Service).Ports.Items, c.ServicePath())
	}

	ri.Ports = func([]int) ([]int, error) { return nil, errors.New("no port left") }
	_, err = compileService(t, svc, ri)
	if err == nil || !strings.Contains(err.Error(), "run.ports") || !strings.Contains(err.Error(), "no port left") {
		t.Fatalf("got %v", err)
	}
	ri.Ports = func([]int) ([]int, error) { return []int{1}, nil }
	if _, err = compileService(t, svc, ri); err == nil || !strings.Contains(err.Error(), "1 ports were assigned for the 2 declared") {
		t.Fatalf("got %v", err)
	}
	job := `run: {kind: job, container: {image: a, command: [x]}}`
	c, err = compileService(t, job, ri) // not a service: not asked
	if err != nil || c.ServicePath() != "" {
		t.Fatalf("job: %v, path %q", err, c.ServicePath())
	}
}
