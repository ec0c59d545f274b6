package nodemetrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFrameOutByType(t *testing.T) {
	m := New(prometheus.NewRegistry())
	for _, f := range []string{`{"type":"message","seq":1}`, `{"type":"sent"}`, `{"type":"pong"}`, `{"type":"nonsense"}`, `[1]`, `{"type":"`} {
		m.FrameOut([]byte(f))
	}
	for typ, want := range map[string]float64{"message": 1, "sent": 1, "pong": 1, "other": 3, "error": 0} {
		if got := testutil.ToFloat64(m.framesOut[typ]); got != want {
			t.Errorf("frames out %s = %v, want %v", typ, got, want)
		}
	}
}

// TestHotPathAllocatesNothing: counting a frame in, a frame out and a
// delivery costs no allocation.
func TestHotPathAllocatesNothing(t *testing.T) {
	m := New(prometheus.NewRegistry())
	b := []byte(`{"type":"message","conversation":"u:1:2","seq":7}`)
	sent := time.Now().UnixNano()
	if n := testing.AllocsPerRun(1000, func() {
		m.FrameIn(InSend)
		m.FrameOut(b)
		m.Delivered(sent)
	}); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func BenchmarkFrameOut(b *testing.B) {
	m := New(nil)
	f := []byte(`{"type":"message","conversation":"u:1:2","seq":7}`)
	for b.Loop() {
		m.FrameOut(f)
	}
}
