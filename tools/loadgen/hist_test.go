package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketEdges(t *testing.T) {
	// Every value lies in its bucket: no gaps, no overlaps, and a bucket's
	// width is at most 1/64 of its values.
	for _, v := range []int64{0, 1, 63, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, 1<<40 + 12345, math.MaxInt64} {
		i := bucket(v)
		hi := bucketHigh(i)
		lo := int64(0)
		if i > 0 {
			lo = bucketHigh(i-1) + 1
		}
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if v >= 128 && float64(hi-lo+1) > float64(lo)/64+1 {
			t.Errorf("bucket %d = [%d, %d] wider than 1/64", i, lo, hi)
		}
		if i >= histBuckets {
			t.Errorf("value %d: bucket %d out of range", v, i)
		}
	}
}

func TestQuantiles(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		values []time.Duration
		want   map[float64]time.Duration // quantile -> exact answer
	}{
		{"empty", nil, map[float64]time.Duration{.5: 0, .99: 0}},
		{"one", []time.Duration{7 * ms}, map[float64]time.Duration{0: 7 * ms, .5: 7 * ms, 1: 7 * ms}},
		{"small exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, map[float64]time.Duration{.1: 1, .5: 5, .9: 9, 1: 10}},
		{"1..1000 ms", ramp(1000, ms), map[float64]time.Duration{.5: 500 * ms, .9: 900 * ms, .99: 990 * ms, 1: 1000 * ms}},
		{"outlier", append(slices.Repeat([]time.Duration{ms}, 999), 5*time.Second), map[float64]time.Duration{.5: ms, .99: ms, .999: ms, 1: 5 * time.Second}},
		{"negative counts as 0", []time.Duration{-5, 3}, map[float64]time.Duration{.5: 0, 1: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hist
			for _, v := range tt.values {
				h.Record(v)
			}
			if h.Count() != uint64(len(tt.values)) {
				t.Fatalf("count = %d", h.Count())
			}
			for q, want := range tt.want {
				got := h.Quantile(q)
				// At most 1/64 above the exact value, never below it.
				if got < want || float64(got-want) > float64(want)/64 {
					t.Errorf("q%.3f = %v, want %v (+1/64)", q, got, want)
				}
			}
		})
	}
}

func ramp(n int, unit time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * unit
	}
	return out
}

// TestQuantilesAgainstSorted: random latencies, the histogram's answer
// within 1/64 of the exact sorted-sample quantile.
func TestQuantilesAgainstSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h hist
	vals := make([]time.Duration, 100000)
	for i := range vals {
		vals[i] = time.Duration(rng.ExpFloat64() * float64(3*time.Millisecond))
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{.5, .9, .99, .999} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/64 {
			t.Errorf("q%v = %v, exact %v", q, got, exact)
		}
	}
	if h.Max() != vals[len(vals)-1] {
		t.Errorf("max = %v, want %v", h.Max(), vals[len(vals)-1])
	}
}

func BenchmarkRecord(b *testing.B) {
	var h hist
	b.RunParallel(func(pb *testing.PB) {
		d := time.Duration(0)
		for pb.Next() {
			d += 997
			h.Record(d % (100 * time.Millisecond))
		}
	})
}
