package security_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

type personJSON struct {
	ID     string  `json:"id"`
	Friend bool    `json:"friend"`
	Mobile *string `json:"mobile"`
	Gender *string `json:"gender"`
}

func befriend(t *testing.T, e *usertest.Env, a, b usertest.Account) {
	t.Helper()
	if r := e.Do(t, http.MethodPost, "/api/v1/friends/requests", a.Token, map[string]string{"user_id": b.ID}); r.Status != http.StatusCreated {
		t.Fatalf("friend request: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, http.MethodPost, "/api/v1/friends/requests/"+a.ID+"/accept", b.Token, map[string]string{}); r.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
}

// seen is how viewer sees owner in the profile, the friend list and the
// search; ok is false when owner is missing from one of them.
func seen(t *testing.T, e *usertest.Env, viewer usertest.Account, owner usertest.Account) (profile, inFriends, inSearch personJSON, ok bool) {
	t.Helper()
	e.Do(t, http.MethodGet, "/api/v1/users/"+owner.ID, viewer.Token, nil).Decode(t, &profile)
	var fl struct {
		Friends []personJSON `json:"friends"`
	}
	e.Do(t, http.MethodGet, "/api/v1/friends?limit=100", viewer.Token, nil).Decode(t, &fl)
	var sr struct {
		Users []personJSON `json:"users"`
	}
	e.Do(t, http.MethodGet, "/api/v1/users/search?q="+url.QueryEscape(owner.Email), viewer.Token, nil).Decode(t, &sr)
	var okF, okS bool
	for _, p := range fl.Friends {
		if p.ID == owner.ID {
			inFriends, okF = p, true
		}
	}
	for _, p := range sr.Users {
		if p.ID == owner.ID {
			inSearch, okS = p, true
		}
	}
	return profile, inFriends, inSearch, profile.ID == owner.ID && okF && okS
}

func private(p personJSON) bool { return p.Mobile != nil || p.Gender != nil }

// TestBlacklistedUserSeesNoMobileOrGenderOfTheBlocker: Ada, friends with
// Bob and Carol, blacklists Bob; Bob no longer sees her mobile and gender
// in her profile, his friend list or the search, and Carol still does.
func TestBlacklistedUserSeesNoMobileOrGenderOfTheBlocker(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	ada, bob, carol := e.NewAccount(t, "Ada"), e.NewAccount(t, "Bob"), e.NewAccount(t, "Carol")
	if r := e.Do(t, http.MethodPatch, "/api/v1/me", ada.Token, map[string]string{"mobile": "+44 20 7946 0000", "gender": "female"}); r.Status != http.StatusOK {
		t.Fatalf("patch me: %d %s", r.Status, r.Body)
	}
	befriend(t, e, ada, bob)
	befriend(t, e, ada, carol)
	// The search index follows the profile asynchronously.
	poll.Eventually(t, 10*time.Second, func() error {
		if _, _, s, ok := seen(t, e, bob, ada); !ok || !private(s) {
			return errors.New("Bob does not find Ada with her mobile yet")
		}
		return nil
	})

	if r := e.Do(t, http.MethodPut, "/api/v1/blacklist/"+bob.ID, ada.Token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("blacklist: %d %s", r.Status, r.Body)
	}
	p, f, s, ok := seen(t, e, bob, ada)
	if !ok {
		t.Fatalf("Bob no longer finds Ada at all: %+v %+v %+v", p, f, s)
	}
	for where, v := range map[string]personJSON{"profile": p, "friend list": f, "search": s} {
		if private(v) {
			t.Errorf("%s: Bob, blacklisted by Ada, sees her mobile or gender: %+v", where, v)
		}
	}
	p, f, s, ok = seen(t, e, carol, ada)
	if !ok || !private(p) || !private(f) || !private(s) {
		t.Errorf("Carol, not blacklisted, lost Ada's mobile or gender: %+v %+v %+v", p, f, s)
	}
	// Only the owner's blacklist counts: Ada still sees Bob's fields.
	e.Do(t, http.MethodPatch, "/api/v1/me", bob.Token, map[string]string{"gender": "male"})
	var bp personJSON
	e.Do(t, http.MethodGet, "/api/v1/users/"+bob.ID, ada.Token, nil).Decode(t, &bp)
	if bp.Gender == nil || *bp.Gender != "male" {
		t.Errorf("Ada's view of Bob %+v, want his gender", bp)
	}
}
