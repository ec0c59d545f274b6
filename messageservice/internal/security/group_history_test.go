package security

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// Attacks on group history (docs/security.md, "Group access"): a member
// who joins an open group reading what was said before they joined, by
// catch-up, sync, a read receipt, or by leaving and joining again.

const wait = 10 * time.Second

// send has c send text to group g and returns the seq it got.
func send(t *testing.T, c *mstest.Client, g, id, text string) int64 {
	t.Helper()
	c.Send(id, "group", g, text)
	return c.Await("sent", wait).Seq
}

// syncSeqs asks for the history of g after 0 and returns its seqs, or the
// error frame's code.
func syncSeqs(c *mstest.Client, g string) ([]int64, string) {
	c.WriteJSON(map[string]any{"type": "sync", "conversation": "g:" + g, "after_seq": 0, "limit": 200})
	for {
		f := c.Next(wait)
		switch f.Type {
		case "history":
			var seqs []int64
			for _, m := range f.Messages {
				seqs = append(seqs, m.Seq)
			}
			return seqs, ""
		case "error":
			return nil, f.Code
		}
	}
}

// readable checks a sync from 0 of g: every seq at least from (the join
// seq as the test knows it: group notices may come between), and each of
// want among them.
func readable(c *mstest.Client, g string, from int64, want ...int64) error {
	seqs, code := syncSeqs(c, g)
	if code != "" {
		return fmt.Errorf("sync of g:%s: error %s", g, code)
	}
	got := map[int64]bool{}
	for _, s := range seqs {
		if s < from {
			return fmt.Errorf("sync of g:%s = %v: seq %d is before %d", g, seqs, s, from)
		}
		got[s] = true
	}
	for _, w := range want {
		if !got[w] {
			return fmt.Errorf("sync of g:%s = %v: %d missing", g, seqs, w)
		}
	}
	return nil
}

// TestNewMemberCannotSyncPreJoinHistory: in an open group with history
// "joined", a newcomer's catch-up and sync start at their join seq, a read
// receipt below it is refused, and after leaving and joining again they
// start at the new join seq; with history "all" a newcomer reads
// everything.
func TestNewMemberCannotSyncPreJoinHistory(t *testing.T) {
	st := mstest.StartStack(t)
	node := st.StartNode(t, st.Config())
	owner, newcomer := st.NewUser(t, "owner"), st.NewUser(t, "newcomer")
	g := st.NewGroup(t, owner)
	co := node.Dial(t, owner, "")
	co.UntilPong(wait)
	var secret int64
	for i := range 3 {
		secret = send(t, co, g, fmt.Sprint("s", i), fmt.Sprint("said before the newcomer came ", i))
	}
	st.Do(t, http.MethodPost, "/groups/"+g+"/join", newcomer.Token, nil, http.StatusOK, nil)
	welcome := send(t, co, g, "w", "welcome")

	cn := node.Dial(t, newcomer, "phone")
	node.Settle(t)
	for _, m := range mstest.Messages(cn.UntilPong(wait)) {
		if m.Conversation == "g:"+g && m.Seq <= secret {
			t.Fatalf("catch-up delivered pre-join message %s", m.Raw)
		}
	}
	if err := readable(cn, g, secret+1, welcome); err != nil {
		t.Fatalf("the history must start at the join seq: %v", err)
	}
	cn.WriteJSON(map[string]any{"type": "read", "conversation": "g:" + g, "seq": 1})
	if f := cn.Await("error", wait); f.Code != "bad_frame" {
		t.Fatalf("read receipt of a pre-join seq: %s", f.Raw)
	}

	// Leave, miss a message, come back: the new join seq counts.
	st.Do(t, http.MethodPost, "/groups/"+g+"/quit", newcomer.Token, nil, http.StatusNoContent, nil)
	away := send(t, co, g, "a", "said while the newcomer was away")
	st.Do(t, http.MethodPost, "/groups/"+g+"/join", newcomer.Token, nil, http.StatusOK, nil)
	back := send(t, co, g, "b", "welcome back")
	poll.Eventually(t, wait, func() error { return readable(cn, g, away+1, back) })
	// A new device of the rejoined member catches up from the new join seq.
	cp := node.Dial(t, newcomer, "tablet")
	node.Settle(t)
	for _, m := range mstest.Messages(cp.UntilPong(wait)) {
		if m.Conversation == "g:"+g && m.Seq <= away {
			t.Fatalf("a new device's catch-up delivered %s from before the rejoin", m.Raw)
		}
	}

	// Opening the history to all reaches the cached group on the node at
	// once (GROUP_CHANGED): the newcomer now reads from the start.
	st.Do(t, http.MethodPatch, "/groups/"+g+"/access", owner.Token, map[string]string{"history": "all"}, http.StatusOK, nil)
	poll.Eventually(t, wait, func() error { return readable(cn, g, 1, 1, secret, away, back) })

	// History "all": a newcomer reads everything.
	open := st.NewGroup(t, owner)
	st.Do(t, http.MethodPatch, "/groups/"+open+"/access", owner.Token, map[string]string{"history": "all"}, http.StatusOK, nil)
	early := send(t, co, open, "o1", "for everyone who ever joins")
	reader := st.NewUser(t, "reader")
	st.Do(t, http.MethodPost, "/groups/"+open+"/join", reader.Token, nil, http.StatusOK, nil)
	cr := node.Dial(t, reader, "")
	poll.Eventually(t, wait, func() error { return readable(cr, open, 1, early) })
}

// TestRejoinedMemberCannotSyncHistoryOnAnyNode: on a 3-node cluster where
// every node has the group cached, a member who left and joined again
// reads from their new join seq on whichever node they connect to: each
// node rereads the join seq after the join event.
func TestRejoinedMemberCannotSyncHistoryOnAnyNode(t *testing.T) {
	st := mstest.StartStack(t)
	var nodes [3]*mstest.Node
	for i := range nodes {
		cfg := st.Config()
		cfg.NodeID = fmt.Sprint("n", i+1)
		nodes[i] = st.StartNode(t, cfg)
	}
	owner, member := st.NewUser(t, "owner"), st.NewUser(t, "member")
	g := st.NewGroup(t, owner, member)
	co := nodes[0].Dial(t, owner, "")
	co.UntilPong(wait)
	in := send(t, co, g, "m0", "while the member is in")
	// Every node caches the group with the member's first join seq.
	for i, n := range nodes {
		c := n.Dial(t, member, fmt.Sprint("d", i))
		if err := readable(c, g, 0, in); err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		c.WS.Close()
	}
	st.Do(t, http.MethodPost, "/groups/"+g+"/quit", member.Token, nil, http.StatusNoContent, nil)
	away := send(t, co, g, "m1", "said while the member was away")
	st.Do(t, http.MethodPost, "/groups/"+g+"/join", member.Token, nil, http.StatusOK, nil)
	back := send(t, co, g, "m2", "welcome back")
	for i, n := range nodes {
		c := n.Dial(t, member, fmt.Sprint("e", i))
		poll.Eventually(t, wait, func() error {
			if err := readable(c, g, away+1, back); err != nil {
				return fmt.Errorf("node %d after the rejoin: %w", i+1, err)
			}
			return nil
		})
	}
}
