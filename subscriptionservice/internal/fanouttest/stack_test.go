package fanouttest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/subscriptionservice/internal/config"
	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

// workers bounds the concurrent calls of the set-up helpers: enough to
// keep the DataService busy, few enough for two cores.
const workers = 16

// stack is the real stack with one subscription account, its owner and a
// reviewer. The messageservice listens on fixed ports so that a restart
// comes back where the subscriptionservice and the clients look for it.
type stack struct {
	e        *subtest.Env
	users    datav1.UsersClient
	subs     datav1.SubscriptionsClient
	msgs     datav1.MessagesClient
	msgEnv   []string // HTTP_ADDR, GRPC_ADDR, NATS_LISTEN of the messageservice
	ms       *stacktest.MessageService
	owner    apitest.Account
	reviewer apitest.Account
	subID    string
	conv     string // s:<subID>
	password string // of every follower
	hash     string // its bcrypt hash
}

func startStack(tb testing.TB) *stack {
	tb.Helper()
	msgGRPC := stacktest.FreeAddr(tb)
	s := &stack{msgEnv: []string{"HTTP_ADDR=" + stacktest.FreeAddr(tb), "GRPC_ADDR=" + msgGRPC,
		"NATS_LISTEN=" + stacktest.FreeAddr(tb)}}
	s.e = subtest.StartWith(tb, subtest.Options{Configure: func(c *config.Config) {
		c.MessageAddr = msgGRPC
		c.PushTimeout = 10 * time.Second
	}})
	creds, err := tlsconfig.ClientCredentials(s.e.Certs.Client, "")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := grpc.NewClient(s.e.Data.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	s.users, s.subs, s.msgs = datav1.NewUsersClient(conn), datav1.NewSubscriptionsClient(conn), datav1.NewMessagesClient(conn)

	s.owner = s.e.NewAccount(tb, "Owner")
	s.reviewer = s.e.Reviewer(tb)
	r := s.e.Do(tb, http.MethodPost, "/api/v1/subscriptions", s.owner.Token,
		map[string]string{"name": "Fan-out " + rand.Text()[:8], "intro": "many followers"})
	if r.Status != http.StatusCreated {
		tb.Fatalf("create subscription: %d %s", r.Status, r.Body)
	}
	var sub struct {
		ID string `json:"id"`
	}
	r.Decode(tb, &sub)
	s.subID, s.conv = sub.ID, "s:"+sub.ID

	// The template follower: signed up once through the userservice; its
	// hash serves every follower made on the fast path.
	s.password = "password-" + rand.Text()[:10]
	email := "template-" + strings.ToLower(rand.Text()[:10]) + "@example.com"
	r = s.e.UserDo(tb, http.MethodPost, "/api/v1/auth/signup", "",
		map[string]string{"name": "Template", "email": email, "password": s.password})
	if r.Status != http.StatusCreated {
		tb.Fatalf("sign up the template: %d %s", r.Status, r.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := s.users.GetUserByEmail(ctx, &datav1.GetUserByEmailRequest{Email: email})
	if err != nil {
		tb.Fatalf("read the template's hash: %v", err)
	}
	s.hash = u.GetPasswordHash()
	return s
}

// startMessageService starts the messageservice binary on the stack's
// fixed ports.
func (s *stack) startMessageService(tb testing.TB) {
	tb.Helper()
	s.ms = stacktest.StartMessageService(tb, s.e.Data, s.e.Users, nil, s.msgEnv...)
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns
// the first error.
func parallel(n int, fn func(i int) error) error {
	var (
		next  atomic.Int64
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// newFollowers makes n users following the account on the fast path:
// CreateUser with the template's hash and Follow, both straight to the
// DataService.
func (s *stack) newFollowers(tb testing.TB, n int) []*follower {
	tb.Helper()
	sub, err := strconv.ParseInt(s.subID, 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	tag := strings.ToLower(rand.Text()[:8])
	fans := make([]*follower, n)
	err = parallel(n, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		email := fmt.Sprintf("fan-%s-%d@example.com", tag, i)
		u, err := s.users.CreateUser(ctx, &datav1.CreateUserRequest{Email: email, Name: fmt.Sprintf("Fan %d", i), PasswordHash: s.hash})
		if err != nil {
			return fmt.Errorf("create follower %d: %w", i, err)
		}
		if _, err := s.subs.Follow(ctx, &datav1.FollowRequest{SubscriptionId: sub, UserId: u.GetId()}); err != nil {
			return fmt.Errorf("follow %d: %w", i, err)
		}
		fans[i] = &follower{id: u.GetId(), email: email, device: "fan-" + strconv.Itoa(i), got: map[int64]int{}}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return fans
}

// signIn gets each follower a token through the userservice's sign-in.
func (s *stack) signIn(tb testing.TB, fans []*follower) {
	tb.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	err := parallel(len(fans), func(i int) error {
		f := fans[i]
		body, _ := json.Marshal(map[string]string{"email": f.email, "password": s.password})
		resp, err := client.Post(s.e.UserURL+"/api/v1/auth/signin", "application/json", strings.NewReader(string(body)))
		if err != nil {
			return fmt.Errorf("sign in %s: %w", f.email, err)
		}
		defer resp.Body.Close()
		var out struct {
			Token string `json:"token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("sign in %s: %d %v", f.email, resp.StatusCode, err)
		}
		f.token = out.Token
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// approvedArticle writes an article, submits it and has it approved; it
// returns the article's id.
func (s *stack) approvedArticle(tb testing.TB, title string) string {
	tb.Helper()
	base := "/api/v1/subscriptions/" + s.subID + "/articles"
	r := s.e.Do(tb, http.MethodPost, base, s.owner.Token, map[string]string{"title": title, "body": "Read me, all of you."})
	if r.Status != http.StatusCreated {
		tb.Fatalf("create article: %d %s", r.Status, r.Body)
	}
	var a struct {
		ID string `json:"id"`
	}
	r.Decode(tb, &a)
	if r := s.e.Do(tb, http.MethodPost, base+"/"+a.ID+"/submit", s.owner.Token, nil); r.Status != http.StatusOK {
		tb.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	if r := s.e.Do(tb, http.MethodPost, "/api/v1/review/articles/"+a.ID+"/approve", s.reviewer.Token, nil); r.Status != http.StatusOK {
		tb.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	return a.ID
}

// published is the answer to a publish call.
type published struct {
	status int
	pushed bool
	body   string
	err    error
}

// publish publishes article aid; safe to call from any goroutine.
func (s *stack) publish(aid string) published {
	req, err := http.NewRequest(http.MethodPost, s.e.URL+"/api/v1/subscriptions/"+s.subID+"/articles/"+aid+"/publish", nil)
	if err != nil {
		return published{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+s.owner.Token)
	resp, err := s.e.Client.Do(req)
	if err != nil {
		return published{err: err}
	}
	defer resp.Body.Close()
	var out struct {
		Pushed bool `json:"pushed"`
	}
	var raw json.RawMessage
	err = json.NewDecoder(resp.Body).Decode(&raw)
	_ = json.Unmarshal(raw, &out)
	return published{status: resp.StatusCode, pushed: out.Pushed, body: string(raw), err: err}
}

// storedMessages counts the messages of the account's conversation.
func (s *stack) storedMessages(tb testing.TB) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.msgs.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: s.conv, Limit: 100})
	if err != nil {
		tb.Fatalf("messages of %s: %v", s.conv, err)
	}
	return len(resp.GetMessages())
}

// ackedSeq is the acked seq of f's device in the account's conversation as
// stored in the DataService (0 without a cursor).
func (s *stack) ackedSeq(ctx context.Context, f *follower) (int64, error) {
	resp, err := s.msgs.ListCursors(ctx, &datav1.ListCursorsRequest{UserId: f.id, DeviceId: f.device, Conversations: []string{s.conv}})
	if err != nil {
		return 0, fmt.Errorf("cursors of %d: %w", f.id, err)
	}
	var acked int64
	for _, c := range resp.GetCursors() {
		acked = max(acked, c.GetAckedSeq())
	}
	return acked, nil
}

// follower is one following user and what reached it over all its
// connections, deduplicated by seq as a client does.
type follower struct {
	id     int64
	email  string
	token  string
	device string

	mu         sync.Mutex
	got        map[int64]int // seq -> frames received, over every connection
	articleSeq int64         // seq of the first frame carrying the article, 0 before
	durable    int64         // acked seq stored in the DataService when the last connection began
	dupAfter   int           // frames of a seq this follower had acked (on the same connection, or durably before)
	articleIDs map[string]bool
	conns      []*websocket.Conn
}

func (f *follower) hasArticle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.articleSeq != 0
}

// readers own the reading goroutines of every follower connection.
type readers struct {
	wg     sync.WaitGroup
	first  chan struct{} // closed when any follower receives an article frame
	once   sync.Once
	frames atomic.Int64 // article frames received, duplicates included
	// onArticle, when set before any connection opens, is called (from the
	// reading goroutines) the first time a follower gets an article's seq.
	onArticle func(articleID string)
}

func newReaders(tb testing.TB) *readers {
	r := &readers{first: make(chan struct{})}
	tb.Cleanup(r.wg.Wait)
	return r
}

// connect opens a WebSocket of f's device and reads it until it closes,
// acking every message of conv. Dials are retried until deadline (the
// messageservice may be starting).
func (r *readers) connect(tb testing.TB, wsURL, conv string, f *follower, deadline time.Time) error {
	u := wsURL + "?device_id=" + url.QueryEscape(f.device)
	h := http.Header{}
	h.Set("Authorization", "Bearer "+f.token)
	d := websocket.Dialer{HandshakeTimeout: 20 * time.Second}
	var c *websocket.Conn
	for {
		var err error
		var resp *http.Response
		c, resp, err = d.Dial(u, h)
		if err == nil {
			break
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dial %s as %d: %v (HTTP %d)", wsURL, f.id, err, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	tb.Cleanup(func() { c.Close() })
	r.wg.Go(func() { r.read(c, conv, f) })
	return nil
}

type frameIn struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
	Content      struct {
		Kind      string `json:"kind"`
		ArticleID string `json:"article_id"`
	} `json:"content"`
}

func (r *readers) read(c *websocket.Conn, conv string, f *follower) {
	acked := map[int64]bool{} // on this connection
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		var m frameIn
		if json.Unmarshal(b, &m) != nil || m.Type != "message" || m.Conversation != conv {
			continue
		}
		f.mu.Lock()
		if acked[m.Seq] || m.Seq <= f.durable {
			f.dupAfter++
		}
		fresh := f.got[m.Seq] == 0
		f.got[m.Seq]++
		if m.Content.Kind == "article" {
			if f.articleIDs == nil {
				f.articleIDs = map[string]bool{}
			}
			f.articleIDs[m.Content.ArticleID] = true
			if f.articleSeq == 0 {
				f.articleSeq = m.Seq
			}
			r.frames.Add(1)
			r.once.Do(func() { close(r.first) })
		}
		f.mu.Unlock()
		if fresh && m.Content.Kind == "article" && r.onArticle != nil {
			r.onArticle(m.Content.ArticleID)
		}
		if err := c.WriteJSON(map[string]any{"type": "ack", "conversation": conv, "seq": m.Seq}); err != nil {
			return
		}
		acked[m.Seq] = true
	}
}

// connectAll connects every follower, workers at a time.
func (r *readers) connectAll(tb testing.TB, wsURL, conv string, fans []*follower, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	if err := parallel(len(fans), func(i int) error {
		return r.connect(tb, wsURL, conv, fans[i], deadline)
	}); err != nil {
		tb.Fatal(err)
	}
}

// closeAll closes every connection of fans.
func closeAll(fans []*follower) {
	for _, f := range fans {
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.conns = nil
		f.mu.Unlock()
	}
}

// waitAcked polls the DataService until every follower's device has acked
// seq there: the messageservice drops a connection's pending copy before
// it writes the cursor, so from then on nothing is sent again.
func (s *stack) waitAcked(tb testing.TB, fans []*follower, seq int64, timeout time.Duration) {
	tb.Helper()
	left := fans
	poll.Eventually(tb, timeout, func() error {
		var (
			mu   sync.Mutex
			next []*follower
		)
		err := parallel(len(left), func(i int) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			acked, err := s.ackedSeq(ctx, left[i])
			if err != nil {
				return err
			}
			if acked < seq {
				mu.Lock()
				next = append(next, left[i])
				mu.Unlock()
			}
			return nil
		})
		if err != nil {
			return err
		}
		left = next
		if len(left) > 0 {
			return fmt.Errorf("%d followers have not acked seq %d in the DataService (user %d first)", len(left), seq, left[0].id)
		}
		return nil
	})
}
