package server_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig"
	messagev1 "github.com/privateim/privateim/protos/message/v1"

	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// awaitFrame reads c's frames until one satisfies ok, failing the test
// after wait; what names it in the failure.
func awaitFrame(t *testing.T, c *mstest.Client, what string, ok func(mstest.Frame) bool) mstest.Frame {
	t.Helper()
	deadline := time.Now().Add(wait)
	var last []string
	for {
		f, err := c.TryNext(time.Until(deadline))
		if err != nil {
			t.Fatalf("waiting for %s: %v (last frames: %v)", what, err, last)
		}
		if ok(f) {
			return f
		}
		last = append(last, string(f.Raw))
		if len(last) > 8 {
			last = last[1:]
		}
	}
}

func isFrame(typ, conversation string, seq int64, user string) func(mstest.Frame) bool {
	return func(f mstest.Frame) bool {
		return f.Type == typ && f.Conversation == conversation && f.Seq == seq && (user == "" || f.User == user)
	}
}

// noFrame reads c's frames up to a pong and fails on one that satisfies bad.
func noFrame(t *testing.T, c *mstest.Client, what string, bad func(mstest.Frame) bool) {
	t.Helper()
	for _, f := range c.UntilPong(wait) {
		if bad(f) {
			t.Fatalf("got %s: %s", what, f.Raw)
		}
	}
}

