package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// sendOutcome sends a group message and returns the frame that answers it
// (sent or error), skipping the messages that arrive meanwhile.
func sendOutcome(c *mstest.Client, g, text string) mstest.Frame {
	c.Send(fmt.Sprint("s", time.Now().UnixNano()), "group", g, text)
	for {
		f := c.Next(wait)
		if f.Type == "sent" || f.Type == "error" {
			return f
		}
	}
}

// TestGroupMuteOnEveryNode: a mute set through the userservice holds on
// every node of a 3-node cluster (each had the group cached before), with
// error muted naming its end; mute all lets only the owner and admins
// send; lifting both lets the members send again everywhere.
func TestGroupMuteOnEveryNode(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	owner, admin, m1, m2 := st.NewUser(t, "owner"), st.NewUser(t, "admin"), st.NewUser(t, "m1"), st.NewUser(t, "m2")
	g := st.NewFriendsGroup(t, owner, admin, m1, m2)
	gp := "/groups/" + g
	st.Do(t, http.MethodPut, gp+"/members/"+admin.ID+"/role", owner.Token, map[string]string{"role": "admin"}, http.StatusOK, nil)
	co, ca, c1, c2 := n1.Dial(t, owner, ""), n2.Dial(t, admin, ""), n3.Dial(t, m1, ""), n2.Dial(t, m2, "")
	seen(t, n1, admin, m1, m2)
	for _, n := range nodes {
		n.Settle(t)
	}
	// Every node caches the group (its members and who may send) now.
	for _, c := range []*mstest.Client{co, ca, c1, c2} {
		if f := sendOutcome(c, g, "before"); f.Type != "sent" {
			t.Fatalf("send before any mute: %s", f.Raw)
		}
	}

	var muted struct {
		MutedUntil time.Time `json:"muted_until"`
	}
	st.Do(t, http.MethodPut, gp+"/members/"+m1.ID+"/mute", admin.Token, map[string]int{"duration_seconds": 3600}, http.StatusOK, &muted)
	until := muted.MutedUntil.UTC().Format(time.RFC3339)
	poll.Eventually(t, wait, func() error {
		if f := sendOutcome(c1, g, "am I muted?"); f.Type != "error" || f.Code != "muted" || f.Until != until {
			return fmt.Errorf("muted member on n3 got %s, want error muted until %s", f.Raw, until)
		}
		return nil
	})
	if f := sendOutcome(c2, g, "not me"); f.Type != "sent" {
		t.Fatalf("a member who is not muted got %s", f.Raw)
	}

	st.Do(t, http.MethodPut, gp+"/mute_all", owner.Token, map[string]bool{"on": true}, http.StatusOK, nil)
	poll.Eventually(t, wait, func() error {
		if f := sendOutcome(c2, g, "all muted?"); f.Type != "error" || f.Code != "muted" || f.Until != "" {
			return fmt.Errorf("member on n2 under mute all got %s, want error muted without until", f.Raw)
		}
		return nil
	})
	for name, c := range map[string]*mstest.Client{"owner on n1": co, "admin on n2": ca} {
		if f := sendOutcome(c, g, "we may"); f.Type != "sent" {
			t.Fatalf("%s under mute all got %s", name, f.Raw)
		}
	}

	st.Do(t, http.MethodPut, gp+"/mute_all", admin.Token, map[string]bool{"on": false}, http.StatusOK, nil)
	st.Do(t, http.MethodDelete, gp+"/members/"+m1.ID+"/mute", admin.Token, nil, http.StatusOK, nil)
	poll.Eventually(t, wait, func() error {
		for name, c := range map[string]*mstest.Client{"m1 on n3": c1, "m2 on n2": c2} {
			if f := sendOutcome(c, g, "free again"); f.Type != "sent" {
				return fmt.Errorf("%s after the mutes were lifted got %s", name, f.Raw)
			}
		}
		return nil
	})
}

// groupStream reads c's messages of conversation conv until one with seq
// last has arrived and returns them in arrival order, acking each. A
// message again at or below the highest seq so far is a redelivery of one
// not acked in time (the contract redelivers until acked) and is left out.
func groupStream(t *testing.T, c *mstest.Client, conv string, last int64) []mstest.Frame {
	t.Helper()
	var got []mstest.Frame
	high := int64(0)
	for high < last {
		f := c.Await("message", wait)
		if f.Conversation != conv || f.Seq <= high {
			continue
		}
		got, high = append(got, f), f.Seq
		c.Ack(conv, f.Seq)
	}
	return got
}

