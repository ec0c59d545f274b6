package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// modGroup is a group with one member of each role and two targets: a
// member and an admin, all the owner's friends.
type modGroup struct {
	ID                                     string
	owner, admin, member, targetM, targetA usertest.Account
	outsider                               usertest.Account
	path                                   func(suffix string) string
}

// modCast is the accounts every modGroup of a test shares.
type modCast struct{ owner, admin, member, targetM, targetA, outsider usertest.Account }

func newModCast(t *testing.T, e *usertest.Env) modCast {
	t.Helper()
	c := modCast{
		owner: e.NewAccount(t, "Owner"), admin: e.NewAccount(t, "Admin"), member: e.NewAccount(t, "Member"),
		targetM: e.NewAccount(t, "Target Member"), targetA: e.NewAccount(t, "Target Admin"), outsider: e.NewAccount(t, "Outsider"),
	}
	for _, f := range []usertest.Account{c.admin, c.member, c.targetM, c.targetA} {
		befriend(t, e, c.owner, f)
	}
	return c
}

// newModGroup makes a fresh group of the cast, with admin and targetA
// appointed admins.
func newModGroup(t *testing.T, e *usertest.Env, c modCast) modGroup {
	t.Helper()
	g := createGroup(t, e, c.owner, "Moderated", c.admin, c.member, c.targetM, c.targetA)
	mg := modGroup{ID: g.ID, owner: c.owner, admin: c.admin, member: c.member, targetM: c.targetM, targetA: c.targetA, outsider: c.outsider}
	mg.path = func(suffix string) string { return "/api/v1/groups/" + g.ID + suffix }
	for _, a := range []usertest.Account{c.admin, c.targetA} {
		must(t, e, c.owner, "PUT", mg.path("/members/"+a.ID+"/role"), map[string]string{"role": "admin"}, http.StatusOK)
	}
	return mg
}

// snapshot is what a refused action must leave as it was: the group as its
// owner sees it and its members with their roles and mutes.
func snapshot(t *testing.T, e *usertest.Env, g modGroup) string {
	t.Helper()
	gr := must(t, e, g.owner, "GET", g.path(""), nil, http.StatusOK)
	ms := must(t, e, g.owner, "GET", g.path("/members"), nil, http.StatusOK)
	var gj map[string]any
	gr.Decode(t, &gj)
	delete(gj, "updated_at")
	b, _ := json.Marshal(gj)
	return string(b) + " " + string(ms.Body)
}

// TestRoleActionTable: every role x every group action, allowed or refused
// with the code docs/userservice.md's table names, and a refused action
// changes nothing. Each cell runs on a fresh group.
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
		// by role: owner, admin, member, outsider
		want [4]outcome
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
	actions := []action{
		{"rename", "PATCH", members(""), map[string]string{"name": "Renamed"},
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_member")}},
		{"announce", "PUT", members("/announcement"), map[string]string{"text": "Rules"},
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_member")}},
		{"mute all", "PUT", members("/mute_all"), map[string]bool{"on": true},
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_member")}},
		{"mute a member", "PUT", onTargetM("/mute"), map[string]int{"duration_seconds": 600},
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_member")}},
		{"unmute a member", "DELETE", onTargetM("/mute"), nil,
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_member")}},
		{"remove a member", "DELETE", onTargetM(""), nil,
			[4]outcome{ok(204), ok(204), no("not_admin"), no("not_member")}},
		{"mute an admin", "PUT", onTargetA("/mute"), map[string]int{"duration_seconds": 600},
			[4]outcome{ok(200), no("target_role"), no("not_admin"), no("not_member")}},
		{"remove an admin", "DELETE", onTargetA(""), nil,
			[4]outcome{ok(204), no("target_role"), no("not_admin"), no("not_member")}},
		{"appoint an admin", "PUT", onTargetM("/role"), map[string]string{"role": "admin"},
			[4]outcome{ok(200), no("not_owner"), no("not_owner"), no("not_member")}},
		{"demote an admin", "PUT", onTargetA("/role"), map[string]string{"role": "member"},
			[4]outcome{ok(200), no("not_owner"), no("not_owner"), no("not_member")}},
		{"transfer ownership", "PUT", members("/owner"), nil,
			[4]outcome{ok(200), no("not_owner"), no("not_owner"), no("not_member")}},
		{"dismiss", "DELETE", members(""), nil,
			[4]outcome{ok(204), no("not_owner"), no("not_owner"), no("not_member")}},
		{"set access", "PATCH", members("/access"), map[string]string{"join_policy": "open"},
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_admin")}},
		{"list join requests", "GET", members("/requests"), nil,
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_admin")}},
		{"list bans", "GET", members("/bans"), nil,
			[4]outcome{ok(200), ok(200), no("not_admin"), no("not_admin")}},
		{"remove without a ban", "DELETE", onTargetM("?ban=false"), nil,
			[4]outcome{ok(204), ok(204), no("not_admin"), no("not_member")}},
		{"list members", "GET", members("/members"), nil,
			[4]outcome{ok(200), ok(200), ok(200), no("not_member")}},
		{"set own nickname", "PATCH", members("/me"), map[string]string{"nickname": "me"},
			[4]outcome{ok(200), ok(200), ok(200), no("not_member")}},
	}
	for _, a := range actions {
		for i, role := range []string{"owner", "admin", "member", "outsider"} {
			t.Run(a.name+"/"+role, func(t *testing.T) {
				g := newModGroup(t, e, cast)
				as := []usertest.Account{g.owner, g.admin, g.member, g.outsider}[i]
				body := a.body
				if a.name == "transfer ownership" {
					body = map[string]string{"user_id": g.targetM.ID}
				}
				if a.name == "unmute a member" {
					must(t, e, g.owner, "PUT", g.path("/members/"+g.targetM.ID+"/mute"), map[string]any{}, http.StatusOK)
				}
				before := snapshot(t, e, g)
				r := relDo(t, e, as, a.method, a.path(g), body)
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
	}
	runSteps(t, e, steps)
	if after := snapshot(t, e, g); after != before {
		t.Fatalf("refused requests changed the group:\nbefore %s\nafter  %s", before, after)
	}
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
