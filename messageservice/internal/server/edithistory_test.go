package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// versionsAnswer is a versions frame as a client reads it.
type versionsAnswer struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
	Versions     []struct {
		Content       json.RawMessage `json:"content"`
		ReplacedBySeq int64           `json:"replaced_by_seq"`
		ReplacedAt    int64           `json:"replaced_at"`
	} `json:"versions"`
	HasMore bool `json:"has_more"`
}

// versionsOf asks c for the versions of message seq and returns the
// answer: a versions frame, or an error frame in e.
func versionsOf(t *testing.T, c *mstest.Client, f map[string]any) (v versionsAnswer, e mstest.Frame) {
	t.Helper()
	f["type"] = "versions"
	c.WriteJSON(f)
	got := awaitFrame(t, c, "the versions answer", func(x mstest.Frame) bool {
		return (x.Type == "versions" && x.Conversation == f["conversation"]) || (x.Type == "error" && x.ClientMsgID == "")
	})
	if got.Type == "error" {
		return versionsAnswer{}, got
	}
	if err := json.Unmarshal(got.Raw, &v); err != nil {
		t.Fatalf("versions frame %s: %v", got.Raw, err)
	}
	return v, got
}

// texts are the texts of the versions.
func (v versionsAnswer) texts(t *testing.T) []string {
	t.Helper()
	out := []string{}
	for _, x := range v.Versions {
		out = append(out, content(t, x.Content)["text"].(string))
	}
	return out
}

