package mysql

import (
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

func relMustSub(t *testing.T, r *Relational, id int64, name string, owner int64) store.Subscription {
	t.Helper()
	s, err := r.CreateSubscription(t.Context(), store.Subscription{ID: id, Name: name, OwnerID: owner})
	if err != nil {
		t.Fatalf("create subscription %d: %v", id, err)
	}
	return s
}

func relMustFollow(t *testing.T, r *Relational, sub int64, users ...int64) {
	t.Helper()
	for _, u := range users {
		if _, err := r.Follow(t.Context(), sub, u); err != nil {
			t.Fatalf("follow %d by %d: %v", sub, u, err)
		}
	}
}

func TestRelSubscriptions(t *testing.T) {
	r, ctx := relOpen(t)
	start := time.Now()
	in := store.Subscription{ID: 1, Name: "Daily News", OwnerID: 10, Intro: "新闻 every day", Avatar: "av", QRCode: "qr", Deleted: true, FollowerCount: 5}
	news, err := r.CreateSubscription(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	relWantFresh(t, news.CreatedAt, start)
	want := in
	want.Deleted, want.FollowerCount, want.CreatedAt, want.UpdatedAt = false, 0, news.CreatedAt, news.CreatedAt
	relWantEqual(t, news, want)

	t.Run("GetSubscription", func(t *testing.T) {
		got, err := r.GetSubscription(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, news)
	})
	t.Run("GetSubscription unknown", func(t *testing.T) {
		_, err := r.GetSubscription(ctx, 99)
		relWantIs(t, err, store.ErrNotFound)
	})
	for _, tc := range []struct {
		name  string
		s     store.Subscription
		field string
	}{
		{"duplicate name", store.Subscription{ID: 2, Name: "Daily News", OwnerID: 11}, "name"},
		{"duplicate id", store.Subscription{ID: 1, Name: "Other", OwnerID: 11}, "id"},
	} {
		t.Run("CreateSubscription "+tc.name, func(t *testing.T) {
			_, err := r.CreateSubscription(ctx, tc.s)
			relWantExists(t, err, tc.field)
		})
	}
	t.Run("CreateSubscription emoji names differ", func(t *testing.T) {
		relMustSub(t, r, 3, "🍎 apples", 11)
		relMustSub(t, r, 4, "🍌 apples", 11)
	})

	relMustSub(t, r, 5, "daily sports", 10)
	relMustSub(t, r, 6, "daily_weather", 12)
	relMustSub(t, r, 7, "dailyXweather", 10)
	relMustSub(t, r, 8, "张伟说", 10)
	relMustFollow(t, r, 1, 100, 101, 102)

	t.Run("GetSubscriptions", func(t *testing.T) {
		ss, err := r.GetSubscriptions(ctx, []int64{8, 1, 42, 8})
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != 2 || ss[0].ID != 8 || ss[1].ID != 1 || ss[1].FollowerCount != 3 {
			t.Fatalf("got %+v", ss)
		}
	})

	t.Run("UpdateSubscription", func(t *testing.T) {
		got, err := r.UpdateSubscription(ctx, 5, store.SubscriptionUpdate{
			Name: relPtr("daily sport"), Intro: relPtr("i"), Avatar: relPtr("a"), QRCode: relPtr("q"), OwnerID: relPtr(int64(12)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "daily sport" || got.Intro != "i" || got.Avatar != "a" || got.QRCode != "q" || got.OwnerID != 12 {
			t.Fatalf("updated %+v", got)
		}
		// The old name is free again.
		relMustSub(t, r, 9, "daily sports", 13)
	})
	t.Run("UpdateSubscription to a taken name", func(t *testing.T) {
		_, err := r.UpdateSubscription(ctx, 5, store.SubscriptionUpdate{Name: relPtr("Daily News")})
		relWantExists(t, err, "name")
		got, err := r.GetSubscription(ctx, 5)
		if err != nil || got.Name != "daily sport" {
			t.Fatalf("a refused rename changed the account: %+v %v", got, err)
		}
	})
	t.Run("UpdateSubscription to its own name", func(t *testing.T) {
		if _, err := r.UpdateSubscription(ctx, 5, store.SubscriptionUpdate{Name: relPtr("daily sport")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("UpdateSubscription unknown", func(t *testing.T) {
		_, err := r.UpdateSubscription(ctx, 99, store.SubscriptionUpdate{Intro: relPtr("x")})
		relWantIs(t, err, store.ErrNotFound)
	})

	t.Run("DeleteSubscriptionPlus unknown", func(t *testing.T) {
		_, _, err := r.DeleteSubscriptionPlus(ctx, 99)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("DeleteSubscriptionPlus releases followers and the name", func(t *testing.T) {
		s, released, err := r.DeleteSubscriptionPlus(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Deleted || s.FollowerCount != 0 || released != 3 || s.Name != "Daily News" {
			t.Fatalf("deleted %+v, released %d", s, released)
		}
		for _, u := range []int64{100, 101, 102} {
			f, err := r.GetFollower(ctx, 1, u)
			if err != nil || !f.Left {
				t.Fatalf("follower %d: %+v %v", u, f, err)
			}
		}
		relMustSub(t, r, 2, "Daily News", 11)
		// Deleting again releases nobody.
		if _, released, err := r.DeleteSubscriptionPlus(ctx, 1); err != nil || released != 0 {
			t.Fatalf("second delete: released %d, %v", released, err)
		}
		// A deleted account's rename stays out of the unique index.
		if _, err := r.UpdateSubscription(ctx, 1, store.SubscriptionUpdate{Name: relPtr("daily sport")}); err != nil {
			t.Fatalf("rename deleted account: %v", err)
		}
	})

	id := func(s store.Subscription) int64 { return s.ID }
	for _, tc := range []struct {
		name           string
		prefix         string
		includeDeleted bool
		limit          int
		want           [][]int64
	}{
		{"paged, case-insensitive", "DAILY", false, 2, [][]int64{{2, 5}, {6, 7}, {9}}},
		{"deleted when asked", "daily", true, 3, [][]int64{{1, 2, 5}, {6, 7, 9}}},
		{"underscore is literal", "daily_", false, 10, [][]int64{{6}}},
		{"CJK", "张", false, 10, [][]int64{{8}}},
		{"emoji", "🍌", false, 10, [][]int64{{4}}},
	} {
		t.Run("SearchSubscriptions "+tc.name, func(t *testing.T) {
			got := relCollect(t, tc.limit, id, func(p store.Page) ([]store.Subscription, string, error) {
				return r.SearchSubscriptions(ctx, tc.prefix, tc.includeDeleted, p)
			})
			// utf8mb4_unicode_ci weighs all emoji alike, so an emoji
			// prefix may also match other emoji; require the wanted ones.
			if tc.name == "emoji" {
				if len(got[0]) == 0 || !containsID(got[0], 4) {
					t.Fatalf("got %v, want 4 among them", got)
				}
				return
			}
			relWantEqual(t, got, tc.want)
		})
	}
	for _, tc := range []struct {
		name           string
		owner          int64
		includeDeleted bool
		limit          int
		want           [][]int64
	}{
		{"live", 10, false, 1, [][]int64{{7}, {8}}},
		{"with deleted", 10, true, 2, [][]int64{{1, 7}, {8}}},
		{"none", 99, true, 2, [][]int64{nil}},
	} {
		t.Run("ListSubscriptionsByOwner "+tc.name, func(t *testing.T) {
			got := relCollect(t, tc.limit, id, func(p store.Page) ([]store.Subscription, string, error) {
				return r.ListSubscriptionsByOwner(ctx, tc.owner, tc.includeDeleted, p)
			})
			relWantEqual(t, got, tc.want)
		})
	}
}

func containsID(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func TestRelFollowers(t *testing.T) {
	r, ctx := relOpen(t)
	relMustSub(t, r, 1, "a", 10)
	relMustSub(t, r, 2, "b", 10)
	relMustSub(t, r, 3, "c", 10)
	relMustSub(t, r, 4, "d", 10)

	t.Run("Follow unknown subscription", func(t *testing.T) {
		_, err := r.Follow(ctx, 99, 100)
		relWantIs(t, err, store.ErrNotFound)
	})
	var first store.Follower
	t.Run("Follow", func(t *testing.T) {
		start := time.Now()
		var err error
		first, err = r.Follow(ctx, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		relWantFresh(t, first.FollowedAt, start)
		relWantEqual(t, first, store.Follower{SubscriptionID: 1, UserID: 100, FollowedAt: first.FollowedAt, UpdatedAt: first.FollowedAt})
		got, err := r.GetFollower(ctx, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, first)
	})
	t.Run("Follow again", func(t *testing.T) {
		_, err := r.Follow(ctx, 1, 100)
		relWantExists(t, err, "follower")
	})
	t.Run("Unfollow", func(t *testing.T) {
		f, err := r.Unfollow(ctx, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Left || !f.FollowedAt.Equal(first.FollowedAt) {
			t.Fatalf("unfollowed %+v", f)
		}
	})
	for _, tc := range []struct {
		name      string
		sub, user int64
	}{
		{"left already", 1, 100},
		{"never followed", 1, 101},
		{"unknown subscription", 99, 100},
	} {
		t.Run("Unfollow "+tc.name, func(t *testing.T) {
			_, err := r.Unfollow(ctx, tc.sub, tc.user)
			relWantIs(t, err, store.ErrNotFound)
		})
	}
	t.Run("Follow re-activates", func(t *testing.T) {
		f, err := r.Follow(ctx, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if f.Left || f.FollowedAt.Before(first.FollowedAt) {
			t.Fatalf("re-followed %+v", f)
		}
		got, err := r.GetFollower(ctx, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, f)
	})
	t.Run("GetFollower unknown", func(t *testing.T) {
		_, err := r.GetFollower(ctx, 1, 999)
		relWantIs(t, err, store.ErrNotFound)
	})

	relMustFollow(t, r, 1, 101, 102, 103, 104)
	if _, err := r.Unfollow(ctx, 1, 102); err != nil {
		t.Fatal(err)
	}
	relMustFollow(t, r, 2, 100)
	relMustFollow(t, r, 3, 100)
	relMustFollow(t, r, 4, 100)
	if _, _, err := r.DeleteSubscriptionPlus(ctx, 3); err != nil {
		t.Fatal(err)
	}

	t.Run("ListFollowers", func(t *testing.T) {
		got := relCollect(t, 2, func(f store.Follower) int64 { return f.UserID }, func(p store.Page) ([]store.Follower, string, error) {
			return r.ListFollowers(ctx, 1, p)
		})
		relWantEqual(t, got, [][]int64{{100, 101}, {103, 104}})
	})
	t.Run("ListFollowing skips deleted accounts", func(t *testing.T) {
		var subs []store.Subscription
		got := relCollect(t, 2, func(s store.Subscription) int64 { subs = append(subs, s); return s.ID },
			func(p store.Page) ([]store.Subscription, string, error) { return r.ListFollowing(ctx, 100, p) })
		relWantEqual(t, got, [][]int64{{1, 2}, {4}})
		if subs[0].FollowerCount != 4 || subs[1].FollowerCount != 1 {
			t.Fatalf("follower counts %d %d, want 4 1", subs[0].FollowerCount, subs[1].FollowerCount)
		}
	})
	t.Run("follower_count", func(t *testing.T) {
		s, err := r.GetSubscription(ctx, 1)
		if err != nil || s.FollowerCount != 4 {
			t.Fatalf("got %+v %v, want 4 followers", s, err)
		}
	})
}

// TestRelConcurrentFollow: 20 racing follows of one pair, exactly one wins
// and the rest get ErrExists (no deadlock surfaces as an error).
func TestRelConcurrentFollow(t *testing.T) {
	r, ctx := relOpen(t)
	relMustSub(t, r, 1, "a", 10)
	for round, prepare := range []func(){
		func() {}, // no row yet: racing inserts
		func() { // a left row: racing re-activations
			if _, err := r.Unfollow(ctx, 1, 100); err != nil {
				t.Fatal(err)
			}
		},
	} {
		prepare()
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = r.Follow(ctx, 1, 100) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			relWantExists(t, err, "follower")
		}
		if ok != 1 {
			t.Fatalf("round %d: %d follows succeeded, want 1", round, ok)
		}
	}
	s, err := r.GetSubscription(ctx, 1)
	if err != nil || s.FollowerCount != 1 {
		t.Fatalf("got %+v %v", s, err)
	}
}
