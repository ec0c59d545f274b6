package grpcapi

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
)

// procStats is what Stats reports of the process itself.
type procStats struct {
	goroutines, heapBytes, rssBytes int64
}

// heapMetric is the Go heap held by objects, live or not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

func readProcStats() procStats {
	s := procStats{goroutines: int64(runtime.NumGoroutine())}
	sample := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		s.heapBytes = int64(sample[0].Value.Uint64())
	}
	s.rssBytes = residentBytes()
	return s
}

// residentBytes is the resident set size from /proc/self/statm (its second
// field, in pages); 0 where there is no such file.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