// TestEditHistory: with EDIT_HISTORY on, an edit keeps the previous
// content, which the sender and a group's owner and admins read (on any
// node) with a versions frame and nobody else; with it off (the default)
// nothing is kept; a recall deletes the versions from the DataService;
// bad frames are refused naming the field.
func TestEditHistory(t *testing.T) {
	st := stack(t)
	cfg := st.Config()
	cfg.NodeID = "n1-history"
	cfg.EditHistory = true
	kept := st.StartNode(t, cfg)
	cfg = st.Config()
	cfg.NodeID = "n2-default"
	plain := st.StartNode(t, cfg)
	owner, admin, carol, dan, eve := st.NewUser(t, "owner"), st.NewUser(t, "admin"), st.NewUser(t, "carol"), st.NewUser(t, "dan"), st.NewUser(t, "eve")
	g := st.NewFriendsGroup(t, owner, admin, carol, dan)
	group := "g:" + g
	st.Do(t, http.MethodPut, "/groups/"+g+"/members/"+admin.ID+"/role", owner.Token, map[string]string{"role": "admin"}, http.StatusOK, nil)
	data := datav1.NewMessagesClient(dialGRPC(t, st, st.Data.Addr))
	keptIn := func(conversation string, seq int64) int {
		t.Helper()
		vs, err := data.GetMessageVersions(t.Context(), &datav1.GetMessageVersionsRequest{Conversation: conversation, Seq: seq})
		if err != nil {
			t.Fatal(err)
		}
		return len(vs.GetVersions())
	}

	cCarol, cDanPlain, cOwner, cAdmin, cEve := kept.Dial(t, carol, "c"), plain.Dial(t, dan, "d"), kept.Dial(t, owner, "o"), plain.Dial(t, admin, "a"), plain.Dial(t, eve, "e")
	for _, n := range []*mstest.Node{kept, plain} {
		n.Settle(t)
	}
	send := func(c *mstest.Client, id, to, kind, text string) int64 {
		return sentOf(t, c, map[string]any{"type": "send", "client_msg_id": id, "to": map[string]string{"kind": kind, "id": to},
			"content": map[string]string{"kind": "text", "text": text}}).Seq
	}
	msg := send(cCarol, "c1", g, "group", "v1")
	e1 := sentOf(t, cCarol, editFrame("c-e1", group, msg, "v2"))
	e2 := sentOf(t, cCarol, editFrame("c-e2", group, msg, "v3"))

	t.Run("sender, owner and admin read them", func(t *testing.T) {
		for _, c := range []*mstest.Client{cCarol, cOwner, cAdmin} {
			v, e := versionsOf(t, c, map[string]any{"conversation": group, "seq": msg})
			if e.Type == "error" {
				t.Fatalf("versions answered %s", e.Raw)
			}
			if got := strings.Join(v.texts(t), ","); got != "v1,v2" || v.HasMore || v.Seq != msg ||
				v.Versions[0].ReplacedBySeq != e1.Seq || v.Versions[1].ReplacedBySeq != e2.Seq || v.Versions[0].ReplacedAt != e1.TS {
				t.Errorf("versions %+v (texts %s), want v1 replaced by %d at %d, v2 by %d", v, got, e1.Seq, e1.TS, e2.Seq)
			}
		}
		v, _ := versionsOf(t, cCarol, map[string]any{"conversation": group, "seq": msg, "limit": 1})
		if got := strings.Join(v.texts(t), ","); got != "v2" || !v.HasMore {
			t.Errorf("the newest 1: %s, has_more %v", got, v.HasMore)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			c           *mstest.Client
			f           map[string]any
			code, field string
		}{
			{"another member", cDanPlain, map[string]any{"conversation": group, "seq": msg}, "forbidden", "seq: not your message"},
			{"not a member", cEve, map[string]any{"conversation": group, "seq": msg}, "not_member", ""},
			{"no seq", cCarol, map[string]any{"conversation": group}, "bad_frame", "seq"},
			{"seq 0", cCarol, map[string]any{"conversation": group, "seq": 0}, "bad_frame", "seq"},
			{"no such message", cCarol, map[string]any{"conversation": group, "seq": 999}, "bad_frame", "seq: no such message"},
			{"an edit event", cCarol, map[string]any{"conversation": group, "seq": e1.Seq}, "bad_frame", "seq: system messages and lifecycle events"},
			{"limit 0", cCarol, map[string]any{"conversation": group, "seq": msg, "limit": 0}, "bad_frame", "limit"},
			{"limit over the most", cCarol, map[string]any{"conversation": group, "seq": msg, "limit": 100000}, "bad_frame", "limit"},
			{"no conversation", cCarol, map[string]any{"seq": msg}, "bad_frame", "conversation"},
			{"a subscription", cCarol, map[string]any{"conversation": "s:1", "seq": 1}, "bad_frame", "conversation"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, e := versionsOf(t, tc.c, tc.f)
				if e.Type != "error" || e.Code != tc.code || !strings.HasPrefix(e.Message, tc.field) {
					t.Fatalf("answered %s, want %s naming %q", e.Raw, tc.code, tc.field)
				}
			})
		}
	})

	t.Run("in a 1:1 only the sender", func(t *testing.T) {
		cOwnerPlain := plain.Dial(t, owner, "o2")
		plain.Settle(t)
		dm := conv(owner, carol)
		m := send(cCarol, "c-dm", owner.ID, "user", "hello")
		sentOf(t, cCarol, editFrame("c-dm-e", dm, m, "hello!"))
		if v, e := versionsOf(t, cCarol, map[string]any{"conversation": dm, "seq": m}); e.Type == "error" || strings.Join(v.texts(t), ",") != "hello" {
			t.Errorf("the sender's versions: %+v %s", v, e.Raw)
		}
		if _, e := versionsOf(t, cOwnerPlain, map[string]any{"conversation": dm, "seq": m}); e.Type != "error" || e.Code != "forbidden" {
			t.Errorf("the peer's answer %s, want forbidden", e.Raw)
		}
	})

	t.Run("off keeps nothing", func(t *testing.T) {
		m := send(cDanPlain, "d1", g, "group", "plain")
		sentOf(t, cDanPlain, editFrame("d-e1", group, m, "plain, edited"))
		v, e := versionsOf(t, cDanPlain, map[string]any{"conversation": group, "seq": m})
		if e.Type == "error" || len(v.Versions) != 0 || v.HasMore {
			t.Errorf("versions with EDIT_HISTORY off: %+v %s", v, e.Raw)
		}
		if n := keptIn(group, m); n != 0 {
			t.Errorf("the DataService keeps %d versions of an edit made with EDIT_HISTORY off", n)
		}
	})

	t.Run("recall deletes them", func(t *testing.T) {
		if n := keptIn(group, msg); n != 2 {
			t.Fatalf("the DataService keeps %d versions, want 2", n)
		}
		sentOf(t, cCarol, recallFrame("c-rec", group, msg))
		if n := keptIn(group, msg); n != 0 {
			t.Errorf("the DataService keeps %d versions of a recalled message", n)
		}
		if _, e := versionsOf(t, cOwner, map[string]any{"conversation": group, "seq": msg}); e.Code != "bad_frame" || !strings.HasPrefix(e.Message, "seq: the message was recalled") {
			t.Errorf("versions of a recalled message: %s", e.Raw)
		}
	})
}
