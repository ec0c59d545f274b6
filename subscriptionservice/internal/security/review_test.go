package security

import (
	"net/http"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/apitest"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

type idJSON struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

func call(t *testing.T, e *subtest.Env, method, path, token string, body any, status int, code string) idJSON {
	t.Helper()
	r := e.Do(t, method, path, token, body)
	if r.Status != status || (code != "" && r.Err().Code != code) {
		t.Fatalf("%s %s: %d %s, want %d %s", method, path, r.Status, r.Body, status, code)
	}
	var v idJSON
	if status < 300 && len(r.Body) > 0 {
		r.Decode(t, &v)
	}
	return v
}

// inReview makes a subscription owned by owner with one article submitted
// for review; it returns the article's path under /api/v1/subscriptions and
// its id.
func inReview(t *testing.T, e *subtest.Env, owner apitest.Account) (path, id string) {
	t.Helper()
	sub := call(t, e, "POST", "/api/v1/subscriptions", owner.Token, map[string]string{"name": "News of " + owner.Name, "intro": "x"}, http.StatusCreated, "")
	art := call(t, e, "POST", "/api/v1/subscriptions/"+sub.ID+"/articles", owner.Token,
		map[string]string{"title": "Hello", "body": strings.Repeat("words ", 20)}, http.StatusCreated, "")
	path = "/api/v1/subscriptions/" + sub.ID + "/articles/" + art.ID
	call(t, e, "POST", path+"/submit", owner.Token, nil, http.StatusOK, "")
	return path, art.ID
}

// stillInReview checks the owner sees the article in review.
func stillInReview(t *testing.T, e *subtest.Env, owner apitest.Account, path string) {
	t.Helper()
	if got := call(t, e, "GET", path, owner.Token, nil, http.StatusOK, ""); got.State != "in_review" {
		t.Fatalf("state %q, want in_review", got.State)
	}
}

// Anyone may sign up with an address in REVIEWER_EMAILS, mailbox or not:
// without opening the link mailed to it, the account gets no reviewer
// right. Before email verification, signing up with the address was enough
// to approve anything.
func TestSignUpWithReviewerAddressWithoutMailboxCannotReview(t *testing.T) {
	t.Parallel()
	e := subtest.Start(t)
	author := e.NewAccount(t, "Author")
	path, aid := inReview(t, e, author)
	squatter := e.UnverifiedReviewer(t)

	call(t, e, "POST", "/api/v1/review/articles/"+aid+"/approve", squatter.Token, nil, http.StatusForbidden, "email_unverified")
	call(t, e, "POST", "/api/v1/review/articles/"+aid+"/reject", squatter.Token, map[string]string{"reason": "no"}, http.StatusForbidden, "email_unverified")
	call(t, e, "GET", "/api/v1/review/queue", squatter.Token, nil, http.StatusForbidden, "email_unverified")
	stillInReview(t, e, author, path)

	// The owner of the mailbox opens the link: now the same account reviews.
	e.VerifyEmail(t, squatter)
	if got := call(t, e, "POST", "/api/v1/review/articles/"+aid+"/approve", squatter.Token, nil, http.StatusOK, ""); got.State != "approved" {
		t.Fatalf("after verification: state %q", got.State)
	}
}

// A reviewer who owns a subscription cannot approve (or reject) its
// articles: publishing there would need no second person.
func TestReviewerCannotApproveArticlesOfOwnSubscription(t *testing.T) {
	t.Parallel()
	e := subtest.Start(t)
	reviewer := e.Reviewer(t)
	path, aid := inReview(t, e, reviewer)
	call(t, e, "POST", "/api/v1/review/articles/"+aid+"/approve", reviewer.Token, nil, http.StatusForbidden, "own_subscription")
	call(t, e, "POST", "/api/v1/review/articles/"+aid+"/reject", reviewer.Token, map[string]string{"reason": "mine"}, http.StatusForbidden, "own_subscription")
	stillInReview(t, e, reviewer, path)

	// Another author's article, the same reviewer: allowed.
	_, other := inReview(t, e, e.NewAccount(t, "Other"))
	if got := call(t, e, "POST", "/api/v1/review/articles/"+other+"/approve", reviewer.Token, nil, http.StatusOK, ""); got.State != "approved" {
		t.Fatalf("state %q", got.State)
	}
}
