package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// sendRaw writes a send frame with content exactly as given and returns
// the answer to it: its sent or error frame.
func sendRaw(t *testing.T, c *mstest.Client, id, toKind, to, content string) mstest.Frame {
	t.Helper()
	b := fmt.Sprintf(`{"type":"send","client_msg_id":%q,"to":{"kind":%q,"id":%q},"content":%s}`, id, toKind, to, content)
	if err := c.WS.WriteMessage(websocket.TextMessage, []byte(b)); err != nil {
		t.Fatalf("write: %v", err)
	}
	for {
		f := c.Next(wait)
		if (f.Type == "sent" || f.Type == "error") && f.ClientMsgID == id {
			return f
		}
	}
}

// mustSend sends content and fails the test unless it is stored.
func mustSend(t *testing.T, c *mstest.Client, id, toKind, to, content string) mstest.Frame {
	t.Helper()
	f := sendRaw(t, c, id, toKind, to, content)
	if f.Type != "sent" {
		t.Fatalf("send %s %s: %s", id, content, f.Raw)
	}
	return f
}

// awaitSeq reads c's frames up to the message seq of conversation.
func awaitSeq(t *testing.T, c *mstest.Client, conversation string, seq int64) mstest.Frame {
	t.Helper()
	for {
		f := c.Await("message", wait)
		if f.Conversation == conversation && f.Seq == seq {
			return f
		}
	}
}

// history reads conversation after seq with a sync frame.
func history(t *testing.T, c *mstest.Client, conversation string, after int64) []mstest.Frame {
	t.Helper()
	c.WriteJSON(map[string]any{"type": "sync", "conversation": conversation, "after_seq": after, "limit": 200})
	for {
		if f := c.Await("history", wait); f.Conversation == conversation {
			return f.Messages
		}
	}
}

// rawContents are the content objects of a frame's raw bytes (a message,
// or every message of a history), as they stand in the frame.
func rawContents(t *testing.T, raw []byte) []json.RawMessage {
	t.Helper()
	var f struct {
		Content  json.RawMessage
		Messages []struct{ Content json.RawMessage }
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	out := []json.RawMessage{f.Content}
	for _, m := range f.Messages {
		out = append(out, m.Content)
	}
	return out
}

func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("content %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("content\n %s\nwant\n %s", got, want)
	}
}

// uploadURL uploads a file as u and returns the URL the file store
// answered, which messages may carry.
func uploadURL(t *testing.T, st *mstest.Stack, u mstest.User) string {
	t.Helper()
	r := apitest.NewAPI(st.Users.URL).Upload(t, http.MethodPost, "/api/v1/files", u.Token, "file", "cat.png", []byte("\x89PNG\r\n\x1a\nnot really"))
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var f struct {
		URL string `json:"url"`
	}
	r.Decode(t, &f)
	return f.URL
}

