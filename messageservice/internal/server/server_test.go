package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/poll"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

const wait = 10 * time.Second

func stack(t *testing.T) *mstest.Stack {
	t.Helper()
	// Each test gets its own stack: cleanups run per test, and the stacks
	// are cheap enough (a DataService, a userservice, a NATS).
	return mstest.StartStack(t)
}

func conv(a, b mstest.User) string {
	if len(a.ID) > len(b.ID) || (len(a.ID) == len(b.ID) && a.ID > b.ID) {
		a, b = b, a
	}
	return "u:" + a.ID + ":" + b.ID
}

// TestChat runs the single-node chat against one stack and node.
func TestChat(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())

	t.Run("direct both ways", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		ca, cb := node.Dial(t, a, ""), node.Dial(t, b, "")
		ca.Send("m1", "user", b.ID, "hello b")
		sent := ca.Await("sent", wait)
		if sent.ClientMsgID != "m1" || sent.Conversation != conv(a, b) || sent.Seq != 1 || sent.MsgID == "" || sent.TS == 0 {
			t.Fatalf("sent = %s", sent.Raw)
		}
		m := cb.Await("message", wait)
		if m.MsgID != sent.MsgID || m.From != a.ID || m.Seq != 1 || !strings.Contains(string(m.Content), "hello b") {
			t.Fatalf("message = %s", m.Raw)
		}
		if string(m.To) != `{"kind":"user","id":"`+b.ID+`"}` {
			t.Fatalf("to = %s", m.To)
		}
		cb.Ack(m.Conversation, m.Seq)
		cb.Send("m2", "user", a.ID, "hello a")
		if s := cb.Await("sent", wait); s.Seq != 2 {
			t.Fatalf("sent = %s", s.Raw)
		}
		if m := ca.Await("message", wait); m.From != b.ID || m.Seq != 2 {
			t.Fatalf("message = %s", m.Raw)
		}
	})

	t.Run("sender's other connections get the message", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		phone, laptop := node.Dial(t, a, "phone"), node.Dial(t, a, "laptop")
		node.Dial(t, b, "")
		node.Settle(t)
		phone.Send("x1", "user", b.ID, "from my phone")
		sent := phone.Await("sent", wait)
		if m := laptop.Await("message", wait); m.MsgID != sent.MsgID {
			t.Fatalf("laptop got %s", m.Raw)
		}
		if ms := mstest.Messages(phone.UntilPong(wait)); len(ms) != 0 {
			t.Fatalf("the sending connection got its own message: %v", ms)
		}
	})

	t.Run("fourth connection evicts the oldest", func(t *testing.T) {
		u := st.NewUser(t, "u")
		c1 := node.Dial(t, u, "")
		c1.UntilPong(wait) // c1 is registered before c2
		c2 := node.Dial(t, u, "")
		c2.UntilPong(wait)
		c3 := node.Dial(t, u, "")
		c3.UntilPong(wait)
		c4 := node.Dial(t, u, "")
		code, reason := c1.ExpectClose(wait)
		if code != 4001 || reason != "replaced" {
			t.Fatalf("close = %d %q, want 4001 replaced", code, reason)
		}
		for _, c := range []*mstest.Client{c2, c3, c4} {
			c.UntilPong(wait)
		}
		if s := node.Chat().Stats(); s.Conns < 3 {
			t.Fatalf("stats = %+v", s)
		}
	})

	t.Run("offline messages in order on reconnect", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		ca := node.Dial(t, a, "")
		for i := range 5 {
			ca.Send(fmt.Sprint("o", i), "user", b.ID, fmt.Sprint("text ", i))
			if s := ca.Await("sent", wait); s.Seq != int64(i+1) {
				t.Fatalf("sent = %s", s.Raw)
			}
		}
		cb := node.Dial(t, b, "")
		for i := range 5 {
			m := cb.Await("message", wait)
			if m.Seq != int64(i+1) || !strings.Contains(string(m.Content), fmt.Sprint("text ", i)) {
				t.Fatalf("message %d = %s", i, m.Raw)
			}
		}
		cb.Ack(conv(a, b), 5)
		cb.UntilPong(wait) // the ack is processed
		cb.WS.Close()
		cb = node.Dial(t, b, "")
		node.Settle(t)
		if ms := mstest.Messages(cb.UntilPong(wait)); len(ms) != 0 {
			t.Fatalf("acked messages delivered again: %d", len(ms))
		}
		// A new device starts after what the user's devices acked.
		tablet := node.Dial(t, b, "tablet")
		node.Settle(t)
		if ms := mstest.Messages(tablet.UntilPong(wait)); len(ms) != 0 {
			t.Fatalf("a new device got %d old messages", len(ms))
		}
		ca.Send("o5", "user", b.ID, "new")
		if m := tablet.Await("message", wait); m.Seq != 6 {
			t.Fatalf("tablet got %s", m.Raw)
		}
	})

	t.Run("re-sent client_msg_id is stored and delivered once", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		ca, cb := node.Dial(t, a, ""), node.Dial(t, b, "")
		ca.Send("same", "user", b.ID, "once")
		first := ca.Await("sent", wait)
		m := cb.Await("message", wait)
		cb.Ack(m.Conversation, m.Seq)
		ca.Send("same", "user", b.ID, "once")
		again := ca.Await("sent", wait)
		if string(again.Raw) != string(first.Raw) {
			t.Fatalf("re-send answered %s, first %s", again.Raw, first.Raw)
		}
		ca.Send("next", "user", b.ID, "next")
		if s := ca.Await("sent", wait); s.Seq != 2 {
			t.Fatalf("next message seq %d: the re-send was stored again", s.Seq)
		}
		for _, f := range mstest.Messages(cb.UntilPong(wait)) {
			if f.MsgID == first.MsgID {
				continue // a redelivery before the ack arrived is allowed
			}
			if f.Seq != 2 {
				t.Fatalf("b got %s", f.Raw)
			}
		}
	})

	t.Run("sync pages history", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		ca := node.Dial(t, a, "")
		for i := range 3 {
			ca.Send(fmt.Sprint("s", i), "user", b.ID, "x")
			ca.Await("sent", wait)
		}
		ca.WriteJSON(map[string]any{"type": "sync", "conversation": conv(a, b), "after_seq": 0, "limit": 2})
		h := ca.Await("history", wait)
		if len(h.Messages) != 2 || !h.HasMore || h.Messages[0].Seq != 1 || h.Messages[1].Seq != 2 {
			t.Fatalf("history = %s", h.Raw)
		}
		ca.WriteJSON(map[string]any{"type": "sync", "conversation": conv(a, b), "after_seq": 2, "limit": 2})
		if h := ca.Await("history", wait); len(h.Messages) != 1 || h.HasMore {
			t.Fatalf("history = %s", h.Raw)
		}
		stranger := st.NewUser(t, "s")
		cs := node.Dial(t, stranger, "")
		cs.WriteJSON(map[string]any{"type": "sync", "conversation": conv(a, b)})
		if e := cs.Await("error", wait); e.Code != "not_member" {
			t.Fatalf("error = %s", e.Raw)
		}
	})

	t.Run("read receipts and presence", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		cb := node.Dial(t, b, "")
		cb.UntilPong(wait)
		ca := node.Dial(t, a, "")
		if p := cb.Await("presence", wait); p.User != a.ID || !p.Online {
			t.Fatalf("presence = %s", p.Raw)
		}
		for i := range 3 { // a receipt is forwarded only for a seq that exists
			ca.Send(fmt.Sprintf("r%d", i), "user", b.ID, "hi")
			ca.Await("sent", wait)
		}
		ca.WriteJSON(map[string]any{"type": "read", "conversation": conv(a, b), "seq": 3})
		if r := cb.Await("read", wait); r.User != a.ID || r.Seq != 3 || r.Conversation != conv(a, b) {
			t.Fatalf("read = %s", r.Raw)
		}
		ca.WS.Close()
		if p := cb.Await("presence", wait); p.User != a.ID || p.Online {
			t.Fatalf("presence = %s", p.Raw)
		}
	})

	t.Run("errors", func(t *testing.T) {
		a, b, c := st.NewUser(t, "a"), st.NewUser(t, "b"), st.NewUser(t, "c")
		st.Befriend(t, a, b)
		ca := node.Dial(t, a, "")
		expect := func(code, clientMsgID string) {
			t.Helper()
			e := ca.Await("error", wait)
			if e.Code != code || e.ClientMsgID != clientMsgID {
				t.Fatalf("error = %s, want %s for %q", e.Raw, code, clientMsgID)
			}
		}
		ca.Send("nf", "user", c.ID, "hi")
		expect("not_friends", "nf")
		ca.Send("ns", "user", "999999999", "hi")
		expect("no_such_target", "ns")
		ca.Send("ng", "group", "999999999", "hi")
		expect("no_such_target", "ng")
		g := st.NewGroup(t, c)
		ca.Send("nm", "group", g, "hi")
		expect("not_member", "nm")
		ca.WS.WriteMessage(websocket.TextMessage, []byte("nonsense"))
		expect("bad_frame", "")
		ca.WriteJSON(map[string]any{"type": "send", "client_msg_id": "bf", "to": map[string]string{"kind": "user", "id": "x"}})
		expect("bad_frame", "bf")
		ca.WriteJSON(map[string]any{"type": "dance"})
		expect("unknown_type", "")
		ca.Ack(conv(a, b), 99)
		expect("bad_frame", "")
		ca.Ack(conv(b, c), 1) // not a's conversation
		expect("not_member", "")

		// Friends now: the cached "not friends" is dropped by FRIEND_ADDED.
		st.Befriend(t, a, c)
		poll.Eventually(t, wait, func() error {
			ca.Send(fmt.Sprint("fa", time.Now().UnixNano()), "user", c.ID, "hi")
			f := ca.Next(wait)
			for f.Type == "message" || f.Type == "presence" {
				f = ca.Next(wait)
			}
			if f.Type == "sent" {
				return nil
			}
			return fmt.Errorf("got %s", f.Raw)
		})

		// Blocked: the cached friendship is dropped by the BLOCKED event.
		ca.Send("ok", "user", b.ID, "hi")
		ca.Await("sent", wait)
		st.Block(t, b, a)
		poll.Eventually(t, wait, func() error {
			ca.Send("bl", "user", b.ID, "hi")
			f := ca.Next(wait)
			for f.Type == "message" || f.Type == "presence" {
				f = ca.Next(wait)
			}
			if f.Type == "error" && f.Code == "blocked" {
				return nil
			}
			return fmt.Errorf("got %s", f.Raw)
		})

		// The connection survived every error frame.
		ca.UntilPong(wait)

		ca.WS.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", 70<<10)+`"}`))
		if code, _ := ca.ExpectClose(wait); code != websocket.CloseMessageTooBig {
			t.Fatalf("close = %d, want 1009", code)
		}
	})

	t.Run("bad token is 401", func(t *testing.T) {
		_, resp, err := node.TryDial("not-a-token", "")
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial = %v, %v", resp, err)
		}
		_, resp, err = node.TryDial("", "")
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial = %v, %v", resp, err)
		}
	})

	t.Run("group of 50", func(t *testing.T) {
		owner := st.NewUser(t, "owner")
		members := make([]mstest.User, 49)
		for i := range members {
			members[i] = st.NewUser(t, fmt.Sprint("m", i))
		}
		g := st.NewGroup(t, owner, members...)
		co := node.Dial(t, owner, "")
		// The last member stays offline until the message is stored.
		clients := make([]*mstest.Client, 48)
		for i := range clients {
			clients[i] = node.Dial(t, members[i], "")
		}
		for _, c := range clients {
			c.UntilPong(wait) // caught up: live traffic flows
		}
		co.Send("g1", "group", g, "hello all")
		sent := co.Await("sent", wait)
		// After the group's 51 system messages: created, policy_changed
		// (NewGroup opens it) and 49 member_joined.
		if sent.Conversation != "g:"+g || sent.Seq != 52 {
			t.Fatalf("sent = %s", sent.Raw)
		}
		for i, c := range clients {
			m := c.AwaitChat(wait)
			if m.MsgID != sent.MsgID || string(m.To) != `{"kind":"group","id":"`+g+`"}` {
				t.Fatalf("member %d got %s", i, m.Raw)
			}
			c.Ack(m.Conversation, m.Seq)
		}
		late := node.Dial(t, members[48], "")
		if m := late.AwaitChat(wait); m.MsgID != sent.MsgID {
			t.Fatalf("offline member got %s", m.Raw)
		}
		// A newcomer to the cached group may send at once (GROUP_MEMBER_JOINED).
		newcomer := st.NewUser(t, "new")
		st.Do(t, http.MethodPost, "/groups/"+g+"/join", newcomer.Token, nil, http.StatusOK, nil)
		cn := node.Dial(t, newcomer, "")
		poll.Eventually(t, wait, func() error {
			cn.Send(fmt.Sprint("n", time.Now().UnixNano()), "group", g, "hi all")
			f := cn.Next(wait)
			for f.Type == "message" {
				f = cn.Next(wait)
			}
			if f.Type == "sent" {
				return nil
			}
			return fmt.Errorf("got %s", f.Raw)
		})
		if m := co.AwaitChat(wait); m.From != newcomer.ID {
			t.Fatalf("owner got %s", m.Raw)
		}
		// Leaving the group ends membership at once (GROUP_MEMBER_LEFT).
		st.Do(t, http.MethodPost, "/groups/"+g+"/quit", members[0].Token, nil, http.StatusNoContent, nil)
		poll.Eventually(t, wait, func() error {
			clients[0].Send(fmt.Sprint("q", time.Now().UnixNano()), "group", g, "still here?")
			f := clients[0].Next(wait)
			for f.Type == "message" {
				f = clients[0].Next(wait)
			}
			if f.Type == "error" && f.Code == "not_member" {
				return nil
			}
			return fmt.Errorf("got %s", f.Raw)
		})
		// A member who left gets nothing of the group on reconnect, though
		// their device still has a cursor there.
		co.Send("after-quit", "group", g, "not for the one who left")
		co.Await("sent", wait)
		clients[0].WS.Close()
		again := node.Dial(t, members[0], "")
		node.Settle(t)
		for _, m := range mstest.Messages(again.UntilPong(wait)) {
			if m.Conversation == "g:"+g {
				t.Fatalf("a former member got %s", m.Raw)
			}
		}
		// Dismissing the group ends every membership (GROUP_DISMISSED).
		st.Do(t, http.MethodDelete, "/groups/"+g, owner.Token, nil, http.StatusNoContent, nil)
		poll.Eventually(t, wait, func() error {
			co.Send(fmt.Sprint("d", time.Now().UnixNano()), "group", g, "anyone?")
			f := co.Next(wait)
			for f.Type == "message" {
				f = co.Next(wait)
			}
			if f.Type == "error" && f.Code == "not_member" {
				return nil
			}
			return fmt.Errorf("got %s", f.Raw)
		})
	})
}

// TestRetries: a connection that never acks gets a message exactly
// MaxTries times, then it stays pending for the device until reconnect.
func TestRetries(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.RetryInterval = 150 * time.Millisecond
	cfg.MaxTries = 3
	node := st.StartNode(t, cfg)
	a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
	st.Befriend(t, a, b)
	ca, cb := node.Dial(t, a, ""), node.Dial(t, b, "phone")
	cb.UntilPong(wait)
	ca.Send("r1", "user", b.ID, "ack me")
	sent := ca.Await("sent", wait)
	if m := cb.Await("message", wait); m.MsgID != sent.MsgID {
		t.Fatalf("got %s", m.Raw)
	}
	poll.Eventually(t, wait, func() error {
		if p := node.Chat().Stats().Pending; p != 0 {
			return fmt.Errorf("%d pending", p)
		}
		return nil
	})
	got := 1
	for _, f := range mstest.Messages(cb.UntilPong(wait)) {
		if f.MsgID != sent.MsgID {
			t.Fatalf("unexpected %s", f.Raw)
		}
		got++
	}
	if got != 3 {
		t.Fatalf("sent %d times, want 3", got)
	}
	cb.WS.Close()
	cb = node.Dial(t, b, "phone")
	if m := cb.Await("message", wait); m.MsgID != sent.MsgID {
		t.Fatalf("after reconnect: %s", m.Raw)
	}
	cb.Ack(sent.Conversation, sent.Seq)
	cb.UntilPong(wait)
	if p := node.Chat().Stats().Pending; p != 0 {
		t.Fatalf("%d pending after the ack", p)
	}
}

// TestRateLimit: a user sending faster than the limit gets rate_limited.
func TestRateLimit(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.SendRate, cfg.SendBurst = 1, 2
	node := st.StartNode(t, cfg)
	a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
	st.Befriend(t, a, b)
	ca := node.Dial(t, a, "")
	for i := range 5 {
		ca.Send(fmt.Sprint("r", i), "user", b.ID, "fast")
	}
	limited := 0
	for range 5 {
		f := ca.Next(wait)
		for f.Type == "presence" {
			f = ca.Next(wait)
		}
		if f.Type == "error" && f.Code == "rate_limited" {
			limited++
		}
	}
	if limited < 2 {
		t.Fatalf("%d of 5 sends limited, want >= 2 with a burst of 2", limited)
	}
}

// TestShutdown: stopping the node closes every WebSocket with 1001.
func TestShutdown(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())
	u := st.NewUser(t, "u")
	c := node.Dial(t, u, "")
	c.UntilPong(wait)
	stopped := make(chan error, 1)
	go func() { stopped <- node.Stop() }()
	if code, reason := c.ExpectClose(wait); code != websocket.CloseGoingAway || reason != "going away" {
		t.Fatalf("close = %d %q", code, reason)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// TestConcurrentSenders: five members write to their group at once (the
// conversation lock orders their appends); every member gets the others' messages in strictly
// increasing seq order, and with its own sent frames every seq 1..50.
func TestConcurrentSenders(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())
	users := make([]mstest.User, 5)
	for i := range users {
		users[i] = st.NewUser(t, fmt.Sprint("u", i))
	}
	g := st.NewGroup(t, users[0], users[1:]...)
	clients := make([]*mstest.Client, len(users))
	for i, u := range users {
		clients[i] = node.Dial(t, u, "")
	}
	node.Settle(t)
	const each = 10
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for i, c := range clients {
		wg.Go(func() {
			var seqs []int64
			have, lastMsg := map[int64]bool{}, int64(0)
			sent, got := 0, 0
			for k := range each {
				c.Send(fmt.Sprint(i, "-", k), "group", g, fmt.Sprint("from ", i))
			}
			deadline := time.Now().Add(wait)
			for sent < each || got < each*(len(users)-1) {
				f, err := c.TryNext(time.Until(deadline))
				if err != nil {
					errs <- fmt.Errorf("user %d: %d sent, %d got: %w", i, sent, got, err)
					return
				}
				switch f.Type {
				case "sent":
					sent++
					seqs = append(seqs, f.Seq)
				case "message":
					if have[f.Seq] {
						continue // a redelivery before the ack arrived
					}
					if f.Seq <= lastMsg {
						errs <- fmt.Errorf("user %d got seq %d after %d", i, f.Seq, lastMsg)
						return
					}
					have[f.Seq], lastMsg = true, f.Seq
					if f.GroupEvent() == "" { // the later members' joins are messages too
						got++
					}
					seqs = append(seqs, f.Seq)
					c.Ack(f.Conversation, f.Seq)
				case "error":
					errs <- fmt.Errorf("user %d: %s", i, f.Raw)
					return
				}
			}
			// From the member's join on (history "joined"), every seq once.
			slices.Sort(seqs)
			for k, s := range seqs {
				if s != seqs[0]+int64(k) {
					errs <- fmt.Errorf("user %d saw seqs %v", i, seqs)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConcurrentPairs: ten pairs write at once, each in its own
// conversation, so their appends can share AppendMessagesPlus calls; every
// message is confirmed with the right seq and delivered once in order.
func TestConcurrentPairs(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())
	const pairs, each = 10, 10
	type pair struct {
		a, b   mstest.User
		ca, cb *mstest.Client
	}
	ps := make([]pair, pairs)
	for i := range ps {
		ps[i].a, ps[i].b = st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, ps[i].a, ps[i].b)
		ps[i].ca, ps[i].cb = node.Dial(t, ps[i].a, ""), node.Dial(t, ps[i].b, "")
	}
	node.Settle(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2*pairs)
	for i := range ps {
		p := ps[i]
		wg.Go(func() {
			for k := range each {
				p.ca.Send(fmt.Sprint("p", k), "user", p.b.ID, "x")
			}
			for k := range each {
				f, err := p.ca.TryNext(wait)
				for err == nil && f.Type == "presence" {
					f, err = p.ca.TryNext(wait)
				}
				if err != nil || f.Type != "sent" || f.Seq != int64(k+1) {
					errs <- fmt.Errorf("pair %d: sent %d = %s, %v", i, k, f.Raw, err)
					return
				}
			}
		})
		wg.Go(func() {
			next := int64(1)
			for next <= each {
				f, err := p.cb.TryNext(wait)
				if err != nil {
					errs <- fmt.Errorf("pair %d: got up to %d: %v", i, next-1, err)
					return
				}
				if f.Type != "message" || f.Seq < next {
					continue // presence, or a redelivery
				}
				if f.Seq != next {
					errs <- fmt.Errorf("pair %d: seq %d, want %d", i, f.Seq, next)
					return
				}
				p.cb.Ack(f.Conversation, f.Seq)
				next++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d of %d messages appended in batches", node.Chat().Stats().Batched, pairs*each)
}

// TestPipelinedSends: a connection writes many sends without waiting for
// their `sent` (the server keeps several in flight per connection); the
// seqs follow the order of the sends, every send is answered once, a
// refused send among them is answered with its error, and the receiver
// gets the messages once, in order.
func TestPipelinedSends(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())
	a, b, stranger := st.NewUser(t, "a"), st.NewUser(t, "b"), st.NewUser(t, "s")
	st.Befriend(t, a, b)
	ca, cb := node.Dial(t, a, ""), node.Dial(t, b, "")
	node.Settle(t)
	const n = 60
	for k := range n {
		ca.Send(fmt.Sprint("p-", k), "user", b.ID, fmt.Sprint("m", k))
		if k == n/2 {
			ca.Send("refused", "user", stranger.ID, "not a friend")
		}
	}
	seqOf := map[string]int64{}
	refused := false
	deadline := time.Now().Add(wait)
	for len(seqOf) < n || !refused {
		f, err := ca.TryNext(time.Until(deadline))
		if err != nil {
			t.Fatalf("%d sent frames, refused %v: %v", len(seqOf), refused, err)
		}
		switch f.Type {
		case "sent":
			if _, dup := seqOf[f.ClientMsgID]; dup {
				t.Fatalf("second sent for %s", f.ClientMsgID)
			}
			seqOf[f.ClientMsgID] = f.Seq
		case "error":
			if f.ClientMsgID != "refused" || f.Code != "not_friends" {
				t.Fatalf("error frame %s", f.Raw)
			}
			refused = true
		}
	}
	for k := range n {
		if got := seqOf[fmt.Sprint("p-", k)]; got != int64(k+1) {
			t.Errorf("send p-%d got seq %d, want %d (seqs in send order)", k, got, k+1)
		}
	}
	var last int64
	for last < n {
		f, err := cb.TryNext(time.Until(deadline))
		if err != nil {
			t.Fatalf("receiver after seq %d: %v", last, err)
		}
		if f.Type != "message" {
			continue
		}
		if f.Seq <= last {
			// A redelivery (the test's retry interval is short and an ack
			// may still be on its way): a client drops it by seq.
			continue
		}
		var c struct{ Text string }
		_ = json.Unmarshal(f.Content, &c)
		if f.Seq != last+1 || c.Text != fmt.Sprint("m", last) {
			t.Fatalf("receiver got seq %d %s after %d", f.Seq, f.Content, last)
		}
		last = f.Seq
		cb.Ack(f.Conversation, f.Seq)
	}
}

// TestResendDuringCatchUp: a message stored before its sent frame reached
// the client (its node died before the device's cursor moved) is sent
// again with the same client_msg_id by the reconnected device while its
// catch-up still runs. The device gets the same sent frame and never the
// message itself: it is the device's own (found by loadgen faults).
func TestResendDuringCatchUp(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())
	a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
	st.Befriend(t, a, b)
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// A long backlog from b first, so the catch-up reaches a's message
	// well after the re-send is answered.
	const backlog = 1500
	for i := 0; i < backlog; i += 500 {
		req := &datav1.AppendMessagesPlusRequest{}
		for k := i; k < i+500; k++ {
			req.Messages = append(req.Messages, &datav1.AppendMessageRequest{
				Conversation: conv(a, b), SenderId: id(t, b), ClientMsgId: fmt.Sprint("b-", k),
				Kind: "text", Content: []byte(`{"kind":"text","text":"backlog"}`),
			})
		}
		if _, err := data.AppendMessagesPlus(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := data.AppendMessage(ctx, &datav1.AppendMessageRequest{
		Conversation: conv(a, b), SenderId: id(t, a), ClientMsgId: "a-lost",
		Kind: "text", Content: []byte(`{"kind":"text","text":"mine"}`),
	})
	if err != nil || stored.GetMessage().GetSeq() != backlog+1 {
		t.Fatalf("append = %v, %v", stored, err)
	}

	c := node.Dial(t, a, "phone")
	c.Send("a-lost", "user", b.ID, "mine")
	var last int64
	var sent bool
	for last < backlog || !sent {
		f := c.Next(wait)
		switch {
		case f.Type == "sent":
			if f.Seq != backlog+1 || f.MsgID != strconv.FormatInt(stored.GetMessage().GetId(), 10) {
				t.Fatalf("sent = %s", f.Raw)
			}
			sent = true
		case f.Type == "message" && f.Seq == backlog+1:
			t.Fatalf("the device got its own re-sent message back: %s", f.Raw)
		case f.Type == "message":
			last = max(last, f.Seq)
		}
	}
	for _, m := range mstest.Messages(c.UntilPong(wait)) {
		if m.Seq == backlog+1 {
			t.Fatalf("the device got its own re-sent message back: %s", m.Raw)
		}
	}
}

// TestResendDeliversToReceivers: a message stored whose sender never got
// `sent` (the node stored it and died before its fan-out) is delivered
// live to the online receiver when the sender sends it again, once.
func TestResendDeliversToReceivers(t *testing.T) {
	st := stack(t)
	node := st.StartNode(t, st.Config())
	a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
	st.Befriend(t, a, b)
	cb := node.Dial(t, b, "phone")
	node.Settle(t)
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	stored, err := data.AppendMessage(ctx, &datav1.AppendMessageRequest{
		Conversation: conv(a, b), SenderId: id(t, a), ClientMsgId: "a-lost",
		Kind: "text", Content: []byte(`{"kind":"text","text":"stored, never fanned out"}`),
	})
	if err != nil || stored.GetMessage().GetSeq() != 1 {
		t.Fatalf("append = %v, %v", stored, err)
	}

	ca := node.Dial(t, a, "laptop")
	ca.Send("a-lost", "user", b.ID, "stored, never fanned out")
	if f := ca.Await("sent", wait); f.Seq != 1 || f.MsgID != strconv.FormatInt(stored.GetMessage().GetId(), 10) {
		t.Fatalf("sent = %s", f.Raw)
	}
	if f := cb.Await("message", wait); f.Seq != 1 || f.Conversation != conv(a, b) {
		t.Fatalf("b got %s, want seq 1 of %s", f.Raw, conv(a, b))
	}
	// A second re-send, and a new message: b gets the new one, and seq 1
	// never again.
	ca.Send("a-lost", "user", b.ID, "stored, never fanned out")
	ca.Send("a-next", "user", b.ID, "next")
	for _, want := range []int64{1, 2} {
		if f := ca.Await("sent", wait); f.Seq != want {
			t.Fatalf("sent = %s, want seq %d", f.Raw, want)
		}
	}
	if f := cb.Await("message", wait); f.Seq != 2 {
		t.Fatalf("b got %s, want seq 2", f.Raw)
	}
	for _, m := range mstest.Messages(cb.UntilPong(wait)) {
		t.Errorf("b got a message again: %s", m.Raw)
	}
	for _, m := range mstest.Messages(ca.UntilPong(wait)) {
		t.Errorf("the sender got its own message back: %s", m.Raw)
	}
}
