package procstat

import (
	"log"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// Heap is the size of the Go heap.
type Heap struct {
	InUse uint64 // bytes of objects, live or not yet swept
	Live  uint64 // bytes the last GC marked live
}

// Max is the larger of h and o, field by field.
func (h Heap) Max(o Heap) Heap {
	return Heap{InUse: max(h.InUse, o.InUse), Live: max(h.Live, o.Live)}
}

// ReadHeap reads the heap's size without stopping the world.
func ReadHeap() Heap {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return Heap{InUse: s[0].Value.Uint64(), Live: s[1].Value.Uint64()}
}

// HeapSampler follows the largest heap seen, every 100 ms.
type HeapSampler struct {
	done chan struct{}
	peak chan Heap
}

// StartHeapSampler starts following the heap. With a profile file, it
// writes a heap profile there each time the live heap has grown a tenth
// past the last one written.
func StartHeapSampler(profile string) *HeapSampler {
	h := &HeapSampler{done: make(chan struct{}), peak: make(chan Heap)}
	go func() {
		var peak Heap
		var profiled uint64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			now := ReadHeap()
			peak = peak.Max(now)
			if profile != "" && now.Live > profiled+profiled/10 {
				if err := WriteProfile("heap", profile); err != nil {
					log.Print(err)
					profile = ""
				}
				profiled = now.Live
			}
			select {
			case <-tick.C:
			case <-h.done:
				h.peak <- peak
				return
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the largest heap seen.
func (h *HeapSampler) Stop() Heap {
	close(h.done)
	return <-h.peak
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
