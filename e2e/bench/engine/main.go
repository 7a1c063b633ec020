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
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/plexus-ml/plexus/engine"
	"github.com/plexus-ml/plexus/engine/store"
	"github.com/plexus-ml/plexus/executor"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

// instant succeeds every attempt as it is dispatched, and notes when.
type instant struct {
	mu         sync.Mutex
	dispatched map[string]time.Time
	subs       []chan executor.StatusUpdate
}

func (x *instant) Dispatch(_ context.Context, ref executor.RunRef, _ *compiler.Compiled) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, dup := x.dispatched[ref.UUID]; !dup {
		x.dispatched[ref.UUID] = time.Now()
	}
	for _, c := range x.subs {
		c <- executor.StatusUpdate{Run: ref, Status: executor.Succeeded, Time: time.Now()}
	}
	return nil
}

func (x *instant) Stop(context.Context, executor.RunRef) error { return nil }

func (x *instant) Watch(ctx context.Context) (<-chan executor.StatusUpdate, error) {
	ch := make(chan executor.StatusUpdate, 1<<17)
	x.mu.Lock()
	x.subs = append(x.subs, ch)
	x.mu.Unlock()
	go func() {
		<-ctx.Done()
		x.mu.Lock()
		defer x.mu.Unlock()
		for i, c := range x.subs {
			if c == ch {
				x.subs = append(x.subs[:i], x.subs[i+1:]...)
				break
			}
		}
		close(ch)
	}()
	return ch, nil
}

func (x *instant) Logs(context.Context, executor.RunRef, bool) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

const spec = "version: 1.1\nkind: component\ninputs: [{name: i, type: int}]\nrun: {container: {image: alpine, command: [echo, '{{ i }}']}}\n"

func main() {
	n := flag.Int("n", 10000, "runs to submit")
	submitters := flag.Int("c", 8, "concurrent submitters")
	rawOps := flag.Int("raw", 20000, "transactions of the raw etcd measure")
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
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{emb.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()

	ex := &instant{dispatched: map[string]time.Time{}}
	st := store.New(cli, "/bench/", nil)
	eng, err := engine.New(engine.Config{Store: st, Executor: ex, Resync: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan struct{})
	go func() { defer close(engDone); _ = eng.Run(engCtx) }()
	time.Sleep(500 * time.Millisecond) // elected

	submitted := make([]time.Time, *n)
	uuids := make([]string, *n)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range *submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				t := time.Now()
				run, err := eng.Submit(context.Background(), engine.Submission{Spec: spec, Source: "bench",
					Params: map[string]specs.Param{"i": {Value: i}}})
				if err != nil {
					log.Fatal(err)
				}
				submitted[i], uuids[i] = t, run.UUID
			}
		}()
	}
	wg.Wait()
	submitTime := time.Since(start)
	for {
		active, err := st.Active(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		if len(active) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	total := time.Since(start)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	stopEngine()
	<-engDone

	var overheads []time.Duration
	ex.mu.Lock()
	for i, u := range uuids {
		if t, ok := ex.dispatched[u]; ok {
			overheads = append(overheads, t.Sub(submitted[i]))
		}
	}
	ex.mu.Unlock()
	sort.Slice(overheads, func(i, j int) bool { return overheads[i] < overheads[j] })
	pct := func(p float64) time.Duration { return overheads[int(p*float64(len(overheads)-1))] }

	record, _, err := st.Get(context.Background(), uuids[0])
	if err != nil {
		log.Fatal(err)
	}
	payload := strings.Repeat("x", len(fmt.Sprintf("%+v", *record)))
	var rawNext atomic.Int64
	rawStart := time.Now()
	for range *submitters {
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
	// Each run is written 5 times (created, compiled, queued, scheduled,
	// succeeded); its index entries ride in those transactions.
	const writesPerRun = 5
	fmt.Printf("runs                        %d (%d submitters)\n", *n, *submitters)
	fmt.Printf("submitted in                %v\n", submitTime.Round(time.Millisecond))
	fmt.Printf("all succeeded in            %v\n", total.Round(time.Millisecond))
	fmt.Printf("throughput                  %.0f runs/s\n", runsPerSec)
	fmt.Printf("overhead submit->dispatch   p50 %v  p99 %v\n", pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	fmt.Printf("engine memory               heap in use %.1f MiB, from the OS %.1f MiB\n", float64(mem.HeapInuse)/(1<<20), float64(mem.Sys)/(1<<20))
	fmt.Printf("raw etcd transactions       %.0f txn/s (%d of %d bytes, %d at once)\n", rawRate, *rawOps, len(payload), *submitters)
	fmt.Printf("engine writes               %.0f txn/s = %.0f%% of raw\n", runsPerSec*writesPerRun, 100*runsPerSec*writesPerRun/rawRate)
}
