package security_test

import (
	"net/http"
	"testing"

	"github.com/privateim/privateim/userservice/internal/usertest"
)

// blankNames look like nobody (or like someone else's name with an
// invisible difference) in a friend list or a group's member list.
var blankNames = map[string]string{
	"hangul filler":       "\u3164",
	"halfwidth filler":    "\uffa0\uffa0",
	"braille blank":       "\u2800",
	"zero-width space":    "\u200b",
	"zero-width inside":   "Ad\u200ba",
	"word joiner":         "\u2060Ada",
	"bidi override":       "\u202eadA",
	"filler and spaces":   " \u3164 \u3000 ",
	"only format chars":   "\u200c\u200d\ufeff",
	"combining mark only": "\u034f",
}

func wantInvalid(t *testing.T, r usertest.Response, field string) {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400; body %s", r.Status, r.Body)
	}
	if e := r.Err(); e.Field != field || (e.Code != "invalid" && e.Code != "required") || e.Message == "" {
		t.Fatalf("error %+v, want invalid or required naming %q", e, field)
	}
}

// TestInvisibleNameRefused signs up, renames itself, names a group and sets a
// group nickname with names that draw nothing; every one is refused with a
// 400 naming the field, and NFKC folds look-alike full-width names.
func TestInvisibleNameRefused(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	ada := e.NewAccount(t, "Ada")
	r := e.Do(t, http.MethodPost, "/api/v1/groups", ada.Token, map[string]any{"name": "Team", "member_ids": []string{}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create group: %d %s", r.Status, r.Body)
	}
	var g struct {
		ID string `json:"id"`
	}
	r.Decode(t, &g)

	for name, bad := range blankNames {
		t.Run(name, func(t *testing.T) {
			wantInvalid(t, e.Do(t, http.MethodPost, "/api/v1/auth/signup", "",
				map[string]string{"name": bad, "email": "x@example.com", "password": "correct horse"}), "name")
			wantInvalid(t, e.Do(t, http.MethodPatch, "/api/v1/me", ada.Token, map[string]string{"name": bad}), "name")
			wantInvalid(t, e.Do(t, http.MethodPost, "/api/v1/groups", ada.Token, map[string]any{"name": bad, "member_ids": []string{}}), "name")
			wantInvalid(t, e.Do(t, http.MethodPatch, "/api/v1/groups/"+g.ID, ada.Token, map[string]string{"name": bad}), "name")
			wantInvalid(t, e.Do(t, http.MethodPatch, "/api/v1/groups/"+g.ID+"/me", ada.Token, map[string]string{"nickname": bad}), "nickname")
		})
	}

	t.Run("full-width folded by NFKC", func(t *testing.T) {
		r := e.Do(t, http.MethodPatch, "/api/v1/me", ada.Token, map[string]string{"name": "Ａｄａ\u3000Ｌｅｅ"})
		if r.Status != http.StatusOK {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		var me struct {
			Name string `json:"name"`
		}
		r.Decode(t, &me)
		if me.Name != "Ada Lee" {
			t.Errorf("name %q, want the NFKC form %q", me.Name, "Ada Lee")
		}
	})
}
