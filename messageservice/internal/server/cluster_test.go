package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// nodeMessages counts the NATS messages carrying message frames to each
// node's delivery subject (presence and read frames travel there too).
type nodeMessages struct {
	mu sync.Mutex
	n  map[string]int
}

func countNodeMessages(t *testing.T, ns *stacktest.NATS) *nodeMessages {
	t.Helper()
	nc := ns.Connect(t, natsauth.Node)
	c := &nodeMessages{n: map[string]int{}}
	if _, err := nc.Subscribe("privateim.msg.node.>", func(m *nats.Msg) {
		var d struct {
			Conv string `json:"c"`
		}
		if json.Unmarshal(m.Data, &d) != nil || d.Conv == "" {
			return
		}
		c.mu.Lock()
		c.n[strings.TrimPrefix(m.Subject, "privateim.msg.node.")]++
		c.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

// expect waits until the counts since the last reset are want (the
// counting subscriber gets the NATS messages asynchronously: the receivers
// may have their frames first), then resets them.
func (c *nodeMessages) expect(t *testing.T, want map[string]int) {
	t.Helper()
	poll.Eventually(t, wait, func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, node := range []string{"n1", "n2", "n3"} {
			if c.n[node] != want[node] {
				return fmt.Errorf("NATS messages per node = %v, want %v", c.n, want)
			}
		}
		return nil
	})
	c.reset()
}

func (c *nodeMessages) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

// seen waits until node sees users online (on any node).
func seen(t *testing.T, node *mstest.Node, users ...mstest.User) {
	t.Helper()
	poll.Eventually(t, wait, func() error {
		for _, u := range users {
			id, _ := strconv.ParseInt(u.ID, 10, 64)
			if !node.Chat().UserOnline(id) {
				return fmt.Errorf("node %s does not see %s online", node.Config.NodeID, u.ID)
			}
		}
		return nil
	})
}

// startNodes starts a cluster of n nodes on st, named n1, n2, ...
func startNodes(t *testing.T, st *mstest.Stack, n int) []*mstest.Node {
	t.Helper()
	nodes := make([]*mstest.Node, n)
	for i := range nodes {
		cfg := st.Config()
		cfg.NodeID = fmt.Sprint("n", i+1)
		nodes[i] = st.StartNode(t, cfg)
	}
	return nodes
}

func TestCluster(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	counts := countNodeMessages(t, st.NATS)

	t.Run("direct across nodes, one NATS message to the receiver's node only", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		ca, cb := n1.Dial(t, a, ""), n2.Dial(t, b, "")
		seen(t, n1, b)
		seen(t, n2, a)
		n1.Settle(t)
		n2.Settle(t)
		counts.reset()
		ca.Send("x1", "user", b.ID, "across")
		sent := ca.Await("sent", wait)
		if m := cb.Await("message", wait); m.MsgID != sent.MsgID {
			t.Fatalf("b got %s", m.Raw)
		}
		cb.Ack(sent.Conversation, sent.Seq)
		cb.Send("y1", "user", a.ID, "back")
		if m := ca.Await("message", wait); m.From != b.ID || m.Seq != 2 {
			t.Fatalf("a got %s", m.Raw)
		}
		cb.UntilPong(wait)
		ca.UntilPong(wait)
		counts.expect(t, map[string]int{"n1": 1, "n2": 1})
	})

	t.Run("group across nodes, one NATS message per node", func(t *testing.T) {
		owner := st.NewUser(t, "owner")
		members := make([]mstest.User, 6)
		for i := range members {
			members[i] = st.NewUser(t, fmt.Sprint("m", i))
		}
		g := st.NewGroup(t, owner, members...)
		co := n1.Dial(t, owner, "")
		var clients []*mstest.Client
		for i, m := range members {
			clients = append(clients, []*mstest.Node{n2, n3}[i%2].Dial(t, m, ""))
		}
		seen(t, n1, members...)
		for _, n := range nodes {
			n.Settle(t)
		}
		counts.reset()
		co.Send("g1", "group", g, "hello nodes")
		sent := co.Await("sent", wait)
		for i, c := range clients {
			if m := c.AwaitChat(wait); m.MsgID != sent.MsgID {
				t.Fatalf("member %d got %s", i, m.Raw)
			}
		}
		counts.expect(t, map[string]int{"n2": 1, "n3": 1})
	})

	t.Run("fourth connection on another node evicts the oldest", func(t *testing.T) {
		u := st.NewUser(t, "u")
		c1 := n1.Dial(t, u, "")
		seen(t, n2, u)
		c2 := n2.Dial(t, u, "")
		c2.UntilPong(wait)
		c3 := n3.Dial(t, u, "")
		c3.UntilPong(wait)
		poll.Eventually(t, wait, func() error {
			id, _ := strconv.ParseInt(u.ID, 10, 64)
			for _, n := range nodes {
				if got := n.Cluster().Conns(id); got != 3 {
					return fmt.Errorf("node %s knows %d connections", n.Config.NodeID, got)
				}
			}
			return nil
		})
		c4 := n2.Dial(t, u, "")
		if code, reason := c1.ExpectClose(wait); code != 4001 || reason != "replaced" {
			t.Fatalf("close = %d %q", code, reason)
		}
		for _, c := range []*mstest.Client{c2, c3, c4} {
			c.UntilPong(wait)
		}
	})

	t.Run("presence across nodes", func(t *testing.T) {
		a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
		st.Befriend(t, a, b)
		cb := n3.Dial(t, b, "")
		seen(t, n1, b)
		ca := n1.Dial(t, a, "")
		if p := cb.Await("presence", wait); p.User != a.ID || !p.Online {
			t.Fatalf("presence = %s", p.Raw)
		}
		ca.WS.Close()
		if p := cb.Await("presence", wait); p.User != a.ID || p.Online {
			t.Fatalf("presence = %s", p.Raw)
		}
	})
}

// TestGapFilled: a live message past a gap (another node's message not
// here yet) waits, the missing one is read from the DataService, and the
// connection gets both in seq order.
func TestGapFilled(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.NodeID = "g1"
	node := st.StartNode(t, cfg)
	a, b := st.NewUser(t, "a"), st.NewUser(t, "b")
	st.Befriend(t, a, b)
	cb := node.Dial(t, b, "")
	node.Settle(t)
	cb.UntilPong(wait)

	// Two messages stored by "another node": straight into the DataService.
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var stored []*datav1.Message
	for i := range 2 {
		r, err := data.AppendMessage(ctx, &datav1.AppendMessageRequest{
			Conversation: conv(a, b), SenderId: id(t, a), ClientMsgId: fmt.Sprint("other-node-", i),
			Kind: "text", Content: []byte(fmt.Sprintf(`{"kind":"text","text":"m%d"}`, i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, r.GetMessage())
	}
	// Only the second reaches this node.
	nc := st.NATS.Connect(t, natsauth.Node)
	m2 := stored[1]
	frameJSON := fmt.Sprintf(`{"type":"message","msg_id":"%d","conversation":%q,"seq":2,"from":%q,"to":{"kind":"user","id":%q},"content":{"kind":"text","text":"m1"},"ts":1}`,
		m2.GetId(), conv(a, b), a.ID, b.ID)
	d, _ := json.Marshal(map[string]any{"u": []int64{id(t, b)}, "c": conv(a, b), "s": 2, "f": json.RawMessage(frameJSON)})
	if err := nc.Publish("privateim.msg.node.g1", d); err != nil {
		t.Fatal(err)
	}
	first := cb.Await("message", wait)
	second := cb.Await("message", wait)
	if first.Seq != 1 || second.Seq != 2 || first.MsgID != strconv.FormatInt(stored[0].GetId(), 10) {
		t.Fatalf("got %s then %s, want seq 1 then 2", first.Raw, second.Raw)
	}
}
