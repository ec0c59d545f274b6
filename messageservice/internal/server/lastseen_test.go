package server_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// presenceOf reads c's frames until a presence frame about u.
func presenceOf(t *testing.T, c *mstest.Client, u mstest.User) mstest.Frame {
	t.Helper()
	for {
		if f := c.Await("presence", wait); f.User == u.ID {
			return f
		}
	}
}

// lastSeenOf is the last_seen of u's profile as viewer sees it (0: absent).
func lastSeenOf(t *testing.T, st *mstest.Stack, viewer, u mstest.User) int64 {
	t.Helper()
	var p struct {
		ID       string `json:"id"`
		LastSeen *int64 `json:"last_seen"`
	}
	st.Do(t, http.MethodGet, "/users/"+u.ID, viewer.Token, nil, http.StatusOK, &p)
	if p.LastSeen == nil {
		return 0
	}
	if *p.LastSeen == 0 {
		t.Fatalf("profile of %s carries last_seen 0: absent is how none is said", u.ID)
	}
	return *p.LastSeen
}

// TestLastSeenAcrossNodes: a user with connections on two nodes goes
// offline for friends only when the last one closes, with last_seen; the
// profile shows the same time to friends while the user is offline and
// none while online; last_seen_visibility everyone shows it to others,
// nobody to no one (presence without last_seen); a user the owner has
// blacklisted never sees it.
func TestLastSeenAcrossNodes(t *testing.T) {
	st := stack(t)
	nodes := startNodes(t, st, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ada, bob, carol, dave := st.NewUser(t, "ada"), st.NewUser(t, "bob"), st.NewUser(t, "carol"), st.NewUser(t, "dave")
	st.Befriend(t, ada, bob)
	st.Befriend(t, ada, carol)
	cb := n3.Dial(t, bob, "b")

	a1, a2 := n1.Dial(t, ada, "a1"), n2.Dial(t, ada, "a2")
	if p := presenceOf(t, cb, ada); !p.Online || strings.Contains(string(p.Raw), "last_seen") {
		t.Fatalf("bob got %s, want ada online without last_seen", p.Raw)
	}
	// The presence worker stores the change before it tells friends.
	if got := lastSeenOf(t, st, bob, ada); got != 0 {
		t.Fatalf("ada is online, her profile says last seen %d", got)
	}

	adaID, _ := strconv.ParseInt(ada.ID, 10, 64)
	a1.WS.Close()
	poll.Eventually(t, wait, func() error {
		if n1.Chat().Online(adaID) {
			return fmt.Errorf("n1 still holds ada's connection")
		}
		return nil
	})
	before := time.Now().UnixMilli()
	a2.WS.Close()
	p := presenceOf(t, cb, ada)
	after := time.Now().UnixMilli()
	if p.Online || p.LastSeen < before || p.LastSeen > after {
		t.Fatalf("bob got %s, want ada offline with last_seen in [%d, %d] (her first close on n1 is no offline)", p.Raw, before, after)
	}
	seenAt := p.LastSeen
	if got := lastSeenOf(t, st, bob, ada); got != seenAt {
		t.Fatalf("bob sees ada's profile last seen %d, want %d", got, seenAt)
	}
	if got := lastSeenOf(t, st, carol, ada); got != seenAt {
		t.Fatalf("carol (a friend) sees last seen %d, want %d", got, seenAt)
	}
	if got := lastSeenOf(t, st, dave, ada); got != 0 {
		t.Fatalf("dave (no friend) sees last seen %d under the default friends", got)
	}

	st.Do(t, http.MethodPatch, "/me", ada.Token, map[string]string{"last_seen_visibility": "everyone"}, http.StatusOK, nil)
	if got := lastSeenOf(t, st, dave, ada); got != seenAt {
		t.Fatalf("dave sees last seen %d under everyone, want %d", got, seenAt)
	}
	st.Block(t, ada, carol)
	st.Block(t, ada, dave)
	if got := lastSeenOf(t, st, carol, ada); got != 0 {
		t.Fatalf("carol, blacklisted by ada, sees her last seen %d", got)
	}
	if got := lastSeenOf(t, st, dave, ada); got != 0 {
		t.Fatalf("dave, blacklisted by ada, sees her last seen %d", got)
	}

	st.Do(t, http.MethodPatch, "/me", ada.Token, map[string]string{"last_seen_visibility": "nobody"}, http.StatusOK, nil)
	if got := lastSeenOf(t, st, bob, ada); got != 0 {
		t.Fatalf("nobody: bob still sees last seen %d", got)
	}
	a3 := n1.Dial(t, ada, "a3")
	if p := presenceOf(t, cb, ada); !p.Online {
		t.Fatalf("bob got %s, want ada online", p.Raw)
	}
	a3.WS.Close()
	if p := presenceOf(t, cb, ada); p.Online || strings.Contains(string(p.Raw), "last_seen") {
		t.Fatalf("bob got %s, want ada offline without last_seen (nobody)", p.Raw)
	}
	if got := lastSeenOf(t, st, bob, ada); got != 0 {
		t.Fatalf("nobody: bob sees last seen %d", got)
	}
	st.Do(t, http.MethodPatch, "/me", ada.Token, map[string]string{"last_seen_visibility": "friends"}, http.StatusOK, nil)
	if got := lastSeenOf(t, st, bob, ada); got < seenAt {
		t.Fatalf("friends again: bob sees last seen %d, want the latest (>= %d)", got, seenAt)
	}
}
