package security

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// friends starts a stack and a node with cfg changed by configure, and
// returns two friends connected to it.
func friends(t *testing.T, configure func(*config.Config)) (*mstest.Stack, *mstest.Node, mstest.User, mstest.User) {
	t.Helper()
	st := mstest.StartStack(t)
	cfg := st.Config()
	if configure != nil {
		configure(&cfg)
	}
	n := st.StartNode(t, cfg)
	a, b := st.NewUser(t, "Ada"), st.NewUser(t, "Bob")
	st.Befriend(t, a, b)
	return st, n, a, b
}

// oneMessage starts friends a and b with a connection each (ca, cb) caught
// up, and sends one message from a to b, which b has received.
func oneMessage(t *testing.T, configure func(*config.Config)) (st *mstest.Stack, a, b mstest.User, ca, cb *mstest.Client, sent mstest.Frame) {
	t.Helper()
	st, n, a, b := friends(t, configure)
	ca, cb = n.Dial(t, a, "a1"), n.Dial(t, b, "b1")
	// Catch-up ends with the read state as it stands (docs/websocket.md,
	// "Read state and receipts"): let it end before anything is stored, so
	// that it adds no frame to those the tests count.
	n.Settle(t)
	sent = sendOne(t, ca, b.ID)
	cb.Await("message", wait)
	return st, a, b, ca, cb, sent
}

// sendOne sends one message from c to user to and returns its sent frame.
func sendOne(t *testing.T, c *mstest.Client, to string) mstest.Frame {
	t.Helper()
	c.Send("m-"+rand.Text()[:8], "user", to, "hello")
	return c.Await("sent", wait)
}

// retryAfter is the retry_after (ms) of a rate_limited error frame.
func retryAfter(t *testing.T, f mstest.Frame) int64 {
	t.Helper()
	var e struct {
		RetryAfter int64 `json:"retry_after"`
	}
	if err := json.Unmarshal(f.Raw, &e); err != nil {
		t.Fatal(err)
	}
	return e.RetryAfter
}

func count(fs []mstest.Frame, typ, code string) int {
	n := 0
	for _, f := range fs {
		if f.Type == typ && (code == "" || f.Code == code) {
			n++
		}
	}
	return n
}

// One read frame fans out to every socket of every participant: a client
// looping on `read` made the node write receipts as fast as it could.
func TestReadFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	_, _, _, ca, cb, sent := oneMessage(t, func(c *config.Config) { c.ReadRate = config.Rate{PerSecond: 0.1, Burst: 3} })
	for range 20 {
		cb.WriteJSON(map[string]any{"type": "read", "conversation": sent.Conversation, "seq": sent.Seq})
	}
	got := cb.UntilPong(wait)
	limited := count(got, "error", "rate_limited")
	if limited < 15 {
		t.Fatalf("%d of 20 reads refused as rate_limited, want at least 15: %v", limited, got)
	}
	for _, f := range got {
		if f.Type == "error" && retryAfter(t, f) <= 0 {
			t.Fatalf("rate_limited without retry_after: %s", f.Raw)
		}
	}
	if receipts := count(ca.UntilPong(wait), "read", ""); receipts != 20-limited {
		t.Fatalf("the sender got %d read receipts, want one per read taken (%d)", receipts, 20-limited)
	}
}

