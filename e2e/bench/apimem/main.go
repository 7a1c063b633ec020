package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plexus-ml/plexus/e2e/bench/instant"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/api"
	"github.com/plexus-ml/plexus/engine/store"
)

func main() {
	n := flag.Int("n", 4, "submissions sent at once")
	size := flag.Float64("size", 60, "MiB of YAML in each submission")
	pad := flag.String("pad", "env", "how the Polyaxonfile is padded to size: env, args, description, comment or dag")
	chunked := flag.Bool("chunked", false, "send the bodies without a Content-Length")
	allocs := flag.String("allocprofile", "", "write the server's allocation profile to this file when it ends")
	var limits api.Limits
	flag.Int64Var(&limits.MaxBody, "max-body", 0, "the server's largest body, in bytes (0: its default)")
	flag.Int64Var(&limits.InFlight, "max-inflight", 0, "the server's bytes of submissions in flight (0: its default)")
	flag.DurationVar(&limits.QueueWait, "queue-wait", 0, "how long a submission waits for room (0: the server's default)")
	serveMode := flag.Bool("serve", false, "(internal) be the server: print its address, serve until stdin closes")
	flag.Parse()
	log.SetFlags(0)
	if *serveMode {
		if err := serve(limits, *allocs); err != nil {
			log.Fatal(err)
		}
		return
	}
	spec, err := polyaxonfile(*pad, int(*size*(1<<20)))
	if err != nil {
		log.Fatal(err)
	}
	body, err := json.Marshal(api.SubmitRequest{Spec: spec})
	if err != nil {
		log.Fatal(err)
	}
	var serverArgs []string
	flag.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "max-body", "max-inflight", "queue-wait", "allocprofile":
			serverArgs = append(serverArgs, "-"+f.Name, f.Value.String())
		}
	})
	res, err := measure(body, len(spec), *n, *chunked, serverArgs)
	if err != nil {
		log.Fatal(err)
	}
	res.print(*n, *pad, *chunked)
	l := limits
	if l.MaxBody == 0 {
		l.MaxBody = api.DefaultMaxBody
	}
	if l.InFlight == 0 {
		l.InFlight = api.DefaultInFlight
	}
	fmt.Printf("  server limits             bodies up to %.1f MiB, %.1f MiB of them in flight\n", mib(l.MaxBody), mib(l.InFlight))
}

// polyaxonfile is a valid job of about size bytes of YAML, padded as pad
// says.
func polyaxonfile(pad string, size int) (string, error) {
	var b strings.Builder
	b.Grow(size + 512)
	if pad == "dag" {
		// Waiting for approval: the dag is compiled, not run.
		b.WriteString("version: 1.1\nkind: operation\nname: apimem\nisApproved: false\ncomponent:\n  run:\n    kind: dag\n    operations:\n")
		b.WriteString("      - {name: op0, dagRef: noop}\n")
		for i := 1; b.Len() < size-256; i++ {
			fmt.Fprintf(&b, "      - {name: op%d, dagRef: noop, dependencies: [op%d]}\n", i, i-1)
		}
		b.WriteString("    components:\n      - {name: noop, run: {kind: job, container: {image: alpine, command: ['true']}}}\n")
		return b.String(), nil
	}
	b.WriteString("version: 1.1\nkind: component\nname: apimem\n")
	switch pad {
	case "description":
		b.WriteString("description: ")
		b.WriteString(strings.Repeat("x", max(size-b.Len()-128, 1)))
		b.WriteString("\n")
	case "comment":
		for b.Len() < size-128 {
			b.WriteString("# a long comment to make the file large, a long comment to make the file large\n")
		}
	case "env", "args":
	default:
		return "", fmt.Errorf("-pad %q: want env, args, description, comment or dag", pad)
	}
	b.WriteString("run:\n  kind: job\n  container:\n    image: alpine\n    command: [echo, hello]\n")
	if pad == "args" {
		b.WriteString("    args: [a")
		for b.Len() < size-2 {
			b.WriteString(",a")
		}
		b.WriteString("]\n")
	}
	if pad == "env" {
		b.WriteString("    env:\n")
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, "      - {name: PAD_%08d, value: a value of the environment to make the file large}\n", i)
		}
	}
	return b.String(), nil
}

// result is what one measure saw.
type result struct {
	yamlBytes, bodyBytes int
	// idle is the server's resident set before the submissions, peak its
	// peak (VmHWM) once every accepted run ended, sampled the highest
	// VmRSS seen while they were submitted.
	idle, peak, sampled int64
	end                 string // RssAnon and RssFile at the end
	codes               map[string]int
	stored              int // runs the server lists at the end
	submitted           time.Duration
	ended               time.Duration
	died                error // the server's exit, if it died
}

