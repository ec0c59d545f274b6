package server_test

import (
	"encoding/json"
	"fmt"
	"testing"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

func reactFrame(typ, id, conversation string, seq int64, emoji string) map[string]any {
	return map[string]any{"type": typ, "client_msg_id": id, "conversation": conversation, "seq": seq, "emoji": emoji}
}

type reactionCount struct {
	Emoji string `json:"emoji"`
	Count int64  `json:"count"`
	Me    bool   `json:"me"`
}

// reactionsOf syncs message seq of conversation on c and returns its reactions.
func reactionsOf(t *testing.T, c *mstest.Client, conversation string, seq int64) []reactionCount {
	t.Helper()
	c.WriteJSON(map[string]any{"type": "sync", "conversation": conversation, "after_seq": seq - 1, "limit": 1})
	h := awaitFrame(t, c, "history", func(f mstest.Frame) bool { return f.Type == "history" && f.Conversation == conversation })
	var out struct {
		Messages []struct {
			Seq       int64           `json:"seq"`
			Reactions []reactionCount `json:"reactions"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(h.Raw, &out); err != nil || len(out.Messages) != 1 || out.Messages[0].Seq != seq {
		t.Fatalf("history of seq %d: %s (%v)", seq, h.Raw, err)
	}
	return out.Messages[0].Reactions
}

func wantCounts(t *testing.T, what string, got []reactionCount, want ...reactionCount) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: reactions %v, want %v", what, got, want)
	}
}

// TestReactionsAcrossNodes (issue 15) on a 3-node cluster: twelve members
// on three nodes react to one message at once and the counts add up
// exactly; history aggregates per emoji with whether I reacted; a re-sent
// reaction answers the same sent and stores nothing; an unreact takes one
// back; bad input (twice the same, taking back what is not there, a 21st
// emoji, an unknown seq, a recalled message) is refused naming the field
// with nothing stored; a device offline meanwhile catches up the events in
// seq order, adding up to what history says; a recall drops the reactions.
func TestReactionsAcrossNodes(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	owner := st.NewUser(t, "owner")
	var members []mstest.User
	for i := range 11 {
		members = append(members, st.NewUser(t, fmt.Sprint("m", i)))
	}
	g := st.NewFriendsGroup(t, owner, members...)
	group := "g:" + g
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))

	users := append([]mstest.User{owner}, members...)
	clients := make([]*mstest.Client, len(users))
	for i, u := range users {
		clients[i] = nodes[i%3].Dial(t, u, "d")
	}
	// The owner's laptop has everything so far, then goes offline.
	laptop := nodes[2].Dial(t, owner, "laptop")
	for _, n := range nodes {
		n.Settle(t)
	}
	co := clients[0]
	seq := sentOf(t, co, map[string]any{"type": "send", "client_msg_id": "m", "to": map[string]string{"kind": "group", "id": g},
		"content": map[string]string{"kind": "text", "text": "lunch?"}}).Seq
	awaitFrame(t, laptop, "the message on the laptop", isFrame("message", group, seq, ""))
	laptop.Ack(group, seq)
	laptop.UntilPong(wait)
	laptop.WS.Close()

	t.Run("concurrent reactions add up exactly", func(t *testing.T) {
		for i, c := range clients {
			c.WriteJSON(reactFrame("react", fmt.Sprint("r", i), group, seq, "👍"))
		}
		for i, c := range clients {
			awaitFrame(t, c, "sent of a reaction", func(f mstest.Frame) bool {
				if f.ClientMsgID == fmt.Sprint("r", i) && f.Type == "error" {
					t.Fatalf("reaction %d refused: %s", i, f.Raw)
				}
				return f.Type == "sent" && f.ClientMsgID == fmt.Sprint("r", i)
			})
		}
		sentOf(t, clients[1], reactFrame("react", "heart", group, seq, "❤️"))
		wantCounts(t, "the owner's view", reactionsOf(t, co, group, seq), reactionCount{"👍", 12, true}, reactionCount{"❤️", 1, false})
		wantCounts(t, "m0's view", reactionsOf(t, clients[1], group, seq), reactionCount{"👍", 12, true}, reactionCount{"❤️", 1, true})
	})

	head := func() int {
		t.Helper()
		return len(stored(t, data, group))
	}
	t.Run("a re-sent reaction answers the same sent and stores nothing", func(t *testing.T) {
		before := head()
		a := sentOf(t, clients[1], reactFrame("react", "heart", group, seq, "❤️"))
		b := sentOf(t, clients[1], reactFrame("react", "heart", group, seq, "❤️"))
		if a.MsgID != b.MsgID || a.Seq != b.Seq || head() != before {
			t.Errorf("re-sent reaction: %s then %s, %d messages stored, want %d", a.Raw, b.Raw, head(), before)
		}
	})

	t.Run("unreact takes one back", func(t *testing.T) {
		sentOf(t, clients[1], reactFrame("unreact", "unheart", group, seq, "❤️"))
		wantCounts(t, "after the unreact", reactionsOf(t, clients[1], group, seq), reactionCount{"👍", 12, true})
	})

	t.Run("bad input is refused naming the field and stores nothing", func(t *testing.T) {
		c := clients[2]
		for i := range 19 {
			sentOf(t, c, reactFrame("react", fmt.Sprint("e", i), group, seq, fmt.Sprint("e", i)))
		}
		before := head()
		refusedWith(t, c, reactFrame("react", "x1", group, seq, "👍"), "bad_frame", "emoji")
		refusedWith(t, c, reactFrame("unreact", "x2", group, seq, "❤️"), "bad_frame", "emoji")
		refusedWith(t, c, reactFrame("react", "x3", group, seq, "one-too-many"), "bad_frame", "emoji: the message has 20")
		refusedWith(t, c, reactFrame("react", "x4", group, 999, "👍"), "bad_frame", "seq")
		refusedWith(t, c, map[string]any{"type": "react", "client_msg_id": "x5", "conversation": group, "seq": seq}, "bad_frame", "emoji")
		if got := head(); got != before {
			t.Errorf("%d messages after refused reactions, want %d", got, before)
		}
		// One of the 20 emoji by another member is fine.
		sentOf(t, clients[3], reactFrame("react", "x6", group, seq, "e0"))
	})

	t.Run("an offline device catches up the events, adding up to history", func(t *testing.T) {
		want := reactionsOf(t, co, group, seq)
		back := nodes[2].Dial(t, owner, "laptop")
		last := int64(len(stored(t, data, group)))
		counts := map[string]int64{}
		var order []string
		next := seq + 1
		for next <= last {
			f := awaitFrame(t, back, "catch-up", func(f mstest.Frame) bool { return f.Type == "message" && f.Conversation == group && f.Seq >= next })
			if f.Seq != next {
				t.Fatalf("catch-up sent seq %d, want %d", f.Seq, next)
			}
			next++
			var ev struct {
				Kind, Emoji, User string
				TargetSeq         int64 `json:"target_seq"`
			}
			if err := json.Unmarshal(f.Content, &ev); err != nil || ev.TargetSeq != seq || ev.User != f.From {
				t.Fatalf("event %s", f.Raw)
			}
			switch ev.Kind {
			case "react":
				if counts[ev.Emoji] == 0 {
					order = append(order, ev.Emoji)
				}
				counts[ev.Emoji]++
			case "unreact":
				counts[ev.Emoji]--
			}
		}
		var folded []reactionCount
		for _, e := range order {
			if counts[e] > 0 {
				folded = append(folded, reactionCount{e, counts[e], false})
			}
		}
		for i := range want {
			want[i].Me = false
		}
		wantCounts(t, "the events folded", folded, want...)
	})

	t.Run("a recall drops the reactions", func(t *testing.T) {
		sentOf(t, co, recallFrame("rec", group, seq))
		wantCounts(t, "after the recall", reactionsOf(t, co, group, seq))
		refusedWith(t, clients[4], reactFrame("react", "late", group, seq, "👍"), "bad_frame", "seq: the message was recalled")
	})
}
