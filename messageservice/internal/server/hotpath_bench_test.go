package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// The hot-path benchmarks drive real WebSocket clients through the real
// stack (this node in-process, the DataService and userservice binaries,
// MariaDB): every message is stored, delivered and acked. Each sender keeps
// up to window sends without their `sent` in flight; each receiver acks
// every message, as clients do. The content carries the send time, so the
// receiver measures send -> deliver latency. Reported: msgs/s (stored and
// delivered to every receiver), deliveries/s, p50_ms and p99_ms.
//
//	go test -run '^$' -bench 'Hot' -benchtime 20000x ./internal/server/
func BenchmarkHotPairs(b *testing.B) {
	for _, c := range []struct{ pairs, window int }{{1, 1}, {16, 1}, {64, 4}} {
		b.Run(fmt.Sprintf("pairs=%d/window=%d", c.pairs, c.window), func(b *testing.B) {
			st := mstest.StartStack(b)
			node := st.StartNode(b, hotConfig(st))
			var senders []hotSender
			var receivers []*websocket.Conn
			for range c.pairs {
				a, r := st.NewUser(b, "a"), st.NewUser(b, "r")
				st.Befriend(b, a, r)
				senders = append(senders, hotSender{ws: node.Dial(b, a, "").WS, kind: "user", to: r.ID})
				receivers = append(receivers, node.Dial(b, r, "").WS)
			}
			node.Settle(b)
			runHot(b, senders, receivers, c.window, 1)
		})
	}
}

// BenchmarkHotGroup: publishers members of one group of members send at
// once; every message goes to the other members' connections.
func BenchmarkHotGroup(b *testing.B) {
	for _, c := range []struct{ members, publishers, window int }{{100, 10, 1}} {
		b.Run(fmt.Sprintf("members=%d/publishers=%d", c.members, c.publishers), func(b *testing.B) {
			st := mstest.StartStack(b)
			node := st.StartNode(b, hotConfig(st))
			users := make([]mstest.User, c.members)
			for i := range users {
				users[i] = st.NewUser(b, "m")
			}
			g := st.NewGroup(b, users[0], users[1:]...)
			var senders []hotSender
			var receivers []*websocket.Conn
			for i, u := range users {
				ws := node.Dial(b, u, "").WS
				if i < c.publishers {
					// A publisher's connection reads its sent frames and
					// the others' messages: one reader for both.
					senders = append(senders, hotSender{ws: ws, kind: "group", to: g, alsoReceives: true})
					continue
				}
				receivers = append(receivers, ws)
			}
			node.Settle(b)
			runHot(b, senders, receivers, c.window, c.members-1)
		})
	}
}

// hotConfig is the test config with the production redelivery interval:
// the tests' 300 ms would measure redeliveries, not the hot path.
func hotConfig(st *mstest.Stack) config.Config {
	cfg := st.Config()
	cfg.RetryInterval = config.Default().RetryInterval
	return cfg
}

type hotSender struct {
	ws           *websocket.Conn
	kind, to     string
	alsoReceives bool // the connection gets messages too (groups)
}

type hotFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
	Code         string `json:"code"`
	Content      struct {
		Text string `json:"text"`
	} `json:"content"`
}

// runHot sends b.N messages spread over the senders and waits until each
// is delivered fanout times.
func runHot(b *testing.B, senders []hotSender, receivers []*websocket.Conn, window, fanout int) {
	var (
		delivered atomic.Int64
		mu        sync.Mutex
		lat       []time.Duration
		wg        sync.WaitGroup
	)
	progress := make(chan struct{}, 1) // wakes the wait for the last deliveries
	// receive reads ws until it closes: messages are timed and acked;
	// sent frames free a window slot.
	receive := func(ws *websocket.Conn, slots chan struct{}, wmu *sync.Mutex) {
		var mine []time.Duration
		last := map[string]int64{}          // per conversation: redeliveries are not counted
		_ = ws.SetReadDeadline(time.Time{}) // Dial set one for its pong
		defer func() {
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
		for {
			_, raw, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var f hotFrame
			if err := json.Unmarshal(raw, &f); err != nil {
				b.Errorf("frame %s: %v", raw, err)
				return
			}
			switch f.Type {
			case "sent":
				<-slots
			case "message":
				if f.Seq <= last[f.Conversation] {
					continue
				}
				last[f.Conversation] = f.Seq
				// Only the benchmark's own messages count; the group's
				// system messages (its creation, the joins) are acked.
				ns, perr := strconv.ParseInt(strings.TrimPrefix(f.Content.Text, "t"), 10, 64)
				if perr == nil {
					mine = append(mine, time.Since(time.Unix(0, ns)))
				}
				wmu.Lock()
				err := ws.WriteJSON(map[string]any{"type": "ack", "conversation": f.Conversation, "seq": f.Seq})
				wmu.Unlock()
				if err != nil {
					return
				}
				if perr != nil {
					continue
				}
				delivered.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			case "error":
				b.Errorf("error frame: %s", raw)
			}
		}
	}
	for _, ws := range receivers {
		wg.Go(func() { receive(ws, nil, &sync.Mutex{}) })
	}
	work := make(chan int)
	var swg sync.WaitGroup
	for _, s := range senders {
		slots := make(chan struct{}, window)
		wmu := &sync.Mutex{}
		wg.Go(func() { receive(s.ws, slots, wmu) })
		swg.Go(func() {
			for i := range work {
				slots <- struct{}{}
				wmu.Lock()
				err := s.ws.WriteJSON(map[string]any{
					"type": "send", "client_msg_id": "h" + strconv.Itoa(i), "to": map[string]string{"kind": s.kind, "id": s.to},
					"content": map[string]string{"kind": "text", "text": "t" + strconv.FormatInt(time.Now().UnixNano(), 10)},
				})
				wmu.Unlock()
				if err != nil {
					b.Errorf("send: %v", err)
					return
				}
			}
		})
	}
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		work <- n
		n++
	}
	close(work)
	swg.Wait()
	want := int64(n * fanout)
	// Woken by each delivery rather than polled, so elapsed ends at the
	// last one; the deadline only ends a run that lost deliveries.
	deadline := time.After(time.Minute)
wait:
	for delivered.Load() < want {
		select {
		case <-progress:
		case <-deadline:
			break wait
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if got := delivered.Load(); got != want {
		b.Errorf("delivered %d of %d", got, want)
	}
	for _, s := range senders {
		s.ws.Close()
	}
	for _, ws := range receivers {
		ws.Close()
	}
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))]) / 1e6
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}
