package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
			// httpplain URL asks an https URL's server for the run list in
			// plain HTTP, and checks it is not answered with the API.
			"httpplain": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: httpplain URL")
				}
				resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(strings.Replace(args[0], "https://", "http://", 1) + "/api/v1/runs")
				if err != nil {
					return // refused outright
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					ts.Fatalf("plain HTTP got %s, want 400 (a TLS server's answer to plain HTTP)", resp.Status)
				}
			},
			// cutlines FROM TO N copies FROM without its last N lines.
			"cutlines": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 3 {
					ts.Fatalf("usage: cutlines FROM TO N")
				}
				n, err := strconv.Atoi(args[2])
				ts.Check(err)
				lines := strings.SplitAfter(strings.TrimSuffix(ts.ReadFile(args[0]), "\n"), "\n")
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Join(lines[:max(len(lines)-n, 0)], "")), 0o644))
			},
			// gencert CERT KEY writes a self-signed certificate for
			// 127.0.0.1 and localhost, and its key, as PEM files.
			"gencert": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: gencert CERT KEY")
				}
				cert, key, err := selfSigned()
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), cert, 0o644))
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), key, 0o600))
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
			// sighup sends SIGHUP to the `plexus server` processes the
			// script started in the background (the test's children working
			// in the script's directory).
			"sighup": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 0 {
					ts.Fatalf("usage: sighup")
				}
				pids, err := serverPids(ts.MkAbs("."))
				ts.Check(err)
				if len(pids) == 0 {
					ts.Fatalf("no plexus server is running in %s", ts.MkAbs("."))
				}
				for _, pid := range pids {
					ts.Check(syscall.Kill(pid, syscall.SIGHUP))
				}
			},
			// alive PID... fails unless each process runs: a zombie,
			// which kill -0 finds, has ended.
			"alive": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) == 0 {
					ts.Fatalf("usage: alive PID...")
				}
				for _, pid := range args {
					data, err := os.ReadFile("/proc/" + pid + "/stat")
					if err != nil {
						ts.Fatalf("process %s: %v", pid, err)
					}
					// The state follows the command name, in parentheses.
					rest := string(data[bytes.LastIndexByte(data, ')')+1:])
					if state := strings.Fields(rest)[0]; state == "Z" || state == "X" {
						ts.Fatalf("process %s has ended (state %s)", pid, state)
					}
				}
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

// serverPids are the processes of this test's children that run `plexus
// server` in dir.
func serverPids(dir string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		argv := strings.Split(string(cmdline), "\x00")
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if len(argv) > 1 && filepath.Base(argv[0]) == "plexus" && argv[1] == "server" && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids, nil
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

// selfSigned is a certificate for 127.0.0.1 and localhost, valid for an
// hour and signing itself, and its key, PEM-encoded.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "plexus test"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
