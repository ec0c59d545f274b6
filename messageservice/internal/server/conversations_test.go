package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// convItem is one conversation of GET /conversations.
type convItem struct {
	Conversation string `json:"conversation"`
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	LastMessage  *struct {
		Sender  string `json:"sender"`
		Kind    string `json:"kind"`
		Preview string `json:"preview"`
		Seq     int64  `json:"seq"`
		TS      int64  `json:"ts"`
	} `json:"last_message"`
	HeadSeq   int64 `json:"head_seq"`
	ReadSeq   int64 `json:"read_seq"`
	Unread    int64 `json:"unread"`
	Muted     bool  `json:"muted"`
	Pinned    bool  `json:"pinned"`
	Mentioned bool  `json:"mentioned"`
}

type convPage struct {
	Conversations []convItem `json:"conversations"`
	NextCursor    string     `json:"next_cursor"`
}

// convList reads every page of u's list with limit and returns the
// conversations in order.
func convList(t *testing.T, st *mstest.Stack, u mstest.User, limit int) []convItem {
	t.Helper()
	var out []convItem
	cursor := ""
	for range 100 {
		var p convPage
		st.Do(t, http.MethodGet, fmt.Sprintf("/conversations?limit=%d&cursor=%s", limit, url.QueryEscape(cursor)), u.Token, nil, http.StatusOK, &p)
		out = append(out, p.Conversations...)
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
	t.Fatal("the list never ends")
	return nil
}

func unreadTotal(t *testing.T, st *mstest.Stack, u mstest.User) int64 {
	t.Helper()
	var r struct {
		Total int64 `json:"total"`
	}
	st.Do(t, http.MethodGet, "/conversations/unread", u.Token, nil, http.StatusOK, &r)
	return r.Total
}

func sendText(t *testing.T, c *mstest.Client, kind, to, id, text string) mstest.Frame {
	t.Helper()
	c.Send(id, kind, to, text)
	f := c.Await("sent", wait)
	if f.ClientMsgID != id {
		t.Fatalf("sent %s, want %s", f.Raw, id)
	}
	return f
}

// TestConversationList: through the real stack (DataService, userservice,
// two messageservice nodes), the list orders by activity with pins first,
// counts unread from seqs (the sender's own messages never count; a
// group's from the member's join on), leaves muted ones out of the total,
// hides until the next message, pages with a cursor, mirrors settings to
// the user's devices on both nodes, lists readers, and refuses bad input
// naming the field with nothing stored.
func TestConversationList(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	n1, n2 := nodes[0], nodes[1]
	ada, bob, carol, dave := st.NewUser(t, "Ada"), st.NewUser(t, "Bob"), st.NewUser(t, "Carol"), st.NewUser(t, "Dave")
	g := st.NewFriendsGroup(t, ada, bob, carol) // ada befriends both
	ca1, ca2 := n1.Dial(t, ada, "laptop"), n2.Dial(t, ada, "phone")
	cb, cc := n2.Dial(t, bob, "b"), n1.Dial(t, carol, "c")
	seen(t, n1, bob)
	seen(t, n2, carol)

	for i := range 3 {
		sendText(t, cb, "user", ada.ID, fmt.Sprint("b", i), fmt.Sprint("hello ", i))
	}
	sendText(t, cc, "group", g, "c1", "hi group")
	long := ""
	for range 30 {
		long += "long text "
	}
	sendText(t, ca1, "user", carol.ID, "a1", long)

	direct, withCarol, group := conv(ada, bob), conv(ada, carol), "g:"+g
	// Ada's own message reads her 1:1 with carol soon after it is stored.
	unreadsOf(t, st, ada, "ada's own message", map[string]int64{withCarol: 0}, 4)
	list := convList(t, st, ada, 50)
	if len(list) != 3 || list[0].Conversation != withCarol || list[1].Conversation != group || list[2].Conversation != direct {
		t.Fatalf("list %+v, want %s, %s, %s by activity", list, withCarol, group, direct)
	}
	ac, ag, ab := list[0], list[1], list[2]
	if ab.Kind != "user" || ab.Name != "Bob" || ab.HeadSeq != 3 || ab.ReadSeq != 0 || ab.Unread != 3 || ab.Mentioned ||
		ab.LastMessage == nil || ab.LastMessage.Sender != bob.ID || ab.LastMessage.Preview != "hello 2" || ab.LastMessage.Seq != 3 || ab.LastMessage.Kind != "text" {
		t.Fatalf("1:1 with bob: %+v %+v", ab, ab.LastMessage)
	}
	if ac.Unread != 0 || ac.ReadSeq != 1 || ac.LastMessage == nil || len([]rune(ac.LastMessage.Preview)) != 100 || ac.LastMessage.Sender != ada.ID {
		t.Fatalf("1:1 with carol (ada sent last: nothing unread, preview cut to 100): %+v %+v", ac, ac.LastMessage)
	}
	// Carol's message is unread, the group's created event (from the
	// system, seq 1) does not count: the first members read from the start.
	if ag.Kind != "group" || ag.LastMessage == nil || ag.LastMessage.Preview != "hi group" || ag.LastMessage.Sender != carol.ID ||
		ag.HeadSeq != 2 || ag.ReadSeq != 0 || ag.Unread != 1 {
		t.Fatalf("group: %+v", ag)
	}
	if got := unreadTotal(t, st, ada); got != 4 {
		t.Fatalf("unread total %d, want 4", got)
	}
	if got := convList(t, st, ada, 1); len(got) != 3 || got[0].Conversation != withCarol || got[2].Conversation != direct {
		t.Fatalf("paged one by one: %+v", got)
	}

	// Mute the group: out of the total, mirrored to both devices.
	var set struct {
		Conversation          string
		Muted, Pinned, Hidden bool
	}
	st.Do(t, http.MethodPatch, "/conversations/"+group, ada.Token, map[string]bool{"muted": true}, http.StatusOK, &set)
	if !set.Muted || set.Pinned || set.Hidden || set.Conversation != group {
		t.Fatalf("PATCH answered %+v", set)
	}
	for _, c := range []*mstest.Client{ca1, ca2} {
		f := c.Await("conversation", wait)
		var got struct {
			Conversation          string
			Muted, Pinned, Hidden bool
		}
		if err := json.Unmarshal(f.Raw, &got); err != nil || got.Conversation != group || !got.Muted || got.Pinned || got.Hidden {
			t.Fatalf("device got %s", f.Raw)
		}
	}
	if got := unreadTotal(t, st, ada); got != 3 {
		t.Fatalf("unread total with the group muted %d, want 3", got)
	}

	// Pin the oldest: first.
	st.Do(t, http.MethodPatch, "/conversations/"+direct, ada.Token, map[string]bool{"pinned": true}, http.StatusOK, nil)
	if got := convList(t, st, ada, 2); got[0].Conversation != direct || !got[0].Pinned || got[1].Conversation != withCarol {
		t.Fatalf("pinned first: %+v", got)
	}

	// Hide bob's: gone until his next message, then back with 4 unread.
	st.Do(t, http.MethodPatch, "/conversations/"+direct, ada.Token, map[string]bool{"hidden": true}, http.StatusOK, nil)
	for _, it := range convList(t, st, ada, 50) {
		if it.Conversation == direct {
			t.Fatalf("hidden conversation listed: %+v", it)
		}
	}
	if got := unreadTotal(t, st, ada); got != 0 {
		t.Fatalf("unread total with bob's hidden and the group muted %d, want 0", got)
	}
	sendText(t, cb, "user", ada.ID, "b3", "back")
	list = convList(t, st, ada, 50)
	if list[0].Conversation != direct || list[0].Unread != 4 || list[0].LastMessage.Preview != "back" {
		t.Fatalf("after bob's next message: %+v", list)
	}
	if got := unreadTotal(t, st, ada); got != 4 {
		t.Fatalf("unread total %d, want 4", got)
	}
	// Bob sent everything in his 1:1: nothing unread for him.
	unreadsOf(t, st, bob, "bob's own messages", map[string]int64{direct: 0}, -1)
	for _, it := range convList(t, st, bob, 50) {
		if it.Conversation == direct && (it.Unread != 0 || it.Name != "Ada") {
			t.Fatalf("bob's view of his 1:1: %+v", it)
		}
	}

	// A group joined later (history "joined"): what came before the join
	// is not unread, what comes after is.
	g2 := st.NewGroup(t, bob)
	sendText(t, cb, "group", g2, "g2-1", "before ada")
	sendText(t, cb, "group", g2, "g2-2", "before ada too")
	st.Do(t, http.MethodPost, "/groups/"+g2+"/join", ada.Token, nil, http.StatusOK, nil)
	later := func() convItem {
		for _, it := range convList(t, st, ada, 50) {
			if it.Conversation == "g:"+g2 {
				return it
			}
		}
		t.Fatalf("ada's list lacks the group she joined")
		return convItem{}
	}
	if it := later(); it.Unread != 0 || it.ReadSeq != it.HeadSeq || it.HeadSeq < 3 {
		t.Fatalf("just joined: %+v, want nothing unread (read seq floored at the join)", it)
	}
	sendText(t, cb, "group", g2, "g2-3", "welcome ada")
	if it := later(); it.Unread != 1 || it.LastMessage.Preview != "welcome ada" {
		t.Fatalf("after a message: %+v, want 1 unread", it)
	}
	if got := unreadTotal(t, st, ada); got != 5 {
		t.Fatalf("unread total %d, want 5", got)
	}

	// Readers: carol sent seq 2 of the group (sending reads it).
	var readers struct {
		Readers []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"readers"`
		NextCursor string `json:"next_cursor"`
	}
	st.Do(t, http.MethodGet, "/conversations/"+group+"/messages/"+fmt.Sprint(ag.HeadSeq)+"/readers", ada.Token, nil, http.StatusOK, &readers)
	if len(readers.Readers) != 1 || readers.Readers[0].ID != carol.ID || readers.NextCursor != "" {
		t.Fatalf("readers %+v, want carol", readers)
	}
	// Blacklist means silence: carol blacklists ada, and ada no longer
	// sees that carol read it.
	st.Block(t, carol, ada)
	st.Do(t, http.MethodGet, "/conversations/"+group+"/messages/"+fmt.Sprint(ag.HeadSeq)+"/readers", ada.Token, nil, http.StatusOK, &readers)
	if len(readers.Readers) != 0 {
		t.Fatalf("readers %+v, want none: carol blacklisted ada", readers)
	}

	t.Run("bad input", func(t *testing.T) {
		for _, tt := range []struct {
			name, method, path string
			body               any
			status             int
			code, field        string
		}{
			{"limit 0", "GET", "/conversations?limit=0", nil, 400, "invalid", "limit"},
			{"limit 101", "GET", "/conversations?limit=101", nil, 400, "invalid", "limit"},
			{"bad cursor", "GET", "/conversations?cursor=abc", nil, 400, "invalid", "cursor"},
			{"malformed conversation", "PATCH", "/conversations/g:abc", map[string]bool{"muted": true}, 400, "invalid", "conversation"},
			{"nothing to set", "PATCH", "/conversations/" + group, map[string]bool{}, 400, "required", "muted"},
			{"foreign group", "PATCH", "/conversations/" + group, map[string]bool{"muted": true}, 404, "conversation_not_found", "conversation"},
			{"foreign 1:1", "PATCH", "/conversations/" + direct, map[string]bool{"muted": true}, 404, "conversation_not_found", "conversation"},
			{"unknown group", "PATCH", "/conversations/g:1", map[string]bool{"muted": true}, 404, "conversation_not_found", "conversation"},
			{"readers of seq 0", "GET", "/conversations/" + conv(dave, ada) + "/messages/0/readers", nil, 400, "invalid", "seq"},
			{"readers of a foreign group", "GET", "/conversations/" + group + "/messages/1/readers", nil, 404, "conversation_not_found", "conversation"},
			{"readers of a subscription", "GET", "/conversations/s:1/messages/1/readers", nil, 400, "invalid", "conversation"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var e struct {
					Error struct{ Code, Field string } `json:"error"`
				}
				st.Do(t, tt.method, tt.path, dave.Token, tt.body, tt.status, &e)
				if e.Error.Code != tt.code || e.Error.Field != tt.field {
					t.Fatalf("%s %s: %+v, want %s %s", tt.method, tt.path, e.Error, tt.code, tt.field)
				}
			})
		}
		st.Do(t, "GET", "/conversations/"+direct+"/messages/5/readers", ada.Token, nil, http.StatusBadRequest, nil) // beyond the head (4)
		// Nothing stored: dave's list is empty, ada's settings stand.
		if got := convList(t, st, dave, 50); len(got) != 0 {
			t.Fatalf("dave's list: %+v", got)
		}
		if got := convList(t, st, ada, 50); got[0].Conversation != direct || !got[0].Pinned {
			t.Fatalf("ada's list after refused changes: %+v", got)
		}
	})
}

// TestReadersOfLargeGroupsAreCountsOnly: a group with more members than
// GROUP_RECEIPTS_MAX_MEMBERS (here 2) lists no readers: 409 counts_only.
func TestReadersOfLargeGroupsAreCountsOnly(t *testing.T) {
	st := mstest.StartStackWith(t, mstest.StackOptions{UserEnv: []string{"GROUP_RECEIPTS_MAX_MEMBERS=2"}})
	ada, bob, carol := st.NewUser(t, "Ada"), st.NewUser(t, "Bob"), st.NewUser(t, "Carol")
	large := st.NewFriendsGroup(t, ada, bob, carol)
	var g struct {
		ID string `json:"id"`
	}
	st.Do(t, http.MethodPost, "/groups", ada.Token, map[string]any{"name": "small", "member_ids": []string{bob.ID}}, http.StatusCreated, &g)
	small := g.ID
	st.Do(t, http.MethodGet, "/conversations/g:"+small+"/messages/1/readers", ada.Token, nil, http.StatusOK, nil)
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	st.Do(t, http.MethodGet, "/conversations/g:"+large+"/messages/1/readers", ada.Token, nil, http.StatusConflict, &e)
	if e.Error.Code != "counts_only" {
		t.Fatalf("code %q, want counts_only", e.Error.Code)
	}
}

// TestReadOverHTTP: POST /conversations/{c}/read moves the read seq as a
// read frame does (never back), the list and total follow, the user's
// devices on both nodes and the peer are told; a read frame on another
// device counts the same; bad input stores nothing.
func TestReadOverHTTP(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	n1, n2 := nodes[0], nodes[1]
	ada, bob, dave := st.NewUser(t, "Ada"), st.NewUser(t, "Bob"), st.NewUser(t, "Dave")
	st.Befriend(t, ada, bob)
	ca1, ca2, cb := n1.Dial(t, ada, "laptop"), n2.Dial(t, ada, "phone"), n2.Dial(t, bob, "b")
	seen(t, n1, bob)
	for i := range 3 {
		sendText(t, cb, "user", ada.ID, fmt.Sprint("b", i), fmt.Sprint("hello ", i))
	}
	direct := conv(ada, bob)
	unreadOf := func() int64 {
		t.Helper()
		for _, it := range convList(t, st, ada, 50) {
			if it.Conversation == direct {
				return it.Unread
			}
		}
		t.Fatal("no 1:1 in the list")
		return 0
	}
	var r struct {
		Conversation string `json:"conversation"`
		ReadSeq      int64  `json:"read_seq"`
	}
	st.Do(t, http.MethodPost, "/conversations/"+direct+"/read", ada.Token, map[string]int{"seq": 2}, http.StatusOK, &r)
	if r.ReadSeq != 2 || r.Conversation != direct {
		t.Fatalf("read answered %+v", r)
	}
	if got := unreadOf(); got != 1 {
		t.Fatalf("unread after reading 2 of 3: %d", got)
	}
	for _, c := range []*mstest.Client{ca1, ca2, cb} { // both of ada's devices and the peer
		for {
			f := c.Await("read", wait)
			if f.Conversation == direct && f.User == ada.ID && f.Seq == 2 {
				break
			}
		}
	}
	st.Do(t, http.MethodPost, "/conversations/"+direct+"/read", ada.Token, map[string]int{"seq": 1}, http.StatusOK, &r)
	if r.ReadSeq != 2 {
		t.Fatalf("a lower read moved the read seq back: %+v", r)
	}

	// A read frame on the laptop counts the same.
	ca1.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": 3})
	for {
		if f := ca2.Await("read", wait); f.Seq == 3 {
			break
		}
	}
	if got := unreadOf(); got != 0 {
		t.Fatalf("unread after the laptop read 3: %d", got)
	}
	if got := unreadTotal(t, st, ada); got != 0 {
		t.Fatalf("unread total %d", got)
	}

	sendText(t, cb, "user", ada.ID, "b3", "one more")
	for _, tt := range []struct {
		name, conv string
		body       any
		user       mstest.User
		status     int
		code, fld  string
	}{
		{"past the head", direct, map[string]int{"seq": 99}, ada, 400, "invalid", "seq"},
		{"seq 0", direct, map[string]int{"seq": 0}, ada, 400, "invalid", "seq"},
		{"negative seq", direct, map[string]int{"seq": -1}, ada, 400, "invalid", "seq"},
		{"no seq", direct, map[string]int{}, ada, 400, "required", "seq"},
		{"malformed conversation", "u:2:1", map[string]int{"seq": 1}, ada, 400, "invalid", "conversation"},
		{"foreign 1:1", direct, map[string]int{"seq": 1}, dave, 404, "conversation_not_found", "conversation"},
		{"unknown group", "g:1", map[string]int{"seq": 1}, ada, 404, "conversation_not_found", "conversation"},
		{"not friends", conv(ada, dave), map[string]int{"seq": 1}, ada, 403, "read_refused", "conversation"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var e struct {
				Error struct{ Code, Field string } `json:"error"`
			}
			st.Do(t, http.MethodPost, "/conversations/"+tt.conv+"/read", tt.user.Token, tt.body, tt.status, &e)
			if e.Error.Code != tt.code || e.Error.Field != tt.fld {
				t.Fatalf("%+v, want %s %s", e.Error, tt.code, tt.fld)
			}
		})
	}
	if got := unreadOf(); got != 1 {
		t.Fatalf("refused reads changed the read seq: unread %d, want 1", got)
	}
}

// unreadsOf polls u's list until want(unread by conversation, total;
// -1 any) holds, failing after wait with what it saw last. The sender's own read
// seq is written soon after a send, not with it (docs/userservice.md), so
// a list read right after may still count one's own message.
func unreadsOf(t *testing.T, st *mstest.Stack, u mstest.User, what string, want map[string]int64, total int64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := map[string]int64{}
		for _, it := range convList(t, st, u, 50) {
			got[it.Conversation] = it.Unread
		}
		gotTotal := unreadTotal(t, st, u)
		ok := total < 0 || gotTotal == total
		for c, n := range want {
			ok = ok && got[c] == n
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: unread %v total %d, want %v total %d", what, got, gotTotal, want, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUnreadCountsOnlyMessages (issue 14 with issue 15's events): through
// the real stack on two nodes, unread counts the messages from others a
// person sees as new: not edits, reactions, unreactions or recalls (each
// an event of its own seq), not a group's system notices, not delete for
// me's event in the user's own sys: conversation, not one's own messages
// (sending, reacting, clearing read the conversation); a recalled message
// stays counted (its tombstone is what the reader sees). Reads on another
// device and clears take unread to zero.
func TestUnreadCountsOnlyMessages(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	n1, n2 := nodes[0], nodes[1]
	ada, bob, carol := st.NewUser(t, "Ada"), st.NewUser(t, "Bob"), st.NewUser(t, "Carol")
	g := st.NewFriendsGroup(t, ada, bob, carol) // seq 1: the group's created notice
	laptop, phone := n1.Dial(t, ada, "laptop"), n2.Dial(t, ada, "phone")
	cb, cc := n2.Dial(t, bob, "b"), n1.Dial(t, carol, "c")
	seen(t, n1, bob)
	seen(t, n2, carol)
	direct, group, sys := conv(ada, bob), "g:"+g, "sys:"+ada.ID

	unreadsOf(t, st, ada, "a group's created notice", map[string]int64{group: 0}, 0)
	sendText(t, cb, "user", ada.ID, "b1", "one")  // 1
	sendText(t, cb, "user", ada.ID, "b2", "two")  // 2
	sendText(t, cc, "group", g, "c1", "hi group") // group 2
	unreadsOf(t, st, ada, "after sends", map[string]int64{direct: 2, group: 1}, 3)

	sentOf(t, cb, editFrame("e1", direct, 1, "one, edited"))                                                      // 3
	sentOf(t, cb, reactFrame("react", "r1", direct, 1, "👍"))                                                      // 4
	sentOf(t, cb, reactFrame("unreact", "r2", direct, 1, "👍"))                                                    // 5
	sentOf(t, cb, recallFrame("rc", direct, 2))                                                                   // 6
	sentOf(t, cc, reactFrame("react", "r3", group, 2, "🎉"))                                                       // group 3
	st.Do(t, http.MethodPatch, "/groups/"+g, ada.Token, map[string]string{"name": "Renamed"}, http.StatusOK, nil) // group 4: a notice
	unreadsOf(t, st, ada, "after an edit, reactions, a recall and a rename", map[string]int64{direct: 2, group: 1}, 3)

	// Ada reacts in the group: her own event reads it. Carol writes again.
	sentOf(t, phone, reactFrame("react", "a1", group, 2, "👍"))
	unreadsOf(t, st, ada, "after ada's reaction", map[string]int64{group: 0}, 2)
	sendText(t, cc, "group", g, "c2", "again")
	unreadsOf(t, st, ada, "after carol's second message", map[string]int64{group: 1}, 3)

	// Delete for me of the 1:1 on the laptop: nothing of it unread, and
	// the event in ada's sys: conversation counts for nobody.
	sentOf(t, laptop, deleteFrame("d1", direct, 6))
	unreadsOf(t, st, ada, "after delete for me", map[string]int64{direct: 0, sys: 0}, 1)
	sendText(t, cb, "user", ada.ID, "b3", "three") // 7 (the clear event is in sys:)
	unreadsOf(t, st, ada, "a message after the clear", map[string]int64{direct: 1}, 2)

	// Reads on another device: the laptop reads both, the list (any
	// device) shows nothing unread.
	list := convList(t, st, ada, 50)
	heads := map[string]int64{}
	for _, it := range list {
		heads[it.Conversation] = it.HeadSeq
	}
	laptop.WriteJSON(map[string]any{"type": "read", "conversation": direct, "seq": heads[direct]})
	laptop.WriteJSON(map[string]any{"type": "read", "conversation": group, "seq": heads[group]})
	unreadsOf(t, st, ada, "after the laptop's reads", map[string]int64{direct: 0, group: 0}, 0)

	// One's own messages never count: ada writes, bob's side counts them.
	sendText(t, phone, "user", bob.ID, "a2", "from ada")
	sendText(t, laptop, "group", g, "a3", "ada to the group")
	unreadsOf(t, st, ada, "after ada's own messages", map[string]int64{direct: 0, group: 0}, 0)
	unreadsOf(t, st, bob, "bob after ada's messages", map[string]int64{direct: 1, group: 3}, 4)
}
