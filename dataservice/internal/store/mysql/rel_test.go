package mysql

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	"github.com/privateim/privateim/dataservice/internal/store/mysql/mysqltest"
)

// relOpen gives the test a Relational over its own fresh database.
func relOpen(t *testing.T) (*Relational, context.Context) {
	t.Helper()
	ctx := t.Context()
	db, err := Open(ctx, mysqltest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return NewRelational(db), ctx
}

func relMustUser(t *testing.T, r *Relational, id int64, name string) store.User {
	t.Helper()
	u, err := r.CreateUser(t.Context(), store.User{ID: id, Email: name + "@example.com", Name: name, PasswordHash: "h"})
	if err != nil {
		t.Fatalf("create user %d: %v", id, err)
	}
	return u
}

func relWantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func relWantExists(t *testing.T, err error, field string) {
	t.Helper()
	var ee *store.ExistsError
	if !errors.As(err, &ee) || !errors.Is(err, store.ErrExists) {
		t.Fatalf("err = %v, want ExistsError{%q}", err, field)
	}
	if ee.Field != field {
		t.Fatalf("ExistsError.Field = %q, want %q", ee.Field, field)
	}
}

func relWantPrecondition(t *testing.T, err error, reason string) {
	t.Helper()
	var pe *store.PreconditionError
	if !errors.As(err, &pe) || !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("err = %v, want PreconditionError{%q}", err, reason)
	}
	if pe.Reason != reason {
		t.Fatalf("PreconditionError.Reason = %q, want %q", pe.Reason, reason)
	}
}

func relWantEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

// relWantFresh checks a time the adapter set: UTC, microsecond precision,
// not before the test began.
func relWantFresh(t *testing.T, ts, since time.Time) {
	t.Helper()
	if ts.Location() != time.UTC || ts.Nanosecond()%1000 != 0 || ts.Before(since.Truncate(time.Microsecond)) {
		t.Fatalf("time %v: want UTC, microseconds, not before %v", ts, since)
	}
}

// relCollect pages through a list with the given limit and returns every
// page's keys, checking that only the last page has no next token.
func relCollect[T any](t *testing.T, limit int, key func(T) int64, list func(store.Page) ([]T, string, error)) [][]int64 {
	t.Helper()
	var pages [][]int64
	p := store.Page{Limit: limit}
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("paging does not end")
		}
		rows, next, err := list(p)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		var keys []int64
		for _, r := range rows {
			keys = append(keys, key(r))
		}
		pages = append(pages, keys)
		if next == "" {
			return pages
		}
		if len(rows) != limit {
			t.Fatalf("page %d has %d rows and a next token, want %d", i, len(rows), limit)
		}
		p.After = next
	}
}

func TestRelPingClose(t *testing.T) {
	r, ctx := relOpen(t)
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	// Close leaves the shared *sql.DB open.
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("ping after close: %v", err)
	}
}

func TestRelLikePrefix(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "abc", "abc%"},
		{"percent", "50%", "50!%%"},
		{"underscore", "a_b", "a!_b%"},
		{"escape char", "a!b", "a!!b%"},
		{"backslash is literal", `a\b`, `a\b%`},
		{"cjk", "张", "张%"},
		{"empty", "", "%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := relLikePrefix(tc.in); got != tc.want {
				t.Fatalf("relLikePrefix(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRelBadPageToken runs every list with tokens it never hands out.
func TestRelBadPageToken(t *testing.T) {
	r, ctx := relOpen(t)
	lists := map[string]func(store.Page) error{
		"SearchUsers": func(p store.Page) error { _, _, err := r.SearchUsers(ctx, "a", false, p); return err },
		"ListFriendships": func(p store.Page) error {
			_, _, err := r.ListFriendships(ctx, store.FriendshipFilter{UserID: 1, Direction: store.Outgoing}, p)
			return err
		},
		"FriendsInfoPlus":          func(p store.Page) error { _, _, err := r.FriendsInfoPlus(ctx, 1, p); return err },
		"SearchGroups":             func(p store.Page) error { _, _, err := r.SearchGroups(ctx, "a", false, p); return err },
		"ListGroupsByMember":       func(p store.Page) error { _, _, err := r.ListGroupsByMember(ctx, 1, false, p); return err },
		"ListMemberships":          func(p store.Page) error { _, _, err := r.ListMemberships(ctx, 1, p); return err },
		"ListGroupMembers":         func(p store.Page) error { _, _, err := r.ListGroupMembers(ctx, 1, false, p); return err },
		"GroupMembersInfoPlus":     func(p store.Page) error { _, _, err := r.GroupMembersInfoPlus(ctx, 1, p); return err },
		"SearchSubscriptions":      func(p store.Page) error { _, _, err := r.SearchSubscriptions(ctx, "a", false, p); return err },
		"ListSubscriptionsByOwner": func(p store.Page) error { _, _, err := r.ListSubscriptionsByOwner(ctx, 1, false, p); return err },
		"ListFollowers":            func(p store.Page) error { _, _, err := r.ListFollowers(ctx, 1, p); return err },
		"ListFollowing":            func(p store.Page) error { _, _, err := r.ListFollowing(ctx, 1, p); return err },
	}
	for name, list := range lists {
		for _, tok := range []string{"abc", "-5", "0", "1.5", " 1", "99999999999999999999"} {
			t.Run(name+"/"+tok, func(t *testing.T) {
				relWantIs(t, list(store.Page{Limit: 10, After: tok}), store.ErrBadPageToken)
			})
		}
		t.Run(name+"/valid", func(t *testing.T) {
			if err := list(store.Page{Limit: 10, After: "42"}); err != nil {
				t.Fatalf("valid token: %v", err)
			}
		})
	}
}
