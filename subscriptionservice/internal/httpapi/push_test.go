package httpapi_test

import (
	"crypto/rand"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// TestPushRetriedUntilMessageServiceUp: an article published while the
// MessageService is down is pushed by the retry loop once the real
// MessageService binary starts on the configured address; an article
// published while it is up is pushed by the publish call itself.
func TestPushRetriedUntilMessageServiceUp(t *testing.T) {
	msgAddr := stacktest.FreeAddr(t)
	e := subtest.StartWith(t, subtest.Options{Configure: func(c *config.Config) { c.MessageAddr = msgAddr }})
	owner := e.NewAccount(t, "Owner")
	fan := e.NewAccount(t, "Fan")
	reviewer := e.Reviewer(t)
	s := createSub(t, e, owner.Token, "Push "+rand.Text()[:8])
	want(t, "follow", e.UserDo(t, http.MethodPost, "/api/v1/subscriptions/"+s.ID+"/follow", fan.Token, nil), http.StatusOK)
	base := "/api/v1/subscriptions/" + s.ID + "/articles/"
	approved := func(title string) artJSON {
		a := createArticle(t, e, owner.Token, s.ID, title)
		step(t, e, owner.Token, http.MethodPost, base+a.ID+"/submit", nil, http.StatusOK)
		step(t, e, reviewer.Token, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/approve", nil, http.StatusOK)
		return a
	}

	early := approved("Published while the message service is down")
	if p := step(t, e, owner.Token, http.MethodPost, base+early.ID+"/publish", nil, http.StatusOK); p.State != "published" || p.Pushed {
		t.Fatalf("publish with the message service down: %+v", p)
	}

	stacktest.StartMessageService(t, e.Data, e.Users, nil, "GRPC_ADDR="+msgAddr, "NATS_LISTEN="+stacktest.FreeAddr(t))
	poll.Eventually(t, 60*time.Second, func() error {
		var a artJSON
		r := e.Do(t, http.MethodGet, base+early.ID, fan.Token, nil)
		if r.Status != http.StatusOK {
			return errors.New(string(r.Body))
		}
		r.Decode(t, &a)
		if !a.Pushed {
			return errors.New("not pushed yet")
		}
		return nil
	})

	late := approved("Published while the message service is up")
	if p := step(t, e, owner.Token, http.MethodPost, base+late.ID+"/publish", nil, http.StatusOK); p.State != "published" || !p.Pushed {
		t.Fatalf("publish with the message service up: %+v, want pushed at once", p)
	}
}
