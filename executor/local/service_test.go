package local

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

const helperServePort = "PLEXUS_TEST_SERVE_PORT"

// TestServeHelper is not a test: run by a service's command with
// helperServePort set, it serves HTTP there, answering with the path it
// was asked for, until it is ended.
func TestServeHelper(t *testing.T) {
	port := os.Getenv(helperServePort)
	if port == "" {
		return
	}
	err := http.ListenAndServe("127.0.0.1:"+port, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s at %s", os.Getenv("PLEXUS_RUN_UUID"), r.URL.Path)
	}))
	t.Fatal(err)
}

// serviceComponent is a service on declared port 6006 whose process is
// TestServeHelper, told the port it was given.
func serviceComponent() string {
	return fmt.Sprintf(`run:
  kind: service
  ports: [6006]
  rewritePath: true
  container:
    image: ignored-locally
    command: [%q, "-test.run=^TestServeHelper$", "-test.count=1"]
    env:
      - {name: %s, value: "{{ globals.ports[0] }}"}
`, os.Args[0], helperServePort)
}

// compileService compiles a service for attempt 1 of uuid as the engine
// does for this executor, its ports given by the executor.
func compileService(t *testing.T, e *Executor, uuid string) *compiler.Compiled {
	t.Helper()
	files, err := specs.Parse("svc.yaml", []byte("version: 1.1\nkind: component\n"+serviceComponent()))
	if err != nil {
		t.Fatal(err)
	}
	ref := executor.RunRef{UUID: uuid, Attempt: 1}
	c, err := compiler.Compile(&specs.Operation{}, files[0].Component, compiler.Options{Run: compiler.RunInfo{
		UUID: uuid, ContextPath: e.ContextPath(uuid),
		Ports: func(declared []int) ([]int, error) { return e.Ports(ref, declared) },
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitStatus returns the first update of ref with status s.
func waitStatus(t *testing.T, updates <-chan executor.StatusUpdate, ref executor.RunRef, s executor.Status) executor.StatusUpdate {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Run == ref && u.Status == s {
				return u
			}
			if u.Run == ref && u.Status.Final() {
				t.Fatalf("%v ended %s (%s: %s) before it was %s", ref, u.Status, u.Reason, u.Message, s)
			}
		case <-timeout:
			t.Fatalf("%v was not %s in time", ref, s)
		}
	}
}

func get(url string) (string, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// TestServiceOnFreePorts: two services that both declare port 6006 each
// get a free port of their own, say running once they answer there, and
// stop answering when stopped; an attempt's ports are the same each time
// it is compiled.
func TestServiceOnFreePorts(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	urls := map[string]string{}
	for _, uuid := range []string{"aaaa", "bbbb"} {
		c := compileService(t, e, uuid)
		ref := executor.RunRef{UUID: uuid, Attempt: 1}
		ep, ok := e.Endpoint(ref, c)
		if !ok || len(ep.Ports) != 1 || ep.Ports[0] == 6006 || ep.Path != "/" {
			t.Fatalf("endpoint %+v, %v", ep, ok)
		}
		if again := compileService(t, e, uuid); again.Component.Run.(*specs.Service).Ports.Items[0] != ep.Ports[0] {
			t.Fatalf("compiled again, attempt 1 of %s moved from port %d to %v", uuid, ep.Ports[0], again.Component.Run.(*specs.Service).Ports.Items)
		}
		if got := c.Globals["ports"]; fmt.Sprint(got) != fmt.Sprint([]int{ep.Ports[0]}) {
			t.Fatalf("globals.ports = %v, want [%d]", got, ep.Ports[0])
		}
		if err := e.Dispatch(t.Context(), ref, c); err != nil {
			t.Fatal(err)
		}
		if u := waitStatus(t, updates, ref, executor.Running); u.Reason != "Listening" {
			t.Fatalf("running: %+v", u)
		}
		urls[uuid] = ep.URL
	}
	if urls["aaaa"] == urls["bbbb"] {
		t.Fatalf("both services at %s", urls["aaaa"])
	}
	for uuid, url := range urls {
		body, err := get(url + "x")
		if err != nil || body != "hello from "+uuid+" at /x" {
			t.Fatalf("GET %sx: %q, %v", url, body, err)
		}
	}
	ref := executor.RunRef{UUID: "aaaa", Attempt: 1}
	if err := e.Stop(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	if u := waitFinal(t, updates, ref); u.Status != executor.Stopped {
		t.Fatalf("after stop: %+v", u)
	}
	if body, err := get(urls["aaaa"]); err == nil {
		t.Fatalf("the stopped service still answers: %q, %v", body, err)
	}
	if _, err := get(urls["bbbb"]); err != nil {
		t.Fatalf("the other service stopped too: %v", err)
	}
}

// TestMissingCommandSaysSo: a command this host does not have fails the
// attempt saying that the command runs here, without its image.
func TestMissingCommandSaysSo(t *testing.T) {
	e := newExecutor(t)
	updates, _ := e.Watch(t.Context())
	c := compile(t, e, "cccc", "run: {container: {image: tensorflow/tensorflow, command: [no-such-tensorboard, --logdir=x]}}\n", nil)
	ref := executor.RunRef{UUID: "cccc", Attempt: 1}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	u := waitFinal(t, updates, ref)
	if u.Status != executor.Failed || !strings.Contains(u.Message, `"no-such-tensorboard": executable file not found`) || !strings.Contains(u.Message, "install it here, or run on Kubernetes") {
		t.Fatalf("got %+v", u)
	}
}

// TestServiceNotListening: a service whose process does not answer at
// its port is in warning, saying which port it should listen on; it runs
// once it answers.
func TestServiceNotListening(t *testing.T) {
	e, err := New(Config{Root: t.TempDir(), BaseEnv: []string{"PATH=" + os.Getenv("PATH")}, StopGrace: 200 * time.Millisecond, ListenWarning: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	updates, _ := e.Watch(t.Context())
	files, err := specs.Parse("svc.yaml", []byte(fmt.Sprintf(`version: 1.1
kind: component
run:
  kind: service
  ports: [6006]
  container:
    image: x
    command: [sh, -c, 'sleep 1; exec "$0" -test.run=^TestServeHelper$ -test.count=1', %q]
    env: [{name: %s, value: "{{ globals.ports[0] }}"}]
`, os.Args[0], helperServePort)))
	if err != nil {
		t.Fatal(err)
	}
	ref := executor.RunRef{UUID: "dddd", Attempt: 1}
	c, err := compiler.Compile(&specs.Operation{}, files[0].Component, compiler.Options{Run: compiler.RunInfo{UUID: "dddd", ContextPath: e.ContextPath("dddd"),
		Ports: func(declared []int) ([]int, error) { return e.Ports(ref, declared) }}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Dispatch(t.Context(), ref, c); err != nil {
		t.Fatal(err)
	}
	u := waitStatus(t, updates, ref, executor.Warning)
	if u.Reason != "NotListening" || !strings.Contains(u.Message, "must listen on globals.ports[0]") {
		t.Fatalf("warning %+v", u)
	}
	waitStatus(t, updates, ref, executor.Running)
	if err := e.Stop(t.Context(), ref); err != nil {
		t.Fatal(err)
	}
	waitFinal(t, updates, ref)
}
