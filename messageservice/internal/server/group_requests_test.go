package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// noticeReader reads one device's messages of some conversations, each
// once (a redelivery of one not acked in time is skipped), acking them.
type noticeReader struct {
	t     *testing.T
	name  string
	c     *mstest.Client
	convs []string
	high  map[string]int64
}

func newNoticeReader(t *testing.T, name string, c *mstest.Client, convs ...string) *noticeReader {
	return &noticeReader{t: t, name: name, c: c, convs: convs, high: map[string]int64{}}
}

// notice is what a test compares of a system message.
type notice struct {
	Conv, Kind, Event, Group, Actor, User, Inviter string
	Users                                          []string
}

// next returns the next new message of the reader's conversations.
func (r *noticeReader) next() notice {
	r.t.Helper()
	for {
		f := r.c.Await("message", wait)
		if !slices.Contains(r.convs, f.Conversation) || f.Seq <= r.high[f.Conversation] {
			continue
		}
		r.high[f.Conversation] = f.Seq
		r.c.Ack(f.Conversation, f.Seq)
		if f.From != "0" {
			r.t.Fatalf("%s: %s is not a system message", r.name, f.Raw)
		}
		n := notice{Conv: f.Conversation}
		if err := json.Unmarshal(f.Content, &n); err != nil {
			r.t.Fatalf("%s: %s: %v", r.name, f.Raw, err)
		}
		return n
	}
}

// expect reads the next new message on every reader and checks it is want
// (Users compared when want has them).
func expect(t *testing.T, want notice, readers ...*noticeReader) {
	t.Helper()
	for _, r := range readers {
		got := r.next()
		if want.Users == nil {
			got.Users = nil
		}
		if !slices.Equal(got.Users, want.Users) || got.Conv != want.Conv || got.Kind != want.Kind || got.Event != want.Event ||
			got.Group != want.Group || got.Actor != want.Actor || got.User != want.User || got.Inviter != want.Inviter {
			t.Fatalf("%s got %+v, want %+v", r.name, got, want)
		}
	}
}

