package procstat

import (
	"log"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Heap is the size of the Go heap, and the process's anonymous memory.
type Heap struct {
	InUse uint64 // bytes of objects, live or not yet swept
	Live  uint64 // bytes the last GC marked live
	// AnonKiB is the process's anonymous resident memory (RssAnon): the
	// heaps and stacks, without the files it maps (such as etcd's db).
	AnonKiB int64
}

// Max is the larger of h and o, field by field.
func (h Heap) Max(o Heap) Heap {
	return Heap{InUse: max(h.InUse, o.InUse), Live: max(h.Live, o.Live), AnonKiB: max(h.AnonKiB, o.AnonKiB)}
}

// ReadHeap reads the heap's size without stopping the world.
func ReadHeap() Heap {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return Heap{InUse: s[0].Value.Uint64(), Live: s[1].Value.Uint64(), AnonKiB: KiB("RssAnon")}
}

// HeapSampler follows the largest heap seen, every 100 ms.
type HeapSampler struct {
	done chan struct{}
	stop chan struct{}
	mu   sync.Mutex
	peak Heap
}

// StartHeapSampler starts following the heap. With a profile file, it
// writes a heap profile there each time the live heap has grown a tenth
// past the last one written.
func StartHeapSampler(profile string) *HeapSampler {
	h := &HeapSampler{done: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		defer close(h.done)
		var profiled uint64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			now := ReadHeap()
			h.mu.Lock()
			h.peak = h.peak.Max(now)
			h.mu.Unlock()
			if profile != "" && now.Live > profiled+profiled/10 {
				if err := WriteProfile("heap", profile); err != nil {
					log.Print(err)
					profile = ""
				}
				profiled = now.Live
			}
			select {
			case <-tick.C:
			case <-h.stop:
				return
			}
		}
	}()
	return h
}

// Peak returns the largest heap seen so far, and the heap now.
func (h *HeapSampler) Peak() Heap {
	now := ReadHeap()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak.Max(now)
}

// Stop ends the sampling and returns the largest heap seen.
func (h *HeapSampler) Stop() Heap {
	close(h.stop)
	<-h.done
	return h.Peak()
}

// WriteProfile writes the named runtime profile ("heap", "mutex", ...)
// to path.
func WriteProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ResetPeakRSS starts the process's peak resident set (VmHWM) again from
// its resident set now; false if the kernel would not.
func ResetPeakRSS() bool {
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	_, err = f.WriteString("5")
	return f.Close() == nil && err == nil
}

// Status is a field of /proc/self/status, such as "VmHWM" ("?" if it
// cannot be read).
func Status(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// KiB is a field of /proc/self/status in KiB, such as "VmHWM"; -1 if it
// cannot be read.
func KiB(field string) int64 {
	v, ok := strings.CutSuffix(Status(field), " kB")
	if !ok {
		return -1
	}
	k, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return -1
	}
	return k
}

// LoadAverage is the machine's load over 1, 5 and 15 minutes: other work
// on it slows a benchmark.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// CPU is the CPU time (user and system) the process has used so far.
func CPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
