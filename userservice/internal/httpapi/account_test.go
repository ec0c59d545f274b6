package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/userservice/internal/config"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

type meJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Mobile    string    `json:"mobile"`
	Gender    string    `json:"gender"`
	Avatar    string    `json:"avatar"`
	CreatedAt time.Time `json:"created_at"`
	// LastSeenVisibility: everyone, friends or nobody.
	LastSeenVisibility string `json:"last_seen_visibility"`
}

type authJSON struct {
	Token string `json:"token"`
	User  meJSON `json:"user"`
}

// want checks an answer's status and, for errors, its code and field.
func want(t *testing.T, r usertest.Response, status int, code, field string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if code == "" {
		return
	}
	e := r.Err()
	if e.Code != code || e.Field != field || e.Message == "" {
		t.Fatalf("error %+v, want code %q field %q with a message; body %s", e, code, field, r.Body)
	}
}

func TestSignUpSignInMe(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)

	r := e.Do(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": " 爱达 Lovelace ", "email": "Ada@Example.COM", "password": "correct horse"})
	want(t, r, http.StatusCreated, "", "")
	var up authJSON
	r.Decode(t, &up)
	if up.Token == "" || up.User.ID == "" || up.User.Email != "ada@example.com" || up.User.Name != "爱达 Lovelace" {
		t.Fatalf("sign up answered %s", r.Body)
	}
	if strings.Contains(string(r.Body), "password") {
		t.Errorf("the answer mentions the password: %s", r.Body)
	}
	if up.User.CreatedAt.IsZero() {
		t.Errorf("created_at missing: %s", r.Body)
	}

	t.Run("duplicate email, any case", func(t *testing.T) {
		r := e.Do(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": "Other", "email": "ADA@example.com", "password": "another pass"})
		want(t, r, http.StatusConflict, "email_taken", "")
	})
	t.Run("sign in", func(t *testing.T) {
		r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": "ada@EXAMPLE.com", "password": "correct horse"})
		want(t, r, http.StatusOK, "", "")
		var in authJSON
		r.Decode(t, &in)
		if in.Token == "" || in.Token == up.Token || in.User.ID != up.User.ID {
			t.Fatalf("sign in answered %s", r.Body)
		}
		want(t, e.Do(t, "GET", "/api/v1/me", in.Token, nil), http.StatusOK, "", "")
	})
	t.Run("bad password", func(t *testing.T) {
		r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": "ada@example.com", "password": "wrong horse"})
		want(t, r, http.StatusUnauthorized, "bad_credentials", "")
	})
	t.Run("unknown email answers like a bad password", func(t *testing.T) {
		r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": "nobody@example.com", "password": "correct horse"})
		want(t, r, http.StatusUnauthorized, "bad_credentials", "")
	})
	t.Run("sign in bad input", func(t *testing.T) {
		want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": "ada@example.com"}), http.StatusBadRequest, "required", "password")
		want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"password": "x"}), http.StatusBadRequest, "required", "email")
		want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]any{"email": 1, "password": "x"}), http.StatusBadRequest, "wrong_type", "email")
		want(t, e.Raw(t, "POST", "/api/v1/auth/signin", "", "application/json", []byte(`{"email":"a@b.c",`)), http.StatusBadRequest, "bad_json", "")
		want(t, e.Raw(t, "POST", "/api/v1/auth/signin", "", "text/plain", []byte(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	})
	t.Run("me", func(t *testing.T) {
		r := e.Do(t, "GET", "/api/v1/me", up.Token, nil)
		want(t, r, http.StatusOK, "", "")
		var me meJSON
		r.Decode(t, &me)
		if me.ID != up.User.ID || me.Email != "ada@example.com" || me.Gender != "" {
			t.Errorf("me = %s", r.Body)
		}
	})
	t.Run("tokens", func(t *testing.T) {
		want(t, e.Do(t, "GET", "/api/v1/me", "", nil), http.StatusUnauthorized, "unauthenticated", "")
		want(t, e.Do(t, "GET", "/api/v1/me", "garbage", nil), http.StatusUnauthorized, "invalid_token", "")
		// Signed with another key.
		forged := up.Token[:strings.LastIndex(up.Token, ".")+1] + "c2lnbmF0dXJl"
		want(t, e.Do(t, "GET", "/api/v1/me", forged, nil), http.StatusUnauthorized, "invalid_token", "")
		req, _ := http.NewRequest("GET", e.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Basic "+up.Token)
		r := e.Send(t, req)
		want(t, r, http.StatusUnauthorized, "unauthenticated", "")
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		req.Header.Set("Authorization", "bearer "+up.Token) // the scheme is case-insensitive
		want(t, e.Send(t, req), http.StatusOK, "", "")
	})
}

func TestSignUpBadInput(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	const path = "/api/v1/auth/signup"
	ok := map[string]any{"name": "Ada", "email": "ada@example.com", "password": "correct horse"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"missing name", with("name", nil), 400, "required", "name"},
		{"blank name", with("name", "   "), 400, "required", "name"},
		{"name 33 runes", with("name", strings.Repeat("爱", 33)), 400, "invalid", "name"},
		{"name with a control character", with("name", "Ada\x07"), 400, "invalid", "name"},
		{"name wrong type", with("name", 5), 400, "wrong_type", "name"},
		{"missing email", with("email", nil), 400, "required", "email"},
		{"email not an address", with("email", "ada"), 400, "invalid", "email"},
		{"email with a display name", with("email", "Ada <ada@example.com>"), 400, "invalid", "email"},
		{"email 255 bytes", with("email", strings.Repeat("a", 64)+"@"+strings.Repeat("b", 186)+".com"), 400, "invalid", "email"},
		{"email wrong type", with("email", []string{"a@b.c"}), 400, "wrong_type", "email"},
		{"missing password", with("password", nil), 400, "required", "password"},
		{"password 7 bytes", with("password", "1234567"), 400, "invalid", "password"},
		{"password 73 bytes", with("password", strings.Repeat("p", 73)), 400, "invalid", "password"},
		{"password wrong type", with("password", true), 400, "wrong_type", "password"},
		{"unknown field", with("admin", true), 400, "unknown_field", "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want(t, e.Do(t, "POST", path, "", tt.body), tt.status, tt.code, tt.field)
		})
	}
	raw := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"malformed JSON", "application/json", `{"name":"Ada",}`, 400, "bad_json"},
		{"empty body", "application/json", ``, 400, "bad_json"},
		{"array body", "application/json", `[]`, 400, "bad_json"},
		{"two objects", "application/json", `{}{}`, 400, "bad_json"},
		{"no content type", "", `{}`, 415, "unsupported_media_type"},
		{"form", "application/x-www-form-urlencoded", `name=Ada`, 415, "unsupported_media_type"},
		{"over 1 MiB", "application/json", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "too_large"},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want(t, e.Raw(t, "POST", path, "", tt.contentType, []byte(tt.body)), tt.status, tt.code, "")
		})
	}
	t.Run("limits are inclusive", func(t *testing.T) {
		t.Parallel()
		name32 := strings.Repeat("爱", 32)
		local := strings.Repeat("a", 64)
		email254 := local + "@" + strings.Repeat("b", 185) + ".com" // 64+1+185+4 = 254
		r := e.Do(t, "POST", path, "", map[string]string{"name": name32, "email": email254, "password": strings.Repeat("p", 72)})
		want(t, r, http.StatusCreated, "", "")
		r = e.Do(t, "POST", path, "", map[string]string{"name": "A", "email": "a@example.org", "password": "12345678"})
		want(t, r, http.StatusCreated, "", "")
	})
}

