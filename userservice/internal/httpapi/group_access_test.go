package httpapi_test

import (
	"strings"
	"testing"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// TestGroupAccess: the access routes' answers in order, bad input and
// wrong roles included (the leak itself: internal/security).
func TestGroupAccess(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	owner, member, asker, guest := e.NewAccount(t, "Owner"), e.NewAccount(t, "Member"), e.NewAccount(t, "Asker"), e.NewAccount(t, "Guest")
	g := createGroup(t, e, owner, "Access")
	gp := func(suffix string) string { return "/api/v1/groups/" + g.ID + suffix }
	has := func(parts ...string) func(t *testing.T, r usertest.Response) {
		return func(t *testing.T, r usertest.Response) {
			for _, p := range parts {
				if !strings.Contains(string(r.Body), p) {
					t.Fatalf("%s lacks %s", r.Body, p)
				}
			}
		}
	}
	runSteps(t, e, []relStep{
		{name: "a new group is private", as: owner, method: "GET", path: gp(""), status: 200, check: has(`"join_policy":"approval"`, `"history":"joined"`, `"invite_needs_approval":false`)},
		{name: "policy outside the list", as: owner, method: "PATCH", path: gp("/access"), body: map[string]string{"join_policy": "anyone"}, status: 400, code: "invalid", field: "join_policy"},
		{name: "history outside the list", as: owner, method: "PATCH", path: gp("/access"), body: map[string]string{"history": "some"}, status: 400, code: "invalid", field: "history"},
		{name: "policy of the wrong type", as: owner, method: "PATCH", path: gp("/access"), body: rawJSON(`{"join_policy":1}`), status: 400, code: "wrong_type", field: "join_policy"},
		{name: "policy by a stranger", as: guest, method: "PATCH", path: gp("/access"), body: map[string]string{"join_policy": "open"}, status: 403, code: "not_admin"},
		{name: "policy of an unknown group", as: owner, method: "PATCH", path: "/api/v1/groups/999999999/access", body: map[string]string{"join_policy": "open"}, status: 404, code: "group_not_found"},
		{name: "open it", as: owner, method: "PATCH", path: gp("/access"), body: map[string]string{"join_policy": "open"}, status: 200, check: has(`"join_policy":"open"`)},
		{name: "member joins the open group", as: member, method: "POST", path: gp("/join"), status: 200},
		{name: "close it to approval", as: owner, method: "PATCH", path: gp("/access"), body: map[string]string{"join_policy": "approval", "history": "all"}, status: 200, check: has(`"join_policy":"approval"`, `"history":"all"`)},
		{name: "a plain member may not change it", as: member, method: "PATCH", path: gp("/access"), body: map[string]string{"join_policy": "open"}, status: 403, code: "not_admin"},

		{name: "asker requests", as: asker, method: "POST", path: gp("/join"), status: 202, check: has(`"kind":"request"`, `"state":"pending"`)},
		{name: "asker requests again", as: asker, method: "POST", path: gp("/join"), status: 409, code: "request_pending"},
		{name: "asker's own list", as: asker, method: "GET", path: "/api/v1/groups/requests", status: 200, check: has(`"group_id":"` + g.ID + `"`)},
		{name: "a member may not list requests", as: member, method: "GET", path: gp("/requests"), status: 403, code: "not_admin"},
		{name: "the owner lists them", as: owner, method: "GET", path: gp("/requests?limit=1"), status: 200, check: has(`"user_id":"` + asker.ID + `"`)},
		{name: "requests with a bad limit", as: owner, method: "GET", path: gp("/requests?limit=0"), status: 400, code: "invalid", field: "limit"},
		{name: "a member may not accept", as: member, method: "POST", path: gp("/requests/" + asker.ID + "/accept"), status: 403, code: "not_admin"},
		{name: "a member may not reject", as: member, method: "POST", path: gp("/requests/" + asker.ID + "/reject"), status: 403, code: "not_admin"},
		{name: "the owner may not cancel a request", as: owner, method: "DELETE", path: gp("/requests/" + asker.ID), status: 403, code: "not_yours"},
		{name: "accept with a bad user id", as: owner, method: "POST", path: gp("/requests/x/accept"), status: 400, code: "invalid", field: "user_id"},
		{name: "accept of nobody's request", as: owner, method: "POST", path: gp("/requests/" + guest.ID + "/accept"), status: 404, code: "request_not_found", field: "user_id"},
		{name: "asker cancels", as: asker, method: "DELETE", path: gp("/requests/" + asker.ID), status: 204},
		{name: "nothing left to accept", as: owner, method: "POST", path: gp("/requests/" + asker.ID + "/accept"), status: 404, code: "request_not_found", field: "user_id"},

		{name: "invite without user_id", as: member, method: "POST", path: gp("/invites"), body: map[string]string{}, status: 400, code: "required", field: "user_id"},
		{name: "invite of an unknown user", as: member, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": "999999999"}, status: 404, code: "user_not_found", field: "user_id"},
		{name: "invite of a member", as: member, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": owner.ID}, status: 409, code: "already_member", field: "user_id"},
		{name: "invite by a stranger", as: guest, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": asker.ID}, status: 403, code: "not_member"},
		{name: "member invites asker", as: member, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": asker.ID}, status: 201, check: has(`"kind":"invite"`, `"inviter_id":"`+member.ID+`"`)},
		{name: "asker's list shows the invite", as: asker, method: "GET", path: "/api/v1/groups/requests", status: 200, check: has(`"group_id":"`+g.ID+`"`, `"kind":"invite"`, `"inviter_id":"`+member.ID+`"`)},
		{name: "the group's list shows it too", as: owner, method: "GET", path: gp("/requests"), status: 200, check: has(`"user_id":"`+asker.ID+`"`, `"kind":"invite"`)},
		{name: "the owner may not accept another's invite", as: owner, method: "POST", path: gp("/requests/" + asker.ID + "/accept"), status: 403, code: "not_yours"},
		{name: "asker accepts the invite", as: asker, method: "POST", path: gp("/requests/" + asker.ID + "/accept"), status: 200, check: has(`"member_count":3`)},

		{name: "invite only, with approval", as: owner, method: "PATCH", path: gp("/access"), body: map[string]any{"join_policy": "invite", "invite_needs_approval": true}, status: 200},
		{name: "guest may not join", as: guest, method: "POST", path: gp("/join"), status: 403, code: "invite_only"},
		{name: "member invites guest", as: member, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": guest.ID}, status: 201},
		{name: "guest's yes waits for an admin", as: guest, method: "POST", path: gp("/requests/" + guest.ID + "/accept"), status: 202, check: has(`"kind":"request"`, `"state":"pending"`)},
		{name: "guest is not a member yet", as: guest, method: "GET", path: gp("/members"), status: 403, code: "not_member"},
		{name: "the owner rejects", as: owner, method: "POST", path: gp("/requests/" + guest.ID + "/reject"), status: 200, check: has(`"state":"rejected"`)},
		{name: "an owner's invite needs no approval", as: owner, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": guest.ID}, status: 201},
		{name: "guest accepts the owner's invite", as: guest, method: "POST", path: gp("/requests/" + guest.ID + "/accept"), status: 200},

		{name: "remove with a bad ban", as: owner, method: "DELETE", path: gp("/members/" + guest.ID + "?ban=sometimes"), status: 400, code: "invalid", field: "ban"},
		{name: "a member may not remove", as: member, method: "DELETE", path: gp("/members/" + guest.ID), status: 403, code: "not_admin"},
		{name: "a member may not list bans", as: member, method: "GET", path: gp("/bans"), status: 403, code: "not_admin"},
		{name: "unban of one not banned", as: owner, method: "DELETE", path: gp("/bans/" + guest.ID), status: 404, code: "ban_not_found", field: "user_id"},
		{name: "remove and ban guest", as: owner, method: "DELETE", path: gp("/members/" + guest.ID), status: 204},
		{name: "guest is on the ban list", as: owner, method: "GET", path: gp("/bans"), status: 200, check: has(`"user_id":"`+guest.ID+`"`, `"banned_by":"`+owner.ID+`"`)},
		{name: "the banned cannot be invited", as: member, method: "POST", path: gp("/invites"), body: map[string]string{"user_id": guest.ID}, status: 403, code: "banned", field: "user_id"},
	})
}