// floodIsLimited floods one kind of frame (made by frameOf) from one
// connection of b, on a node whose per-user limit of that kind is a burst
// of 3 that never refills and that closes a connection after 5 refusals:
// the 4th and 5th frame are answered rate_limited naming the limit with a
// retry_after; another connection of the same user is refused at once (the
// bucket is the user's, not the connection's) while another user is
// untouched; going on closes the flooding connection with 4008, and the
// user's other connection stays open.
//
// handled checks what the flooder got back for its 5 frames (the 2
// refusals among them) and what the peer got: that the burst was handled.
func floodIsLimited(t *testing.T, kind string, set func(*config.Config, config.Rate), frameOf func(conv string, seq int64) map[string]any, handled func(flooder []mstest.Frame, peer *mstest.Client) error) {
	t.Helper()
	_, n, a, b := friends(t, func(c *config.Config) {
		set(c, config.Rate{PerSecond: 0.001, Burst: 3}) // a frame every 1000 s after the burst
		c.RefusedRate = config.Rate{PerSecond: 0.001, Burst: 5}
	})
	ca, cb := n.Dial(t, a, "a1"), n.Dial(t, b, "b1")
	sent := sendOne(t, ca, b.ID)
	cb.Await("message", wait)
	f := frameOf(sent.Conversation, sent.Seq)

	for range 5 {
		cb.WriteJSON(f)
	}
	got := cb.UntilPong(wait)
	if limited := count(got, "error", "rate_limited"); limited != 2 {
		t.Fatalf("5 %s frames over a burst of 3: %d refused as rate_limited, want 2: %v", kind, limited, got)
	}
	for _, fr := range got {
		if fr.Type != "error" {
			continue
		}
		if retryAfter(t, fr) <= 0 || !strings.Contains(string(fr.Raw), "over the "+kind+" rate limit") {
			t.Fatalf("refusal %s: want retry_after and the %s limit named", fr.Raw, kind)
		}
	}
	if err := handled(got, ca); err != nil {
		t.Fatalf("the burst of %s frames: %v", kind, err)
	}

	cb2 := n.Dial(t, b, "b2")
	cb2.WriteJSON(f)
	if got := cb2.UntilPong(wait); count(got, "error", "rate_limited") != 1 {
		t.Fatalf("the same user's other connection: %v, want its %s refused (per-user bucket)", got, kind)
	}
	ca.WriteJSON(frameOf(sent.Conversation, sent.Seq))
	if got := ca.UntilPong(wait); count(got, "error", "rate_limited") != 0 {
		t.Fatalf("another user's %s was refused: %v", kind, got)
	}

	for range 20 {
		if err := cb.WS.WriteJSON(f); err != nil {
			break // closed already
		}
	}
	if code, _ := cb.ExpectClose(wait); code != chat.CloseRateLimited {
		t.Fatalf("close code %d after a %s flood, want %d", code, kind, chat.CloseRateLimited)
	}
	if got := cb2.UntilPong(wait); count(got, "error", "") != 0 {
		t.Fatalf("the user's other connection after the flood: %v", got)
	}
}

// Each sync reads history from the DataService: a client looping on it
// made the node read as fast as the client could ask.
func TestSyncFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	floodIsLimited(t, "sync", func(c *config.Config, r config.Rate) { c.SyncRate = r },
		func(conv string, _ int64) map[string]any {
			return map[string]any{"type": "sync", "conversation": conv, "after_seq": 0}
		},
		func(fs []mstest.Frame, _ *mstest.Client) error {
			if h := count(fs, "history", ""); h != 3 {
				return fmt.Errorf("%d history frames, want 3: %v", h, fs)
			}
			return nil
		})
}

// An ack of a conversation the connection was not sent reads the DataService
// twice, and every ack writes a cursor: acks were limited only by the
// 200 frames a second of any kind.
func TestAckFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	floodIsLimited(t, "ack", func(c *config.Config, r config.Rate) { c.AckRate = r },
		func(conv string, seq int64) map[string]any {
			return map[string]any{"type": "ack", "conversation": conv, "seq": seq}
		},
		func(fs []mstest.Frame, _ *mstest.Client) error {
			if len(fs) != 2 { // a handled ack answers nothing
				return fmt.Errorf("answered %v, want the 2 refusals alone", fs)
			}
			return nil
		})
}

// Typing frames read the participants and fan out to a group's members.
func TestTypingFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	floodIsLimited(t, "typing", func(c *config.Config, r config.Rate) { c.TypingRate = r },
		func(conv string, _ int64) map[string]any {
			return map[string]any{"type": "typing", "conversation": conv}
		},
		func(fs []mstest.Frame, peer *mstest.Client) error {
			if len(fs) != 2 { // a handled typing frame answers nothing
				return fmt.Errorf("answered %v, want the 2 refusals alone", fs)
			}
			// The first is forwarded, the next two within TypingInterval dropped.
			if got := peer.UntilPong(wait); count(got, "typing", "") != 1 {
				return fmt.Errorf("the peer got %v, want one typing notice", got)
			}
			return nil
		})
}

