package mysql

import (
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

func relMustGroup(t *testing.T, r *Relational, id int64, name string, owner int64, members ...int64) store.Group {
	t.Helper()
	g, _, err := r.CreateGroupPlus(t.Context(), store.Group{ID: id, Name: name, OwnerID: owner}, members)
	if err != nil {
		t.Fatalf("create group %d: %v", id, err)
	}
	return g
}

func TestRelCreateGroupPlus(t *testing.T) {
	r, ctx := relOpen(t)
	start := time.Now()
	g, ms, err := r.CreateGroupPlus(ctx, store.Group{ID: 100, Name: "张家 family", OwnerID: 1, Avatar: "https://a/g.png", QRCode: "qr", Dismissed: true},
		[]int64{3, 2, 1, 3, 4, 2})
	if err != nil {
		t.Fatal(err)
	}
	relWantFresh(t, g.CreatedAt, start)
	want := store.Group{ID: 100, Name: "张家 family", OwnerID: 1, Avatar: "https://a/g.png", QRCode: "qr",
		CreatedAt: g.CreatedAt, UpdatedAt: g.CreatedAt, MemberCount: 4, JoinPolicy: store.JoinApproval, History: store.HistoryJoined}
	relWantEqual(t, g, want)
	var ids []int64
	for _, m := range ms {
		ids = append(ids, m.UserID)
		wantRole := store.RoleMember
		if m.UserID == 1 {
			wantRole = store.RoleOwner
		}
		relWantEqual(t, m, store.GroupMember{GroupID: 100, UserID: m.UserID, Role: wantRole, JoinedAt: g.CreatedAt, UpdatedAt: g.CreatedAt})
		stored, err := r.GetGroupMember(ctx, 100, m.UserID)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, stored, m)
	}
	relWantEqual(t, ids, []int64{1, 3, 2, 4})

	t.Run("GetGroup", func(t *testing.T) {
		got, err := r.GetGroup(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, want)
	})
	t.Run("GetGroup unknown", func(t *testing.T) {
		_, err := r.GetGroup(ctx, 999)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("duplicate id", func(t *testing.T) {
		_, _, err := r.CreateGroupPlus(ctx, store.Group{ID: 100, Name: "again", OwnerID: 9}, []int64{8})
		relWantExists(t, err, "id")
		// The transaction left nothing behind.
		_, err = r.GetGroupMember(ctx, 100, 8)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("owner only", func(t *testing.T) {
		g, ms, err := r.CreateGroupPlus(ctx, store.Group{ID: 101, Name: "solo", OwnerID: 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if g.MemberCount != 1 || len(ms) != 1 || ms[0].Role != store.RoleOwner {
			t.Fatalf("group %+v members %+v", g, ms)
		}
	})
	t.Run("a thousand members", func(t *testing.T) {
		members := make([]int64, 1000)
		for i := range members {
			members[i] = int64(1000 + i)
		}
		g, ms, err := r.CreateGroupPlus(ctx, store.Group{ID: 102, Name: "big", OwnerID: 5}, members)
		if err != nil {
			t.Fatal(err)
		}
		if g.MemberCount != 1001 || len(ms) != 1001 {
			t.Fatalf("member_count %d, %d members", g.MemberCount, len(ms))
		}
		got, err := r.GetGroup(ctx, 102)
		if err != nil || got.MemberCount != 1001 {
			t.Fatalf("stored member_count %d, %v", got.MemberCount, err)
		}
	})
}

func TestRelGroups(t *testing.T) {
	r, ctx := relOpen(t)
	relMustGroup(t, r, 1, "chess club", 10, 11, 12)
	relMustGroup(t, r, 2, "Chess masters", 11, 10)
	relMustGroup(t, r, 3, "go players", 12, 10)
	relMustGroup(t, r, 4, "chess_fans", 13, 10)
	relMustGroup(t, r, 5, "chessXfans", 13)
	relMustGroup(t, r, 6, "张伟的群", 14, 10)
	relMustGroup(t, r, 7, "chess old", 13, 10)
	if _, err := r.UpdateGroup(ctx, 7, store.GroupUpdate{Dismissed: relPtr(true)}); err != nil {
		t.Fatal(err)
	}
	// 10 left group 3.
	if _, err := r.UpdateGroupMember(ctx, 3, 10, store.GroupMemberUpdate{Left: relPtr(true)}); err != nil {
		t.Fatal(err)
	}
	id := func(g store.Group) int64 { return g.ID }

	t.Run("GetGroups", func(t *testing.T) {
		gs, err := r.GetGroups(ctx, []int64{6, 99, 1, 6, 3})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, g := range gs {
			got = append(got, g.ID)
		}
		relWantEqual(t, got, []int64{6, 1, 3})
		if gs[1].MemberCount != 3 || gs[2].MemberCount != 1 {
			t.Fatalf("member counts %d %d, want 3 1 (a left member is not counted)", gs[1].MemberCount, gs[2].MemberCount)
		}
	})

	for _, tc := range []struct {
		name             string
		prefix           string
		includeDismissed bool
		limit            int
		want             [][]int64
	}{
		{"prefix, case-insensitive, paged", "chess", false, 2, [][]int64{{1, 2}, {4, 5}}},
		{"dismissed when asked", "chess", true, 2, [][]int64{{1, 2}, {4, 5}, {7}}},
		{"underscore is literal", "chess_", false, 10, [][]int64{{4}}},
		{"CJK", "张", false, 10, [][]int64{{6}}},
		{"none", "x", false, 10, [][]int64{nil}},
	} {
		t.Run("SearchGroups "+tc.name, func(t *testing.T) {
			got := relCollect(t, tc.limit, id, func(p store.Page) ([]store.Group, string, error) {
				return r.SearchGroups(ctx, tc.prefix, tc.includeDismissed, p)
			})
			relWantEqual(t, got, tc.want)
		})
	}

	for _, tc := range []struct {
		name             string
		user             int64
		includeDismissed bool
		limit            int
		want             [][]int64
	}{
		{"member of, left and dismissed out", 10, false, 2, [][]int64{{1, 2}, {4, 6}}},
		{"dismissed when asked", 10, true, 3, [][]int64{{1, 2, 4}, {6, 7}}},
		{"owner counts as member", 13, false, 10, [][]int64{{4, 5}}},
		{"none", 99, true, 10, [][]int64{nil}},
	} {
		t.Run("ListGroupsByMember "+tc.name, func(t *testing.T) {
			got := relCollect(t, tc.limit, id, func(p store.Page) ([]store.Group, string, error) {
				return r.ListGroupsByMember(ctx, tc.user, tc.includeDismissed, p)
			})
			relWantEqual(t, got, tc.want)
		})
	}

	t.Run("ListMemberships", func(t *testing.T) {
		if _, err := r.UpdateGroup(ctx, 4, store.GroupUpdate{History: relPtr(store.HistoryAll)}); err != nil {
			t.Fatal(err)
		}
		got := relCollect(t, 2, func(m store.Membership) int64 { return m.Member.GroupID }, func(p store.Page) ([]store.Membership, string, error) {
			return r.ListMemberships(ctx, 10, p)
		})
		relWantEqual(t, got, [][]int64{{1, 2}, {4, 6}}) // left (3) and dismissed (7) out
		ms, _, err := r.ListMemberships(ctx, 10, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			want, err := r.GetGroupMember(ctx, m.Member.GroupID, 10)
			if err != nil {
				t.Fatal(err)
			}
			relWantEqual(t, m.Member, want)
			g, err := r.GetGroup(ctx, m.Member.GroupID)
			if err != nil {
				t.Fatal(err)
			}
			if m.History != g.History {
				t.Fatalf("group %d: history %d, want %d", g.ID, m.History, g.History)
			}
		}
		if ms[2].History != store.HistoryAll {
			t.Fatalf("group 4 history %d, want all", ms[2].History)
		}
	})

	t.Run("UpdateGroup", func(t *testing.T) {
		before, err := r.GetGroup(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.UpdateGroup(ctx, 1, store.GroupUpdate{Name: relPtr("chess club 2"), Avatar: relPtr("av"), QRCode: relPtr("qr"), OwnerID: relPtr(int64(11))})
		if err != nil {
			t.Fatal(err)
		}
		want := before
		want.Name, want.Avatar, want.QRCode, want.OwnerID, want.UpdatedAt = "chess club 2", "av", "qr", 11, got.UpdatedAt
		relWantEqual(t, got, want)
		if got.UpdatedAt.Before(before.UpdatedAt) {
			t.Fatalf("updated_at went back")
		}
		// Setting the owner here leaves roles alone.
		m, err := r.GetGroupMember(ctx, 1, 10)
		if err != nil || m.Role != store.RoleOwner {
			t.Fatalf("old owner's membership %+v %v", m, err)
		}
	})
	t.Run("UpdateGroup unknown", func(t *testing.T) {
		_, err := r.UpdateGroup(ctx, 999, store.GroupUpdate{Name: relPtr("x")})
		relWantIs(t, err, store.ErrNotFound)
	})
}

func TestRelGroupMembers(t *testing.T) {
	r, ctx := relOpen(t)
	relMustGroup(t, r, 1, "g", 10)
	for _, u := range []int64{10, 11, 12, 13, 14} {
		relMustUser(t, r, u, "user"+string(rune('a'+u-10)))
	}

	t.Run("AddGroupMember unknown group", func(t *testing.T) {
		_, err := r.AddGroupMember(ctx, store.GroupMember{GroupID: 99, UserID: 11})
		relWantIs(t, err, store.ErrNotFound)
	})
	var eleven store.GroupMember
	t.Run("AddGroupMember", func(t *testing.T) {
		start := time.Now()
		var err error
		eleven, err = r.AddGroupMember(ctx, store.GroupMember{GroupID: 1, UserID: 11, Nickname: "小李", Left: true})
		if err != nil {
			t.Fatal(err)
		}
		relWantFresh(t, eleven.JoinedAt, start)
		relWantEqual(t, eleven, store.GroupMember{GroupID: 1, UserID: 11, Nickname: "小李", Role: store.RoleMember, JoinedAt: eleven.JoinedAt, UpdatedAt: eleven.JoinedAt})
		got, err := r.GetGroupMember(ctx, 1, 11)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, eleven)
	})
	t.Run("AddGroupMember existing member", func(t *testing.T) {
		for _, u := range []int64{10, 11} {
			_, err := r.AddGroupMember(ctx, store.GroupMember{GroupID: 1, UserID: u, Role: store.RoleAdmin})
			relWantExists(t, err, "member")
		}
	})
	t.Run("AddGroupMember re-activates a left member", func(t *testing.T) {
		left, err := r.UpdateGroupMember(ctx, 1, 11, store.GroupMemberUpdate{Left: relPtr(true)})
		if err != nil || !left.Left {
			t.Fatalf("leave: %+v %v", left, err)
		}
		back, err := r.AddGroupMember(ctx, store.GroupMember{GroupID: 1, UserID: 11, Role: store.RoleAdmin, Nickname: "Li"})
		if err != nil {
			t.Fatal(err)
		}
		if back.Left || back.Role != store.RoleAdmin || back.Nickname != "Li" || back.JoinedAt.Before(eleven.JoinedAt) {
			t.Fatalf("re-added %+v", back)
		}
		got, err := r.GetGroupMember(ctx, 1, 11)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, back)
	})
	t.Run("GetGroupMember unknown", func(t *testing.T) {
		_, err := r.GetGroupMember(ctx, 1, 99)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("UpdateGroupMember", func(t *testing.T) {
		got, err := r.UpdateGroupMember(ctx, 1, 11, store.GroupMemberUpdate{Nickname: relPtr("n"), Role: relPtr(store.RoleMember)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Nickname != "n" || got.Role != store.RoleMember || got.Left {
			t.Fatalf("updated %+v", got)
		}
	})
	t.Run("UpdateGroupMember unknown", func(t *testing.T) {
		_, err := r.UpdateGroupMember(ctx, 1, 99, store.GroupMemberUpdate{Nickname: relPtr("n")})
		relWantIs(t, err, store.ErrNotFound)
	})

	for _, u := range []int64{12, 13, 14, 15} { // 15 has no user row
		if _, err := r.AddGroupMember(ctx, store.GroupMember{GroupID: 1, UserID: u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.UpdateGroupMember(ctx, 1, 13, store.GroupMemberUpdate{Left: relPtr(true)}); err != nil {
		t.Fatal(err)
	}
	uid := func(m store.GroupMember) int64 { return m.UserID }
	for _, tc := range []struct {
		name        string
		includeLeft bool
		limit       int
		want        [][]int64
	}{
		{"active", false, 2, [][]int64{{10, 11}, {12, 14}, {15}}},
		{"with left", true, 3, [][]int64{{10, 11, 12}, {13, 14, 15}}},
	} {
		t.Run("ListGroupMembers "+tc.name, func(t *testing.T) {
			got := relCollect(t, tc.limit, uid, func(p store.Page) ([]store.GroupMember, string, error) {
				return r.ListGroupMembers(ctx, 1, tc.includeLeft, p)
			})
			relWantEqual(t, got, tc.want)
		})
	}
	t.Run("GroupMembersInfoPlus", func(t *testing.T) {
		var infos []store.GroupMemberInfo
		got := relCollect(t, 2, func(mi store.GroupMemberInfo) int64 {
			infos = append(infos, mi)
			return mi.User.ID
		}, func(p store.Page) ([]store.GroupMemberInfo, string, error) { return r.GroupMembersInfoPlus(ctx, 1, p) })
		relWantEqual(t, got, [][]int64{{10, 11}, {12, 14}})
		for _, mi := range infos {
			u, err := r.GetUser(ctx, mi.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			relWantEqual(t, mi.User, u)
			m, err := r.GetGroupMember(ctx, 1, mi.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			relWantEqual(t, mi.Member, m)
		}
	})
}

func TestRelTransferGroupPlus(t *testing.T) {
	r, ctx := relOpen(t)
	relMustGroup(t, r, 1, "g", 10, 11, 12)
	if _, err := r.UpdateGroupMember(ctx, 1, 12, store.GroupMemberUpdate{Left: relPtr(true)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		group      int64
		from, to   int64
		wantNF     bool
		wantReason string
	}{
		{name: "unknown group", group: 99, from: 10, to: 11, wantNF: true},
		{name: "wrong from-owner", group: 1, from: 11, to: 11, wantReason: "group owner is not the given from-owner"},
		{name: "new owner not a member", group: 1, from: 10, to: 77, wantReason: "new owner is not a member of the group"},
		{name: "new owner left", group: 1, from: 10, to: 12, wantReason: "new owner is not a member of the group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.TransferGroupPlus(ctx, tc.group, tc.from, tc.to)
			if tc.wantNF {
				relWantIs(t, err, store.ErrNotFound)
				return
			}
			relWantPrecondition(t, err, tc.wantReason)
			g, err := r.GetGroup(ctx, 1)
			if err != nil || g.OwnerID != 10 {
				t.Fatalf("a refused transfer changed the group: %+v %v", g, err)
			}
		})
	}
	t.Run("transfer", func(t *testing.T) {
		g, err := r.TransferGroupPlus(ctx, 1, 10, 11)
		if err != nil {
			t.Fatal(err)
		}
		if g.OwnerID != 11 || g.MemberCount != 2 {
			t.Fatalf("group %+v", g)
		}
		for user, role := range map[int64]store.GroupRole{10: store.RoleMember, 11: store.RoleOwner} {
			m, err := r.GetGroupMember(ctx, 1, user)
			if err != nil || m.Role != role {
				t.Fatalf("member %d: %+v %v, want role %d", user, m, err, role)
			}
		}
	})
	t.Run("second transfer from the old owner", func(t *testing.T) {
		_, err := r.TransferGroupPlus(ctx, 1, 10, 10)
		relWantPrecondition(t, err, "group owner is not the given from-owner")
	})
	t.Run("transfer to oneself keeps OWNER", func(t *testing.T) {
		if _, err := r.TransferGroupPlus(ctx, 1, 11, 11); err != nil {
			t.Fatal(err)
		}
		m, err := r.GetGroupMember(ctx, 1, 11)
		if err != nil || m.Role != store.RoleOwner {
			t.Fatalf("owner %+v %v", m, err)
		}
	})
}

// TestRelConcurrentTransfer: racing transfers away from one owner, exactly
// one wins and the roles match the winner.
func TestRelConcurrentTransfer(t *testing.T) {
	r, ctx := relOpen(t)
	targets := []int64{11, 12, 13, 14, 15, 16}
	relMustGroup(t, r, 1, "g", 10, targets...)
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, to := range targets {
		wg.Go(func() { _, errs[i] = r.TransferGroupPlus(ctx, 1, 10, to) })
	}
	wg.Wait()
	var winner int64
	for i, err := range errs {
		if err == nil {
			if winner != 0 {
				t.Fatalf("two transfers won: %d and %d", winner, targets[i])
			}
			winner = targets[i]
			continue
		}
		relWantPrecondition(t, err, "group owner is not the given from-owner")
	}
	g, err := r.GetGroup(ctx, 1)
	if err != nil || g.OwnerID != winner || winner == 0 {
		t.Fatalf("group %+v %v, winner %d", g, err, winner)
	}
	owners, _, err := r.ListGroupMembers(ctx, 1, false, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range owners {
		if (m.Role == store.RoleOwner) != (m.UserID == winner) {
			t.Fatalf("member %+v, winner %d", m, winner)
		}
	}
}

// TestRelConcurrentAddMember: racing adds of one user, one wins.
func TestRelConcurrentAddMember(t *testing.T) {
	r, ctx := relOpen(t)
	relMustGroup(t, r, 1, "g", 10)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = r.AddGroupMember(ctx, store.GroupMember{GroupID: 1, UserID: 11}) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		relWantExists(t, err, "member")
	}
	if ok != 1 {
		t.Fatalf("%d adds succeeded, want 1", ok)
	}
}