// label names a group message for comparing orders: "event:<event>" or
// "chat:<text>".
func label(f mstest.Frame) string {
	if e := f.GroupEvent(); e != "" {
		return "event:" + e
	}
	var text struct{ Text string }
	if err := json.Unmarshal(f.Content, &text); err != nil {
		return "undecodable:" + string(f.Content)
	}
	return "chat:" + text.Text
}

func labels(fs []mstest.Frame) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = label(f)
	}
	return out
}

// TestGroupEventsInSeqOrderWithChat: each change of a group is a system
// message with its own seq between the chat messages around it. Devices
// that watch (on both nodes of a cluster, connected before the changes)
// get every message of the conversation once, in seq order without gaps,
// the events where they happened; history reads the same.
func TestGroupEventsInSeqOrderWithChat(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	n1, n2 := nodes[0], nodes[1]
	owner, m1, m2 := st.NewUser(t, "owner"), st.NewUser(t, "m1"), st.NewUser(t, "m2")
	g := st.NewFriendsGroup(t, owner, m1, m2)
	gp, conv := "/groups/"+g, "g:"+g
	co, c1, c2 := n1.Dial(t, owner, ""), n2.Dial(t, m1, ""), n1.Dial(t, m2, "")
	watchers := map[string]*mstest.Client{"owner's tablet on n2": n2.Dial(t, owner, "tablet"), "m1's tablet on n1": n1.Dial(t, m1, "tablet")}
	seen(t, n1, m1)
	seen(t, n2, owner)
	n1.Settle(t)
	n2.Settle(t)

	script := []string{"event:created"}
	chat := func(c *mstest.Client, text string) {
		c.Send(fmt.Sprint("c", time.Now().UnixNano()), "group", g, text)
		if f := c.Await("sent", wait); f.Conversation != conv {
			t.Fatalf("sent %s", f.Raw)
		}
		script = append(script, "chat:"+text)
	}
	change := func(event, method, path string, body any) {
		st.Do(t, method, gp+path, owner.Token, body, http.StatusOK, nil)
		script = append(script, "event:"+event)
	}
	chat(c1, "a")
	change("renamed", http.MethodPatch, "", map[string]string{"name": "Renamed"})
	chat(c2, "b")
	change("announcement", http.MethodPut, "/announcement", map[string]string{"text": "Be kind"})
	change("role_changed", http.MethodPut, "/members/"+m1.ID+"/role", map[string]string{"role": "admin"})
	chat(co, "c")
	change("member_muted", http.MethodPut, "/members/"+m2.ID+"/mute", map[string]int{"duration_seconds": 60})
	change("member_unmuted", http.MethodDelete, "/members/"+m2.ID+"/mute", nil)
	chat(c1, "d")

	co.WriteJSON(map[string]any{"type": "sync", "conversation": conv, "after_seq": 0, "limit": 200})
	h := co.Await("history", wait).Messages
	if got := labels(h); !slices.Equal(got, script) {
		t.Fatalf("history %v, want %v", got, script)
	}
	for i, f := range h {
		if f.Seq != int64(i+1) || (f.GroupEvent() != "" && f.From != "0") {
			t.Fatalf("history message %d: seq %d from %s", i, f.Seq, f.From)
		}
	}
	last := h[len(h)-1].Seq
	for name, c := range watchers {
		s := groupStream(t, c, conv, last)
		for i, f := range s {
			if f.Seq != int64(i+1) {
				t.Fatalf("%s got seq %d as its message %d: out of order or after a gap", name, f.Seq, i+1)
			}
		}
		if got := labels(s); !slices.Equal(got, script) {
			t.Fatalf("%s got %v, want %v", name, got, script)
		}
	}
}

