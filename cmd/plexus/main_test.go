package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the plexus command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"plexus": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		// serve-hello PORT answers every request on 127.0.0.1:PORT with
		// the run it is part of and the path asked for: a service.
		"serve-hello": func() {
			err := http.ListenAndServe("127.0.0.1:"+os.Args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "hello from %s at %s\n", os.Getenv("PLEXUS_RUN_UUID"), r.URL.Path)
			}))
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		},
		// tensorboard stands in for TensorBoard in scripts: it takes the
		// flags the hub's tensorboard components give it and serves, under
		// --path_prefix, the files under --logdir, one per line.
		"tensorboard": fakeTensorboard,
	})
}

func fakeTensorboard() {
	flags := map[string]string{}
	for _, a := range os.Args[1:] {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		flags[k] = v
	}
	logdir, prefix := flags["logdir"], flags["path_prefix"]
	err := http.ListenAndServe("127.0.0.1:"+flags["port"], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		_ = filepath.WalkDir(logdir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(logdir, path)
				fmt.Fprintln(w, rel)
			}
			return nil
		})
	}))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// setenvfile VAR FILE waits for FILE (written by a background
			// command) and sets VAR to its first line.
			"setenvfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: setenvfile VAR FILE")
				}
				path := ts.MkAbs(args[1])
				for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
						ts.Setenv(args[0], strings.TrimSpace(string(data)))
						return
					}
					if time.Now().After(deadline) {
						ts.Fatalf("%s did not appear", args[1])
					}
				}
			},
			// webhook-serve VAR FILE serves HTTP on loopback until the
			// script ends, sets VAR to its URL, and appends each request it
			// gets to FILE as one line: METHOD BODY.
			"webhook-serve": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: webhook-serve VAR FILE")
				}
				path := ts.MkAbs(args[1])
				var mu sync.Mutex
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					mu.Lock()
					defer mu.Unlock()
					f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
					if err == nil {
						fmt.Fprintf(f, "%s %s\n", r.Method, bytes.ReplaceAll(body, []byte("\n"), nil))
						_ = f.Close()
					}
				}))
				ts.Defer(srv.Close)
				ts.Setenv(args[0], srv.URL)
			},
			// until-ok CMD ARGS... runs CMD until it succeeds, for 30s at
			// most; its last output is the one to check. until-stdout
			// REGEXP CMD ARGS... runs it until it succeeds with an output
			// REGEXP matches.
			"until-ok": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) == 0 {
					ts.Fatalf("usage: until-ok CMD ARGS...")
				}
				until(ts, nil, args)
			},
			"until-stdout": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: until-stdout REGEXP CMD ARGS...")
				}
				re, err := regexp.Compile("(?m)" + args[0])
				ts.Check(err)
				until(ts, re, args[1:])
			},
			// httpget URL TEXT waits until GET URL answers 200 with a body
			// holding TEXT; ! httpget URL until nothing answers at URL (30s
			// at most for each).
			"httpget": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg != (len(args) == 1) || len(args) > 2 {
					ts.Fatalf("usage: httpget URL TEXT, or ! httpget URL")
				}
				client := &http.Client{Timeout: 2 * time.Second}
				last := ""
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					resp, err := client.Get(args[0])
					if err != nil {
						if neg {
							return
						}
						last = err.Error()
						continue
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					last = fmt.Sprintf("%s: %s", resp.Status, body)
					if !neg && resp.StatusCode == http.StatusOK && strings.Contains(string(body), args[1]) {
						return
					}
				}
				ts.Fatalf("GET %s: still %s after 30s", args[0], last)
			},
			// setenvmatch VAR stdout|stderr REGEXP sets VAR to what the first
			// group of REGEXP matches in the last command's output.
			"setenvmatch": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 || args[1] != "stdout" && args[1] != "stderr" || !strings.Contains(args[2], "(") {
					ts.Fatalf("usage: setenvmatch VAR stdout|stderr REGEXP-WITH-A-GROUP")
				}
				re, err := regexp.Compile("(?m)" + args[2])
				ts.Check(err)
				m := re.FindStringSubmatch(ts.ReadFile(args[1]))
				if len(m) < 2 {
					ts.Fatalf("no match for %q in %s", args[2], args[1])
				}
				ts.Setenv(args[0], m[1])
			},
		},
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

// until runs a command until it succeeds, with an output re matches if
// re is not nil; for 30s at most.
func until(ts *testscript.TestScript, re *regexp.Regexp, args []string) {
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = ts.Exec(args[0], args[1:]...); err == nil {
			if re == nil || re.MatchString(ts.ReadFile("stdout")) {
				return
			}
			err = fmt.Errorf("no match for %s in its output", re)
		}
	}
	ts.Fatalf("%s did not succeed in 30s: %v", strings.Join(args, " "), err)
}
