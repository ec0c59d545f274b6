package httpapi_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

type wsMessage struct {
	Type         string          `json:"type"`
	Conversation string          `json:"conversation"`
	From         string          `json:"from"`
	Content      json.RawMessage `json:"content"`
}

// dialWS connects token's user to the messageservice.
func dialWS(t *testing.T, url, token string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	c, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// awaitMessage reads frames until a message frame of conversation arrives.
func awaitMessage(t *testing.T, c *websocket.Conn, conversation string) wsMessage {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		var m wsMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for a message in %s: %v", conversation, err)
		}
		if m.Type == "message" && m.Conversation == conversation {
			return m
		}
	}
}

// TestPublishReachesWebSocketFollowers: the whole flow end to end through
// the real MessageService: a follower online when the article is
// published gets it over its WebSocket at once; one who connects later gets
// it on connect. The content is the article's summary frame.
func TestPublishReachesWebSocketFollowers(t *testing.T) {
	msgAddr := stacktest.FreeAddr(t)
	e := subtest.StartWith(t, subtest.Options{Configure: func(c *config.Config) { c.MessageAddr = msgAddr }})
	m := stacktest.StartMessageService(t, e.Data, e.Users, nil, "GRPC_ADDR="+msgAddr, "NATS_LISTEN="+stacktest.FreeAddr(t))
	owner := e.NewAccount(t, "Owner")
	online := e.NewAccount(t, "Online fan")
	offline := e.NewAccount(t, "Offline fan")
	reviewer := e.Reviewer(t)
	s := createSub(t, e, owner.Token, "Live "+rand.Text()[:8])
	for _, f := range []apitest.Account{online, offline} {
		want(t, "follow", e.UserDo(t, http.MethodPost, "/api/v1/subscriptions/"+s.ID+"/follow", f.Token, nil), http.StatusOK)
	}
	ws := dialWS(t, m.URL(), online.Token)

	base := "/api/v1/subscriptions/" + s.ID + "/articles/"
	r := e.Do(t, http.MethodPost, "/api/v1/subscriptions/"+s.ID+"/articles", owner.Token, map[string]string{
		"title": "Hello, followers", "body": "The first article of this account.", "cover_url": "https://example.com/c.png"})
	want(t, "create", r, http.StatusCreated)
	var a artJSON
	r.Decode(t, &a)
	step(t, e, owner.Token, http.MethodPost, base+a.ID+"/submit", nil, http.StatusOK)
	step(t, e, reviewer.Token, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/approve", nil, http.StatusOK)
	if p := step(t, e, owner.Token, http.MethodPost, base+a.ID+"/publish", nil, http.StatusOK); !p.Pushed {
		t.Fatalf("publish: %+v, want pushed", p)
	}

	conv := "s:" + s.ID
	check := func(who string, msg wsMessage) {
		t.Helper()
		var c map[string]string
		if err := json.Unmarshal(msg.Content, &c); err != nil {
			t.Fatalf("%s: content %s: %v", who, msg.Content, err)
		}
		wantContent := map[string]string{"kind": "article", "article_id": a.ID, "title": "Hello, followers",
			"summary": "The first article of this account.", "cover_url": "https://example.com/c.png"}
		for k, v := range wantContent {
			if c[k] != v {
				t.Errorf("%s: content[%s] = %q, want %q (%s)", who, k, c[k], v, msg.Content)
			}
		}
	}
	check("online follower", awaitMessage(t, ws, conv))
	check("follower connecting later", awaitMessage(t, dialWS(t, m.URL(), offline.Token), conv))
}
