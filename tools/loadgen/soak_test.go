package main

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// series makes n samples a minute apart: base plus perMin per minute plus
// noise of ±jitter.
func series(n int, base, perMin, jitter float64, rng *rand.Rand) (at, v []float64) {
	for i := range n {
		at = append(at, float64(60*(i+1)))
		v = append(v, base+perMin*float64(i)+jitter*(2*rng.Float64()-1))
	}
	return at, v
}

func TestFlatness(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name   string
		perMin float64
		jitter float64
		spike  bool
		flat   bool
	}{
		{"steady", 0, 0, false, true},
		{"noisy but flat", 0, 15, false, true},
		{"one spike", 0, 2, true, true},
		{"leak of 1% a minute", 5, 2, false, false},
		{"drift within the tolerance", 1, 0, false, true},
		{"leak of one per churn cycle", 300, 20, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, v := series(24, 500, tc.perMin, tc.jitter, rng)
			if tc.spike {
				v[12] *= 3
			}
			tr := flatness("x", at, v, 0.10, 20)
			if tr.Flat != tc.flat {
				t.Fatalf("flat = %v, want %v: %+v", tr.Flat, tc.flat, tr)
			}
			if tc.perMin > 0 && (tr.PerMinute < tc.perMin*0.8 || tr.PerMinute > tc.perMin*1.2) {
				t.Errorf("slope %v per minute, want about %v", tr.PerMinute, tc.perMin)
			}
		})
	}
}

func TestJudgeSoak(t *testing.T) {
	mk := func(n int, gor func(i int) int64) []soakSample {
		var out []soakSample
		for i := range n {
			out = append(out, soakSample{AtS: float64(60 * i), Goroutines: gor(i), HeapMB: 40, RSSMB: 90,
				OtherRSSMB: map[string]float64{"dataservice": 50, "userservice": 30}})
		}
		return out
	}
	flat := judgeSoak(mk(30, func(int) int64 { return 400 }), time.Minute, 6*time.Minute, 20)
	if !flat.Flat || len(flat.Trends) != 5 {
		t.Fatalf("flat run judged %+v", flat.Trends)
	}
	// The warm-up's growth (connections opening) is not judged.
	warm := judgeSoak(mk(30, func(i int) int64 { return 400 + int64(min(i, 5))*100 }), time.Minute, 6*time.Minute, 20)
	if !warm.Flat {
		t.Fatalf("growth inside the warm-up judged: %+v", warm.Trends)
	}
	// A goroutine per churn cycle that never ends.
	leak := judgeSoak(mk(30, func(i int) int64 { return 400 + int64(i)*30 }), time.Minute, 6*time.Minute, 20)
	if leak.Flat || leak.Trends[0].Flat {
		t.Fatalf("leak judged flat: %+v", leak.Trends)
	}
	short := judgeSoak(mk(4, func(int) int64 { return 1 }), time.Minute, 3*time.Minute, 0)
	if short.Flat {
		t.Fatalf("two samples after the warm-up judged flat: %+v", short.Trends)
	}
}

// TestSoakLocal runs a short soak against the real stack: samples come
// from the messageservice's Stats RPC and /proc, the churn users cycle,
// and integrity holds over the whole run.
func TestSoakLocal(t *testing.T) {
	rep, code := runJSON(t, nil, "soak", "--local", "--pairs", "4", "--members", "5", "--churn", "4",
		"--churn-every", "200ms", "--rate", "40", "--duration", "4s", "--interval", "500ms", "--warmup", "1s")
	s := rep.Soak
	if s == nil || len(s.Samples) < 6 {
		t.Fatalf("soak report %+v", s)
	}
	last := s.Samples[len(s.Samples)-1]
	if last.Goroutines <= 0 || last.RSSMB <= 0 || last.HeapMB <= 0 || last.Connections < 13 ||
		last.OtherRSSMB["dataservice"] <= 0 || last.OtherRSSMB["userservice"] <= 0 || last.Cycles < 8 {
		t.Errorf("last sample %+v", last)
	}
	// 4 pairs and 2 group publishers at 40 msg/s in all for 4 s: 160
	// messages; a p2p one is owed to 1 receiver, a group one to 4.
	in := rep.Integrity
	if !in.OK || in.Sent != 160 || in.Acked != 160 || in.Missing != 0 || in.Duplicates != 0 || in.StoredMissing != 0 {
		t.Errorf("integrity %+v", in)
	}
	if want := int64(160/6*4*1 + 160/6*2*4); in.Expected < want-10 || in.Expected > want+10 {
		t.Errorf("owed %d, want about %d", in.Expected, want)
	}
	if code != 0 || !s.Flat {
		t.Errorf("exit %d, trends %s", code, fmt.Sprint(s.Trends))
	}
}
