package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a log-linear latency histogram in the manner of HdrHistogram:
// values below 128 ns are exact, above that each power of two is cut into
// 64 buckets, so a quantile is off by at most 1/64 (1.6 %) of its value.
// Its memory is fixed (histBuckets counters) however many values it
// records. Record is safe from any goroutine (atomic adds, no lock).
type hist struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	subBits     = 6                        // 64 sub-buckets per power of two
	subCount    = 1 << subBits             // 64
	histBuckets = subCount*58 + 2*subCount // shifts 0..57 cover all int64
)

// bucket maps a value (ns, >= 0) to its bucket index.
func bucket(v int64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	return subCount*shift + int(v>>shift)
}

// bucketHigh is the largest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	shift := i/subCount - 1
	m := int64(i - subCount*shift) // in [64, 128)
	return (m+1)<<shift - 1
}

// Record adds one latency; negative ones count as 0.
func (h *hist) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucket(v)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is how many values were recorded.
func (h *hist) Count() uint64 { return h.n.Load() }

// Max is the largest value recorded, exactly.
func (h *hist) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the value at quantile q (0..1): the upper edge of the
// bucket holding the ceil(q*n)-th smallest value, never above Max. 0 when
// nothing was recorded.
func (h *hist) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketHigh(i)), h.Max())
		}
	}
	return h.Max()
}

// latency is a histogram summary in milliseconds, as reports print it.
type latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (h *hist) summary() latency {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return latency{Count: h.Count(), P50: ms(h.Quantile(.5)), P90: ms(h.Quantile(.9)), P99: ms(h.Quantile(.99)), Max: ms(h.Max())}
}
