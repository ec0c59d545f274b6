package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// BenchmarkDirect: one sender, one receiver on one node; each op is a
// message stored and delivered (send -> sent, and the receiver's frame).
func BenchmarkDirect(b *testing.B) {
	st := mstest.StartStack(b)
	node := st.StartNode(b, st.Config())
	a, r := st.NewUser(b, "a"), st.NewUser(b, "r")
	st.Befriend(b, a, r)
	ca, cr := node.Dial(b, a, ""), node.Dial(b, r, "")
	node.Settle(b)
	b.ResetTimer()
	start := time.Now()
	i := 0
	for b.Loop() {
		ca.Send(fmt.Sprint("b", i), "user", r.ID, "bench")
		ca.Await("sent", time.Minute)
		m := cr.Await("message", time.Minute)
		cr.Ack(m.Conversation, m.Seq)
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkParallelPairs: 16 pairs send at once, each in its own
// conversation (their appends share AppendMessagesPlus calls).
func BenchmarkParallelPairs(b *testing.B) {
	st := mstest.StartStack(b)
	node := st.StartNode(b, st.Config())
	const pairs = 16
	type pair struct {
		to     string
		ca, cr *mstest.Client
	}
	ps := make([]pair, pairs)
	for i := range ps {
		a, r := st.NewUser(b, "a"), st.NewUser(b, "r")
		st.Befriend(b, a, r)
		ps[i] = pair{to: r.ID, ca: node.Dial(b, a, ""), cr: node.Dial(b, r, "")}
	}
	node.Settle(b)
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range ps {
			p := ps[i]
			wg.Go(func() {
				p.ca.Send(fmt.Sprint("p", n), "user", p.to, "bench")
				p.ca.Await("sent", time.Minute)
				m := p.cr.Await("message", time.Minute)
				p.cr.Ack(m.Conversation, m.Seq)
			})
		}
		wg.Wait()
		n++
	}
	b.ReportMetric(float64(n*pairs)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64(node.Chat().Stats().Batched)/float64(n*pairs), "batched/msg")
}