// dialAsUserService is a gRPC connection to a node with the userservice's
// certificate: MarkRead's only caller.
func dialAsUserService(t *testing.T, st *mstest.Stack, addr string) messagev1.MessageServiceClient {
	t.Helper()
	creds, err := tlsconfig.ClientCredentials(st.Data.Certs.User, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return messagev1.NewMessageServiceClient(conn)
}

// TestReadStateAndReceiptsAcrossNodes (issue 14) on a 3-node cluster: a
// read is stored and mirrored to the reader's other devices and the 1:1
// peer on other nodes, two devices converge on the stored (monotonic) read
// seq, a receiver's ack reaches the sender as delivered, a group's sender
// gets aggregated receipts, a sender offline meanwhile learns it all at
// connect, MarkRead (the userservice's path) does what the frame does, and
// bad input is an error frame with nothing stored.
func TestReadStateAndReceiptsAcrossNodes(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	g := st.NewFriendsGroup(t, ada, bob, carol)
	group := "g:" + g
	ca, cbPhone, cbLaptop, cc := n1.Dial(t, ada, "a"), n2.Dial(t, bob, "b-phone"), n3.Dial(t, bob, "b-laptop"), n3.Dial(t, carol, "c")
	seen(t, n1, bob, carol)
	seen(t, n2, ada, carol)
	seen(t, n3, ada)
	for _, n := range nodes {
		n.Settle(t)
	}
	direct := conv(ada, bob)
	for i := range 3 {
		ca.Send(fmt.Sprint("d", i), "user", bob.ID, fmt.Sprint("hello ", i))
		ca.Await("sent", wait)
	}

	t.Run("delivered crosses nodes", func(t *testing.T) {
		cbPhone.Ack(direct, 3)
		awaitFrame(t, ca, "delivered 3 from bob", isFrame("delivered", direct, 3, bob.ID))
	})

	t.Run("read mirrored to the other device and the peer", func(t *testing.T) {
		cbPhone.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": 2})
		awaitFrame(t, cbLaptop, "bob's own read 2 on his laptop", isFrame("read", direct, 2, bob.ID))
		awaitFrame(t, ca, "bob's read 2", isFrame("read", direct, 2, bob.ID))
	})

	t.Run("two devices converge: a read behind the stored seq answers the stored one", func(t *testing.T) {
		cbLaptop.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": 1})
		awaitFrame(t, cbPhone, "the stored read 2 on the phone", isFrame("read", direct, 2, bob.ID))
		awaitFrame(t, ca, "bob's read, still 2", isFrame("read", direct, 2, bob.ID))
	})

	t.Run("bad input is refused and stores nothing", func(t *testing.T) {
		for _, tc := range []struct {
			frame map[string]any
			code  string
		}{
			{map[string]any{"type": "read", "conversation": direct, "seq": 99}, "bad_frame"},
			{map[string]any{"type": "read", "conversation": direct, "seq": -1}, "bad_frame"},
			{map[string]any{"type": "read", "conversation": direct, "seq": 0}, "bad_frame"},
			{map[string]any{"type": "read", "conversation": "g:999999999", "seq": 1}, "no_such_target"},
			{map[string]any{"type": "read", "conversation": "nonsense", "seq": 1}, "bad_frame"},
		} {
			cbPhone.WriteJSON(tc.frame)
			if f := cbPhone.Await("error", wait); f.Code != tc.code {
				t.Fatalf("%v answered %s, want %s", tc.frame, f.Raw, tc.code)
			}
		}
		cc.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": 1})
		if f := cc.Await("error", wait); f.Code != "not_member" {
			t.Fatalf("carol reading ada and bob's conversation: %s, want not_member", f.Raw)
		}
		noFrame(t, ca, "a receipt of a refused read", func(f mstest.Frame) bool { return f.Type == "read" && f.Seq != 2 })
		// Still 2: the stored value is what a MarkRead of 1 answers.
		api := dialAsUserService(t, st, n2.GRPCAddr())
		got, err := api.MarkRead(t.Context(), &messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: direct, Seq: 1})
		if err != nil || got.GetReadSeq() != 2 {
			t.Fatalf("MarkRead 1 after the refused reads = %v, %v; want 2", got, err)
		}
	})

	t.Run("MarkRead does what the frame does, its errors named", func(t *testing.T) {
		api := dialAsUserService(t, st, n3.GRPCAddr())
		got, err := api.MarkRead(t.Context(), &messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: direct, Seq: 3})
		if err != nil || got.GetReadSeq() != 3 {
			t.Fatalf("MarkRead 3 = %v, %v", got, err)
		}
		awaitFrame(t, ca, "bob's read 3 through MarkRead", isFrame("read", direct, 3, bob.ID))
		awaitFrame(t, cbPhone, "bob's read 3 on his phone", isFrame("read", direct, 3, bob.ID))
		awaitFrame(t, cbLaptop, "bob's read 3 on his laptop", isFrame("read", direct, 3, bob.ID))
		for _, tc := range []struct {
			req  *messagev1.MarkReadRequest
			code codes.Code
		}{
			{&messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: direct, Seq: 4}, codes.FailedPrecondition},
			{&messagev1.MarkReadRequest{UserId: id(t, carol), Conversation: direct, Seq: 1}, codes.PermissionDenied},
			{&messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: direct, Seq: 0}, codes.InvalidArgument},
			{&messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: "x", Seq: 1}, codes.InvalidArgument},
			{&messagev1.MarkReadRequest{UserId: 0, Conversation: direct, Seq: 1}, codes.InvalidArgument},
			{&messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: "g:999999999", Seq: 1}, codes.NotFound},
		} {
			if _, err := api.MarkRead(t.Context(), tc.req); status.Code(err) != tc.code {
				t.Errorf("MarkRead(%v) = %v, want %v", tc.req, err, tc.code)
			}
		}
		// The operator's certificate may call it; no other service's.
		other := messagev1.NewMessageServiceClient(dialGRPC(t, st, n3.GRPCAddr()))
		if _, err := other.MarkRead(t.Context(), &messagev1.MarkReadRequest{UserId: id(t, bob), Conversation: direct, Seq: 3}); err != nil {
			t.Errorf("MarkRead with the operator's certificate: %v", err)
		}
	})

	t.Run("group receipts reach the sender on another node, aggregated", func(t *testing.T) {
		cc.Send("g1", "group", g, "hello group")
		sent := cc.Await("sent", wait)
		ca.AwaitChat(wait)
		ca.Ack(group, sent.Seq)
		ca.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": sent.Seq})
		awaitFrame(t, cc, "a receipt with ada's read", func(f mstest.Frame) bool {
			return f.Type == "receipt" && f.Conversation == group && f.Seq == sent.Seq && f.ReadCount == 1 && f.DeliveredCount >= 1
		})
		cbPhone.Ack(group, sent.Seq)
		cbPhone.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": sent.Seq})
		awaitFrame(t, cc, "a receipt with both reads", func(f mstest.Frame) bool {
			return f.Type == "receipt" && f.Conversation == group && f.Seq == sent.Seq && f.ReadCount == 2 && f.DeliveredCount == 2
		})
		awaitFrame(t, cbLaptop, "bob's own group read on his laptop", isFrame("read", group, sent.Seq, bob.ID))
	})

	t.Run("a sender offline during the read learns it at connect", func(t *testing.T) {
		ca.Send("d-off", "user", bob.ID, "are you there")
		sent := ca.Await("sent", wait)
		ca.WS.Close()
		cc.Send("g-off", "group", g, "anyone?")
		gsent := cc.Await("sent", wait)
		cc.WS.Close()
		cbPhone.Ack(direct, sent.Seq)
		cbPhone.Ack(group, gsent.Seq)
		cbPhone.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": sent.Seq})
		cbPhone.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": gsent.Seq})
		awaitFrame(t, cbLaptop, "bob's group read mirrored", isFrame("read", group, gsent.Seq, bob.ID))

		ca2 := n2.Dial(t, ada, "a")
		awaitFrame(t, ca2, "bob's read at connect", isFrame("read", direct, sent.Seq, bob.ID))
		awaitFrame(t, ca2, "bob's delivered at connect", isFrame("delivered", direct, sent.Seq, bob.ID))
		cc2 := n1.Dial(t, carol, "c")
		awaitFrame(t, cc2, "the group receipt at connect", func(f mstest.Frame) bool {
			return f.Type == "receipt" && f.Conversation == group && f.Seq == gsent.Seq && f.ReadCount == 1 && f.DeliveredCount >= 1
		})
	})
}