// TestEveryGroupChangeIsASystemMessage: each kind of group change of
// docs/websocket.md's "Group events" done once through the userservice is
// one system message in the group's history, in the order of the changes
// with consecutive seqs, from sender 0, naming its actor and users; the
// dismissal, after which the group has no history to read, reaches a
// former member's device as the next seq.
func TestEveryGroupChangeIsASystemMessage(t *testing.T) {
	st := stack(t)
	n1 := startNodes(t, st, 1)[0]
	owner, m1, m2, m3, joiner := st.NewUser(t, "owner"), st.NewUser(t, "m1"), st.NewUser(t, "m2"), st.NewUser(t, "m3"), st.NewUser(t, "joiner")
	g := st.NewFriendsGroup(t, owner, m1, m2, m3)
	gp, conv := "/groups/"+g, "g:"+g
	// The owner's device is online throughout (caught up before the
	// changes, so it is live when the group is dismissed).
	c := n1.Dial(t, owner, "")
	seen(t, n1, owner)
	n1.Settle(t)
	type step struct{ event, actor, user string }
	script := []step{{"created", owner.ID, m1.ID}}
	did := func(event string, by mstest.User, about string, method, path string, body any, status int) {
		t.Helper()
		st.Do(t, method, gp+path, by.Token, body, status, nil)
		script = append(script, step{event, by.ID, about})
	}
	did("policy_changed", owner, "", http.MethodPatch, "/access", map[string]string{"join_policy": "open"}, http.StatusOK)
	did("member_joined", joiner, joiner.ID, http.MethodPost, "/join", nil, http.StatusOK)
	did("renamed", owner, "", http.MethodPatch, "", map[string]string{"name": "Renamed"}, http.StatusOK)
	uploadGroupAvatar(t, st, owner, g)
	script = append(script, step{"avatar_changed", owner.ID, ""})
	did("announcement", owner, "", http.MethodPut, "/announcement", map[string]string{"text": "Be kind"}, http.StatusOK)
	did("role_changed", owner, m1.ID, http.MethodPut, "/members/"+m1.ID+"/role", map[string]string{"role": "admin"}, http.StatusOK)
	did("member_muted", m1, m2.ID, http.MethodPut, "/members/"+m2.ID+"/mute", map[string]int{"duration_seconds": 60}, http.StatusOK)
	did("member_unmuted", m1, m2.ID, http.MethodDelete, "/members/"+m2.ID+"/mute", nil, http.StatusOK)
	did("mute_all", m1, "", http.MethodPut, "/mute_all", map[string]bool{"on": true}, http.StatusOK)
	did("member_left", m3, m3.ID, http.MethodPost, "/quit", nil, http.StatusNoContent)
	did("member_removed", m1, joiner.ID, http.MethodDelete, "/members/"+joiner.ID+"?ban=false", nil, http.StatusNoContent)
	did("member_banned", owner, m2.ID, http.MethodDelete, "/members/"+m2.ID, nil, http.StatusNoContent)
	did("member_unbanned", m1, m2.ID, http.MethodDelete, "/bans/"+m2.ID, nil, http.StatusNoContent)
	did("ownership_transferred", owner, m1.ID, http.MethodPut, "/owner", map[string]string{"user_id": m1.ID}, http.StatusOK)

	c.WriteJSON(map[string]any{"type": "sync", "conversation": conv, "after_seq": 0, "limit": 200})
	h := c.Await("history", wait).Messages
	var got, want []string
	for _, s := range script {
		want = append(want, s.event+" by "+s.actor+" about "+s.user)
	}
	for i, f := range h {
		var ev struct {
			Actor string
			Users []string
		}
		if err := json.Unmarshal(f.Content, &ev); err != nil || f.From != "0" || f.Seq != int64(i+1) {
			t.Fatalf("history message %d: %s (%v)", i, f.Content, err)
		}
		about := ""
		if len(ev.Users) > 0 {
			about = ev.Users[0]
		}
		got = append(got, f.GroupEvent()+" by "+ev.Actor+" about "+about)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("history:\n%v\nwant:\n%v", got, want)
	}

	st.Do(t, http.MethodDelete, gp, m1.Token, nil, http.StatusNoContent, nil)
	for {
		f := c.Await("message", wait)
		if f.Conversation != conv {
			continue
		}
		c.Ack(conv, f.Seq) // unacked catch-up would hold back what follows
		if f.Seq <= int64(len(h)) {
			continue // what the history showed
		}
		if f.GroupEvent() != "dismissed" || f.Seq != int64(len(h)+1) || f.From != "0" {
			t.Fatalf("after the history the device got %s, want dismissed with seq %d", f.Raw, len(h)+1)
		}
		break
	}
}
