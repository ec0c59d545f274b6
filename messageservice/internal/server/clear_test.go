package server_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

func deleteFrame(id, conversation string, seq int64) map[string]any {
	return map[string]any{"type": "delete_for_me", "client_msg_id": id, "conversation": conversation, "seq": seq}
}

// historySeqs syncs conversation from the start on c and returns the seqs.
func historySeqs(t *testing.T, c *mstest.Client, conversation string) []int64 {
	t.Helper()
	c.WriteJSON(map[string]any{"type": "sync", "conversation": conversation, "after_seq": 0, "limit": 200})
	h := awaitFrame(t, c, "history of "+conversation, func(f mstest.Frame) bool { return f.Type == "history" && f.Conversation == conversation })
	var seqs []int64
	for _, m := range h.Messages {
		seqs = append(seqs, m.Seq)
	}
	return seqs
}

// TestDeleteForMeAcrossNodes (issue 15) on a 3-node cluster: delete for me
// hides a conversation's messages up to a seq on all the user's devices
// (an event in the user's own sys: conversation, told to the other
// devices on other nodes, caught up by one offline meanwhile) and nobody
// else's; sync and catch-up leave them out; a re-sent frame answers the
// same sent and stores nothing; bad input is refused naming the field.
func TestDeleteForMeAcrossNodes(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	st.Befriend(t, ada, bob)
	direct := conv(ada, bob)
	sys := "sys:" + ada.ID
	phone, laptop, tablet, cb := nodes[0].Dial(t, ada, "phone"), nodes[1].Dial(t, ada, "laptop"), nodes[2].Dial(t, ada, "tablet"), nodes[2].Dial(t, bob, "b")
	seen(t, nodes[0], bob)
	for _, n := range nodes {
		n.Settle(t)
	}
	send := func(c *mstest.Client, id, to string) int64 {
		return sentOf(t, c, map[string]any{"type": "send", "client_msg_id": id, "to": map[string]string{"kind": "user", "id": to},
			"content": map[string]string{"kind": "text", "text": id}}).Seq
	}
	send(phone, "a1", bob.ID)
	awaitFrame(t, tablet, "seq 1 on the tablet", isFrame("message", direct, 1, ""))
	tablet.Ack(direct, 1)
	tablet.UntilPong(wait)
	tablet.WS.Close()
	send(phone, "a2", bob.ID)
	send(phone, "a3", bob.ID)
	send(cb, "b4", ada.ID)

	sent := sentOf(t, phone, deleteFrame("del", direct, 3))
	if sent.Conversation != sys {
		t.Fatalf("delete for me answered %s, want a sent of %s", sent.Raw, sys)
	}
	t.Run("the user's other devices are told, on other nodes", func(t *testing.T) {
		ev := awaitFrame(t, laptop, "the cleared event", isFrame("message", sys, sent.Seq, ""))
		var c struct {
			Kind, Conversation string
			UpToSeq            int64 `json:"up_to_seq"`
		}
		if err := json.Unmarshal(ev.Content, &c); err != nil || c.Kind != "cleared" || c.Conversation != direct || c.UpToSeq != 3 {
			t.Errorf("cleared event %s", ev.Raw)
		}
	})
	t.Run("sync leaves the deleted out for the user only", func(t *testing.T) {
		if got := historySeqs(t, laptop, direct); len(got) != 1 || got[0] != 4 {
			t.Errorf("ada's history %v, want [4]", got)
		}
		if got := historySeqs(t, cb, direct); len(got) != 4 {
			t.Errorf("bob's history %v, want 4 messages", got)
		}
		noFrame(t, cb, "anything of ada's delete", func(f mstest.Frame) bool { return f.Conversation == sys })
	})
	t.Run("a re-sent frame answers the same sent and stores nothing", func(t *testing.T) {
		again := sentOf(t, phone, deleteFrame("del", direct, 3))
		if again.MsgID != sent.MsgID || again.Seq != sent.Seq {
			t.Errorf("re-sent: %s, want %s", again.Raw, sent.Raw)
		}
		if got := historySeqs(t, phone, sys); got[len(got)-1] != sent.Seq {
			t.Errorf("%s holds %v: stored again", sys, got)
		}
	})
	t.Run("bad input is refused naming the field and stores nothing", func(t *testing.T) {
		cc := nodes[0].Dial(t, carol, "c")
		before := historySeqs(t, phone, sys)
		refusedWith(t, phone, deleteFrame("x1", direct, 99), "bad_frame", "seq")
		refusedWith(t, phone, map[string]any{"type": "delete_for_me", "client_msg_id": "x2", "conversation": direct}, "bad_frame", "seq")
		refusedWith(t, phone, deleteFrame("x3", "u:x", 1), "bad_frame", "")
		refusedWith(t, cc, deleteFrame("x4", direct, 1), "not_member", "")
		if got := historySeqs(t, phone, sys); len(got) != len(before) {
			t.Errorf("%s holds %v after refused frames, want %v", sys, got, before)
		}
		if got := historySeqs(t, phone, direct); len(got) != 1 || got[0] != 4 {
			t.Errorf("ada's history %v after refused frames, want [4]", got)
		}
	})
	t.Run("a device offline meanwhile catches up without the deleted", func(t *testing.T) {
		back := nodes[2].Dial(t, ada, "tablet")
		var frames []mstest.Frame
		for {
			f := back.Next(wait)
			frames = append(frames, f)
			if isFrame("message", sys, sent.Seq, "")(f) {
				break
			}
		}
		nodes[2].Settle(t) // catch-up done: what it sends is before the pong
		frames = append(frames, back.UntilPong(wait)...)
		var got []int64
		for _, f := range frames {
			if f.Type == "message" && f.Conversation == direct {
				got = append(got, f.Seq)
			}
		}
		if len(got) == 0 || slices.ContainsFunc(got, func(s int64) bool { return s != 4 }) {
			t.Errorf("the tablet caught up %v of %s, want 4 only", got, direct)
		}
	})
}