// TestBlockedUserGetsNoReadStateSignals: after Ada blacklists Bob, Bob
// learns nothing of Ada's reading: her direct read is refused, her acks
// send him no delivered, his group message's receipts leave her out, and
// his connect's catch-up tells nothing of her.
func TestBlockedUserGetsNoReadStateSignals(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	n1, n2 := nodes[0], nodes[1]
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	g := st.NewFriendsGroup(t, ada, bob, carol)
	group, direct := "g:"+g, conv(ada, bob)
	ca, cb, cc := n1.Dial(t, ada, "a"), n2.Dial(t, bob, "b"), n2.Dial(t, carol, "c")
	seen(t, n1, bob, carol)
	seen(t, n2, ada)
	cb.Send("d1", "user", ada.ID, "hi ada")
	dsent := cb.Await("sent", wait)
	ca.AwaitChat(wait)
	st.Block(t, ada, bob)
	// The block reaches the nodes as a relation event: poll until applied.
	poll.Eventually(t, wait, func() error {
		ca.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": dsent.Seq})
		if f := ca.Await("error", wait); f.Code != "blocked" {
			return fmt.Errorf("ada's direct read answered %s, want blocked", f.Raw)
		}
		return nil
	})
	ca.Ack(direct, dsent.Seq)

	cb.Send("g1", "group", g, "hello group")
	gsent := cb.Await("sent", wait)
	ca.AwaitChat(wait)
	ca.Ack(group, gsent.Seq)
	ca.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": gsent.Seq})
	cc.AwaitChat(wait)
	cc.Ack(group, gsent.Seq)
	cc.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": gsent.Seq})
	// Carol's read counts, Ada's never: wait for Carol's, then nothing more.
	f := awaitFrame(t, cb, "the receipt of carol's read", func(f mstest.Frame) bool {
		return f.Type == "receipt" && f.Conversation == group && f.ReadCount >= 1
	})
	if f.ReadCount != 1 || f.DeliveredCount != 1 {
		t.Fatalf("bob's receipt %s counts ada, who blacklisted him (want read 1, delivered 1)", f.Raw)
	}
	noFrame(t, cb, "a signal of ada", func(f mstest.Frame) bool {
		return (f.Type == "read" || f.Type == "delivered") && f.User == ada.ID || f.Type == "receipt" && f.ReadCount > 1
	})
	cb.WS.Close()
	// Catch-up sends the 1:1 frames before the groups' receipts: what
	// comes before the receipt must tell nothing of Ada.
	cb2 := n1.Dial(t, bob, "b")
	awaitFrame(t, cb2, "the group receipt at connect", func(f mstest.Frame) bool {
		if (f.Type == "read" || f.Type == "delivered") && f.User == ada.ID {
			t.Fatalf("bob's catch-up told him of ada: %s", f.Raw)
		}
		if f.Type == "receipt" && (f.ReadCount != 1 || f.DeliveredCount != 1) {
			t.Fatalf("bob's catch-up receipt %s counts ada (want read 1, delivered 1)", f.Raw)
		}
		return f.Type == "receipt" && f.Conversation == group
	})
}

