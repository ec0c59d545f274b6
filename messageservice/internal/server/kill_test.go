package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// receiver reads one conversation's messages on a connection that it
// moves to the next URL whenever the connection breaks, acking each one.
type receiver struct {
	mu    sync.Mutex
	first []int64 // seqs in order of first arrival
	seen  map[int64]int
}

func (r *receiver) run(u mstest.User, device, conv string, urls []string, stop <-chan struct{}) {
	r.seen = map[int64]int{}
	url := urls[0]
	var ws *websocket.Conn
	for {
		select {
		case <-stop:
			if ws != nil {
				ws.Close()
			}
			return
		default:
		}
		if ws == nil {
			c, _, err := mstest.TryDialURL(url, u.Token, device)
			if err != nil {
				url = urls[len(urls)-1] // the first node is gone: the next one
				time.Sleep(20 * time.Millisecond)
				continue
			}
			ws = c
		}
		// A quiet second also ends the connection (gorilla cannot read on
		// after a timeout): the loop looks at stop and dials again.
		_ = ws.SetReadDeadline(time.Now().Add(time.Second))
		_, b, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			ws = nil
			continue
		}
		var f mstest.Frame
		if json.Unmarshal(b, &f) != nil || f.Type != "message" || f.Conversation != conv {
			continue
		}
		r.mu.Lock()
		if r.seen[f.Seq] == 0 {
			r.first = append(r.first, f.Seq)
		}
		r.seen[f.Seq]++
		r.mu.Unlock()
		_ = ws.WriteJSON(map[string]any{"type": "ack", "conversation": conv, "seq": f.Seq})
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first)
}

// sender sends on a connection it moves to the last URL when it breaks,
// sending again with the same client_msg_id until a sent frame comes.
type sender struct {
	t    *testing.T
	u    mstest.User
	urls []string
	ws   *websocket.Conn
}

func (s *sender) send(id, to, text string) int64 {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.ws == nil {
			url := s.urls[len(s.urls)-1]
			c, _, err := mstest.TryDialURL(url, s.u.Token, "")
			if err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			s.ws = c
		}
		err := s.ws.WriteJSON(map[string]any{"type": "send", "client_msg_id": id,
			"to": map[string]string{"kind": "user", "id": to}, "content": map[string]string{"kind": "text", "text": text}})
		for err == nil {
			_ = s.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			var b []byte
			if _, b, err = s.ws.ReadMessage(); err != nil {
				break
			}
			var f mstest.Frame
			if json.Unmarshal(b, &f) == nil && f.Type == "sent" && f.ClientMsgID == id {
				return f.Seq
			}
		}
		s.ws.Close()
		s.ws = nil
	}
	s.t.Fatalf("%s was never confirmed", id)
	return 0
}

// TestNodeKilled: a node is killed with SIGKILL mid-conversation; its
// clients reconnect to another node. No message is lost or stored twice,
// and every receiver gets every seq, first arrivals in order (a message
// delivered but not acked before the kill comes again, and the client
// drops it by seq).
func TestNodeKilled(t *testing.T) {
	st := stack(t)
	p1 := stacktest.StartMessageService(t, st.Data, st.Users, st.NATS, "NODE_ID=p1", "RETRY_INTERVAL=500ms")
	p2 := stacktest.StartMessageService(t, st.Data, st.Users, st.NATS, "NODE_ID=p2", "RETRY_INTERVAL=500ms")
	a, b, c, d := st.NewUser(t, "a"), st.NewUser(t, "b"), st.NewUser(t, "c"), st.NewUser(t, "d")
	st.Befriend(t, a, b)
	st.Befriend(t, c, d)
	// a (on p2) writes to b (on p1); c (on p1) writes to d (on p2).
	const n = 20
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var rb, rd receiver
	wg.Go(func() { rb.run(b, "phone", conv(a, b), []string{p1.URL(), p2.URL()}, stop) })
	wg.Go(func() { rd.run(d, "phone", conv(c, d), []string{p2.URL()}, stop) })
	defer func() { close(stop); wg.Wait() }()
	sa := &sender{t: t, u: a, urls: []string{p2.URL()}}
	sc := &sender{t: t, u: c, urls: []string{p1.URL(), p2.URL()}}
	sc.ws, _, _ = mstest.TryDialURL(p1.URL(), c.Token, "")
	for i := range n {
		if seq := sa.send(fmt.Sprint("a", i), b.ID, fmt.Sprint("a says ", i)); seq != int64(i+1) {
			t.Fatalf("a's message %d got seq %d", i, seq)
		}
		if seq := sc.send(fmt.Sprint("c", i), d.ID, fmt.Sprint("c says ", i)); seq != int64(i+1) {
			t.Fatalf("c's message %d got seq %d", i, seq)
		}
		if i == n/2 {
			p1.Kill()
		}
	}
	poll.Eventually(t, 30*time.Second, func() error {
		if rb.count() < n || rd.count() < n {
			return fmt.Errorf("b has %d, d has %d of %d", rb.count(), rd.count(), n)
		}
		return nil
	})
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i + 1)
	}
	for name, r := range map[string]*receiver{"b": &rb, "d": &rd} {
		r.mu.Lock()
		if !slices.Equal(r.first, want) {
			t.Errorf("%s got seqs %v first, want 1..%d in order", name, r.first, n)
		}
		r.mu.Unlock()
	}
	// Nothing stored twice: the history holds exactly n messages.
	for _, pair := range [][2]mstest.User{{a, b}, {c, d}} {
		cl := mstest.DialURL(t, p2.URL(), pair[0], "check")
		cl.WriteJSON(map[string]any{"type": "sync", "conversation": conv(pair[0], pair[1]), "limit": 200})
		h := cl.Await("history", wait)
		if len(h.Messages) != n || h.HasMore {
			t.Errorf("history of %s holds %d messages, want %d", conv(pair[0], pair[1]), len(h.Messages), n)
		}
	}
}