// TestJoinRequestAnswersReachEveryDevice: each change of a join request or
// invite reaches every device of its user, on both nodes of a cluster, as
// a group_request notice in their sys conversation (an acceptance as the
// group's member_joined event), and a device that connects later catches
// up on them from the store. docs/websocket.md, "Join requests and
// invites".
func TestJoinRequestAnswersReachEveryDevice(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 2)
	n1, n2 := nodes[0], nodes[1]
	owner, m1, req, inv, late := st.NewUser(t, "owner"), st.NewUser(t, "m1"), st.NewUser(t, "requester"), st.NewUser(t, "invitee"), st.NewUser(t, "late")
	g := st.NewFriendsGroup(t, owner, m1) // join policy approval, the default
	gp, gconv := "/groups/"+g, "g:"+g
	sysReq, sysInv, sysLate := "sys:"+req.ID, "sys:"+inv.ID, "sys:"+late.ID
	reqPhone := newNoticeReader(t, "requester's phone on n1", n1.Dial(t, req, "phone"), sysReq, gconv)
	reqTablet := newNoticeReader(t, "requester's tablet on n2", n2.Dial(t, req, "tablet"), sysReq, gconv)
	invPhone := newNoticeReader(t, "invitee's phone on n2", n2.Dial(t, inv, "phone"), sysInv, gconv)
	invTablet := newNoticeReader(t, "invitee's tablet on n1", n1.Dial(t, inv, "tablet"), sysInv, gconv)
	latePhone := newNoticeReader(t, "late's phone on n1", n1.Dial(t, late, "phone"), sysLate, gconv)
	seen(t, n1, req, inv)
	seen(t, n2, req, inv)
	n1.Settle(t)
	n2.Settle(t)
	asReq := func(event, actor string) notice {
		return notice{Conv: sysReq, Kind: "group_request", Event: event, Group: g, Actor: actor, User: req.ID}
	}
	asInv := func(event, actor string) notice {
		return notice{Conv: sysInv, Kind: "group_request", Event: event, Group: g, Actor: actor, User: inv.ID, Inviter: m1.ID}
	}

	t.Run("request", func(t *testing.T) {
		st.Do(t, http.MethodPost, gp+"/join", req.Token, nil, http.StatusAccepted, nil)
		expect(t, asReq("request_sent", req.ID), reqPhone, reqTablet)
		st.Do(t, http.MethodPost, gp+"/requests/"+req.ID+"/reject", owner.Token, nil, http.StatusOK, nil)
		expect(t, asReq("request_rejected", owner.ID), reqPhone, reqTablet)
		st.Do(t, http.MethodPost, gp+"/join", req.Token, nil, http.StatusAccepted, nil)
		expect(t, asReq("request_sent", req.ID), reqPhone, reqTablet)
		st.Do(t, http.MethodDelete, gp+"/requests/"+req.ID, req.Token, nil, http.StatusNoContent, nil)
		expect(t, asReq("request_cancelled", req.ID), reqPhone, reqTablet)
		st.Do(t, http.MethodPost, gp+"/join", req.Token, nil, http.StatusAccepted, nil)
		expect(t, asReq("request_sent", req.ID), reqPhone, reqTablet)
		st.Do(t, http.MethodPost, gp+"/requests/"+req.ID+"/accept", owner.Token, nil, http.StatusOK, nil)
		expect(t, notice{Conv: gconv, Kind: "group_event", Event: "member_joined", Actor: owner.ID, Users: []string{req.ID}}, reqPhone, reqTablet)

		// A device that was not connected catches up on every notice, in order.
		c := n2.Dial(t, req, "laptop")
		c.WriteJSON(map[string]any{"type": "sync", "conversation": sysReq, "after_seq": 0, "limit": 50})
		var got []string
		for _, f := range c.Await("history", wait).Messages {
			var n notice
			if err := json.Unmarshal(f.Content, &n); err != nil || n.Kind != "group_request" || n.Group != g {
				t.Fatalf("sys history: %s (%v)", f.Content, err)
			}
			got = append(got, n.Event)
		}
		if want := []string{"request_sent", "request_rejected", "request_sent", "request_cancelled", "request_sent"}; !slices.Equal(got, want) {
			t.Fatalf("the laptop's sync of %s: %v, want %v", sysReq, got, want)
		}
	})

	t.Run("invite", func(t *testing.T) {
		invite := func() {
			st.Do(t, http.MethodPost, gp+"/invites", m1.Token, map[string]string{"user_id": inv.ID}, http.StatusCreated, nil)
			expect(t, asInv("invited", m1.ID), invPhone, invTablet)
		}
		invite()
		st.Do(t, http.MethodPost, gp+"/requests/"+inv.ID+"/reject", inv.Token, nil, http.StatusOK, nil)
		expect(t, asInv("invite_rejected", inv.ID), invPhone, invTablet)
		invite()
		st.Do(t, http.MethodDelete, gp+"/requests/"+inv.ID, m1.Token, nil, http.StatusNoContent, nil)
		expect(t, asInv("invite_cancelled", m1.ID), invPhone, invTablet)
		invite()
		st.Do(t, http.MethodDelete, gp+"/requests/"+inv.ID, owner.Token, nil, http.StatusNoContent, nil)
		expect(t, asInv("invite_cancelled", owner.ID), invPhone, invTablet)
		invite()
		st.Do(t, http.MethodPost, gp+"/requests/"+inv.ID+"/accept", inv.Token, nil, http.StatusOK, nil)
		expect(t, notice{Conv: gconv, Kind: "group_event", Event: "member_joined", Actor: inv.ID, Users: []string{inv.ID}}, invPhone, invTablet)
	})

	t.Run("invite awaiting approval", func(t *testing.T) {
		st.Do(t, http.MethodPatch, gp+"/access", owner.Token, map[string]any{"join_policy": "invite", "invite_needs_approval": true}, http.StatusOK, nil)
		st.Do(t, http.MethodPost, gp+"/invites", m1.Token, map[string]string{"user_id": late.ID}, http.StatusCreated, nil)
		expect(t, notice{Conv: sysLate, Kind: "group_request", Event: "invited", Group: g, Actor: m1.ID, User: late.ID, Inviter: m1.ID}, latePhone)
		st.Do(t, http.MethodPost, gp+"/requests/"+late.ID+"/accept", late.Token, nil, http.StatusAccepted, nil)
		expect(t, notice{Conv: sysLate, Kind: "group_request", Event: "invite_awaiting_approval", Group: g, Actor: late.ID, User: late.ID, Inviter: m1.ID}, latePhone)
		st.Do(t, http.MethodPost, gp+"/requests/"+late.ID+"/reject", owner.Token, nil, http.StatusOK, nil)
		expect(t, notice{Conv: sysLate, Kind: "group_request", Event: "request_rejected", Group: g, Actor: owner.ID, User: late.ID}, latePhone)
	})
}
