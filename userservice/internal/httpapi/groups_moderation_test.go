package httpapi_test

import (
	"encoding/json"
	"image/color"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// modGroup is a group with one member of each role and two targets: a
// member and an admin, all the owner's friends; a user it banned (a member
// once), a user whose join request is pending, and two users who never
// had to do with it (outsider, invitee).
type modGroup struct {
	ID                                     string
	owner, admin, member, targetM, targetA usertest.Account
	outsider, banned, applicant, invitee   usertest.Account
	path                                   func(suffix string) string
}

// modCast is the accounts every modGroup of a test shares.
type modCast struct {
	owner, admin, member, targetM, targetA usertest.Account
	outsider, banned, applicant, invitee   usertest.Account
}

func newModCast(t *testing.T, e *usertest.Env) modCast {
	t.Helper()
	c := modCast{
		owner: e.NewAccount(t, "Owner"), admin: e.NewAccount(t, "Admin"), member: e.NewAccount(t, "Member"),
		targetM: e.NewAccount(t, "Target Member"), targetA: e.NewAccount(t, "Target Admin"), outsider: e.NewAccount(t, "Outsider"),
		banned: e.NewAccount(t, "Banned"), applicant: e.NewAccount(t, "Applicant"), invitee: e.NewAccount(t, "Invitee"),
	}
	for _, f := range []usertest.Account{c.admin, c.member, c.targetM, c.targetA, c.banned} {
		befriend(t, e, c.owner, f)
	}
	return c
}

// newModGroup makes a fresh group of the cast, with admin and targetA
// appointed admins, banned removed with a ban and applicant's join
// request pending (the join policy is approval, the default).
func newModGroup(t *testing.T, e *usertest.Env, c modCast) modGroup {
	t.Helper()
	g := createGroup(t, e, c.owner, "Moderated", c.admin, c.member, c.targetM, c.targetA, c.banned)
	mg := modGroup{ID: g.ID, owner: c.owner, admin: c.admin, member: c.member, targetM: c.targetM, targetA: c.targetA,
		outsider: c.outsider, banned: c.banned, applicant: c.applicant, invitee: c.invitee}
	mg.path = func(suffix string) string { return "/api/v1/groups/" + g.ID + suffix }
	for _, a := range []usertest.Account{c.admin, c.targetA} {
		must(t, e, c.owner, "PUT", mg.path("/members/"+a.ID+"/role"), map[string]string{"role": "admin"}, http.StatusOK)
	}
	must(t, e, c.owner, "DELETE", mg.path("/members/"+c.banned.ID), nil, http.StatusNoContent)
	must(t, e, c.applicant, "POST", mg.path("/join"), nil, http.StatusAccepted)
	return mg
}

// snapshot is what a refused action must leave as it was: the group as its
// owner sees it, its members with their roles and mutes, the pending
// requests and invites, and the bans.
func snapshot(t *testing.T, e *usertest.Env, g modGroup) string {
	t.Helper()
	gr := must(t, e, g.owner, "GET", g.path(""), nil, http.StatusOK)
	ms := must(t, e, g.owner, "GET", g.path("/members"), nil, http.StatusOK)
	rs := must(t, e, g.owner, "GET", g.path("/requests"), nil, http.StatusOK)
	bs := must(t, e, g.owner, "GET", g.path("/bans"), nil, http.StatusOK)
	var gj map[string]any
	gr.Decode(t, &gj)
	delete(gj, "updated_at")
	b, _ := json.Marshal(gj)
	return string(b) + " " + string(ms.Body) + " " + string(rs.Body) + " " + string(bs.Body)
}

// avatarUpload is the body of the table's avatar upload: a multipart PNG.
type avatarUpload struct{}

// TestRoleActionTable: every role (owner, admin, member, a user who is no
// member, a user the group banned) x every group action, allowed or
// refused with the code docs/userservice.md's table names, and a refused
// action changes nothing (the group, members, requests and bans read back
// the same). Each cell runs on a fresh group.
func TestRoleActionTable(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	cast := newModCast(t, e)
	type outcome struct {
		status int
		code   string
	}
	ok := func(status int) outcome { return outcome{status: status} }
	no := func(code string) outcome { return outcome{status: http.StatusForbidden, code: code} }
	type action struct {
		name   string
		method string
		path   func(g modGroup) string
		body   any
		// by role: owner, admin, member, outsider, banned
		want [5]outcome
	}
	members := func(suffix string) func(g modGroup) string {
		return func(g modGroup) string { return g.path(suffix) }
	}
	onTargetM := func(suffix string) func(g modGroup) string {
		return func(g modGroup) string { return g.path("/members/" + g.targetM.ID + suffix) }
	}
	onTargetA := func(suffix string) func(g modGroup) string {
		return func(g modGroup) string { return g.path("/members/" + g.targetA.ID + suffix) }
	}
	onApplicant := func(suffix string) func(g modGroup) string {
		return func(g modGroup) string { return g.path("/requests/" + g.applicant.ID + suffix) }
	}
	actions := []action{
		{"rename", "PATCH", members(""), map[string]string{"name": "Renamed"},
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_member"), no("not_member")}},
		{"announce", "PUT", members("/announcement"), map[string]string{"text": "Rules"},
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_member"), no("not_member")}},
		{"mute all", "PUT", members("/mute_all"), map[string]bool{"on": true},
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_member"), no("not_member")}},
		{"mute a member", "PUT", onTargetM("/mute"), map[string]int{"duration_seconds": 600},
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_member"), no("not_member")}},
		{"unmute a member", "DELETE", onTargetM("/mute"), nil,
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_member"), no("not_member")}},
		{"remove a member", "DELETE", onTargetM(""), nil,
			[5]outcome{ok(204), ok(204), no("not_admin"), no("not_member"), no("not_member")}},
		{"mute an admin", "PUT", onTargetA("/mute"), map[string]int{"duration_seconds": 600},
			[5]outcome{ok(200), no("target_role"), no("not_admin"), no("not_member"), no("not_member")}},
		{"remove an admin", "DELETE", onTargetA(""), nil,
			[5]outcome{ok(204), no("target_role"), no("not_admin"), no("not_member"), no("not_member")}},
		{"appoint an admin", "PUT", onTargetM("/role"), map[string]string{"role": "admin"},
			[5]outcome{ok(200), no("not_owner"), no("not_owner"), no("not_member"), no("not_member")}},
		{"demote an admin", "PUT", onTargetA("/role"), map[string]string{"role": "member"},
			[5]outcome{ok(200), no("not_owner"), no("not_owner"), no("not_member"), no("not_member")}},
		{"transfer ownership", "PUT", members("/owner"), nil,
			[5]outcome{ok(200), no("not_owner"), no("not_owner"), no("not_member"), no("not_member")}},
		{"dismiss", "DELETE", members(""), nil,
			[5]outcome{ok(204), no("not_owner"), no("not_owner"), no("not_member"), no("not_member")}},
		{"set access", "PATCH", members("/access"), map[string]string{"join_policy": "open"},
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_admin"), no("not_admin")}},
		{"list join requests", "GET", members("/requests"), nil,
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_admin"), no("not_admin")}},
		{"list bans", "GET", members("/bans"), nil,
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_admin"), no("not_admin")}},
		{"remove without a ban", "DELETE", onTargetM("?ban=false"), nil,
			[5]outcome{ok(204), ok(204), no("not_admin"), no("not_member"), no("not_member")}},
		{"invite", "POST", members("/invites"), nil,
			[5]outcome{ok(201), ok(201), ok(201), no("not_member"), no("not_member")}},
		{"accept a join request", "POST", onApplicant("/accept"), nil,
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_admin"), no("not_admin")}},
		{"reject a join request", "POST", onApplicant("/reject"), nil,
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_admin"), no("not_admin")}},
		{"unban", "DELETE", func(g modGroup) string { return g.path("/bans/" + g.banned.ID) }, nil,
			[5]outcome{ok(204), ok(204), no("not_admin"), no("not_admin"), no("not_admin")}},
		{"set the avatar", "PUT", members("/avatar"), avatarUpload{},
			[5]outcome{ok(200), ok(200), no("not_admin"), no("not_member"), no("not_member")}},
		{"list members", "GET", members("/members"), nil,
			[5]outcome{ok(200), ok(200), ok(200), no("not_member"), no("not_member")}},
		{"set own nickname", "PATCH", members("/me"), map[string]string{"nickname": "me"},
			[5]outcome{ok(200), ok(200), ok(200), no("not_member"), no("not_member")}},
	}
	for _, a := range actions {
		for i, role := range []string{"owner", "admin", "member", "outsider", "banned"} {
			t.Run(a.name+"/"+role, func(t *testing.T) {
				g := newModGroup(t, e, cast)
				as := []usertest.Account{g.owner, g.admin, g.member, g.outsider, g.banned}[i]
				body := a.body
				switch a.name {
				case "transfer ownership":
					body = map[string]string{"user_id": g.targetM.ID}
				case "invite":
					body = map[string]string{"user_id": g.invitee.ID}
				}
				if a.name == "unmute a member" {
					must(t, e, g.owner, "PUT", g.path("/members/"+g.targetM.ID+"/mute"), map[string]any{}, http.StatusOK)
				}
				before := snapshot(t, e, g)
				var r usertest.Response
				if _, ok := body.(avatarUpload); ok {
					r = upload(t, e, a.method, a.path(g), as.Token, "avatar", "g.png", solidPNG(t, color.RGBA{R: 200, A: 255}))
				} else {
					r = relDo(t, e, as, a.method, a.path(g), body)
				}
				w := a.want[i]
				field := ""
				if w.code == "target_role" {
					field = "user_id"
				}
				want(t, r, w.status, w.code, field)
				if w.code != "" {
					if after := snapshot(t, e, g); after != before {
						t.Fatalf("a refused %s changed the group:\nbefore %s\nafter  %s", a.name, before, after)
					}
				}
			})
		}
	}
}

func TestGroupModerationBadInput(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.GroupMaxAdmins = 2 }})
	cast := newModCast(t, e)
	g := newModGroup(t, e, cast) // 2 admins: the cap
	mute := g.path("/members/" + g.targetM.ID + "/mute")
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	farFuture := time.Now().Add(366 * 24 * time.Hour).UTC().Format(time.RFC3339)
	before := snapshot(t, e, g)
	steps := []relStep{
		{name: "announcement over 2000 characters", as: g.admin, method: "PUT", path: g.path("/announcement"), body: map[string]string{"text": strings.Repeat("é", 2001)}, status: 400, code: "invalid", field: "text"},
		{name: "announcement with a control character", as: g.admin, method: "PUT", path: g.path("/announcement"), body: map[string]string{"text": "bell\a"}, status: 400, code: "invalid", field: "text"},
		{name: "announcement without text", as: g.admin, method: "PUT", path: g.path("/announcement"), body: map[string]string{}, status: 400, code: "required", field: "text"},
		{name: "mute until the past", as: g.admin, method: "PUT", path: mute, body: map[string]string{"until": past}, status: 400, code: "invalid", field: "until"},
		{name: "mute beyond a year", as: g.admin, method: "PUT", path: mute, body: map[string]string{"until": farFuture}, status: 400, code: "invalid", field: "until"},
		{name: "mute for 0 seconds", as: g.admin, method: "PUT", path: mute, body: map[string]int{"duration_seconds": 0}, status: 400, code: "invalid", field: "duration_seconds"},
		{name: "mute for more than a year", as: g.admin, method: "PUT", path: mute, body: map[string]int{"duration_seconds": 31536001}, status: 400, code: "invalid", field: "duration_seconds"},
		{name: "mute with until and duration", as: g.admin, method: "PUT", path: mute, body: map[string]any{"until": farFuture, "duration_seconds": 60}, status: 400, code: "invalid", field: "until"},
		{name: "mute until not a time", as: g.admin, method: "PUT", path: mute, body: map[string]string{"until": "tomorrow"}, status: 400, code: "invalid", field: "until"},
		{name: "mute a user who is not a member", as: g.admin, method: "PUT", path: g.path("/members/" + g.outsider.ID + "/mute"), body: map[string]any{}, status: 404, code: "member_not_found", field: "user_id"},
		{name: "mute in an unknown group", as: g.admin, method: "PUT", path: "/api/v1/groups/999999999/members/" + g.targetM.ID + "/mute", body: map[string]any{}, status: 404, code: "group_not_found"},
		{name: "role outside the list", as: g.owner, method: "PUT", path: g.path("/members/" + g.targetM.ID + "/role"), body: map[string]string{"role": "king"}, status: 400, code: "invalid", field: "role"},
		{name: "role owner is not settable", as: g.owner, method: "PUT", path: g.path("/members/" + g.targetM.ID + "/role"), body: map[string]string{"role": "owner"}, status: 400, code: "invalid", field: "role"},
		{name: "a third admin is over the cap", as: g.owner, method: "PUT", path: g.path("/members/" + g.targetM.ID + "/role"), body: map[string]string{"role": "admin"}, status: 409, code: "admin_limit"},
		{name: "the owner's own role", as: g.owner, method: "PUT", path: g.path("/members/" + g.owner.ID + "/role"), body: map[string]string{"role": "member"}, status: 403, code: "target_role", field: "user_id"},
		{name: "mute all without on", as: g.admin, method: "PUT", path: g.path("/mute_all"), body: map[string]any{}, status: 400, code: "required", field: "on"},
		// A bad value next to a good one applies neither.
		{name: "policy outside the list beside a good history", as: g.owner, method: "PATCH", path: g.path("/access"), body: map[string]string{"join_policy": "anyone", "history": "all"}, status: 400, code: "invalid", field: "join_policy"},
		{name: "history outside the list beside a good policy", as: g.owner, method: "PATCH", path: g.path("/access"), body: map[string]string{"join_policy": "open", "history": "forever"}, status: 400, code: "invalid", field: "history"},
		{name: "invite_needs_approval not a bool", as: g.owner, method: "PATCH", path: g.path("/access"), body: rawJSON(`{"join_policy":"open","invite_needs_approval":"yes"}`), status: 400, code: "wrong_type", field: "invite_needs_approval"},
		{name: "announcement over 2000 characters by the owner", as: g.owner, method: "PUT", path: g.path("/announcement"), body: map[string]string{"text": strings.Repeat("a", 2001)}, status: 400, code: "invalid", field: "text"},
		// Unknown users and groups.
		{name: "mute an unknown user", as: g.admin, method: "PUT", path: g.path("/members/999999999/mute"), body: map[string]any{}, status: 404, code: "member_not_found", field: "user_id"},
		{name: "role of an unknown user", as: g.owner, method: "PUT", path: g.path("/members/999999999/role"), body: map[string]string{"role": "admin"}, status: 404, code: "member_not_found", field: "user_id"},
		{name: "transfer to an unknown user", as: g.owner, method: "PUT", path: g.path("/owner"), body: map[string]string{"user_id": "999999999"}, status: 404, code: "member_not_found", field: "user_id"},
		{name: "remove an unknown user", as: g.owner, method: "DELETE", path: g.path("/members/999999999"), status: 404, code: "member_not_found", field: "user_id"},
		{name: "invite an unknown user", as: g.member, method: "POST", path: g.path("/invites"), body: map[string]string{"user_id": "999999999"}, status: 404, code: "user_not_found", field: "user_id"},
		{name: "accept an unknown user's request", as: g.owner, method: "POST", path: g.path("/requests/999999999/accept"), status: 404, code: "request_not_found", field: "user_id"},
		{name: "unban an unknown user", as: g.owner, method: "DELETE", path: g.path("/bans/999999999"), status: 404, code: "ban_not_found", field: "user_id"},
		{name: "rename an unknown group", as: g.owner, method: "PATCH", path: "/api/v1/groups/999999999", body: map[string]string{"name": "x"}, status: 404, code: "group_not_found"},
		{name: "announce in an unknown group", as: g.owner, method: "PUT", path: "/api/v1/groups/999999999/announcement", body: map[string]string{"text": "x"}, status: 404, code: "group_not_found"},
		{name: "unban in an unknown group", as: g.owner, method: "DELETE", path: "/api/v1/groups/999999999/bans/" + g.banned.ID, status: 404, code: "group_not_found"},
		{name: "a user id that is no id", as: g.owner, method: "PUT", path: g.path("/members/abc/mute"), body: map[string]any{}, status: 400, code: "invalid", field: "user_id"},
	}
	runSteps(t, e, steps)
	if after := snapshot(t, e, g); after != before {
		t.Fatalf("refused requests changed the group:\nbefore %s\nafter  %s", before, after)
	}
	// The limits are inclusive: 2000 characters and a year ahead are fine.
	must(t, e, g.admin, "PUT", g.path("/announcement"), map[string]string{"text": strings.Repeat("é", 2000)}, http.StatusOK)
	must(t, e, g.admin, "PUT", mute, map[string]int{"duration_seconds": 31536000}, http.StatusOK)
}

// TestGroupModerationShown: a mute, mute all and the announcement show in
// the group and member list; the announcement only to members.
func TestGroupModerationShown(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	cast := newModCast(t, e)
	g := newModGroup(t, e, cast)
	r := must(t, e, g.admin, "PUT", g.path("/members/"+g.targetM.ID+"/mute"), map[string]int{"duration_seconds": 3600}, http.StatusOK)
	var m struct {
		MutedUntil time.Time `json:"muted_until"`
	}
	r.Decode(t, &m)
	if d := time.Until(m.MutedUntil); d < 59*time.Minute || d > time.Hour+time.Second {
		t.Fatalf("muted_until %v is not an hour ahead", m.MutedUntil)
	}
	r = must(t, e, g.admin, "PUT", g.path("/members/"+g.member.ID+"/mute"), map[string]any{}, http.StatusOK)
	r.Decode(t, &m)
	if !m.MutedUntil.Equal(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("a mute without an end: muted_until %v", m.MutedUntil)
	}
	must(t, e, g.owner, "PUT", g.path("/mute_all"), map[string]bool{"on": true}, http.StatusOK)
	must(t, e, g.admin, "PUT", g.path("/announcement"), map[string]string{"text": "  Be kind.\nNo spam.  "}, http.StatusOK)

	var got struct {
		MuteAll      bool `json:"mute_all"`
		Announcement *struct {
			Text     string    `json:"text"`
			AuthorID string    `json:"author_id"`
			At       time.Time `json:"at"`
		} `json:"announcement"`
	}
	must(t, e, g.member, "GET", g.path(""), nil, http.StatusOK).Decode(t, &got)
	if a := got.Announcement; !got.MuteAll || a == nil || a.Text != "Be kind.\nNo spam." || a.AuthorID != g.admin.ID || time.Since(a.At) > time.Minute {
		t.Fatalf("group as a member sees it: %+v %+v", got, got.Announcement)
	}
	got.Announcement = nil
	must(t, e, g.outsider, "GET", g.path(""), nil, http.StatusOK).Decode(t, &got)
	if got.Announcement != nil {
		t.Fatalf("an outsider sees the announcement %+v", got.Announcement)
	}
	list := must(t, e, g.member, "GET", g.path("/members"), nil, http.StatusOK)
	if n := strings.Count(string(list.Body), `"muted_until"`); n != 2 {
		t.Fatalf("%d members listed as muted, want 2: %s", n, list.Body)
	}
	must(t, e, g.admin, "DELETE", g.path("/members/"+g.targetM.ID+"/mute"), nil, http.StatusOK)
	list = must(t, e, g.member, "GET", g.path("/members"), nil, http.StatusOK)
	if n := strings.Count(string(list.Body), `"muted_until"`); n != 1 {
		t.Fatalf("%d members listed as muted after an unmute, want 1: %s", n, list.Body)
	}
}
