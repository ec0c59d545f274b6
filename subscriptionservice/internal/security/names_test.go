package security

import (
	"net/http"
	"testing"

	"github.com/privateim/privateim/foundation/apitest"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// blankNames draw nothing, or hide a difference from another name.
var blankNames = map[string]string{
	"hangul filler":     "\u3164",
	"braille blank":     "\u2800",
	"zero-width space":  "\u200b",
	"zero-width inside": "Dai\u200bly",
	"bidi override":     "\u202eswen",
	"filler and spaces": " \u3164 \u3000 ",
}

func wantInvalidName(t *testing.T, r apitest.Response) {
	t.Helper()
	if e := r.Err(); r.Status != http.StatusBadRequest || e.Field != "name" || (e.Code != "invalid" && e.Code != "required") {
		t.Fatalf("%d %s, want 400 invalid naming the field name", r.Status, r.Body)
	}
}

// A subscription account named with characters that draw nothing
// impersonated "nobody" in a feed, and a full-width copy of another
// account's name looked like it. Creating and renaming are refused (400
// naming the field); full-width letters are folded by NFKC.
// docs/security.md, "Names that look like nobody".
func TestInvisibleSubscriptionNameRefused(t *testing.T) {
	t.Parallel()
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	var sub struct{ ID, Name string }
	r := e.Do(t, http.MethodPost, "/api/v1/subscriptions", owner.Token, map[string]string{"name": "Ｄａｉｌｙ\u3000Ｎｅｗｓ", "intro": "x"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &sub)
	if sub.Name != "Daily News" {
		t.Errorf("full-width name stored as %q, want it folded to %q", sub.Name, "Daily News")
	}
	for name, bad := range blankNames {
		t.Run(name, func(t *testing.T) {
			wantInvalidName(t, e.Do(t, http.MethodPost, "/api/v1/subscriptions", owner.Token, map[string]string{"name": bad, "intro": "x"}))
			wantInvalidName(t, e.Do(t, http.MethodPatch, "/api/v1/subscriptions/"+sub.ID, owner.Token, map[string]string{"name": bad}))
		})
	}
}
