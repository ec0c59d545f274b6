package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/apitest"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// lifecycleNodes is a 3-node cluster whose third node has windows of a
// millisecond: a recall or edit through it is past its window.
func lifecycleNodes(t *testing.T, st *mstest.Stack) (n1, n2, late *mstest.Node) {
	t.Helper()
	nodes := startNodes(t, st, 2)
	cfg := st.Config()
	cfg.NodeID = "n3-late"
	cfg.RecallWindow, cfg.EditWindow = time.Millisecond, time.Millisecond
	return nodes[0], nodes[1], st.StartNode(t, cfg)
}

func recallFrame(id, conversation string, seq int64) map[string]any {
	return map[string]any{"type": "recall", "client_msg_id": id, "conversation": conversation, "seq": seq}
}

func editFrame(id, conversation string, seq int64, text string) map[string]any {
	return map[string]any{"type": "edit", "client_msg_id": id, "conversation": conversation, "seq": seq, "text": text}
}

// sentOf writes f on c and returns its sent frame.
func sentOf(t *testing.T, c *mstest.Client, f map[string]any) mstest.Frame {
	t.Helper()
	c.WriteJSON(f)
	got := awaitFrame(t, c, "the answer to "+f["client_msg_id"].(string), func(x mstest.Frame) bool {
		return (x.Type == "sent" || x.Type == "error") && x.ClientMsgID == f["client_msg_id"]
	})
	if got.Type != "sent" {
		t.Fatalf("%v answered %s, want sent", f, got.Raw)
	}
	return got
}

// refusedWith writes f on c and wants an error frame with code whose message
// starts with field, carrying the frame's client_msg_id.
func refusedWith(t *testing.T, c *mstest.Client, f map[string]any, code, field string) {
	t.Helper()
	c.WriteJSON(f)
	e := awaitFrame(t, c, "the error for "+f["client_msg_id"].(string), func(x mstest.Frame) bool {
		return (x.Type == "sent" || x.Type == "error") && x.ClientMsgID == f["client_msg_id"]
	})
	if e.Type != "error" || e.Code != code || !strings.HasPrefix(e.Message, field) {
		t.Fatalf("%v answered %s, want %s naming %s", f, e.Raw, code, field)
	}
}

// content decodes a message's content.
func content(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("content %s: %v", raw, err)
	}
	return m
}

// stored reads every message of conversation from the DataService.
func stored(t *testing.T, data datav1.MessagesClient, conversation string) []*datav1.Message {
	t.Helper()
	r, err := data.GetMessages(t.Context(), &datav1.GetMessagesRequest{Conversation: conversation, Limit: 1000})
	if err != nil {
		t.Fatalf("GetMessages %s: %v", conversation, err)
	}
	return r.GetMessages()
}

