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
	for i := range 3 {
		send(t, co, g, fmt.Sprint("s", i), fmt.Sprint("said before the newcomer came ", i))
	}
	st.Do(t, http.MethodPost, "/groups/"+g+"/join", newcomer.Token, nil, http.StatusOK, nil)
	welcome := send(t, co, g, "w", "welcome")
	if welcome != 4 {
		t.Fatalf("welcome has seq %d, want 4", welcome)
	}

	cn := node.Dial(t, newcomer, "phone")
	node.Settle(t)
	for _, m := range mstest.Messages(cn.UntilPong(wait)) {
		if m.Conversation == "g:"+g && m.Seq < welcome {
			t.Fatalf("catch-up delivered pre-join message %s", m.Raw)
		}
	}
	if seqs, code := syncSeqs(cn, g); code != "" || fmt.Sprint(seqs) != "[4]" {
		t.Fatalf("sync from 0 = %v %q, want [4]: the history starts at the join seq", seqs, code)
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
	poll.Eventually(t, wait, func() error {
		seqs, code := syncSeqs(cn, g)
		if code != "" || fmt.Sprint(seqs) != fmt.Sprint([]int64{back}) {
			return fmt.Errorf("sync after rejoin = %v %q, want [%d] (not %d, said while away)", seqs, code, back, away)
		}
		return nil
	})
	// A new device of the rejoined member catches up from the new join seq.
	cp := node.Dial(t, newcomer, "tablet")
	node.Settle(t)
	for _, m := range mstest.Messages(cp.UntilPong(wait)) {
		if m.Conversation == "g:"+g && m.Seq < back {
			t.Fatalf("a new device's catch-up delivered %s from before the rejoin", m.Raw)
		}
	}

	// Opening the history to all reaches the cached group on the node at
	// once (GROUP_CHANGED): the newcomer now reads from the start.
	st.Do(t, http.MethodPatch, "/groups/"+g+"/access", owner.Token, map[string]string{"history": "all"}, http.StatusOK, nil)
	poll.Eventually(t, wait, func() error {
		if seqs, code := syncSeqs(cn, g); code != "" || len(seqs) == 0 || seqs[0] != 1 {
			return fmt.Errorf("sync after history all = %v %q, want from seq 1", seqs, code)
		}
		return nil
	})

	// History "all": a newcomer reads everything.
	open := st.NewGroup(t, owner)
	st.Do(t, http.MethodPatch, "/groups/"+open+"/access", owner.Token, map[string]string{"history": "all"}, http.StatusOK, nil)
	send(t, co, open, "o1", "for everyone who ever joins")
	reader := st.NewUser(t, "reader")
	st.Do(t, http.MethodPost, "/groups/"+open+"/join", reader.Token, nil, http.StatusOK, nil)
	cr := node.Dial(t, reader, "")
	poll.Eventually(t, wait, func() error {
		if seqs, code := syncSeqs(cr, open); code != "" || fmt.Sprint(seqs) != "[1]" {
			return fmt.Errorf("sync with history all = %v %q, want [1]", seqs, code)
		}
		return nil
	})
}
