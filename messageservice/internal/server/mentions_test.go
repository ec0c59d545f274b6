package server_test

import (
	"fmt"
	"testing"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// listEntry is u's entry of conversation in GET /conversations.
func listEntry(t *testing.T, st *mstest.Stack, u mstest.User, conversation string) (convItem, error) {
	t.Helper()
	for _, it := range convList(t, st, u, 100) {
		if it.Conversation == conversation {
			return it, nil
		}
	}
	return convItem{}, fmt.Errorf("%s has no entry of %s", u.ID, conversation)
}

// awaitMentioned polls until u's entry of conversation has head seq head
// (at least) and mentioned want.
func awaitMentioned(t *testing.T, st *mstest.Stack, u mstest.User, conversation string, head int64, want bool) {
	t.Helper()
	poll.Eventually(t, wait, func() error {
		it, err := listEntry(t, st, u, conversation)
		if err != nil {
			return err
		}
		if it.HeadSeq < head || it.Mentioned != want {
			return fmt.Errorf("%s's entry: head %d, read %d, mentioned %v; want head %d, mentioned %v", u.ID, it.HeadSeq, it.ReadSeq, it.Mentioned, head, want)
		}
		return nil
	})
}

func read(c *mstest.Client, conversation string, seq int64) {
	c.WriteJSON(map[string]any{"type": "read", "conversation": conversation, "seq": seq})
}

// TestMentionsMarkTheConversationList: on a 2-node cluster, a mention sets
// mentioned on the mentioned member's conversation entry (not the
// sender's, not the others'), until they read past it; a read before it
// leaves it set; mention_all marks every member; a refused mention_all
// marks nobody.
func TestMentionsMarkTheConversationList(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	g := st.NewFriendsGroup(t, ada, bob, carol)
	group := "g:" + g
	ca, cb, cc := nodes[0].Dial(t, ada, "a"), nodes[1].Dial(t, bob, "b"), nodes[1].Dial(t, carol, "c")
	seen(t, nodes[0], bob, carol)
	seen(t, nodes[1], ada)

	s := mustSend(t, ca, "m1", "group", g, `{"kind":"text","text":"@bob @ada","mentions":["`+bob.ID+`","`+ada.ID+`"]}`)
	awaitMentioned(t, st, bob, group, s.Seq, true)
	awaitMentioned(t, st, carol, group, s.Seq, false)
	awaitMentioned(t, st, ada, group, s.Seq, false)

	plain := mustSend(t, ca, "m2", "group", g, `{"kind":"text","text":"later"}`)
	read(cb, group, s.Seq-1)
	awaitMentioned(t, st, bob, group, plain.Seq, true)
	read(cb, group, s.Seq)
	awaitMentioned(t, st, bob, group, plain.Seq, false)

	all := mustSend(t, ca, "m3", "group", g, `{"kind":"text","text":"@all","mention_all":true}`)
	awaitMentioned(t, st, bob, group, all.Seq, true)
	awaitMentioned(t, st, carol, group, all.Seq, true)
	awaitMentioned(t, st, ada, group, all.Seq, false)
	read(cb, group, all.Seq)
	read(cc, group, all.Seq)
	awaitMentioned(t, st, bob, group, all.Seq, false)
	awaitMentioned(t, st, carol, group, all.Seq, false)

	if e := sendRaw(t, cb, "m4", "group", g, `{"kind":"text","text":"@all","mention_all":true}`); e.Code != "forbidden" {
		t.Fatalf("mention_all by a member: %s", e.Raw)
	}
	next := mustSend(t, ca, "m5", "group", g, `{"kind":"text","text":"no mention"}`)
	if next.Seq != all.Seq+1 {
		t.Fatalf("the refused message was stored: the next seq is %d after %d", next.Seq, all.Seq)
	}
	awaitMentioned(t, st, carol, group, next.Seq, false)
}