// TestRecallAndEditAcrossNodes (issue 15) on a 3-node cluster: a recall
// and an edit are events of their own seqs delivered to the other devices
// on other nodes; the recalled content is gone from the DataService (a
// tombstone at its seq), the edited text replaced with edited_at; re-sent
// lifecycle frames are answered with the same sent frame and store
// nothing; a device offline meanwhile catches up the final state in seq
// order; bad input is refused naming the field, with nothing stored.
func TestRecallAndEditAcrossNodes(t *testing.T) {
	st := stack(t)
	n1, n2, late := lifecycleNodes(t, st)
	ada, bob, carol := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol")
	st.Befriend(t, ada, bob)
	direct := conv(ada, bob)
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))

	ca, phone, laptop := n1.Dial(t, ada, "a"), n2.Dial(t, bob, "b-phone"), late.Dial(t, bob, "b-laptop")
	caLate := late.Dial(t, ada, "a-late")
	seen(t, n1, bob)
	seen(t, n2, ada)
	for _, n := range []*mstest.Node{n1, n2, late} {
		n.Settle(t)
	}
	// The laptop holds seq 1 and goes offline.
	sentOf(t, ca, map[string]any{"type": "send", "client_msg_id": "m1", "to": map[string]string{"kind": "user", "id": bob.ID},
		"content": map[string]string{"kind": "text", "text": "hello"}})
	awaitFrame(t, laptop, "seq 1 on the laptop", isFrame("message", direct, 1, ""))
	laptop.Ack(direct, 1)
	laptop.UntilPong(wait)
	laptop.WS.Close()
	for i, text := range []string{"helo", "the secret word is swordfish"} {
		sentOf(t, ca, map[string]any{"type": "send", "client_msg_id": "m" + string(rune('2'+i)), "to": map[string]string{"kind": "user", "id": bob.ID},
			"content": map[string]string{"kind": "text", "text": text}})
	}
	awaitFrame(t, phone, "seq 3 on the phone", isFrame("message", direct, 3, ""))

	var editSent, recallSent mstest.Frame
	t.Run("edit and recall are events of their own seqs on every node", func(t *testing.T) {
		editSent = sentOf(t, ca, editFrame("e1", direct, 2, "hello again"))
		recallSent = sentOf(t, ca, recallFrame("r1", direct, 3))
		if editSent.Seq != 4 || recallSent.Seq != 5 || editSent.Conversation != direct {
			t.Fatalf("sent %s and %s, want seqs 4 and 5 of %s", editSent.Raw, recallSent.Raw, direct)
		}
		ev := awaitFrame(t, phone, "the edit event", isFrame("message", direct, 4, ""))
		c := content(t, ev.Content)
		if c["kind"] != "edit" || c["target_seq"] != 2.0 || c["text"] != "hello again" || c["edited_at"] == nil || ev.From != ada.ID {
			t.Errorf("edit event %s", ev.Raw)
		}
		ev = awaitFrame(t, phone, "the recall event", isFrame("message", direct, 5, ""))
		if c := content(t, ev.Content); c["kind"] != "recall" || c["target_seq"] != 3.0 || c["by"] != ada.ID || ev.From != ada.ID {
			t.Errorf("recall event %s", ev.Raw)
		}
		// Ada's device on another node gets them too.
		awaitFrame(t, caLate, "the recall event on ada's other device", isFrame("message", direct, 5, ""))
		phone.Ack(direct, 5) // no redelivery from here on
		phone.UntilPong(wait)
	})

	t.Run("re-sent lifecycle frames answer the same sent and store nothing", func(t *testing.T) {
		for _, tc := range []struct {
			f    map[string]any
			want mstest.Frame
		}{{recallFrame("r1", direct, 3), recallSent}, {editFrame("e1", direct, 2, "hello again"), editSent}} {
			again := sentOf(t, ca, tc.f)
			if again.MsgID != tc.want.MsgID || again.Seq != tc.want.Seq || again.TS != tc.want.TS {
				t.Errorf("re-sent %v: %s, want %s", tc.f, again.Raw, tc.want.Raw)
			}
		}
		noFrame(t, phone, "a lifecycle event twice", func(f mstest.Frame) bool { return f.Type == "message" })
		if got := len(stored(t, data, direct)); got != 5 {
			t.Errorf("%d messages stored, want 5", got)
		}
	})

	t.Run("the recalled content is gone from the DataService", func(t *testing.T) {
		msgs := stored(t, data, direct)
		if m := msgs[2]; m.GetSeq() != 3 || m.GetKind() != "recalled" || string(m.GetContent()) != `{"kind":"recalled","by":"`+ada.ID+`"}` {
			t.Errorf("seq 3 stored as %s %s, want the tombstone", m.GetKind(), m.GetContent())
		}
		if m := msgs[1]; m.GetKind() != "text" || content(t, m.GetContent())["text"] != "hello again" || content(t, m.GetContent())["edited_at"] == nil {
			t.Errorf("seq 2 stored as %s %s, want the edited text with edited_at", m.GetKind(), m.GetContent())
		}
		for _, m := range msgs {
			if bytes.Contains(m.GetContent(), []byte("swordfish")) || bytes.Contains(m.GetContent(), []byte(`"helo"`)) {
				t.Errorf("seq %d still holds old content: %s", m.GetSeq(), m.GetContent())
			}
		}
	})

	t.Run("bad input is refused naming the field and stores nothing", func(t *testing.T) {
		cc := n2.Dial(t, carol, "c")
		head := len(stored(t, data, direct))
		refusedWith(t, ca, recallFrame("x1", direct, 99), "bad_frame", "seq")
		refusedWith(t, ca, editFrame("x2", direct, 99, "x"), "bad_frame", "seq")
		refusedWith(t, phone, recallFrame("x3", direct, 1), "forbidden", "seq")
		refusedWith(t, phone, editFrame("x4", direct, 1, "mine now"), "forbidden", "seq")
		refusedWith(t, ca, editFrame("x5", direct, 3, "back"), "bad_frame", "seq: the message was recalled")
		refusedWith(t, ca, recallFrame("x6", direct, 3), "bad_frame", "seq: the message was recalled")
		refusedWith(t, ca, editFrame("x7", direct, 5, "x"), "bad_frame", "seq")
		refusedWith(t, caLate, recallFrame("x8", direct, 1), "forbidden", "seq: past the recall window")
		refusedWith(t, caLate, editFrame("x9", direct, 1, "late"), "forbidden", "seq: past the edit window")
		refusedWith(t, ca, map[string]any{"type": "recall", "client_msg_id": "x10", "conversation": direct}, "bad_frame", "seq")
		refusedWith(t, ca, map[string]any{"type": "edit", "client_msg_id": "x11", "conversation": direct, "seq": 1}, "bad_frame", "text")
		refusedWith(t, ca, recallFrame("x12", "sys:"+ada.ID, 1), "bad_frame", "conversation")
		refusedWith(t, cc, recallFrame("x13", direct, 1), "not_member", "")
		// A file message is not edited.
		r := apitest.NewAPI(st.Users.URL).Upload(t, http.MethodPost, "/api/v1/files", ada.Token, "file", "cat.png", []byte("\x89PNG\r\n\x1a\nnot really"))
		var file struct {
			URL string `json:"url"`
		}
		r.Decode(t, &file)
		img := sentOf(t, ca, map[string]any{"type": "send", "client_msg_id": "img", "to": map[string]string{"kind": "user", "id": bob.ID},
			"content": map[string]any{"kind": "image", "url": file.URL, "name": "cat.png", "size": 5, "mime": "image/png", "width": 10, "height": 10}})
		head++
		refusedWith(t, ca, editFrame("x14", direct, img.Seq, "a caption"), "bad_frame", "seq: only text")
		msgs := stored(t, data, direct)
		if len(msgs) != head {
			t.Fatalf("%d messages after refused frames, want %d", len(msgs), head)
		}
		if m := msgs[0]; content(t, m.GetContent())["text"] != "hello" {
			t.Errorf("seq 1 changed by refused frames: %s", m.GetContent())
		}
		// The image, recalled by its sender, is a tombstone too.
		sentOf(t, ca, recallFrame("r-img", direct, img.Seq))
	})

	t.Run("a device offline meanwhile catches up the final state in seq order", func(t *testing.T) {
		back := late.Dial(t, bob, "b-laptop")
		// Each seq's first frame (the connection does not ack: later
		// frames of a seq are redeliveries).
		var got []mstest.Frame
		for len(got) < 6 {
			f := awaitFrame(t, back, "catch-up", func(f mstest.Frame) bool { return f.Type == "message" && f.Conversation == direct })
			if len(got) == 0 || f.Seq > got[len(got)-1].Seq {
				got = append(got, f)
			} else if f.Seq < 2 {
				t.Fatalf("catch-up sent seq %d, acked before", f.Seq)
			}
		}
		for i, f := range got {
			if f.Seq != int64(i+2) {
				t.Fatalf("catch-up frame %d is seq %d, want %d: %s", i, f.Seq, i+2, f.Raw)
			}
		}
		if c := content(t, got[0].Content); c["text"] != "hello again" || c["edited_at"] == nil {
			t.Errorf("seq 2 caught up as %s, want the edited text", got[0].Content)
		}
		if c := content(t, got[1].Content); c["kind"] != "recalled" || c["by"] != ada.ID {
			t.Errorf("seq 3 caught up as %s, want the tombstone", got[1].Content)
		}
		if c := content(t, got[4].Content); c["kind"] != "recalled" {
			t.Errorf("the recalled image caught up as %s, want the tombstone", got[4].Content)
		}
		if c := content(t, got[5].Content); c["kind"] != "recall" || c["target_seq"] != 6.0 {
			t.Errorf("seq 7 caught up as %s, want the image's recall", got[5].Content)
		}
		// History says the same.
		back.WriteJSON(map[string]any{"type": "sync", "conversation": direct, "after_seq": 2, "limit": 1})
		h := back.Await("history", wait)
		if len(h.Messages) != 1 || content(t, h.Messages[0].Content)["kind"] != "recalled" {
			t.Errorf("history of seq 3: %s", h.Raw)
		}
	})
}