// TestGroupReceiptsAreDebounced: while two members read and ack a group
// as fast as its sender sends, the sender gets receipts at most once per
// ReceiptWindow (one node), each with the latest counts, not one per read.
func TestGroupReceiptsAreDebounced(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.ReadRate = config.Rate{PerSecond: 1000, Burst: 1000}
	cfg.SendRate, cfg.SendBurst = 0, 0
	node := st.StartNode(t, cfg)
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	g := st.NewFriendsGroup(t, carol, ada, bob)
	group := "g:" + g
	cc, ca, cb := node.Dial(t, carol, "c"), node.Dial(t, ada, "a"), node.Dial(t, bob, "b")
	node.Settle(t)

	var receipts []time.Time
	var lastSeq int64
	reads := 0
	deadline := time.Now().Add(3 * wait)
	for len(receipts) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d receipts after %d reads, want 3", len(receipts), reads)
		}
		cc.Send(fmt.Sprint("m", reads), "group", g, "hi")
		var sent mstest.Frame
		for sent.Type != "sent" {
			f := cc.Next(wait)
			switch f.Type {
			case "receipt":
				receipts = append(receipts, time.Now())
				checkCounts(t, f, group)
			case "sent":
				sent = f
			}
		}
		for _, c := range []*mstest.Client{ca, cb} {
			c.Ack(group, sent.Seq)
			c.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": sent.Seq})
		}
		reads += 2
		lastSeq = sent.Seq
	}
	// A round may count a message whose reads were not stored yet (it
	// runs once the ack came): once the sender stops, the round after the
	// last read tells its latest message read and delivered by both.
	gathered := len(receipts)
	deadline = time.Now().Add(wait)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no receipt of seq %d read and delivered by ada and bob", lastSeq)
		}
		f := cc.Next(time.Until(deadline))
		if f.Type != "receipt" {
			continue
		}
		receipts = append(receipts, time.Now())
		checkCounts(t, f, group)
		if f.Seq == lastSeq && f.ReadCount == 2 && f.DeliveredCount == 2 {
			break
		}
	}
	for i := 1; i < len(receipts); i++ {
		if gap := receipts[i].Sub(receipts[i-1]); gap < 800*time.Millisecond {
			t.Errorf("receipts %d and %d came %v apart, want about a second at least", i-1, i, gap)
		}
	}
	if reads < 3*gathered {
		t.Errorf("%d reads made %d receipts: not gathered", reads, gathered)
	}
}

// checkCounts fails unless f is a receipt of group counting at most its
// two other members.
func checkCounts(t *testing.T, f mstest.Frame, group string) {
	t.Helper()
	if f.Conversation != group || f.ReadCount < 0 || f.ReadCount > 2 || f.DeliveredCount < 0 || f.DeliveredCount > 2 {
		t.Fatalf("receipt %s, want counts of ada and bob", f.Raw)
	}
}
