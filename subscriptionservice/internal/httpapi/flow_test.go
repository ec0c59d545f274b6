package httpapi_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

type subJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Intro         string `json:"intro"`
	OwnerID       string `json:"owner_id"`
	AvatarURL     string `json:"avatar_url"`
	FollowerCount int64  `json:"follower_count"`
}

type artJSON struct {
	ID             string  `json:"id"`
	SubscriptionID string  `json:"subscription_id"`
	Title          string  `json:"title"`
	Body           string  `json:"body"`
	State          string  `json:"state"`
	RejectReason   string  `json:"reject_reason"`
	Pushed         bool    `json:"pushed"`
	PublishedAt    *string `json:"published_at"`
}

type artList struct {
	Articles      []artJSON `json:"articles"`
	NextPageToken string    `json:"next_page_token"`
}

func want(t *testing.T, what string, r apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

func wantErr(t *testing.T, what string, r apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Err().Code != code {
		t.Fatalf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
	}
}

func createSub(t *testing.T, e *subtest.Env, token, name string) subJSON {
	t.Helper()
	r := e.Do(t, http.MethodPost, "/api/v1/subscriptions", token, map[string]string{"name": name, "intro": "about " + name})
	want(t, "create subscription "+name, r, http.StatusCreated)
	var s subJSON
	r.Decode(t, &s)
	return s
}

func createArticle(t *testing.T, e *subtest.Env, token, sub, title string) artJSON {
	t.Helper()
	r := e.Do(t, http.MethodPost, "/api/v1/subscriptions/"+sub+"/articles", token,
		map[string]string{"title": title, "body": "Body of " + title + ". " + strings.Repeat("More words. ", 30)})
	want(t, "create article", r, http.StatusCreated)
	var a artJSON
	r.Decode(t, &a)
	return a
}

func step(t *testing.T, e *subtest.Env, token, method, path string, body any, status int) artJSON {
	t.Helper()
	r := e.Do(t, method, path, token, body)
	want(t, method+" "+path, r, status)
	var a artJSON
	if status == http.StatusOK {
		r.Decode(t, &a)
	}
	return a
}

// searchFinds reports whether the userservice's subscription search for q
// lists id.
func searchFinds(t *testing.T, e *subtest.Env, token, q, id string) bool {
	t.Helper()
	r := e.UserDo(t, http.MethodGet, "/api/v1/subscriptions/search?q="+url.QueryEscape(q), token, nil)
	want(t, "search "+q, r, http.StatusOK)
	var out struct {
		Subscriptions []subJSON `json:"subscriptions"`
	}
	r.Decode(t, &out)
	for _, s := range out.Subscriptions {
		if s.ID == id {
			return true
		}
	}
	return false
}

// TestFlow walks an account and an article through their whole life over
// HTTP against the real stack (the MessageService is down: the push is
// queued for retry).
func TestFlow(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	fan := e.NewAccount(t, "Fan")
	stranger := e.NewAccount(t, "Stranger")
	reviewer := e.Reviewer(t)
	word := strings.ToLower(rand.Text()[:10])

	// Accounts: create, read, duplicate, rename; the Directory indexes them
	// (a word in the middle of the name is found only through the index).
	s := createSub(t, e, owner.Token, "Weekly "+word)
	if s.OwnerID != owner.ID || s.FollowerCount != 0 || s.Intro != "about Weekly "+word {
		t.Fatalf("created %+v", s)
	}
	wantErr(t, "duplicate name", e.Do(t, http.MethodPost, "/api/v1/subscriptions", stranger.Token,
		map[string]string{"name": "Weekly " + word}), http.StatusConflict, "name_taken")
	if !searchFinds(t, e, fan.Token, word, s.ID) {
		t.Fatalf("search %q does not find the new account", word)
	}
	renamed := "Daily " + word + " news"
	r := e.Do(t, http.MethodPatch, "/api/v1/subscriptions/"+s.ID, owner.Token, map[string]string{"name": renamed})
	want(t, "rename", r, http.StatusOK)
	wantErr(t, "rename by a stranger", e.Do(t, http.MethodPatch, "/api/v1/subscriptions/"+s.ID, stranger.Token,
		map[string]string{"intro": "mine now"}), http.StatusForbidden, "not_owner")
	if !searchFinds(t, e, fan.Token, "news", s.ID) {
		t.Fatal("search for a word of the new name does not find the account")
	}
	mine := e.Do(t, http.MethodGet, "/api/v1/subscriptions/mine", owner.Token, nil)
	want(t, "mine", mine, http.StatusOK)
	if !strings.Contains(string(mine.Body), s.ID) {
		t.Fatalf("mine = %s, want %s", mine.Body, s.ID)
	}

	// The fan follows through the userservice.
	want(t, "follow", e.UserDo(t, http.MethodPost, "/api/v1/subscriptions/"+s.ID+"/follow", fan.Token, nil), http.StatusOK)
	var got subJSON
	r = e.Do(t, http.MethodGet, "/api/v1/subscriptions/"+s.ID, stranger.Token, nil)
	want(t, "get", r, http.StatusOK)
	r.Decode(t, &got)
	if got.FollowerCount != 1 || got.Name != renamed {
		t.Fatalf("get = %+v, want 1 follower and the new name", got)
	}
	r = e.Do(t, http.MethodGet, "/api/v1/subscriptions/"+s.ID+"/followers", owner.Token, nil)
	want(t, "followers", r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"user_id":"`+fan.ID+`"`) {
		t.Fatalf("followers = %s, want the fan", r.Body)
	}
	wantErr(t, "followers by a follower", e.Do(t, http.MethodGet, "/api/v1/subscriptions/"+s.ID+"/followers", fan.Token, nil),
		http.StatusForbidden, "not_owner")

	// An article from draft to published.
	base := "/api/v1/subscriptions/" + s.ID + "/articles"
	a := createArticle(t, e, owner.Token, s.ID, "First post")
	if a.State != "draft" || a.Pushed || a.PublishedAt != nil {
		t.Fatalf("created %+v", a)
	}
	wantErr(t, "write by a stranger", e.Do(t, http.MethodPost, base, stranger.Token, map[string]string{"title": "x"}),
		http.StatusForbidden, "not_owner")
	draft := createArticle(t, e, owner.Token, s.ID, "Still a draft")
	step(t, e, owner.Token, http.MethodPut, base+"/"+a.ID, map[string]string{"title": "First post!", "body": "Hello, followers."}, http.StatusOK)
	wantErr(t, "submit by a stranger", e.Do(t, http.MethodPost, base+"/"+a.ID+"/submit", stranger.Token, nil), http.StatusForbidden, "not_owner")
	if a = step(t, e, owner.Token, http.MethodPost, base+"/"+a.ID+"/submit", nil, http.StatusOK); a.State != "in_review" {
		t.Fatalf("submitted: %+v", a)
	}
	wantErr(t, "queue by a non-reviewer", e.Do(t, http.MethodGet, "/api/v1/review/queue", owner.Token, nil), http.StatusForbidden, "not_reviewer")
	wantErr(t, "approve by the owner (no reviewer)", e.Do(t, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/approve", owner.Token, nil),
		http.StatusForbidden, "not_reviewer")
	r = e.Do(t, http.MethodGet, "/api/v1/review/queue", reviewer.Token, nil)
	want(t, "queue", r, http.StatusOK)
	var q artList
	r.Decode(t, &q)
	if len(q.Articles) != 1 || q.Articles[0].ID != a.ID {
		t.Fatalf("queue = %s, want the submitted article", r.Body)
	}
	// Rejected, edited, submitted again, approved.
	wantErr(t, "reject without a reason", e.Do(t, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/reject", reviewer.Token, map[string]string{}),
		http.StatusBadRequest, "required")
	a = step(t, e, reviewer.Token, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/reject", map[string]string{"reason": "needs a summary"}, http.StatusOK)
	if a.State != "rejected" || a.RejectReason != "needs a summary" {
		t.Fatalf("rejected: %+v", a)
	}
	step(t, e, owner.Token, http.MethodPut, base+"/"+a.ID, map[string]string{"title": "First post", "body": "Hello, followers. In short: hi."}, http.StatusOK)
	step(t, e, owner.Token, http.MethodPost, base+"/"+a.ID+"/submit", nil, http.StatusOK)
	if a = step(t, e, reviewer.Token, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/approve", nil, http.StatusOK); a.State != "approved" {
		t.Fatalf("approved: %+v", a)
	}
	wantErr(t, "publish by a stranger", e.Do(t, http.MethodPost, base+"/"+a.ID+"/publish", stranger.Token, nil), http.StatusForbidden, "not_owner")
	wantErr(t, "publish by the reviewer", e.Do(t, http.MethodPost, base+"/"+a.ID+"/publish", reviewer.Token, nil), http.StatusForbidden, "not_owner")

	// Publish with the MessageService down: answered, published, queued.
	sweep := e.Server.Articles.SweepDone()
	a = step(t, e, owner.Token, http.MethodPost, base+"/"+a.ID+"/publish", nil, http.StatusOK)
	if a.State != "published" || a.Pushed || a.PublishedAt == nil {
		t.Fatalf("published: %+v, want published and not pushed", a)
	}
	select {
	case <-sweep:
	case <-time.After(30 * time.Second):
		t.Fatal("no push retry within 30s")
	}
	var again artJSON
	r = e.Do(t, http.MethodGet, base+"/"+a.ID, owner.Token, nil)
	want(t, "get published", r, http.StatusOK)
	r.Decode(t, &again)
	if again.State != "published" || again.Pushed {
		t.Fatalf("after a failed retry: %+v, want still published, not pushed", again)
	}

	// Readers: the follower sees the published article only; the owner all;
	// a stranger nothing.
	list := func(token string) artList {
		t.Helper()
		r := e.Do(t, http.MethodGet, base, token, nil)
		want(t, "list", r, http.StatusOK)
		var l artList
		r.Decode(t, &l)
		return l
	}
	if l := list(fan.Token); len(l.Articles) != 1 || l.Articles[0].ID != a.ID || l.Articles[0].RejectReason != "" {
		t.Fatalf("follower's list = %+v, want the published article alone", l)
	}
	if l := list(owner.Token); len(l.Articles) != 2 || l.Articles[0].ID != draft.ID {
		t.Fatalf("owner's list = %+v, want both, newest first", l)
	}
	wantErr(t, "list by a stranger", e.Do(t, http.MethodGet, base, stranger.Token, nil), http.StatusForbidden, "not_follower")
	wantErr(t, "a draft read by a follower", e.Do(t, http.MethodGet, base+"/"+draft.ID, fan.Token, nil), http.StatusNotFound, "article_not_found")
	want(t, "published read by a follower", e.Do(t, http.MethodGet, base+"/"+a.ID, fan.Token, nil), http.StatusOK)

	// Withdraw: marked for followers, content gone.
	wantErr(t, "withdraw by a follower", e.Do(t, http.MethodDelete, base+"/"+a.ID, fan.Token, nil), http.StatusForbidden, "not_owner")
	if w := step(t, e, owner.Token, http.MethodDelete, base+"/"+a.ID, nil, http.StatusOK); w.State != "withdrawn" {
		t.Fatalf("withdrawn: %+v", w)
	}
	if l := list(fan.Token); len(l.Articles) != 1 || l.Articles[0].State != "withdrawn" || l.Articles[0].Body != "" {
		t.Fatalf("follower's list after withdrawal = %+v", l)
	}
	// A draft is deleted for good.
	want(t, "delete draft", e.Do(t, http.MethodDelete, base+"/"+draft.ID, owner.Token, nil), http.StatusNoContent)
	wantErr(t, "deleted draft", e.Do(t, http.MethodGet, base+"/"+draft.ID, owner.Token, nil), http.StatusNotFound, "article_not_found")

	// Owner change: the new owner rules, the old one no longer.
	next := e.NewAccount(t, "Heir")
	wantErr(t, "owner change by a stranger", e.Do(t, http.MethodPut, "/api/v1/subscriptions/"+s.ID+"/owner", stranger.Token,
		map[string]string{"user_id": stranger.ID}), http.StatusForbidden, "not_owner")
	wantErr(t, "owner change to nobody", e.Do(t, http.MethodPut, "/api/v1/subscriptions/"+s.ID+"/owner", owner.Token,
		map[string]string{"user_id": "999999999"}), http.StatusNotFound, "user_not_found")
	r = e.Do(t, http.MethodPut, "/api/v1/subscriptions/"+s.ID+"/owner", owner.Token, map[string]string{"user_id": next.ID})
	want(t, "owner change", r, http.StatusOK)
	wantErr(t, "old owner renames", e.Do(t, http.MethodPatch, "/api/v1/subscriptions/"+s.ID, owner.Token,
		map[string]string{"intro": "still mine?"}), http.StatusForbidden, "not_owner")
	want(t, "new owner renames", e.Do(t, http.MethodPatch, "/api/v1/subscriptions/"+s.ID, next.Token,
		map[string]string{"intro": "new hands"}), http.StatusOK)

	// Delete: followers released, gone from lookups and search.
	wantErr(t, "delete by the old owner", e.Do(t, http.MethodDelete, "/api/v1/subscriptions/"+s.ID, owner.Token, nil), http.StatusForbidden, "not_owner")
	r = e.Do(t, http.MethodDelete, "/api/v1/subscriptions/"+s.ID, next.Token, nil)
	want(t, "delete", r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"released_followers":1`) {
		t.Fatalf("delete = %s, want 1 follower released", r.Body)
	}
	r = e.UserDo(t, http.MethodGet, "/api/v1/subscriptions/following", fan.Token, nil)
	want(t, "following", r, http.StatusOK)
	if strings.Contains(string(r.Body), s.ID) {
		t.Fatalf("following after delete = %s, want the account gone", r.Body)
	}
	wantErr(t, "get deleted", e.Do(t, http.MethodGet, "/api/v1/subscriptions/"+s.ID, next.Token, nil), http.StatusNotFound, "subscription_not_found")
	wantErr(t, "articles of deleted", e.Do(t, http.MethodGet, base, next.Token, nil), http.StatusNotFound, "subscription_not_found")
	if searchFinds(t, e, fan.Token, "news", s.ID) || searchFinds(t, e, fan.Token, "Daily", s.ID) {
		t.Fatal("search still finds the deleted account")
	}
	// The name is free again.
	createSub(t, e, stranger.Token, renamed)
}

// TestPublishQueuedForRetry: with the MessageService unreachable, publish
// answers at once with the article published and unpushed; the push loop
// keeps it in the DataService's unpushed list across retries.
func TestPublishQueuedForRetry(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	reviewer := e.Reviewer(t)
	s := createSub(t, e, owner.Token, "Retry "+rand.Text()[:8])
	base := "/api/v1/subscriptions/" + s.ID + "/articles"
	var ids []string
	for i := range 3 {
		a := createArticle(t, e, owner.Token, s.ID, fmt.Sprintf("Post %d", i))
		step(t, e, owner.Token, http.MethodPost, base+"/"+a.ID+"/submit", nil, http.StatusOK)
		step(t, e, reviewer.Token, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/approve", nil, http.StatusOK)
		p := step(t, e, owner.Token, http.MethodPost, base+"/"+a.ID+"/publish", nil, http.StatusOK)
		if p.State != "published" || p.Pushed {
			t.Fatalf("publish %d: %+v", i, p)
		}
		ids = append(ids, a.ID)
	}
	// Two retry sweeps pass; every article stays published and unpushed.
	for range 2 {
		done := e.Server.Articles.SweepDone()
		e.Server.Articles.RetryNow()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("no sweep within 30s")
		}
	}
	for _, id := range ids {
		var a artJSON
		r := e.Do(t, http.MethodGet, base+"/"+id, owner.Token, nil)
		want(t, "get", r, http.StatusOK)
		r.Decode(t, &a)
		if a.State != "published" || a.Pushed {
			t.Errorf("article %s: %+v, want published and queued", id, a)
		}
	}
	// Publishing again is a state error, not a second push.
	wantErr(t, "publish twice", e.Do(t, http.MethodPost, base+"/"+ids[0]+"/publish", owner.Token, nil), http.StatusConflict, "invalid_state")
}
