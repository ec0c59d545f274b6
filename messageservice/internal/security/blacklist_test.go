package security

import (
	"testing"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// framesFrom are the frames of type typ about user (presence, read).
func framesFrom(fs []mstest.Frame, typ, user string) []mstest.Frame {
	var out []mstest.Frame
	for _, f := range fs {
		if f.Type == typ && f.User == user {
			out = append(out, f)
		}
	}
	return out
}

// TestBlacklistedUserSeesNoPresenceOfTheBlocker: Ada blacklists her friend
// Bob; when Ada comes online her other friend Carol is told, Bob is not.
func TestBlacklistedUserSeesNoPresenceOfTheBlocker(t *testing.T) {
	t.Parallel()
	st, n, ada, bob := friends(t, nil)
	carol := st.NewUser(t, "Carol")
	st.Befriend(t, ada, carol)
	st.Block(t, ada, bob)
	cb, cc := n.Dial(t, bob, "b1"), n.Dial(t, carol, "c1")

	ca := n.Dial(t, ada, "a1")
	if p := cc.Await("presence", wait); p.User != ada.ID || !p.Online {
		t.Fatalf("Carol got %s, want Ada online", p.Raw)
	}
	// The worker sends one announcement to every watcher at once: Carol
	// has hers, so Bob's would be queued before his pong by now.
	if got := framesFrom(cb.UntilPong(wait), "presence", ada.ID); len(got) != 0 {
		t.Fatalf("Bob, blacklisted by Ada, got her presence: %s", got[0].Raw)
	}
	ca.WS.Close()
	if p := cc.Await("presence", wait); p.User != ada.ID || p.Online {
		t.Fatalf("Carol got %s, want Ada offline", p.Raw)
	}
	if got := framesFrom(cb.UntilPong(wait), "presence", ada.ID); len(got) != 0 {
		t.Fatalf("Bob, blacklisted by Ada, got her presence: %s", got[0].Raw)
	}
}

// TestBlacklistedUserGetsNoReadReceiptsFromTheBlocker: in a group of Ada,
// Bob and Carol, Ada blacklists Bob; the receipts of Bob's group message
// (aggregated counts, docs/websocket.md) leave Ada's read out while
// Carol's counts, and Ada's read counts for Carol's message. In their
// direct conversation Ada's read is refused (blocked) and reaches nobody.
func TestBlacklistedUserGetsNoReadReceiptsFromTheBlocker(t *testing.T) {
	t.Parallel()
	st, n, ada, bob := friends(t, nil)
	carol := st.NewUser(t, "Carol")
	st.Befriend(t, ada, carol)
	group := st.NewGroup(t, ada, bob, carol)
	ca, cb, cc := n.Dial(t, ada, "a1"), n.Dial(t, bob, "b1"), n.Dial(t, carol, "c1")
	direct := sendOne(t, ca, bob.ID)
	cb.Await("message", wait)
	st.Block(t, ada, bob)

	cb.Send("g1", "group", group, "hello group")
	sent := cb.Await("sent", wait)
	ca.AwaitChat(wait)
	cc.AwaitChat(wait)
	ca.WriteJSON(map[string]any{"type": "read", "conversation": sent.Conversation, "seq": sent.Seq})
	cc.WriteJSON(map[string]any{"type": "read", "conversation": sent.Conversation, "seq": sent.Seq})
	for {
		r := cb.Await("receipt", wait)
		if r.ReadCount > 1 {
			t.Fatalf("Bob's receipt %s counts Ada, who blacklisted him", r.Raw)
		}
		if r.ReadCount == 1 {
			break // Carol's
		}
	}
	if got := framesFrom(cb.UntilPong(wait), "read", ada.ID); len(got) != 0 {
		t.Fatalf("Bob, blacklisted by Ada, got her receipt: %s", got[0].Raw)
	}

	cc.Send("g2", "group", group, "and from me")
	sent = cc.Await("sent", wait)
	ca.AwaitChat(wait)
	ca.WriteJSON(map[string]any{"type": "read", "conversation": sent.Conversation, "seq": sent.Seq})
	for r := (mstest.Frame{}); r.Seq != sent.Seq || r.ReadCount != 1; {
		r = cc.Await("receipt", wait) // Ada's read counts for Carol
	}

	ca.WriteJSON(map[string]any{"type": "read", "conversation": direct.Conversation, "seq": direct.Seq})
	if e := ca.Await("error", wait); e.Code != "blocked" {
		t.Fatalf("Ada's read of the direct conversation: %s, want blocked", e.Raw)
	}
	if got := framesFrom(cb.UntilPong(wait), "read", ada.ID); len(got) != 0 {
		t.Fatalf("Bob, blacklisted by Ada, got her direct receipt: %s", got[0].Raw)
	}
}