func TestProfile(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")

	r := e.Do(t, "PATCH", "/api/v1/me", a.Token, map[string]string{"name": "Ada L", "mobile": "+44 (20) 7946-0000", "gender": "female"})
	want(t, r, http.StatusOK, "", "")
	var me meJSON
	r.Decode(t, &me)
	if me.Name != "Ada L" || me.Mobile != "+44 (20) 7946-0000" || me.Gender != "female" {
		t.Fatalf("patched me = %s", r.Body)
	}
	// Absent fields stay; an empty body changes nothing.
	r = e.Do(t, "PATCH", "/api/v1/me", a.Token, map[string]string{"gender": ""})
	want(t, r, http.StatusOK, "", "")
	r.Decode(t, &me)
	if me.Name != "Ada L" || me.Mobile != "+44 (20) 7946-0000" || me.Gender != "" {
		t.Fatalf("patched gender only: %s", r.Body)
	}
	want(t, e.Do(t, "PATCH", "/api/v1/me", a.Token, map[string]string{}), http.StatusOK, "", "")
	r = e.Do(t, "GET", "/api/v1/me", a.Token, nil)
	r.Decode(t, &me)
	if me.Name != "Ada L" || me.Mobile != "+44 (20) 7946-0000" || me.LastSeenVisibility != "friends" {
		t.Fatalf("me after patches (last seen visible to friends by default): %s", r.Body)
	}
	for _, v := range []string{"nobody", "everyone", "friends"} {
		r = e.Do(t, "PATCH", "/api/v1/me", a.Token, map[string]string{"last_seen_visibility": v})
		want(t, r, http.StatusOK, "", "")
		if r.Decode(t, &me); me.LastSeenVisibility != v || me.Name != "Ada L" {
			t.Fatalf("patched last_seen_visibility %s: %s", v, r.Body)
		}
	}

	bad := []struct {
		name  string
		body  map[string]any
		code  string
		field string
	}{
		{"empty name", map[string]any{"name": ""}, "required", "name"},
		{"long name", map[string]any{"name": strings.Repeat("n", 33)}, "invalid", "name"},
		{"long mobile", map[string]any{"mobile": strings.Repeat("1", 33)}, "invalid", "mobile"},
		{"letters in mobile", map[string]any{"mobile": "call me"}, "invalid", "mobile"},
		{"unknown gender", map[string]any{"gender": "robot"}, "invalid", "gender"},
		{"gender wrong type", map[string]any{"gender": 1}, "wrong_type", "gender"},
		{"unknown last_seen_visibility", map[string]any{"last_seen_visibility": "enemies", "name": "Not Stored"}, "invalid", "last_seen_visibility"},
		{"empty last_seen_visibility", map[string]any{"last_seen_visibility": ""}, "invalid", "last_seen_visibility"},
		{"unknown field", map[string]any{"email": "x@y.z"}, "unknown_field", "email"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			want(t, e.Do(t, "PATCH", "/api/v1/me", a.Token, tt.body), http.StatusBadRequest, tt.code, tt.field)
		})
	}
	r = e.Do(t, "GET", "/api/v1/me", a.Token, nil)
	if r.Decode(t, &me); me.Name != "Ada L" || me.LastSeenVisibility != "friends" {
		t.Fatalf("a refused patch changed the account: %s", r.Body)
	}
	want(t, e.Do(t, "PATCH", "/api/v1/me", "", map[string]string{"name": "x"}), http.StatusUnauthorized, "unauthenticated", "")
	want(t, e.Raw(t, "PATCH", "/api/v1/me", a.Token, "text/plain", []byte(`{}`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
}

func TestChangePasswordRevokesOlderTokens(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	// A second session of the same account.
	r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password})
	want(t, r, http.StatusOK, "", "")
	var other authJSON
	r.Decode(t, &other)

	const path = "/api/v1/me/password"
	want(t, e.Do(t, "PUT", path, a.Token, map[string]string{"old_password": "not it at all", "password": "new password"}), http.StatusForbidden, "wrong_password", "")
	want(t, e.Do(t, "PUT", path, a.Token, map[string]string{"password": "new password"}), http.StatusBadRequest, "required", "old_password")
	want(t, e.Do(t, "PUT", path, a.Token, map[string]string{"old_password": a.Password, "password": "short"}), http.StatusBadRequest, "invalid", "password")
	want(t, e.Do(t, "PUT", path, a.Token, map[string]any{"old_password": a.Password, "password": 12345678}), http.StatusBadRequest, "wrong_type", "password")
	want(t, e.Do(t, "PUT", path, "", map[string]string{"old_password": a.Password, "password": "new password"}), http.StatusUnauthorized, "unauthenticated", "")
	// The failures above revoked nothing.
	want(t, e.Do(t, "GET", "/api/v1/me", a.Token, nil), http.StatusOK, "", "")

	want(t, e.Do(t, "PUT", path, a.Token, map[string]string{"old_password": a.Password, "password": "new password"}), http.StatusNoContent, "", "")
	for _, tok := range []string{a.Token, other.Token} {
		want(t, e.Do(t, "GET", "/api/v1/me", tok, nil), http.StatusUnauthorized, "token_revoked", "")
	}
	want(t, e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": a.Password}), http.StatusUnauthorized, "bad_credentials", "")
	r = e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": a.Email, "password": "new password"})
	want(t, r, http.StatusOK, "", "")
	var fresh authJSON
	r.Decode(t, &fresh)
	want(t, e.Do(t, "GET", "/api/v1/me", fresh.Token, nil), http.StatusOK, "", "")
}

func TestTokenExpires(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.JWTTTL = time.Second }})
	a := e.NewAccount(t, "Ada")
	// exp has whole seconds: the token lives up to a second, then is refused.
	poll.Eventually(t, 5*time.Second, func() error {
		r := e.Do(t, "GET", "/api/v1/me", a.Token, nil)
		if r.Status != http.StatusUnauthorized {
			return errStatus(r)
		}
		if c := r.Err().Code; c != "token_expired" {
			t.Fatalf("expired token answered %s", r.Body)
		}
		return nil
	})
}

type statusErr struct{ r usertest.Response }

func (e statusErr) Error() string {
	return "status " + http.StatusText(e.r.Status) + ": " + string(e.r.Body)
}

func errStatus(r usertest.Response) error { return statusErr{r} }

func TestReadyzWithoutDataService(t *testing.T) {
	t.Parallel()
	e := usertest.StartWith(t, usertest.Options{Configure: func(c *config.Config) { c.DataAddr = stacktest.FreeAddr(t) }})
	want(t, e.Do(t, "GET", "/healthz", "", nil), http.StatusOK, "", "")
	want(t, e.Do(t, "GET", "/readyz", "", nil), http.StatusServiceUnavailable, "not_ready", "")
	// A store failure is a 500 that tells nothing.
	r := e.Do(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": "ada@example.com", "password": "correct horse"})
	want(t, r, http.StatusInternalServerError, "internal", "")
	if r.Err().Message != "internal error" {
		t.Errorf("500 says %s", r.Body)
	}
}
