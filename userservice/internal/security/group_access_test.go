package security

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// Attacks on who may join a group (docs/security.md, "Group access"):
// joining a private group uncalled, coming back after removal, and racing
// accepts past the member cap.

type groupOut struct {
	ID          string `json:"id"`
	MemberCount int64  `json:"member_count"`
	JoinPolicy  string `json:"join_policy"`
}

func call(t *testing.T, e *usertest.Env, as usertest.Account, method, path string, body any, want int) usertest.Response {
	t.Helper()
	r := e.Do(t, method, "/api/v1"+path, as.Token, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

func newGroup(t *testing.T, e *usertest.Env, owner usertest.Account, policy string) groupOut {
	t.Helper()
	var g groupOut
	call(t, e, owner, "POST", "/groups", map[string]any{"name": "g" + owner.ID[len(owner.ID)-4:]}, http.StatusCreated).Decode(t, &g)
	if policy != "" {
		call(t, e, owner, "PATCH", "/groups/"+g.ID+"/access", map[string]string{"join_policy": policy}, http.StatusOK).Decode(t, &g)
	}
	return g
}

func members(t *testing.T, e *usertest.Env, owner usertest.Account, g string) int64 {
	t.Helper()
	var out groupOut
	call(t, e, owner, "GET", "/groups/"+g, nil, http.StatusOK).Decode(t, &out)
	return out.MemberCount
}

// TestOutsiderCannotJoinApprovalGroup: a new group is private (approval);
// an outsider's join is only a request, which gives no access until an
// owner or admin accepts it; an invite-only group refuses the join and is
// not found by search, which finds the approval and the open group.
func TestOutsiderCannotJoinApprovalGroup(t *testing.T) {
	e := usertest.Start(t)
	owner, outsider := e.NewAccount(t, "Owner"), e.NewAccount(t, "Outsider")
	g := newGroup(t, e, owner, "")
	if g.JoinPolicy != "approval" {
		t.Fatalf("a new group's join_policy is %q, want approval", g.JoinPolicy)
	}
	r := call(t, e, outsider, "POST", "/groups/"+g.ID+"/join", nil, http.StatusAccepted)
	var pending struct {
		Request struct {
			State string `json:"state"`
			Kind  string `json:"kind"`
		} `json:"request"`
	}
	r.Decode(t, &pending)
	if pending.Request.State != "pending" || pending.Request.Kind != "request" {
		t.Fatalf("join answered %s", r.Body)
	}
	if r := call(t, e, outsider, "GET", "/groups/"+g.ID+"/members", nil, http.StatusForbidden); r.Err().Code != "not_member" {
		t.Fatalf("a requester reads the members: %s", r.Body)
	}
	if n := members(t, e, owner, g.ID); n != 1 {
		t.Fatalf("the group has %d members after a mere request", n)
	}
	// The requester cannot accept their own request.
	if r := call(t, e, outsider, "POST", "/groups/"+g.ID+"/requests/"+outsider.ID+"/accept", nil, http.StatusForbidden); r.Err().Code != "not_admin" {
		t.Fatalf("self-accept: %s", r.Body)
	}
	call(t, e, owner, "POST", "/groups/"+g.ID+"/requests/"+outsider.ID+"/accept", nil, http.StatusOK)
	call(t, e, outsider, "GET", "/groups/"+g.ID+"/members", nil, http.StatusOK)

	// Invite only: no join, no request, no search hit; an open group is
	// found beside the approval one.
	open := newGroup(t, e, owner, "open")
	inv := newGroup(t, e, owner, "invite")
	stranger := e.NewAccount(t, "Stranger")
	if r := call(t, e, stranger, "POST", "/groups/"+inv.ID+"/join", nil, http.StatusForbidden); r.Err().Code != "invite_only" {
		t.Fatalf("join of an invite-only group: %s", r.Body)
	}
	var found struct {
		Groups []groupOut `json:"groups"`
	}
	call(t, e, stranger, "GET", "/groups/search?q=g"+owner.ID[len(owner.ID)-4:], nil, http.StatusOK).Decode(t, &found)
	for _, f := range found.Groups {
		if f.ID == inv.ID {
			t.Fatalf("search lists the invite-only group: %+v", found)
		}
	}
	var hits []string
	for _, f := range found.Groups {
		hits = append(hits, f.ID)
	}
	slices.Sort(hits)
	want := []string{g.ID, open.ID}
	slices.Sort(want)
	if !slices.Equal(hits, want) {
		t.Fatalf("search found %+v, want the approval and the open group", found.Groups)
	}
}

// TestQRCodeJoinFollowsThePolicy: the group's QR code (which anyone signed
// in may fetch) names the group id, and joining by it is the same join: a
// request for an approval group, refused for an invite-only one.
func TestQRCodeJoinFollowsThePolicy(t *testing.T) {
	e := usertest.Start(t)
	owner, scanner := e.NewAccount(t, "Owner"), e.NewAccount(t, "Scanner")
	for _, tc := range []struct {
		policy string
		status int
		code   string
	}{
		{"approval", http.StatusAccepted, ""},
		{"invite", http.StatusForbidden, "invite_only"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			g := newGroup(t, e, owner, tc.policy)
			png := call(t, e, scanner, "GET", "/groups/"+g.ID+"/qrcode", nil, http.StatusOK).Body
			var code struct {
				Kind string `json:"kind"`
				ID   string `json:"id"`
			}
			r := e.Upload(t, "POST", "/api/v1/qrcode/parse", scanner.Token, "image", "qr.png", png)
			if r.Status != http.StatusOK {
				t.Fatalf("parse: %d %s", r.Status, r.Body)
			}
			r.Decode(t, &code)
			if code.Kind != "group" || code.ID != g.ID {
				t.Fatalf("the QR code names %+v, want group %s", code, g.ID)
			}
			if r := call(t, e, scanner, "POST", "/groups/"+code.ID+"/join", nil, tc.status); r.Err().Code != tc.code {
				t.Fatalf("join by QR code: %s", r.Body)
			}
			if n := members(t, e, owner, g.ID); n != 1 {
				t.Fatalf("%d members after a QR join of a %s group, want 1", n, tc.policy)
			}
		})
	}
}

// TestRemovedMemberCannotRejoin: removing a member bans them, so they can
// neither join an open group again, nor request, nor be invited, until the
// ban is lifted; ban=false removes without banning.
func TestRemovedMemberCannotRejoin(t *testing.T) {
	e := usertest.Start(t)
	owner, member, friend := e.NewAccount(t, "Owner"), e.NewAccount(t, "Member"), e.NewAccount(t, "Friend")
	g := newGroup(t, e, owner, "open")
	call(t, e, member, "POST", "/groups/"+g.ID+"/join", nil, http.StatusOK)
	call(t, e, friend, "POST", "/groups/"+g.ID+"/join", nil, http.StatusOK)
	call(t, e, owner, "DELETE", "/groups/"+g.ID+"/members/"+member.ID, nil, http.StatusNoContent)

	if r := call(t, e, member, "POST", "/groups/"+g.ID+"/join", nil, http.StatusForbidden); r.Err().Code != "banned" {
		t.Fatalf("rejoin of an open group: %s", r.Body)
	}
	if r := call(t, e, friend, "POST", "/groups/"+g.ID+"/invites", map[string]string{"user_id": member.ID}, http.StatusForbidden); r.Err().Code != "banned" || r.Err().Field != "user_id" {
		t.Fatalf("invite of the banned: %s", r.Body)
	}
	call(t, e, owner, "PATCH", "/groups/"+g.ID+"/access", map[string]string{"join_policy": "approval"}, http.StatusOK)
	if r := call(t, e, member, "POST", "/groups/"+g.ID+"/join", nil, http.StatusForbidden); r.Err().Code != "banned" {
		t.Fatalf("request by the banned: %s", r.Body)
	}
	if n := members(t, e, owner, g.ID); n != 2 {
		t.Fatalf("%d members, want 2", n)
	}
	// A member cannot see or lift bans.
	if r := call(t, e, friend, "DELETE", "/groups/"+g.ID+"/bans/"+member.ID, nil, http.StatusForbidden); r.Err().Code != "not_admin" {
		t.Fatalf("unban by a member: %s", r.Body)
	}
	var bans struct {
		Bans []struct {
			UserID   string `json:"user_id"`
			BannedBy string `json:"banned_by"`
		} `json:"bans"`
	}
	call(t, e, owner, "GET", "/groups/"+g.ID+"/bans", nil, http.StatusOK).Decode(t, &bans)
	if len(bans.Bans) != 1 || bans.Bans[0].UserID != member.ID || bans.Bans[0].BannedBy != owner.ID {
		t.Fatalf("bans %+v", bans)
	}

	// Lifted: the request goes through again.
	call(t, e, owner, "DELETE", "/groups/"+g.ID+"/bans/"+member.ID, nil, http.StatusNoContent)
	call(t, e, member, "POST", "/groups/"+g.ID+"/join", nil, http.StatusAccepted)
	call(t, e, owner, "POST", "/groups/"+g.ID+"/requests/"+member.ID+"/accept", nil, http.StatusOK)

	// Removed without a ban: back at once.
	call(t, e, owner, "DELETE", "/groups/"+g.ID+"/members/"+member.ID+"?ban=false", nil, http.StatusNoContent)
	call(t, e, member, "POST", "/groups/"+g.ID+"/join", nil, http.StatusAccepted)
	if r := call(t, e, owner, "DELETE", "/groups/"+g.ID+"/members/"+friend.ID+"?ban=maybe", nil, http.StatusBadRequest); r.Err().Field != "ban" {
		t.Fatalf("ban=maybe: %s", r.Body)
	}
}

// TestConcurrentAcceptStoresOneMembership: owner and admins accepting the
// same request at once store one membership; the others learn the request
// is answered.
func TestConcurrentAcceptStoresOneMembership(t *testing.T) {
	e := usertest.Start(t)
	owner, joiner := e.NewAccount(t, "Owner"), e.NewAccount(t, "Joiner")
	g := newGroup(t, e, owner, "")
	call(t, e, joiner, "POST", "/groups/"+g.ID+"/join", nil, http.StatusAccepted)
	statuses := parallel(8, func(int) int {
		return post(e, owner, "/groups/"+g.ID+"/requests/"+joiner.ID+"/accept")
	})
	if statuses[http.StatusOK] != 1 || statuses[http.StatusOK]+statuses[http.StatusNotFound]+statuses[http.StatusConflict] != 8 {
		t.Fatalf("accept statuses %v: want one 200, the rest 404 or 409", statuses)
	}
	if n := members(t, e, owner, g.ID); n != 2 {
		t.Fatalf("%d members after racing accepts, want 2", n)
	}
}

// TestMemberCapHoldsUnderConcurrentAccepts: accepting more requests at once
// than the group has room for fills it to the cap, not beyond.
func TestMemberCapHoldsUnderConcurrentAccepts(t *testing.T) {
	const limit = 5
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.GroupMemberLimit = limit }})
	owner := e.NewAccount(t, "Owner")
	g := newGroup(t, e, owner, "")
	var joiners []usertest.Account
	for i := range 10 {
		j := e.NewAccount(t, fmt.Sprint("Joiner ", i))
		call(t, e, j, "POST", "/groups/"+g.ID+"/join", nil, http.StatusAccepted)
		joiners = append(joiners, j)
	}
	statuses := parallel(len(joiners), func(i int) int {
		return post(e, owner, "/groups/"+g.ID+"/requests/"+joiners[i].ID+"/accept")
	})
	if statuses[http.StatusOK] != limit-1 || statuses[http.StatusConflict] != len(joiners)-(limit-1) {
		t.Fatalf("accept statuses %v: want %d of 200 and the rest 409 group_full", statuses, limit-1)
	}
	if n := members(t, e, owner, g.ID); n != limit {
		t.Fatalf("%d members, want the cap %d", n, limit)
	}
}

// post is a POST without a body that returns the status (0 when the call
// failed); not e.Do, which may call t.Fatal, and only the test goroutine may.
func post(e *usertest.Env, as usertest.Account, path string) int {
	req, err := http.NewRequest("POST", e.URL+"/api/v1"+path, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+as.Token)
	resp, err := e.Client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// parallel runs f(0..n-1) at once and counts the statuses they return.
func parallel(n int, f func(i int) int) map[int]int {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = map[int]int{}
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			s := f(i)
			mu.Lock()
			out[s]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return out
}
