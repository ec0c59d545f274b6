package mysql

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

func TestRelUsers(t *testing.T) {
	r, ctx := relOpen(t)
	start := time.Now()
	in := store.User{
		ID: 100, Email: "alice@example.com", Name: "Alice", PasswordHash: "argon2$x",
		Mobile: "+8613800000000", Gender: 2, Avatar: "https://a/1.png", QRCode: "qr://alice",
		Deleted: true, TokenVersion: 9, CreatedAt: time.Unix(1, 0), // ignored by CreateUser
	}
	alice, err := r.CreateUser(ctx, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	relWantFresh(t, alice.CreatedAt, start)
	if alice.UpdatedAt != alice.CreatedAt || alice.TokenVersion != 1 || alice.Deleted {
		t.Fatalf("created %+v: want updated = created, token_version 1, not deleted", alice)
	}
	want := in
	want.CreatedAt, want.UpdatedAt, want.TokenVersion, want.Deleted = alice.CreatedAt, alice.UpdatedAt, 1, false
	want.LastSeenVisibility = store.LastSeenFriends // the default
	relWantEqual(t, alice, want)

	t.Run("GetUser", func(t *testing.T) {
		got, err := r.GetUser(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, alice)
	})
	t.Run("GetUser unknown", func(t *testing.T) {
		_, err := r.GetUser(ctx, 999)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("GetUserByEmail", func(t *testing.T) {
		got, err := r.GetUserByEmail(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, alice)
	})
	t.Run("GetUserByEmail compares as given", func(t *testing.T) {
		_, err := r.GetUserByEmail(ctx, "ALICE@example.com")
		relWantIs(t, err, store.ErrNotFound)
	})

	for _, tc := range []struct {
		name  string
		u     store.User
		field string
	}{
		{"duplicate email", store.User{ID: 101, Email: "alice@example.com", Name: "x"}, "email"},
		{"duplicate id", store.User{ID: 100, Email: "other@example.com", Name: "x"}, "id"},
	} {
		t.Run("CreateUser "+tc.name, func(t *testing.T) {
			_, err := r.CreateUser(ctx, tc.u)
			relWantExists(t, err, tc.field)
		})
	}
	t.Run("CreateUser email differing in case", func(t *testing.T) {
		if _, err := r.CreateUser(ctx, store.User{ID: 102, Email: "Alice@example.com", Name: "Alice2"}); err != nil {
			t.Fatalf("emails are compared as given: %v", err)
		}
	})
	t.Run("CreateUser emoji and CJK", func(t *testing.T) {
		u, err := r.CreateUser(ctx, store.User{ID: 103, Email: "🍎@example.com", Name: "张伟 🍎"})
		if err != nil {
			t.Fatal(err)
		}
		// utf8mb4_unicode_ci would weigh every emoji the same; the email key must not.
		if _, err := r.CreateUser(ctx, store.User{ID: 104, Email: "🍌@example.com", Name: "x"}); err != nil {
			t.Fatalf("different emoji collide: %v", err)
		}
		got, err := r.GetUser(ctx, 103)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, got, u)
	})

	t.Run("GetUsers", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			ids  []int64
			want []int64
		}{
			{"input order", []int64{103, 100, 102}, []int64{103, 100, 102}},
			{"unknown left out", []int64{7, 100, 8, 104}, []int64{100, 104}},
			{"duplicates once", []int64{100, 100, 103, 100}, []int64{100, 103}},
			{"none known", []int64{1, 2}, nil},
			{"empty", nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				us, err := r.GetUsers(ctx, tc.ids)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, u := range us {
					got = append(got, u.ID)
				}
				relWantEqual(t, got, tc.want)
			})
		}
	})

	t.Run("UpdateUser", func(t *testing.T) {
		name, mobile, avatar, qr, hash := "Alicia", "123", "https://a/2.png", "qr://2", "new$hash"
		gender := store.Gender(1)
		deleted := true
		before := time.Now()
		got, err := r.UpdateUser(ctx, 100, store.UserUpdate{
			Name: &name, Mobile: &mobile, Gender: &gender, Avatar: &avatar, QRCode: &qr,
			PasswordHash: &hash, Deleted: &deleted, BumpTokenVersion: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		relWantFresh(t, got.UpdatedAt, before)
		want := store.User{
			ID: 100, Email: "alice@example.com", Name: name, PasswordHash: hash, Mobile: mobile, Gender: gender,
			Avatar: avatar, QRCode: qr, Deleted: true, CreatedAt: alice.CreatedAt, UpdatedAt: got.UpdatedAt, TokenVersion: 2,
			LastSeenVisibility: store.LastSeenFriends,
		}
		relWantEqual(t, got, want)
		stored, err := r.GetUser(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, stored, want)

		// Unset fields stay; no bump without asking.
		undelete := false
		got, err = r.UpdateUser(ctx, 100, store.UserUpdate{Deleted: &undelete})
		if err != nil {
			t.Fatal(err)
		}
		if got.Deleted || got.Name != name || got.TokenVersion != 2 {
			t.Fatalf("partial update: %+v", got)
		}
	})
	t.Run("UpdateUser unknown", func(t *testing.T) {
		name := "x"
		_, err := r.UpdateUser(ctx, 999, store.UserUpdate{Name: &name})
		relWantIs(t, err, store.ErrNotFound)
	})
}

func TestRelSearchUsers(t *testing.T) {
	r, ctx := relOpen(t)
	names := map[int64]string{
		1: "alice", 2: "Alan", 3: "albert", 4: "bob", 5: "ALFRED", 6: "alvin", 7: "alma", 8: "al", // 7 start with "al"
		20: "50% off", 21: "50x off", 22: "a_b", 23: "axb", 24: `a\b`, 25: `a\\b`, 26: "a!b", 27: "a!!b",
		30: "张伟", 31: "张三", 32: "李四", 33: "弓长",
	}
	for id, name := range names {
		relMustUser(t, r, id, name)
	}
	del := true
	if _, err := r.UpdateUser(ctx, 6, store.UserUpdate{Deleted: &del}); err != nil {
		t.Fatal(err)
	}
	search := func(prefix string, includeDeleted bool) func(store.Page) ([]store.User, string, error) {
		return func(p store.Page) ([]store.User, string, error) { return r.SearchUsers(ctx, prefix, includeDeleted, p) }
	}
	id := func(u store.User) int64 { return u.ID }

	for _, tc := range []struct {
		name           string
		prefix         string
		includeDeleted bool
		limit          int
		want           [][]int64
	}{
		{"pages across", "al", false, 2, [][]int64{{1, 2}, {3, 5}, {7, 8}}},
		{"includes deleted when asked", "al", true, 3, [][]int64{{1, 2, 3}, {5, 6, 7}, {8}}},
		{"exact page boundary", "al", false, 6, [][]int64{{1, 2, 3, 5, 7, 8}}},
		{"case-insensitive", "AL", false, 10, [][]int64{{1, 2, 3, 5, 7, 8}}},
		{"percent is literal", "50%", false, 10, [][]int64{{20}}},
		{"underscore is literal", "a_", false, 10, [][]int64{{22}}},
		{"backslash is literal", `a\b`, false, 10, [][]int64{{24}}},
		{"two backslashes", `a\\`, false, 10, [][]int64{{25}}},
		{"escape char is literal", "a!b", false, 10, [][]int64{{26}}},
		{"doubled escape char", "a!!", false, 10, [][]int64{{27}}},
		{"CJK prefix", "张", false, 10, [][]int64{{30, 31}}},
		{"CJK full name", "张伟", false, 10, [][]int64{{30}}},
		{"no match", "zzz", false, 10, [][]int64{nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relWantEqual(t, relCollect(t, tc.limit, id, search(tc.prefix, tc.includeDeleted)), tc.want)
		})
	}
	t.Run("next token is the last id", func(t *testing.T) {
		_, next, err := r.SearchUsers(ctx, "al", false, store.Page{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if next != "2" {
			t.Fatalf("next = %q, want \"2\"", next)
		}
	})
}

func TestRelResetPassword(t *testing.T) {
	r, ctx := relOpen(t)
	relMustUser(t, r, 1, "alice")
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

	t.Run("CreateResetToken", func(t *testing.T) {
		start := time.Now()
		tok, err := r.CreateResetToken(ctx, store.ResetToken{ID: 10, UserID: 1, TokenHash: "hash-ok", ExpiresAt: now.Add(time.Hour), Used: true})
		if err != nil {
			t.Fatal(err)
		}
		relWantFresh(t, tok.CreatedAt, start)
		if tok.Used || !tok.ExpiresAt.Equal(now.Add(time.Hour).Truncate(time.Microsecond)) {
			t.Fatalf("token %+v", tok)
		}
	})
	for _, tc := range []struct {
		name  string
		tok   store.ResetToken
		field string
	}{
		{"duplicate hash", store.ResetToken{ID: 11, UserID: 1, TokenHash: "hash-ok", ExpiresAt: now}, "token_hash"},
		{"duplicate id", store.ResetToken{ID: 10, UserID: 1, TokenHash: "other", ExpiresAt: now}, "id"},
	} {
		t.Run("CreateResetToken "+tc.name, func(t *testing.T) {
			_, err := r.CreateResetToken(ctx, tc.tok)
			relWantExists(t, err, tc.field)
		})
	}
	t.Run("CreateResetToken unknown user", func(t *testing.T) {
		_, err := r.CreateResetToken(ctx, store.ResetToken{ID: 12, UserID: 999, TokenHash: "x", ExpiresAt: now})
		relWantIs(t, err, store.ErrNotFound)
	})
	if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: 13, UserID: 1, TokenHash: "hash-expired", ExpiresAt: now}); err != nil {
		t.Fatal(err)
	}

	t.Run("GetResetToken", func(t *testing.T) {
		tok, err := r.GetResetToken(ctx, "hash-expired")
		if err != nil {
			t.Fatal(err)
		}
		if tok.ID != 13 || tok.UserID != 1 || tok.TokenHash != "hash-expired" || tok.Used || !tok.ExpiresAt.Equal(now.Truncate(time.Microsecond)) || tok.CreatedAt.IsZero() {
			t.Fatalf("token %+v", tok)
		}
		_, err = r.GetResetToken(ctx, "nope")
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("unknown token", func(t *testing.T) {
		_, err := r.ResetPasswordPlus(ctx, "nope", "new", now)
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("expired token", func(t *testing.T) {
		// Expiry is exclusive: at expires_at the token is dead.
		_, err := r.ResetPasswordPlus(ctx, "hash-expired", "new", now.Truncate(time.Microsecond))
		relWantPrecondition(t, err, "reset token expired")
	})
	t.Run("resets and bumps token version", func(t *testing.T) {
		u, err := r.ResetPasswordPlus(ctx, "hash-ok", "new$hash", now)
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != "new$hash" || u.TokenVersion != 2 || u.ID != 1 {
			t.Fatalf("user after reset: %+v", u)
		}
		stored, err := r.GetUser(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, stored, u)
	})
	t.Run("used token", func(t *testing.T) {
		if tok, err := r.GetResetToken(ctx, "hash-ok"); err != nil || !tok.Used {
			t.Fatalf("GetResetToken of a spent token = %+v, %v; want used", tok, err)
		}
		_, err := r.ResetPasswordPlus(ctx, "hash-ok", "again", now)
		relWantPrecondition(t, err, "reset token used")
		u, err := r.GetUser(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != "new$hash" || u.TokenVersion != 2 {
			t.Fatalf("a refused reset changed the user: %+v", u)
		}
	})
}

// TestRelConcurrentReset: racing resets with one token, exactly one wins.
func TestRelConcurrentReset(t *testing.T) {
	r, ctx := relOpen(t)
	relMustUser(t, r, 1, "alice")
	if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: 1, UserID: 1, TokenHash: "h", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = r.ResetPasswordPlus(ctx, "h", "p", time.Now()) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		default:
			relWantPrecondition(t, err, "reset token used")
		}
	}
	if ok != 1 {
		t.Fatalf("%d resets succeeded, want 1", ok)
	}
	u, err := r.GetUser(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if u.TokenVersion != 2 {
		t.Fatalf("token_version = %d, want 2", u.TokenVersion)
	}
}

// TestRelConcurrentCreateUser: racing creates with one email, one wins.
func TestRelConcurrentCreateUser(t *testing.T) {
	r, ctx := relOpen(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = r.CreateUser(ctx, store.User{ID: int64(i + 1), Email: "same@example.com", Name: "x"})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		relWantExists(t, err, "email")
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want 1", ok)
	}
}

func TestRelVerifyEmail(t *testing.T) {
	r, ctx := relOpen(t)
	relMustUser(t, r, 1, "alice")
	relMustUser(t, r, 2, "bob")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(id, user int64, hash string, exp time.Time) {
		t.Helper()
		if _, err := r.CreateEmailToken(ctx, store.EmailToken{ID: id, UserID: user, TokenHash: hash, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	mk(1, 1, "e-ok", now.Add(time.Hour))
	mk(2, 1, "e-second", now.Add(time.Hour))
	mk(3, 1, "e-expired", now)
	mk(4, 2, "e-bob", now.Add(time.Hour))
	if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: 5, UserID: 2, TokenHash: "r-bob", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	t.Run("duplicate hash", func(t *testing.T) {
		_, err := r.CreateEmailToken(ctx, store.EmailToken{ID: 9, UserID: 1, TokenHash: "e-ok", ExpiresAt: now})
		relWantExists(t, err, "token_hash")
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := r.CreateEmailToken(ctx, store.EmailToken{ID: 9, UserID: 999, TokenHash: "x", ExpiresAt: now})
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("a reset token is not an email token", func(t *testing.T) {
		_, err := r.VerifyEmailPlus(ctx, "r-bob", now)
		relWantIs(t, err, store.ErrNotFound)
		if _, err := r.ResetPasswordPlus(ctx, "e-bob", "h", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("email token spent as a reset token: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		_, err := r.VerifyEmailPlus(ctx, "e-expired", now)
		relWantPrecondition(t, err, "email token expired")
	})
	t.Run("new users are unverified", func(t *testing.T) {
		u, err := r.GetUser(ctx, 1)
		if err != nil || u.EmailVerified {
			t.Fatalf("user %+v err %v", u, err)
		}
	})
	t.Run("verifies and spends the user's other tokens", func(t *testing.T) {
		u, err := r.VerifyEmailPlus(ctx, "e-ok", now)
		if err != nil {
			t.Fatal(err)
		}
		if !u.EmailVerified || u.ID != 1 {
			t.Fatalf("user after verify: %+v", u)
		}
		stored, err := r.GetUser(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		relWantEqual(t, stored, u)
		_, err = r.VerifyEmailPlus(ctx, "e-second", now)
		relWantPrecondition(t, err, "email token used")
		_, err = r.VerifyEmailPlus(ctx, "e-ok", now)
		relWantPrecondition(t, err, "email token used")
		bob, err := r.GetUser(ctx, 2)
		if err != nil || bob.EmailVerified {
			t.Fatalf("bob %+v err %v", bob, err)
		}
	})
}

// TestRelPasswordSpendsResetTokens: a change or a reset of the password
// spends every reset token of the user still unused, in the same
// transaction; other users' tokens stay.
func TestRelPasswordSpendsResetTokens(t *testing.T) {
	r, ctx := relOpen(t)
	relMustUser(t, r, 1, "alice")
	relMustUser(t, r, 2, "bob")
	now := time.Now()
	for i, h := range []string{"a1", "a2", "a3"} {
		if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: int64(10 + i), UserID: 1, TokenHash: h, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: 20, UserID: 2, TokenHash: "b1", ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	t.Run("change", func(t *testing.T) {
		u, err := r.ChangePasswordPlus(ctx, 1, "changed$hash")
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != "changed$hash" || u.TokenVersion != 2 {
			t.Fatalf("user after change: %+v", u)
		}
		_, err = r.ResetPasswordPlus(ctx, "a1", "reset$hash", now)
		relWantPrecondition(t, err, "reset token used")
	})
	t.Run("change of an unknown user", func(t *testing.T) {
		_, err := r.ChangePasswordPlus(ctx, 999, "x")
		relWantIs(t, err, store.ErrNotFound)
	})
	t.Run("reset spends the others", func(t *testing.T) {
		if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: 30, UserID: 1, TokenHash: "a4", ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.CreateResetToken(ctx, store.ResetToken{ID: 31, UserID: 1, TokenHash: "a5", ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ResetPasswordPlus(ctx, "a4", "reset$hash", now); err != nil {
			t.Fatal(err)
		}
		_, err := r.ResetPasswordPlus(ctx, "a5", "again", now)
		relWantPrecondition(t, err, "reset token used")
		u, err := r.GetUser(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != "reset$hash" || u.TokenVersion != 3 {
			t.Fatalf("user after reset: %+v", u)
		}
	})
	t.Run("other users keep theirs", func(t *testing.T) {
		if _, err := r.ResetPasswordPlus(ctx, "b1", "bob$hash", now); err != nil {
			t.Fatalf("bob's token was spent by alice's password change: %v", err)
		}
	})
}

// TestRelBanned: banned is stored, read back and cleared by UpdateUser.
func TestRelBanned(t *testing.T) {
	r, ctx := relOpen(t)
	relMustUser(t, r, 1, "alice")
	yes, no := true, false
	u, err := r.UpdateUser(ctx, 1, store.UserUpdate{Banned: &yes, BumpTokenVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Banned || u.TokenVersion != 2 {
		t.Fatalf("after ban: %+v", u)
	}
	if u, err = r.GetUser(ctx, 1); err != nil || !u.Banned {
		t.Fatalf("stored: %+v, %v", u, err)
	}
	if u, err = r.UpdateUser(ctx, 1, store.UserUpdate{Banned: &no}); err != nil || u.Banned || u.TokenVersion != 2 {
		t.Fatalf("after unban: %+v, %v", u, err)
	}
}

// TestRelPresence: a new user is seen by friends by default and has no
// last seen; offline stores the time, online clears it, an older change
// than the last applied is ignored whatever order they arrive in, and the
// visibility is set by UpdateUser.
func TestRelPresence(t *testing.T) {
	r, ctx := relOpen(t)
	if u := relMustUser(t, r, 1, "alice"); u.LastSeenVisibility != store.LastSeenFriends || u.LastSeenMS != 0 {
		t.Fatalf("new user: %+v", u)
	}
	if u, err := r.GetUser(ctx, 1); err != nil || u.LastSeenVisibility != store.LastSeenFriends || u.LastSeenMS != 0 {
		t.Fatalf("stored new user: %+v, %v", u, err)
	}
	steps := []struct {
		name    string
		online  bool
		at      int64
		applied bool
		want    int64 // last_seen_ms after
	}{
		{"online", true, 1000, true, 0},
		{"offline", false, 2000, true, 2000},
		{"an older online arrives late", true, 1500, false, 2000},
		{"the same change again", false, 2000, true, 2000},
		{"online again", true, 3000, true, 0},
		{"an older offline arrives late", false, 2500, false, 0},
		{"offline again", false, 4000, true, 4000},
	}
	for _, s := range steps {
		p, err := r.SetPresence(ctx, 1, s.online, s.at)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if p.Applied != s.applied || p.LastSeenMS != s.want || p.LastSeenVisibility != store.LastSeenFriends {
			t.Fatalf("%s: %+v, want applied %v last seen %d", s.name, p, s.applied, s.want)
		}
	}
	if u, err := r.GetUser(ctx, 1); err != nil || u.LastSeenMS != 4000 {
		t.Fatalf("stored: %+v, %v", u, err)
	}
	nobody := store.LastSeenNobody
	u, err := r.UpdateUser(ctx, 1, store.UserUpdate{LastSeenVisibility: &nobody})
	if err != nil || u.LastSeenVisibility != store.LastSeenNobody || u.LastSeenMS != 4000 {
		t.Fatalf("after setting nobody: %+v, %v", u, err)
	}
	if p, err := r.SetPresence(ctx, 1, true, 5000); err != nil || p.LastSeenVisibility != store.LastSeenNobody {
		t.Fatalf("presence reports the visibility: %+v, %v", p, err)
	}
	_, err = r.SetPresence(ctx, 99, false, 1)
	relWantIs(t, err, store.ErrNotFound)
}