// Frames of any kind (pings here, which have no limit of their own) are
// counted per user over all the user's connections on the node: opening
// more connections earned a fresh FRAME_RATE_CONN each. Once one connection
// has spent the user's budget, the user's other connection is refused too,
// and another user is not.
func TestFramesOfOneUserAreCountedOverTheirConnections(t *testing.T) {
	t.Parallel()
	_, n, a, b := friends(t, func(c *config.Config) {
		c.FramesPerConn = config.Rate{} // off: only the user's bucket counts
		c.FramesPerUser = config.Rate{PerSecond: 0.001, Burst: 20}
		c.RefusedRate = config.Rate{} // no close: this test is about the refusals
	})
	c1, c2 := n.Dial(t, b, "b1"), n.Dial(t, b, "b2") // one ping each
	const flood = 30
	for range flood {
		c1.WriteJSON(map[string]string{"type": "ping"})
	}
	var pongs, limited int
	for range flood {
		switch f := c1.Next(wait); {
		case f.Type == "pong":
			pongs++
		case f.Type == "error" && f.Code == "rate_limited" && strings.Contains(string(f.Raw), "over the user rate limit") && retryAfter(t, f) > 0:
			limited++
		default:
			t.Fatalf("unexpected frame %s", f.Raw)
		}
	}
	if pongs != 18 || limited != flood-18 {
		t.Fatalf("%d pongs and %d refusals of %d pings, want 18 (a burst of 20, 2 spent dialling) and %d", pongs, limited, flood, flood-18)
	}
	c2.WriteJSON(map[string]string{"type": "ping"})
	if f := c2.Next(wait); f.Type != "error" || f.Code != "rate_limited" || !strings.Contains(string(f.Raw), "user rate limit") {
		t.Fatalf("the user's other connection: %s, want rate_limited by the user limit", f.Raw)
	}
	// The pong itself says a's ping was taken; b's presence (a friend
	// online) may come before it, any other frame is wrong.
	ca := n.Dial(t, a, "a1")
	for _, f := range ca.UntilPong(wait) {
		if f.Type != "presence" || f.User != b.ID {
			t.Fatalf("another user got %s, want only a pong (b's presence aside)", f.Raw)
		}
	}
}

// A connection that goes on flooding after being refused is closed.
func TestSustainedFrameFloodClosesTheConnection(t *testing.T) {
	t.Parallel()
	_, n, a, _ := friends(t, func(c *config.Config) {
		c.FramesPerConn = config.Rate{PerSecond: 2, Burst: 5}
		c.RefusedRate = config.Rate{PerSecond: 1, Burst: 5}
	})
	c := n.Dial(t, a, "a1")
	for range 40 {
		if err := c.WS.WriteMessage(1, []byte(`{"type":"ping"}`)); err != nil {
			break // closed already
		}
	}
	if code, _ := c.ExpectClose(wait); code != chat.CloseRateLimited {
		t.Fatalf("close code %d, want %d", code, chat.CloseRateLimited)
	}
}

// A receipt for a message that does not exist (past the head) went to the
// peer as if read.
func TestReadPastTheLastMessageIsRefused(t *testing.T) {
	t.Parallel()
	_, _, _, ca, cb, sent := oneMessage(t, nil)
	readRefused(t, cb, ca, sent.Conversation, sent.Seq+1000, "bad_frame")
}

// readRefused sends a read of conv up to seq on from and wants it refused
// with code, and no receipt on peer.
func readRefused(t *testing.T, from, peer *mstest.Client, conv string, seq int64, code string) {
	t.Helper()
	peer.UntilPong(wait) // what came before
	from.WriteJSON(map[string]any{"type": "read", "conversation": conv, "seq": seq})
	if got := from.UntilPong(wait); count(got, "error", code) != 1 {
		t.Fatalf("read of %s up to %d answered %v, want one %s error", conv, seq, got, code)
	}
	if got := peer.UntilPong(wait); count(got, "read", "") != 0 {
		t.Fatalf("the peer got a receipt: %v", got)
	}
}

// A user blacklisted by the peer sent read receipts to the peer anyway.
func TestReadToAPeerWhoBlockedYouIsRefused(t *testing.T) {
	t.Parallel()
	st, a, b, ca, cb, sent := oneMessage(t, nil)
	st.Block(t, a, b)
	// The block reaches the node as a relation event: poll until it is
	// applied; from then on the peer gets no receipt.
	poll.Eventually(t, wait, func() error {
		cb.WriteJSON(map[string]any{"type": "read", "conversation": sent.Conversation, "seq": sent.Seq})
		if got := cb.UntilPong(wait); count(got, "error", "blocked") == 0 {
			return fmt.Errorf("read answered %v, want a blocked error", got)
		}
		return nil
	})
	readRefused(t, cb, ca, sent.Conversation, sent.Seq, "blocked")
}

