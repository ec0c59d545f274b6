package httpapi_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// answer is one HTTP answer of a racing request.
type answer struct {
	status int
	state  string // of the article in a 200
	code   string // of an error body
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s%s", a.status, a.state, a.code)
}

// call is e.Do for goroutines: it reports instead of failing the test.
func call(e *subtest.Env, method, path, token string) answer {
	req, err := http.NewRequest(method, e.URL+path, nil)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.Client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{err: err}
	}
	var body struct {
		State string `json:"state"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(b, &body)
	return answer{status: resp.StatusCode, state: body.State, code: body.Error.Code}
}

// waitReview waits while the article at path is in review and reports
// whether it is approved then.
func waitReview(e *subtest.Env, path, token string) bool {
	for {
		g := call(e, http.MethodGet, path, token)
		if g.status != http.StatusOK || g.state != "in_review" {
			return g.status == http.StatusOK && g.state == "approved"
		}
	}
}

// TestDeleteRacesReviewAndPublish: for many articles in review, the
// reviewer approves, the owner publishes as soon as it may, and the owner
// deletes, all at once (half of the deletes as soon as the article is
// approved, to race the publish). Deleting an unpublished article is conditional on
// the state it read, so a delete never removes for good an article that a
// concurrent publish made published (and pushed to the followers): the
// answers always tell one order of the three steps, and the article ends as
// they say. Every answer is 2xx or 409, or 404 for a step that came after
// the article was deleted.
func TestDeleteRacesReviewAndPublish(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	reviewer := e.Reviewer(t)
	s := createSub(t, e, owner.Token, "Races "+rand.Text()[:8])
	base := "/api/v1/subscriptions/" + s.ID + "/articles/"
	const trials = 60

	ids := make([]string, trials)
	for i := range ids {
		a := createArticle(t, e, owner.Token, s.ID, fmt.Sprintf("Race %d", i))
		step(t, e, owner.Token, http.MethodPost, base+a.ID+"/submit", nil, http.StatusOK)
		ids[i] = a.ID
	}
	type outcome struct{ approve, publish, del answer }
	outcomes := make([]outcome, trials)
	var wg sync.WaitGroup
	for i, id := range ids {
		o := &outcomes[i]
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			o.approve = call(e, http.MethodPost, "/api/v1/review/articles/"+id+"/approve", reviewer.Token)
		})
		wg.Go(func() {
			<-start
			// Publish the moment approval lets it: while the article is in
			// review publish is 409, so try again.
			for {
				o.publish = call(e, http.MethodPost, base+id+"/publish", owner.Token)
				if o.publish.status != http.StatusConflict || o.publish.err != nil {
					return
				}
				if !waitReview(e, base+id, owner.Token) {
					return
				}
			}
		})
		wg.Go(func() {
			<-start
			if i%2 == 1 {
				// Half of the deletes race the publish instead of the
				// approval: they start once the article left review.
				waitReview(e, base+id, owner.Token)
			}
			o.del = call(e, http.MethodDelete, base+id, owner.Token)
		})
		close(start)
	}
	wg.Wait()

	counts := map[string]int{}
	for i, id := range ids {
		o := outcomes[i]
		final := call(e, http.MethodGet, base+id, owner.Token)
		counts[fmt.Sprintf("approve %d, publish %d, delete %d -> %d %s", o.approve.status, o.publish.status, o.del.status, final.status, final.state)]++
		bad := func(format string, args ...any) {
			t.Errorf("article %s: approve %v, publish %v, delete %v, final %v: %s", id, o.approve, o.publish, o.del, final, fmt.Sprintf(format, args...))
		}
		deleted := o.del.status == http.StatusNoContent
		for _, a := range []answer{o.approve, o.publish, o.del} {
			if a.err != nil || !(a.status/100 == 2 || a.status == http.StatusConflict || (a.status == http.StatusNotFound && deleted)) {
				bad("an answer that is not 2xx, 409, or 404 after the delete")
			}
		}
		switch {
		case o.publish.status == http.StatusOK && deleted:
			bad("a published article was deleted for good instead of withdrawn")
		case deleted && final.status != http.StatusNotFound:
			bad("deleted, yet still there")
		case o.del.status == http.StatusOK && (o.del.state != "withdrawn" || final.state != "withdrawn" || o.publish.status != http.StatusOK):
			bad("withdrawn without having been published")
		case o.publish.status == http.StatusOK && o.approve.status != http.StatusOK:
			bad("published without an approval")
		case !deleted && o.del.status != http.StatusOK:
			bad("the delete neither deleted nor withdrew")
		}
	}
	for k, n := range counts {
		t.Logf("%3d × %s", n, k)
	}
}
