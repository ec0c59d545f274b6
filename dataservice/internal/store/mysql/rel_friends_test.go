package mysql

import (
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

func relPtr[T any](v T) *T { return &v }

func TestRelFriendships(t *testing.T) {
	r, ctx := relOpen(t)
	start := time.Now()
	first, err := r.PutFriendship(ctx, store.Friendship{SelfID: 1, FriendID: 2, Note: "bobby", Message: "hi, 我是 Alice"})
	if err != nil {
		t.Fatal(err)
	}
	relWantFresh(t, first.CreatedAt, start)
	relWantEqual(t, first, store.Friendship{SelfID: 1, FriendID: 2, Note: "bobby", Message: "hi, 我是 Alice", CreatedAt: first.CreatedAt, UpdatedAt: first.CreatedAt})

	t.Run("PutFriendship overwrites all but created_at", func(t *testing.T) {
		got, err := r.PutFriendship(ctx, store.Friendship{SelfID: 1, FriendID: 2, Accepted: true, Blacklisted: true, Deleted: true})
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(first.CreatedAt) || got.UpdatedAt.Before(first.UpdatedAt) {
			t.Fatalf("times %v %v, created %v", got.CreatedAt, got.UpdatedAt, first.CreatedAt)
		}
		relWantEqual(t, got, store.Friendship{SelfID: 1, FriendID: 2, Accepted: true, Blacklisted: true, Deleted: true, CreatedAt: first.CreatedAt, UpdatedAt: got.UpdatedAt})
		stored, err := r.GetFriendship(ctx, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, stored, got)
	})
	t.Run("GetFriendship unknown", func(t *testing.T) {
		_, err := r.GetFriendship(ctx, 2, 1)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("UpdateFriendship", func(t *testing.T) {
		got, err := r.UpdateFriendship(ctx, 1, 2, store.FriendshipUpdate{Note: relPtr("Bob"), Deleted: relPtr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Note != "Bob" || got.Deleted || !got.Accepted || !got.Blacklisted || got.Message != "" {
			t.Fatalf("after update: %+v", got)
		}
		got, err = r.UpdateFriendship(ctx, 1, 2, store.FriendshipUpdate{Message: relPtr("m"), Accepted: relPtr(false), Blacklisted: relPtr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Note != "Bob" || got.Message != "m" || got.Accepted || got.Blacklisted {
			t.Fatalf("after second update: %+v", got)
		}
	})
	t.Run("UpdateFriendship unknown", func(t *testing.T) {
		_, err := r.UpdateFriendship(ctx, 2, 1, store.FriendshipUpdate{Note: relPtr("x")})
		relWantIs(t, err, store.ErrNotFound)
	})
}

func TestRelListFriendships(t *testing.T) {
	r, ctx := relOpen(t)
	// User 10: outgoing to 11..16, incoming from 21..23.
	rows := []store.Friendship{
		{SelfID: 10, FriendID: 11, Accepted: true},
		{SelfID: 10, FriendID: 12, Accepted: true, Blacklisted: true},
		{SelfID: 10, FriendID: 13},
		{SelfID: 10, FriendID: 14, Deleted: true},
		{SelfID: 10, FriendID: 15, Accepted: true},
		{SelfID: 10, FriendID: 16, Accepted: true},
		{SelfID: 21, FriendID: 10},
		{SelfID: 22, FriendID: 10, Accepted: true},
		{SelfID: 23, FriendID: 10},
		{SelfID: 11, FriendID: 99}, // someone else's
	}
	for _, f := range rows {
		if _, err := r.PutFriendship(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		flt   store.FriendshipFilter
		limit int
		want  [][]int64 // ids of the other user
	}{
		{"outgoing all", store.FriendshipFilter{UserID: 10, Direction: store.Outgoing}, 4, [][]int64{{11, 12, 13, 14}, {15, 16}}},
		{"outgoing accepted", store.FriendshipFilter{UserID: 10, Direction: store.Outgoing, Accepted: relPtr(true)}, 2, [][]int64{{11, 12}, {15, 16}}},
		{"outgoing accepted not blacklisted", store.FriendshipFilter{UserID: 10, Direction: store.Outgoing, Accepted: relPtr(true), Blacklisted: relPtr(false)}, 10, [][]int64{{11, 15, 16}}},
		{"outgoing deleted", store.FriendshipFilter{UserID: 10, Direction: store.Outgoing, Deleted: relPtr(true)}, 10, [][]int64{{14}}},
		{"outgoing pending", store.FriendshipFilter{UserID: 10, Direction: store.Outgoing, Accepted: relPtr(false), Deleted: relPtr(false)}, 10, [][]int64{{13}}},
		{"incoming all", store.FriendshipFilter{UserID: 10, Direction: store.Incoming}, 2, [][]int64{{21, 22}, {23}}},
		{"incoming pending", store.FriendshipFilter{UserID: 10, Direction: store.Incoming, Accepted: relPtr(false)}, 10, [][]int64{{21, 23}}},
		{"none", store.FriendshipFilter{UserID: 77, Direction: store.Incoming}, 10, [][]int64{nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := func(f store.Friendship) int64 {
				if tc.flt.Direction == store.Incoming {
					if f.FriendID != tc.flt.UserID {
						t.Fatalf("incoming row %+v", f)
					}
					return f.SelfID
				}
				if f.SelfID != tc.flt.UserID {
					t.Fatalf("outgoing row %+v", f)
				}
				return f.FriendID
			}
			got := relCollect(t, tc.limit, key, func(p store.Page) ([]store.Friendship, string, error) {
				return r.ListFriendships(ctx, tc.flt, p)
			})
			relWantEqual(t, got, tc.want)
		})
	}
	t.Run("unknown direction", func(t *testing.T) {
		if _, _, err := r.ListFriendships(ctx, store.FriendshipFilter{UserID: 10}, store.Page{Limit: 10}); err == nil {
			t.Fatal("no error for direction 0")
		}
	})
}

func TestRelAcceptFriendPlus(t *testing.T) {
	r, ctx := relOpen(t)
	for _, f := range []store.Friendship{
		{SelfID: 1, FriendID: 2, Message: "hello"},              // pending
		{SelfID: 3, FriendID: 4, Accepted: true},                // accepted already
		{SelfID: 5, FriendID: 6, Deleted: true},                 // deleted request
		{SelfID: 7, FriendID: 8, Message: "hi"},                 // pending, and the accepter has a row
		{SelfID: 8, FriendID: 7, Blacklisted: true, Note: "no"}, // ... which accepting overwrites
	} {
		if _, err := r.PutFriendship(ctx, f); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name                string
		requester, accepter int64
		wantNotFound        bool
	}{
		{name: "missing request (only the other direction exists)", requester: 2, accepter: 1, wantNotFound: true},
		{name: "already accepted", requester: 3, accepter: 4},
		{name: "deleted request", requester: 5, accepter: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := r.AcceptFriendPlus(ctx, tc.requester, tc.accepter, "n")
			if tc.wantNotFound {
				relWantIs(t, err, store.ErrNotFound)
				return
			}
			relWantPrecondition(t, err, "friend request not pending")
			// Nothing was written on the accepter's side.
			_, err = r.GetFriendship(ctx, tc.accepter, tc.requester)
			relWantIs(t, err, store.ErrNotFound)
		})
	}

	for _, tc := range []struct {
		name                string
		requester, accepter int64
		message             string
	}{
		{"pending", 1, 2, "hello"},
		{"overwrites accepter's row", 7, 8, "hi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, acc, err := r.AcceptFriendPlus(ctx, tc.requester, tc.accepter, "张 friend")
			if err != nil {
				t.Fatal(err)
			}
			if !req.Accepted || req.Deleted || req.Message != tc.message || req.SelfID != tc.requester || req.FriendID != tc.accepter {
				t.Fatalf("requester side %+v", req)
			}
			if !acc.Accepted || acc.Deleted || acc.Blacklisted || acc.Note != "张 friend" || acc.Message != "" ||
				acc.SelfID != tc.accepter || acc.FriendID != tc.requester {
				t.Fatalf("accepter side %+v", acc)
			}
			for _, want := range []store.Friendship{req, acc} {
				got, err := r.GetFriendship(ctx, want.SelfID, want.FriendID)
				if err != nil {
					t.Fatal(err)
				}
				relWantEqual(t, got, want)
			}
			// A second accept finds nothing pending.
			_, _, err = r.AcceptFriendPlus(ctx, tc.requester, tc.accepter, "again")
			relWantPrecondition(t, err, "friend request not pending")
		})
	}
}

func TestRelDeleteFriendPlus(t *testing.T) {
	r, ctx := relOpen(t)
	if _, err := r.PutFriendship(ctx, store.Friendship{SelfID: 1, FriendID: 2}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.AcceptFriendPlus(ctx, 1, 2, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.PutFriendship(ctx, store.Friendship{SelfID: 3, FriendID: 4, Accepted: true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		a, b   int64
		rows   [][2]int64
		wantNF bool
	}{
		{name: "neither row", a: 1, b: 3, wantNF: true},
		{name: "both rows", a: 2, b: 1, rows: [][2]int64{{1, 2}, {2, 1}}},
		{name: "one row, named from the other side", a: 4, b: 3, rows: [][2]int64{{3, 4}}},
		{name: "again: rows exist", a: 1, b: 2, rows: [][2]int64{{1, 2}, {2, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.DeleteFriendPlus(ctx, tc.a, tc.b)
			if tc.wantNF {
				relWantIs(t, err, store.ErrNotFound)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.rows {
				f, err := r.GetFriendship(ctx, k[0], k[1])
				if err != nil {
					t.Fatal(err)
				}
				if !f.Deleted || f.Accepted {
					t.Fatalf("row %v after delete: %+v", k, f)
				}
			}
		})
	}
}

func TestRelFriendsInfoPlus(t *testing.T) {
	r, ctx := relOpen(t)
	relMustUser(t, r, 1, "me")
	friends := map[int64]store.User{}
	for id := int64(2); id <= 8; id++ {
		friends[id] = relMustUser(t, r, id, "friend"+string(rune('a'+id)))
	}
	// 2..6 accepted both ways; 7 pending; 8 accepted then deleted; 9 accepted but has no user row.
	for id := int64(2); id <= 6; id++ {
		if _, err := r.PutFriendship(ctx, store.Friendship{SelfID: id, FriendID: 1}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.AcceptFriendPlus(ctx, id, 1, "note"); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []store.Friendship{
		{SelfID: 1, FriendID: 7},
		{SelfID: 1, FriendID: 8, Accepted: true, Deleted: true},
		{SelfID: 1, FriendID: 9, Accepted: true},
	} {
		if _, err := r.PutFriendship(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	var seen []store.FriendInfo
	pages := relCollect(t, 2, func(fi store.FriendInfo) int64 {
		seen = append(seen, fi)
		return fi.Friend.ID
	}, func(p store.Page) ([]store.FriendInfo, string, error) { return r.FriendsInfoPlus(ctx, 1, p) })
	relWantEqual(t, pages, [][]int64{{2, 3}, {4, 5}, {6}})
	for _, fi := range seen {
		if fi.Friendship.SelfID != 1 || fi.Friendship.FriendID != fi.Friend.ID || fi.Friendship.Note != "note" || !fi.Friendship.Accepted {
			t.Fatalf("friendship %+v", fi.Friendship)
		}
		relWantEqual(t, fi.Friend, friends[fi.Friend.ID])
	}
	t.Run("no friends", func(t *testing.T) {
		rows, next, err := r.FriendsInfoPlus(ctx, 7, store.Page{Limit: 10})
		if err != nil || len(rows) != 0 || next != "" {
			t.Fatalf("got %v %q %v", rows, next, err)
		}
	})
}