// Frames naming group ids nobody made (sync, read, send) each left a node
// in the group cache until the daily pruning.
func TestMadeUpGroupIdsDoNotGrowCache(t *testing.T) {
	t.Parallel()
	_, n, a, _ := friends(t, nil)
	c := n.Dial(t, a, "a1")
	const ids = 100
	for range ids {
		id, _ := rand.Int(rand.Reader, big.NewInt(1<<50))
		c.WriteJSON(map[string]any{"type": "sync", "conversation": fmt.Sprintf("g:%d", id.Int64()+1<<52)})
	}
	got := c.UntilPong(3 * wait) // each reads the DataService
	if refused := count(got, "error", "no_such_target"); refused != ids {
		t.Fatalf("%d of %d syncs of made-up groups answered no_such_target: %v", refused, ids, got[:min(len(got), 3)])
	}
	if g := n.Chat().Stats().Groups; g != 0 {
		t.Fatalf("%d group nodes cached after syncs of %d made-up groups, want 0", g, ids)
	}
}

// Sends to user ids nobody has grew the relation cache without bound.
func TestMadeUpUserIdsDoNotGrowRelationCache(t *testing.T) {
	t.Parallel()
	_, n, a, _ := friends(t, func(c *config.Config) { c.RelationCache = 10 })
	c := n.Dial(t, a, "a1")
	const ids = 50
	for i := range ids {
		c.Send(fmt.Sprintf("m%d", i), "user", fmt.Sprint(1<<52+i), "hi")
	}
	if refused := count(c.UntilPong(3*wait), "error", "no_such_target"); refused != ids {
		t.Fatalf("%d of %d sends to made-up users answered no_such_target", refused, ids)
	}
	if r := n.Chat().Stats().Relations; r > 10 {
		t.Fatalf("%d user pairs cached, want at most RELATION_CACHE=10", r)
	}
}

// Closing the connection and opening a new one gave a fresh send burst.
func TestSendLimiterSurvivesReconnect(t *testing.T) {
	t.Parallel()
	_, n, a, b := friends(t, func(c *config.Config) { c.SendRate, c.SendBurst = 0.01, 3 }) // a token every 100 s
	c := n.Dial(t, a, "a1")
	for range 3 {
		sendOne(t, c, b.ID)
	}
	c.WS.Close()
	poll.Eventually(t, wait, func() error {
		if n.Chat().Online(mustID(t, a.ID)) {
			return fmt.Errorf("still online")
		}
		return nil
	})
	c = n.Dial(t, a, "a1")
	c.Send("after-reconnect", "user", b.ID, "one more")
	for {
		f := c.Next(wait) // catch-up may first send this device its own earlier messages
		if f.ClientMsgID != "after-reconnect" {
			continue
		}
		if f.Type != "error" || f.Code != "rate_limited" {
			t.Fatalf("send after a reconnect answered %s, want rate_limited", f.Raw)
		}
		break
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// httpAddr starts a node with cfg changed by configure and returns its
// HTTP address.
func httpAddr(t *testing.T, configure func(*config.Config)) string {
	t.Helper()
	st := mstest.StartStack(t)
	cfg := st.Config()
	configure(&cfg)
	return st.StartNode(t, cfg).HTTPAddr()
}

// A client sending its request headers a line at a time kept a connection
// (and its goroutine) for as long as it liked.
func TestSlowlorisHeaderIsCutOff(t *testing.T) {
	t.Parallel()
	apitest.SlowHeadersAreCut(t, httpAddr(t, func(c *config.Config) { c.HTTP.ReadHeader = 500 * time.Millisecond }))
}

// A request body dripping a byte at a time holds a connection until
// HTTP_READ_TIMEOUT.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	apitest.SlowBodyIsCut(t, httpAddr(t, func(c *config.Config) { c.HTTP.Read = time.Second }))
}

// Keep-alive connections that never send a second request were held
// forever: the WebSocket server had no idle timeout.
func TestIdleKeepAliveConnectionIsClosed(t *testing.T) {
	t.Parallel()
	apitest.IdleKeepAliveIsClosed(t, httpAddr(t, func(c *config.Config) { c.HTTP.Idle = 500 * time.Millisecond }), 5*time.Second)
}