func (r *result) print(n int, pad string, chunked bool) {
	how := "with a Content-Length"
	if chunked {
		how = "chunked"
	}
	fmt.Printf("apimem: %d submissions of %.1f MiB of YAML at once (%s padding; bodies of %.1f MiB, %s)\n",
		n, mib(int64(r.yamlBytes)), pad, mib(int64(r.bodyBytes)), how)
	var codes []string
	accepted := 0
	for code, k := range r.codes {
		codes = append(codes, fmt.Sprintf("%s x%d", code, k))
		if code == "201" {
			accepted = k
		}
	}
	slices.Sort(codes)
	fmt.Printf("  answers                   %s (all in %v; accepted runs ended %v later)\n", strings.Join(codes, ", "),
		r.submitted.Round(time.Millisecond), r.ended.Round(time.Millisecond))
	if r.died != nil {
		fmt.Printf("  THE SERVER DIED           %v (last VmRSS seen %.0f MiB)\n", r.died, mib(r.sampled))
		return
	}
	fmt.Printf("  runs stored               %d (accepted %d)\n", r.stored, accepted)
	fmt.Printf("  server RSS idle           %.0f MiB\n", mib(r.idle))
	fmt.Printf("  server peak RSS (VmHWM)   %.0f MiB (highest VmRSS sampled %.0f MiB; at the end %s)\n", mib(r.peak), mib(r.sampled), r.end)
	growth := mib(r.peak - r.idle)
	fmt.Printf("  RSS per MiB submitted     %.2f MiB (peak - idle over the %.1f MiB of YAML sent)\n", growth/(mib(int64(r.yamlBytes))*float64(n)), mib(int64(r.yamlBytes))*float64(n))
	if accepted > 0 {
		fmt.Printf("  RSS per MiB accepted      %.2f MiB (over the %.1f MiB of YAML of the %d runs accepted)\n", growth/(mib(int64(r.yamlBytes))*float64(accepted)), mib(int64(r.yamlBytes))*float64(accepted), accepted)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// measure starts a server in a child process, sends it n copies of body
// at once, waits for the accepted runs to end, and reads its memory.
func measure(body []byte, yamlBytes, n int, chunked bool, serverArgs []string) (*result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"-serve"}, serverArgs...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = stdin.Close() // the server stops when its stdin closes
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("reading the server's address: %w", err)
	}
	base := strings.TrimSpace(line)
	pid := cmd.Process.Pid
	time.Sleep(2 * time.Second) // elected, settled
	res := &result{yamlBytes: yamlBytes, bodyBytes: len(body), codes: map[string]int{}}
	if res.idle, err = status(pid, "VmRSS"); err != nil {
		return nil, err
	}

	// Sample the resident set while the submissions go.
	samplerDone := make(chan struct{})
	sampled := make(chan int64, 1)
	go func() {
		var top int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := status(pid, "VmRSS"); err == nil {
				top = max(top, v)
			}
			select {
			case <-samplerDone:
				sampled <- top
				return
			case <-t.C:
			}
		}
	}()

	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	var (
		mu    sync.Mutex
		uuids []string
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rd io.Reader = bytes.NewReader(body)
			if chunked {
				rd = struct{ io.Reader }{rd} // no Content-Length
			}
			code, uuid := submit(hc, base, rd)
			mu.Lock()
			defer mu.Unlock()
			res.codes[code]++
			if uuid != "" {
				uuids = append(uuids, uuid)
			}
		}()
	}
	wg.Wait()
	res.submitted = time.Since(start)
	c := &api.Client{BaseURL: base}
	start = time.Now()
	for _, uuid := range uuids {
		for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			select {
			case err := <-exited:
				close(samplerDone)
				res.sampled = <-sampled
				res.died = fmt.Errorf("%v", err)
				exited <- err
				return res, nil
			default:
			}
			run, err := c.Get(context.Background(), uuid)
			if err == nil && (run.Status.Final() || run.Status == store.Compiled && !run.Approved) {
				break // ended, or compiled and waiting for an approval (a dag)
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("run %s did not end in 10 minutes: %v", uuid, err)
			}
		}
	}
	res.ended = time.Since(start)
	for after := ""; ; {
		page, err := c.List(context.Background(), api.ListOptions{After: after, Limit: 1000})
		if err != nil {
			return nil, fmt.Errorf("listing the runs: %w", err)
		}
		res.stored += len(page.Runs)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	close(samplerDone)
	res.sampled = <-sampled
	select {
	case err := <-exited:
		res.died = fmt.Errorf("%v", err)
		exited <- err
		return res, nil
	default:
	}
	if res.peak, err = status(pid, "VmHWM"); err != nil {
		return nil, err
	}
	anon, _ := status(pid, "RssAnon")
	file, _ := status(pid, "RssFile")
	res.end = fmt.Sprintf("%.0f MiB anonymous, %.0f MiB file-backed", mib(anon), mib(file))
	return res, nil
}

// submit posts one body and says how it was answered: the status code,
// or "broken" when the connection failed; and the run's uuid when it was
// accepted.
func submit(hc *http.Client, base string, body io.Reader) (string, string) {
	resp, err := hc.Post(base+"/api/v1/runs", "application/json", body)
	if err != nil {
		return "broken", ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		_, _ = io.Copy(io.Discard, resp.Body)
		return strconv.Itoa(resp.StatusCode), ""
	}
	var run struct {
		UUID string `json:"uuid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&run); err != nil {
		return "201 unreadable", ""
	}
	return "201", run.UUID
}

// status is a size field of /proc/PID/status, such as VmHWM, in bytes.
func status(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading %s of process %d: %w", field, pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("process %d has no %s", pid, field)
}

// serve is the child: an engine on an embedded etcd behind the API, as
// `plexus server` runs it, until stdin closes.
func serve(limits api.Limits, allocs string) error {
	dir, err := os.MkdirTemp("", "plexus-apimem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	emb, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		return err
	}
	defer emb.Close()
	cli := emb.Client()
	defer cli.Close()
	st := store.New(cli, "", nil)
	ex := instant.New()
	eng, err := engine.New(engine.Config{Store: st, Executor: ex})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(ctx) }()
	srv := (&api.Server{Engine: eng, Store: st, Executor: ex, Limits: limits}).HTTPServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Println("http://" + ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	err = <-served
	cancel()
	<-engDone
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if allocs != "" {
		f, err := os.Create(allocs)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return fmt.Errorf("writing the allocation profile: %w", err)
		}
	}
	return nil
}
