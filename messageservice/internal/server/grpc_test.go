package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"
	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

func dialGRPC(t *testing.T, st *mstest.Stack, addr string) *grpc.ClientConn {
	t.Helper()
	creds, err := tlsconfig.ClientCredentials(st.Data.Certs.Client, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func id(t *testing.T, u mstest.User) int64 {
	t.Helper()
	n, err := strconv.ParseInt(u.ID, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInternalAPI: Push, Broadcast, Online, Prune and Stats over mutual
// TLS, on two nodes.
func TestInternalAPI(t *testing.T) {
	st := stack(t)
	cfg1, cfg2 := st.Config(), st.Config()
	cfg1.NodeID, cfg2.NodeID = "n1", "n2"
	n1, n2 := st.StartNode(t, cfg1), st.StartNode(t, cfg2)
	api := messagev1.NewMessageServiceClient(dialGRPC(t, st, n1.GRPCAddr()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("push", func(t *testing.T) {
		on, off := st.NewUser(t, "on"), st.NewUser(t, "off")
		c := n2.Dial(t, on, "")
		seen(t, n1, on)
		n2.Settle(t)
		req := &messagev1.PushRequest{UserIds: []int64{id(t, on), id(t, off)}, ClientMsgId: "notice-1", Kind: "notice", Content: []byte(`{"text":"welcome"}`)}
		resp, err := api.Push(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetResults()) != 2 || resp.GetResults()[0].GetConversation() != "sys:"+on.ID || resp.GetResults()[0].GetSeq() != 1 {
			t.Fatalf("push = %v", resp)
		}
		m := c.Await("message", wait)
		if m.Conversation != "sys:"+on.ID || m.From != "0" || string(m.Content) != `{"text":"welcome"}` {
			t.Fatalf("online user got %s", m.Raw)
		}
		again, err := api.Push(ctx, req)
		if err != nil || !again.GetResults()[0].GetDuplicate() || again.GetResults()[0].GetMsgId() != resp.GetResults()[0].GetMsgId() {
			t.Fatalf("repeat = %v, %v", again, err)
		}
		c.Ack(m.Conversation, m.Seq)
		if ms := mstest.Messages(c.UntilPong(wait)); len(ms) != 0 {
			t.Fatalf("repeated push delivered again: %s", ms[0].Raw)
		}
		co := n1.Dial(t, off, "")
		if m := co.Await("message", wait); m.Conversation != "sys:"+off.ID {
			t.Fatalf("offline user got %s on connect", m.Raw)
		}
		if _, err := api.Push(ctx, &messagev1.PushRequest{UserIds: []int64{1}, ClientMsgId: "x", Kind: "notice", Content: []byte(`[]`)}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("push of a non-object = %v", err)
		}
	})

	t.Run("broadcast", func(t *testing.T) {
		owner, f1, f2, other := st.NewUser(t, "owner"), st.NewUser(t, "f1"), st.NewUser(t, "f2"), st.NewUser(t, "other")
		data := datav1.NewSubscriptionsClient(dialGRPC(t, st, st.Data.Addr))
		sub, err := data.CreateSubscription(ctx, &datav1.CreateSubscriptionRequest{Name: "news " + owner.ID, OwnerId: id(t, owner)})
		if err != nil {
			t.Fatal(err)
		}
		sid := strconv.FormatInt(sub.GetId(), 10)
		for _, u := range []mstest.User{f1, f2} {
			st.Do(t, http.MethodPost, "/subscriptions/"+sid+"/follow", u.Token, nil, http.StatusOK, nil)
		}
		c1, co := n1.Dial(t, f1, ""), n2.Dial(t, other, "")
		seen(t, n1, other)
		seen(t, n2, f1)
		n1.Settle(t)
		n2.Settle(t)
		req := &messagev1.BroadcastRequest{SubscriptionId: sub.GetId(), SenderId: id(t, owner), ClientMsgId: "article:1", Kind: "article", Content: []byte(`{"title":"hello"}`)}
		resp, err := api.Broadcast(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetStored().GetConversation() != "s:"+sid || resp.GetStored().GetSeq() != 1 {
			t.Fatalf("broadcast = %v", resp)
		}
		if m := c1.Await("message", wait); m.Conversation != "s:"+sid || m.From != owner.ID {
			t.Fatalf("follower got %s", m.Raw)
		}
		if ms := mstest.Messages(co.UntilPong(wait)); len(ms) != 0 {
			t.Fatalf("a non-follower got %s", ms[0].Raw)
		}
		c2 := n2.Dial(t, f2, "")
		if m := c2.Await("message", wait); m.Conversation != "s:"+sid {
			t.Fatalf("offline follower got %s on connect", m.Raw)
		}
		c2.WriteJSON(map[string]any{"type": "sync", "conversation": "s:" + sid})
		if h := c2.Await("history", wait); len(h.Messages) != 1 {
			t.Fatalf("history = %s", h.Raw)
		}
		co.WriteJSON(map[string]any{"type": "sync", "conversation": "s:" + sid})
		if e := co.Await("error", wait); e.Code != "not_member" {
			t.Fatalf("non-follower sync = %s", e.Raw)
		}
		if again, err := api.Broadcast(ctx, req); err != nil || !again.GetStored().GetDuplicate() {
			t.Fatalf("repeat = %v, %v", again, err)
		}
		req.SubscriptionId = 999999999
		if _, err := api.Broadcast(ctx, req); status.Code(err) != codes.NotFound {
			t.Fatalf("unknown subscription = %v", err)
		}
	})

	t.Run("online", func(t *testing.T) {
		a, b, c := st.NewUser(t, "a"), st.NewUser(t, "b"), st.NewUser(t, "c")
		n1.Dial(t, a, "")
		n2.Dial(t, b, "")
		seen(t, n1, a, b)
		resp, err := api.Online(ctx, &messagev1.OnlineRequest{UserIds: []int64{id(t, a), id(t, b), id(t, c)}})
		if err != nil {
			t.Fatal(err)
		}
		got := resp.GetOnlineUserIds()
		slices.Sort(got)
		want := []int64{id(t, a), id(t, b)}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("online = %v, want %v", got, want)
		}
	})

	t.Run("stats and prune", func(t *testing.T) {
		owner := st.NewUser(t, "owner")
		g := st.NewGroup(t, owner)
		c := n1.Dial(t, owner, "")
		c.Send("p1", "group", g, "hi")
		c.Await("sent", wait)
		s, err := api.Stats(ctx, &messagev1.StatsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if s.GetNodeId() != "n1" || s.GetConnections() < 1 || s.GetGroupsCached() < 1 || s.GetMessagesIn() < 1 {
			t.Fatalf("stats = %v", s)
		}
		// The process: a connection has goroutines of its own; the heap is
		// resident, so RSS holds at least the heap (Linux reports RSS).
		if s.GetGoroutines() <= s.GetConnections() || s.GetHeapBytes() <= 0 || s.GetRssBytes() < s.GetHeapBytes() {
			t.Fatalf("process stats = goroutines %d, heap %d, rss %d", s.GetGoroutines(), s.GetHeapBytes(), s.GetRssBytes())
		}
		// Prune with the defaults drops nothing young and few.
		p, err := api.Prune(ctx, &messagev1.PruneRequest{})
		if err != nil || p.GetGroupsPruned() != 0 {
			t.Fatalf("prune = %v, %v", p, err)
		}
	})
}

// TestPruneEverything: with a zero-ish lifetime every cached node goes, and
// a pruned group comes back on its next use.
func TestPruneEverything(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.PruneMaxAge = time.Nanosecond
	node := st.StartNode(t, cfg)
	api := messagev1.NewMessageServiceClient(dialGRPC(t, st, node.GRPCAddr()))
	owner := st.NewUser(t, "owner")
	g := st.NewGroup(t, owner)
	c := node.Dial(t, owner, "")
	c.Send("a", "group", g, "hi")
	first := c.Await("sent", wait)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	poll.Eventually(t, wait, func() error {
		p, err := api.Prune(ctx, &messagev1.PruneRequest{})
		if err != nil {
			return err
		}
		if p.GetGroupsPruned() < 1 {
			return fmt.Errorf("pruned %v", p)
		}
		return nil
	})
	if s := node.Chat().Stats(); s.Groups != 0 {
		t.Fatalf("%d groups cached after pruning", s.Groups)
	}
	c.Send("b", "group", g, "again")
	if s := c.Await("sent", wait); s.Seq != first.Seq+1 {
		t.Fatalf("sent = %s", s.Raw)
	}
}
