// Command engine measures the engine on an embedded etcd with an executor
// that succeeds every attempt as it is dispatched: runs per second for N
// single-step runs, the engine's overhead per run from submission to
// dispatch (p50, p99), its memory, and, on the same etcd, the raw rate of
// transactions of a run record's size, to compare the engine's write rate
// with.
//
//	go run ./e2e/bench/engine -n 10000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/plexus-ml/plexus/e2e/bench/figures"
	"github.com/plexus-ml/plexus/e2e/bench/instant"
	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/specs"
)

const spec = "version: 1.1\nkind: component\ninputs: [{name: i, type: int}]\nrun: {container: {image: alpine, command: [echo, '{{ i }}']}}\n"

// phase submits n runs, from c submitters, at most rate a second (0: as
// fast as they go), and waits until every run has ended. It returns how
// long that took, each run's overhead from its creation to its dispatch,
// and how many etcd transactions were made meanwhile.
func phase(st *store.Store, eng *engine.Engine, ex *instant.Executor, n, c int, rate float64) (time.Duration, []time.Duration, int64) {
	ctx := context.Background()
	rev0 := figures.Revision(st)
	created := make([]time.Time, n)
	uuids := make([]string, n)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
						time.Sleep(d)
					}
				}
				run, err := eng.Submit(ctx, engine.Submission{Spec: spec, Source: "bench",
					Params: map[string]specs.Param{"i": {Value: i}}})
				if err != nil {
					log.Fatal(err)
				}
				// Submit returns once the run is in etcd: created.
				created[i], uuids[i] = time.Now(), run.UUID
			}
		}()
	}
	wg.Wait()
	for {
		active, err := st.Active(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if len(active) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	total := time.Since(start)
	var overheads []time.Duration
	dispatched := ex.Dispatched()
	for i, u := range uuids {
		if t, ok := dispatched[u]; ok {
			overheads = append(overheads, max(t.Sub(created[i]), 0))
		}
	}
	sort.Slice(overheads, func(i, j int) bool { return overheads[i] < overheads[j] })
	return total, overheads, figures.Revision(st) - rev0
}

// peakRSS is the process's peak resident set (engine and embedded etcd).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func main() {
	n := flag.Int("n", 10000, "runs to submit as fast as possible")
	submitters := flag.Int("c", 8, "concurrent submitters")
	pacedN := flag.Int("paced", 2000, "runs of the paced phase (0: none)")
	rate := flag.Float64("rate", 200, "submissions a second in the paced phase")
	rawOps := flag.Int("raw", 20000, "transactions of the raw etcd measure")
	rawConc := flag.Int("rawc", 72, "concurrent writers of the raw measure (default: the burst's submitters and the engine's 64 workers)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the phases to this file")
	flag.Parse()
	log.SetFlags(0)

	dir, err := os.MkdirTemp("", "plexus-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	emb, err := store.StartEmbedded(dir, 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer emb.Close()
	cli := emb.Client()
	defer cli.Close()

	ex := instant.New()
	st := store.New(cli, "/bench/", nil)
	eng, err := engine.New(engine.Config{Store: st, Executor: ex, Resync: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(engCtx) }()
	time.Sleep(500 * time.Millisecond) // elected

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	total, overheads, txns := phase(st, eng, ex, *n, *submitters, 0)
	var paced []time.Duration
	var pacedTotal time.Duration
	if *pacedN > 0 {
		pacedTotal, paced, _ = phase(st, eng, ex, *pacedN, *submitters, *rate)
	}
	pprof.StopCPUProfile()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	stopEngine()
	<-engDone

	page, err := st.List(context.Background(), "", 1, nil)
	if err != nil || len(page.Runs) == 0 {
		log.Fatal("no run to size the raw transactions on: ", err)
	}
	record, err := json.Marshal(page.Runs[0])
	if err != nil {
		log.Fatal(err)
	}
	payload := strings.Repeat("x", len(record))
	var rawNext atomic.Int64
	var wg sync.WaitGroup
	rawStart := time.Now()
	for range *rawConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := rawNext.Add(1)
				if i > int64(*rawOps) {
					return
				}
				key := fmt.Sprintf("/raw/%d", i)
				if _, err := cli.Txn(context.Background()).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
					Then(clientv3.OpPut(key, payload)).Commit(); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	rawRate := float64(*rawOps) / time.Since(rawStart).Seconds()
	runsPerSec := float64(*n) / total.Seconds()
	perRun := float64(txns) / float64(*n)
	fmt.Printf("burst: %d runs from %d submitters\n", *n, *submitters)
	fmt.Printf("  all succeeded in          %v\n", total.Round(time.Millisecond))
	fmt.Printf("  throughput                %.0f runs/s\n", runsPerSec)
	fmt.Printf("  overhead created->dispatched  p50 %v  p99 %v\n", figures.Pct(overheads, 0.5), figures.Pct(overheads, 0.99))
	fmt.Printf("  etcd writes               %.1f per run (submission included), %.0f txn/s\n", perRun, float64(txns)/total.Seconds())
	if *pacedN > 0 {
		fmt.Printf("paced: %d runs at %.0f/s\n", *pacedN, *rate)
		fmt.Printf("  all succeeded in          %v\n", pacedTotal.Round(time.Millisecond))
		fmt.Printf("  overhead created->dispatched  p50 %v  p99 %v\n", figures.Pct(paced, 0.5), figures.Pct(paced, 0.99))
	}
	fmt.Printf("memory                      heap in use %.1f MiB; peak RSS %s (engine and embedded etcd in one process)\n", float64(mem.HeapInuse)/(1<<20), peakRSS())
	fmt.Printf("raw etcd                    %.0f txn/s (%d of %d bytes, %d at once)\n", rawRate, *rawOps, len(payload), *rawConc)
	fmt.Printf("engine / raw                %.0f%% (runs/s x writes per run / raw txn/s)\n", 100*runsPerSec*perRun/rawRate)
}
