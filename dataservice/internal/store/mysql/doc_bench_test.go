package mysql_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// BenchmarkDocAppend measures AppendMessages in batches of 100 from parallel
// callers, the shape the message service sends: "spread" batches touch 20
// conversations shared by all callers (counter contention), "private" ones
// one conversation per caller.
func BenchmarkDocAppend(b *testing.B) {
	for _, shape := range []string{"spread", "private"} {
		b.Run(shape, func(b *testing.B) {
			d := newDocuments(b)
			const batch = 100
			content := []byte(`{"text":"a message of about the usual length, say sixty bytes"}`)
			var ids, workers atomic.Int64
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				w := workers.Add(1)
				msgs := make([]store.Message, batch)
				for pb.Next() {
					for i := range msgs {
						id := ids.Add(1)
						conv := fmt.Sprintf("g:%d", id%20)
						if shape == "private" {
							conv = fmt.Sprintf("u:%d", w)
						}
						msgs[i] = store.Message{ID: id, Conversation: conv, SenderID: w, ClientMsgID: fmt.Sprintf("c%d", id),
							Kind: "text", Content: content, CreatedAt: time.Now()}
					}
					if _, err := d.AppendMessages(b.Context(), msgs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(ids.Load())/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