// TestGroupRecallByRole: in a group, an owner or admin recalls anyone's
// message at any time (through a node whose window has passed), a member
// only their own within the window; a member refused stores nothing.
func TestGroupRecallByRole(t *testing.T) {
	st := stack(t)
	n1, n2, late := lifecycleNodes(t, st)
	owner, admin, carol, dan := st.NewUser(t, "owner"), st.NewUser(t, "admin"), st.NewUser(t, "carol"), st.NewUser(t, "dan")
	g := st.NewFriendsGroup(t, owner, admin, carol, dan)
	group := "g:" + g
	st.Do(t, http.MethodPut, "/groups/"+g+"/members/"+admin.ID+"/role", owner.Token, map[string]string{"role": "admin"}, http.StatusOK, nil)
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))

	cAdmin, cCarol, cCarolLate, cDan := late.Dial(t, admin, "ad"), n1.Dial(t, carol, "c"), late.Dial(t, carol, "c-late"), n2.Dial(t, dan, "d")
	for _, n := range []*mstest.Node{n1, n2, late} {
		n.Settle(t)
	}
	send := func(c *mstest.Client, id, text string) int64 {
		return sentOf(t, c, map[string]any{"type": "send", "client_msg_id": id, "to": map[string]string{"kind": "group", "id": g},
			"content": map[string]string{"kind": "text", "text": text}}).Seq
	}
	carols, dans := send(cCarol, "c1", "carol's"), send(cDan, "d1", "dan's")
	head := int64(len(stored(t, data, group)))

	refusedWith(t, cCarolLate, recallFrame("c-late", group, carols), "forbidden", "seq: past the recall window")
	refusedWith(t, cCarol, recallFrame("c-dan", group, dans), "forbidden", "seq: not your message")
	if got := int64(len(stored(t, data, group))); got != head {
		t.Fatalf("%d messages after refused recalls, want %d", got, head)
	}
	// The admin, past the window, recalls carol's message; every member sees it.
	r := sentOf(t, cAdmin, recallFrame("a1", group, carols))
	for _, c := range []*mstest.Client{cCarol, cCarolLate, cDan} {
		ev := awaitFrame(t, c, "the admin's recall", isFrame("message", group, r.Seq, ""))
		if cc := content(t, ev.Content); cc["kind"] != "recall" || cc["target_seq"] != float64(carols) || cc["by"] != admin.ID {
			t.Errorf("recall event %s", ev.Raw)
		}
	}
	// Dan recalls his own within the window.
	sentOf(t, cDan, recallFrame("d-own", group, dans))
	for _, m := range stored(t, data, group) {
		if (m.GetSeq() == carols && string(m.GetContent()) != `{"kind":"recalled","by":"`+admin.ID+`"}`) ||
			(m.GetSeq() == dans && string(m.GetContent()) != `{"kind":"recalled","by":"`+dan.ID+`"}`) {
			t.Errorf("seq %d stored as %s, want the tombstone", m.GetSeq(), m.GetContent())
		}
	}
	// An edit keeps the other fields: reply_to, and ext byte-for-byte.
	ext := `{"b": 1,  "a":"\u00e9"}`
	raw := `{"type":"send","client_msg_id":"d2","to":{"kind":"group","id":"` + g + `"},` +
		`"content":{"kind":"text","text":"typo","reply_to":{"seq":` + fmt.Sprint(carols) + `},"ext":` + ext + `}}`
	if err := cDan.WS.WriteMessage(websocket.TextMessage, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	d2 := awaitFrame(t, cDan, "sent d2", func(f mstest.Frame) bool { return f.ClientMsgID == "d2" })
	sentOf(t, cDan, editFrame("d-edit", group, d2.Seq, "fixed"))
	for _, m := range stored(t, data, group) {
		if m.GetSeq() != d2.Seq {
			continue
		}
		c := content(t, m.GetContent())
		if !bytes.Contains(m.GetContent(), []byte(`"ext":`+ext)) || c["text"] != "fixed" || c["edited_at"] == nil || c["reply_to"] == nil {
			t.Errorf("edited message stored as %s, want the new text, edited_at, reply_to and ext %s verbatim", m.GetContent(), ext)
		}
	}
	// A member who leaves cannot recall any more.
	st.Do(t, http.MethodPost, "/groups/"+g+"/quit", carol.Token, nil, http.StatusNoContent, nil)
	awaitFrame(t, cCarol, "carol's own leave", func(f mstest.Frame) bool { return f.GroupEvent() == "member_left" })
	refusedWith(t, cCarol, recallFrame("c-gone", group, carols), "not_member", "")
}