// TestContentKinds: every content kind goes from a device on one node to
// a device on another as the server stored it, the fields of other kinds
// dropped; custom data and ext arrive byte-for-byte as sent (whitespace,
// escapes, key order, number spelling) in the message and in history; bad
// content of each kind is an error frame naming the field with the
// client_msg_id, and nothing of it is stored or delivered.
func TestContentKinds(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	ada, bob := st.NewUser(t, "ada"), st.NewUser(t, "bob")
	st.Befriend(t, ada, bob)
	ca, cb := nodes[0].Dial(t, ada, "a"), nodes[1].Dial(t, bob, "b")
	seen(t, nodes[0], bob)
	seen(t, nodes[1], ada)
	direct := conv(ada, bob)
	u, _ := json.Marshal(uploadURL(t, st, ada))
	url := string(u)
	file := `"url":` + url + `,"size":5,"mime":"image/png"`
	const data = `{ "question" : "<tea> & \"coffee\"?", "n": 1.50e3, "é":"\u00e9", "nested":{"b":[ true , null ]} }`
	const ext = `{"app" : {"color":"#ff0000"}, "z":[ ]}`

	for _, tt := range []struct{ name, sent, stored string }{
		{"text", `{"kind":"text","text":"hi","url":"dropped"}`, `{"kind":"text","text":"hi"}`},
		{"emoji", `{"kind":"emoji","text":"👍"}`, `{"kind":"emoji","text":"👍"}`},
		{"image", `{"kind":"image",` + file + `,"name":"cat.png","width":640,"height":480,"thumbnail":` + url + `,"duration":5}`,
			`{"kind":"image",` + file + `,"name":"cat.png","width":640,"height":480,"thumbnail":` + url + `}`},
		{"file", `{"kind":"file",` + file + `,"name":"cat.png","width":640}`, `{"kind":"file",` + file + `,"name":"cat.png"}`},
		{"voice", `{"kind":"voice",` + file + `,"duration":1500}`, `{"kind":"voice",` + file + `,"duration":1500}`},
		{"video", `{"kind":"video",` + file + `,"duration":60000,"width":1920,"height":1080,"thumbnail":` + url + `}`,
			`{"kind":"video",` + file + `,"duration":60000,"width":1920,"height":1080,"thumbnail":` + url + `}`},
		{"location", `{"kind":"location","lat":-33.8568,"lon":151.2153,"name":"Sydney Opera House"}`, `{"kind":"location","lat":-33.8568,"lon":151.2153,"name":"Sydney Opera House"}`},
		{"location at zero", `{"kind":"location","lat":0,"lon":0}`, `{"kind":"location","lat":0,"lon":0}`},
		{"card of a user", `{"kind":"card","card":{"kind":"user","id":"` + bob.ID + `"}}`, `{"kind":"card","card":{"kind":"user","id":"` + bob.ID + `"}}`},
		{"custom with ext", `{"kind":"custom","type":"poll.v1","data":` + data + `,"ext":` + ext + `}`, `{"kind":"custom","type":"poll.v1","data":` + data + `,"ext":` + ext + `}`},
		{"text with ext", `{"kind":"text","text":"x","ext":` + ext + `}`, `{"kind":"text","text":"x","ext":` + ext + `}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSend(t, ca, "k-"+tt.name, "user", bob.ID, tt.sent)
			m := awaitSeq(t, cb, direct, s.Seq)
			sameJSON(t, m.Content, tt.stored)
			h := history(t, cb, direct, s.Seq-1)
			if len(h) == 0 || h[0].Seq != s.Seq {
				t.Fatalf("history after %d: %v", s.Seq-1, h)
			}
			sameJSON(t, h[0].Content, tt.stored)
			if strings.Contains(tt.sent, `"data":`) && !bytes.Contains(m.Raw, []byte(`"data":`+data)) {
				t.Fatalf("data not byte-for-byte: %s", m.Raw)
			}
			if strings.Contains(tt.sent, `"ext":`) && !bytes.Contains(m.Raw, []byte(`"ext":`+ext)) {
				t.Fatalf("ext not byte-for-byte: %s", m.Raw)
			}
		})
	}
	t.Run("history frame carries data and ext byte-for-byte", func(t *testing.T) {
		cb.WriteJSON(map[string]any{"type": "sync", "conversation": direct, "limit": 200})
		f := cb.Await("history", wait)
		nData, nExt := 0, 0
		for _, c := range rawContents(t, f.Raw) {
			if bytes.Contains(c, []byte(`"data":`+data)) {
				nData++
			}
			if bytes.Contains(c, []byte(`"ext":`+ext)) {
				nExt++
			}
		}
		if nData != 1 || nExt != 2 {
			t.Fatalf("history frame has data verbatim %d times (want 1), ext %d (want 2): %s", nData, nExt, f.Raw)
		}
	})

	head := history(t, cb, direct, 0)
	last := head[len(head)-1].Seq
	big := strings.Repeat("x", 4096)
	t.Run("bad content", func(t *testing.T) {
		for _, tt := range []struct{ name, content, field string }{
			{"unknown kind", `{"kind":"sticker"}`, "content.kind"},
			{"empty text", `{"kind":"text","text":""}`, "content.text"},
			{"image without width", `{"kind":"image",` + file + `,"name":"a.png","height":3}`, "content.width"},
			{"image of zero height", `{"kind":"image",` + file + `,"name":"a.png","width":3,"height":0}`, "content.height"},
			{"image of a foreign thumbnail", `{"kind":"image",` + file + `,"name":"a.png","width":3,"height":3,"thumbnail":"https://evil.example/t.png"}`, "content.thumbnail"},
			{"voice of a foreign url", `{"kind":"voice","url":"https://evil.example/a.ogg","mime":"audio/ogg","duration":5}`, "content.url"},
			{"voice without duration", `{"kind":"voice",` + file + `}`, "content.duration"},
			{"voice of negative duration", `{"kind":"voice",` + file + `,"duration":-1}`, "content.duration"},
			{"voice over an hour", `{"kind":"voice",` + file + `,"duration":3600001}`, "content.duration"},
			{"video over a day", `{"kind":"video",` + file + `,"duration":86400001,"width":1,"height":1}`, "content.duration"},
			{"video of a huge width", `{"kind":"video",` + file + `,"duration":5,"width":100001,"height":1}`, "content.width"},
			{"latitude over 90", `{"kind":"location","lat":90.0001,"lon":0}`, "content.lat"},
			{"longitude under -180", `{"kind":"location","lat":0,"lon":-181}`, "content.lon"},
			{"location without lon", `{"kind":"location","lat":1}`, "content.lon"},
			{"card of nobody", `{"kind":"card","card":{"kind":"user","id":"999999999999"}}`, "content.card.id"},
			{"card of no group", `{"kind":"card","card":{"kind":"group","id":"999999999999"}}`, "content.card.id"},
			{"card of a bot", `{"kind":"card","card":{"kind":"bot","id":"1"}}`, "content.card.kind"},
			{"custom without type", `{"kind":"custom","data":{}}`, "content.type"},
			{"custom data an array", `{"kind":"custom","type":"t","data":[1]}`, "content.data"},
			{"custom data over 4 KiB", `{"kind":"custom","type":"t","data":{"a":"` + big + `"}}`, "content.data"},
			{"ext over 1 KiB", `{"kind":"text","text":"x","ext":{"a":"` + big[:1024] + `"}}`, "content.ext"},
			{"ext a string", `{"kind":"text","text":"x","ext":"x"}`, "content.ext"},
			{"mentions in a 1:1", `{"kind":"text","text":"x","mentions":["` + bob.ID + `"]}`, "content.mentions"},
			{"reply to an unknown seq", `{"kind":"text","text":"x","reply_to":{"seq":99999}}`, "content.reply_to.seq"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				id := "bad-" + strings.ReplaceAll(tt.name, " ", "-")
				e := sendRaw(t, ca, id, "user", bob.ID, tt.content)
				if e.Type != "error" || e.Code != "bad_frame" || !strings.HasPrefix(e.Message, tt.field+":") {
					t.Fatalf("answer %s, want bad_frame naming %s", e.Raw, tt.field)
				}
			})
		}
		// Bob acks nothing, so what he had comes again (redelivery):
		// only a seq past the last stored one would be a refused message.
		for _, m := range mstest.Messages(cb.UntilPong(wait)) {
			if m.Conversation != direct || m.Seq > last {
				t.Fatalf("bob got a refused message: %s", m.Raw)
			}
		}
		if h := history(t, cb, direct, last); len(h) != 0 {
			t.Fatalf("refused messages stored: %v", h)
		}
	})
}

// TestCommonFields: reply_to, mentions, mention_all and forwarded_from on
// a 3-node cluster: each is checked against what the sender may see (a
// reply or forward of a message before one's join seq, or of a
// conversation one is not in, is refused; mentions name members;
// mention_all is the owner's and admins' alone), a forward copies the
// original content byte-for-byte, and a refused send stores nothing.
func TestCommonFields(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	ada, bob, carol, dave := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol"), st.NewUser(t, "dave")
	g := st.NewFriendsGroup(t, ada, bob, carol)
	group := "g:" + g
	direct := conv(ada, bob)
	ca, cb, cc := nodes[0].Dial(t, ada, "a"), nodes[1].Dial(t, bob, "b"), nodes[2].Dial(t, carol, "c")
	seen(t, nodes[0], bob, carol)
	seen(t, nodes[1], ada, carol)
	seen(t, nodes[2], ada, bob)

	const data = `{ "k" : "<v>" ,"n":1.0 }`
	first := mustSend(t, ca, "first", "group", g, `{"kind":"text","text":"first"}`)
	custom := mustSend(t, ca, "custom", "user", bob.ID, `{"kind":"custom","type":"t","data":`+data+`}`)
	awaitSeq(t, cb, direct, custom.Seq)

	t.Run("reply", func(t *testing.T) {
		s := mustSend(t, cb, "reply", "group", g, `{"kind":"text","text":"re","reply_to":{"seq":`+fmt.Sprint(first.Seq)+`}}`)
		m := awaitSeq(t, cc, group, s.Seq)
		sameJSON(t, m.Content, `{"kind":"text","text":"re","reply_to":{"seq":`+fmt.Sprint(first.Seq)+`}}`)
	})
	t.Run("mentions", func(t *testing.T) {
		s := mustSend(t, ca, "mention", "group", g, `{"kind":"text","text":"@bob @carol","mentions":["`+bob.ID+`","`+carol.ID+`","`+bob.ID+`"]}`)
		m := awaitSeq(t, cc, group, s.Seq)
		sameJSON(t, m.Content, `{"kind":"text","text":"@bob @carol","mentions":["`+bob.ID+`","`+carol.ID+`"]}`)
		s = mustSend(t, ca, "all-by-owner", "group", g, `{"kind":"text","text":"@all","mention_all":true}`)
		awaitSeq(t, cb, group, s.Seq)
	})
	t.Run("mention_all by an admin", func(t *testing.T) {
		st.Do(t, http.MethodPut, "/groups/"+g+"/members/"+carol.ID+"/role", ada.Token, map[string]string{"role": "admin"}, http.StatusOK, nil)
		i := 0
		poll.Eventually(t, wait, func() error {
			i++
			if f := sendRaw(t, cc, fmt.Sprint("all-by-admin-", i), "group", g, `{"kind":"text","text":"@all","mention_all":true}`); f.Type != "sent" {
				return fmt.Errorf("answer %s", f.Raw)
			}
			return nil
		})
	})
	t.Run("forward", func(t *testing.T) {
		s := mustSend(t, ca, "fwd", "group", g, `{"forwarded_from":{"conversation":"`+direct+`","seq":`+fmt.Sprint(custom.Seq)+`},"ext":{"note" : 1}}`)
		m := awaitSeq(t, cc, group, s.Seq)
		if !bytes.Contains(m.Raw, []byte(`"data":`+data)) || !bytes.Contains(m.Raw, []byte(`"ext":{"note" : 1}`)) {
			t.Fatalf("forward %s: want the original data and the forwarder's ext verbatim", m.Raw)
		}
		sameJSON(t, m.Content, `{"kind":"custom","type":"t","data":`+data+`,"forwarded_from":{"conversation":"`+direct+`","seq":`+fmt.Sprint(custom.Seq)+`},"ext":{"note":1}}`)
	})

	// Dave joins now: the group's history is "joined", so what came before
	// is not his to reply to or forward.
	st.Do(t, http.MethodPatch, "/groups/"+g+"/access", ada.Token, map[string]any{"join_policy": "open"}, http.StatusOK, nil)
	st.Do(t, http.MethodPost, "/groups/"+g+"/join", dave.Token, nil, http.StatusOK, nil)
	cd := nodes[1].Dial(t, dave, "d")
	var joined mstest.Frame
	poll.Eventually(t, wait, func() error {
		for _, f := range history(t, cd, group, 0) {
			if f.GroupEvent() == "member_joined" {
				joined = f
				return nil
			}
		}
		return fmt.Errorf("dave's history has no member_joined yet")
	})
	after := mustSend(t, ca, "after-join", "group", g, `{"kind":"text","text":"welcome"}`)
	head := after.Seq

	seq := func(n int64) string { return fmt.Sprint(n) }
	mentions51 := `"` + strings.Repeat(bob.ID+`","`, 50) + carol.ID + `"`
	for _, tt := range []struct {
		name    string
		c       *mstest.Client
		content string
		code    string
		field   string
	}{
		{"reply to an unknown seq", cb, `{"kind":"text","text":"x","reply_to":{"seq":` + seq(head+100) + `}}`, "bad_frame", "content.reply_to.seq"},
		{"reply before one's join", cd, `{"kind":"text","text":"x","reply_to":{"seq":` + seq(first.Seq) + `}}`, "bad_frame", "content.reply_to.seq"},
		{"mention of a non-member", ca, `{"kind":"text","text":"x","mentions":["` + bob.ID + `","` + ada.ID + `1"]}`, "bad_frame", "content.mentions[1]"},
		{"51 mentions", ca, `{"kind":"text","text":"x","mentions":[` + mentions51 + `]}`, "bad_frame", "content.mentions"},
		{"mention_all by a member", cb, `{"kind":"text","text":"x","mention_all":true}`, "forbidden", "content.mention_all"},
		{"forward from a conversation one is not in", cc, `{"forwarded_from":{"conversation":"` + direct + `","seq":` + seq(custom.Seq) + `}}`, "bad_frame", "content.forwarded_from"},
		{"forward from before one's join", cd, `{"forwarded_from":{"conversation":"` + group + `","seq":` + seq(first.Seq) + `}}`, "bad_frame", "content.forwarded_from"},
		{"forward of an unknown seq", ca, `{"forwarded_from":{"conversation":"` + group + `","seq":` + seq(head+100) + `}}`, "bad_frame", "content.forwarded_from"},
		{"forward of a system message", cd, `{"forwarded_from":{"conversation":"` + group + `","seq":` + seq(joined.Seq) + `}}`, "bad_frame", "content.forwarded_from"},
		{"forward with a kind", ca, `{"kind":"text","text":"x","forwarded_from":{"conversation":"` + group + `","seq":` + seq(first.Seq) + `}}`, "bad_frame", "content.kind"},
		{"forward of a malformed conversation", ca, `{"forwarded_from":{"conversation":"u:9:1","seq":1}}`, "bad_frame", "content.forwarded_from.conversation"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "bad-" + strings.ReplaceAll(tt.name, " ", "-")
			e := sendRaw(t, tt.c, id, "group", g, tt.content)
			if e.Type != "error" || e.Code != tt.code || !strings.HasPrefix(e.Message, tt.field+":") {
				t.Fatalf("answer %s, want %s naming %s", e.Raw, tt.code, tt.field)
			}
		})
	}
	t.Run("nothing of the refused is stored", func(t *testing.T) {
		if h := history(t, ca, group, head); len(h) != 0 {
			t.Fatalf("refused messages stored: %v", h)
		}
	})
	t.Run("a late joiner replies to and forwards what is his", func(t *testing.T) {
		s := mustSend(t, cd, "dave-reply", "group", g, `{"kind":"text","text":"thanks","reply_to":{"seq":`+seq(after.Seq)+`}}`)
		awaitSeq(t, ca, group, s.Seq)
		mustSend(t, cd, "dave-fwd", "group", g, `{"forwarded_from":{"conversation":"`+group+`","seq":`+seq(after.Seq)+`}}`)
	})
}
