// Package mstest starts the messageservice in-process for tests, the way
// the binary starts it (server.New + Run), on 127.0.0.1:0, against the real
// stack: a DataService process on a fresh database and a userservice
// process (foundation/stacktest), and a NATS server both services share
// (stacktest.StartNATS: mutual TLS, a user per role), so relation events
// flow. It offers helpers to make users, friends,
// blacklists and groups through the userservice's HTTP API, and a
// WebSocket client (gorilla/websocket) that reads frames.
package mstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"

	"github.com/privateim/privateim/messageservice/internal/config"
	"github.com/privateim/privateim/messageservice/internal/server"
)

// Stack is the userservice and DataService a messageservice runs on.
type Stack struct {
	Data    *stacktest.DataService
	Users   *stacktest.UserService
	NATS    *stacktest.NATS
	NATSURL string // NATS.URL
	Client  *http.Client
	Mail    *stacktest.Mailpit // nil unless StackOptions.Mail
	// MessageAddr is where the userservice calls DeliverGroup (group
	// system messages): the internal gRPC address of the first node
	// started with the default GRPCAddr (StartNode).
	MessageAddr string

	mu            sync.Mutex
	deliveryTaken bool         // a node listens on MessageAddr
	deliveryLis   net.Listener // listens on MessageAddr until a node takes it
}

// StackOptions change what StartStackWith sets up.
type StackOptions struct {
	// Mail starts a mailpit and sends the userservice's mails there.
	Mail bool
	// UserEnv is added to the userservice's environment (e.g. JWT_TTL).
	UserEnv []string
}

// StartStack starts a DataService, a NATS server and a userservice that
// publishes relation events there.
func StartStack(tb testing.TB) *Stack {
	tb.Helper()
	return StartStackWith(tb, StackOptions{})
}

// StartStackWith is StartStack with options.
func StartStackWith(tb testing.TB, o StackOptions) *Stack {
	tb.Helper()
	// MessageAddr stays listened on from here until the first node serves
	// on that very socket: a port given up in between can be taken by
	// another socket of the machine (bind: address already in use).
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	st := &Stack{Client: &http.Client{Timeout: 30 * time.Second}, MessageAddr: lis.Addr().String(), deliveryLis: lis}
	tb.Cleanup(func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if !st.deliveryTaken {
			lis.Close()
		}
	})
	st.Data = stacktest.StartDataService(tb)
	st.NATS = stacktest.StartNATS(tb, st.Data.Certs)
	st.NATSURL = st.NATS.URL
	env := o.UserEnv
	if o.Mail {
		st.Mail = stacktest.StartMailpit(tb)
		env = append([]string{"SMTP_ADDR=" + st.Mail.SMTPAddr, "SMTP_TLS=none"}, env...) // mailpit speaks plain SMTP
	}
	st.Users = stacktest.StartUserService(tb, st.Data, stacktest.UserServiceOptions{NATS: st.NATS, MessageAddr: st.MessageAddr, Env: env})
	return st
}

// Node is one in-process messageservice.
type Node struct {
	*server.Server
	URL    string // ws://127.0.0.1:port/ws
	Config config.Config
	// Stop shuts the node down (once) and returns what Run returned.
	Stop func() error
}

// Config returns the Config tests start from: every port 127.0.0.1:0,
// the stack's addresses and certificates, short retries, no send or frame
// rate limits, and no spreading of closes at shutdown.
func (st *Stack) Config() config.Config {
	cfg := config.Default()
	cfg.HTTPAddr, cfg.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataAddr, cfg.UserAddr = st.Data.Addr, st.Users.GRPCAddr
	cfg.TLS, cfg.ClientTLS = st.Data.Certs.Message, st.Data.Certs.Message
	cfg.NATSURL, cfg.NATSAuth = st.NATSURL, st.NATS.Users[natsauth.Node]
	cfg.NodeID = "test-" + rand.Text()[:6]
	cfg.SendRate = 0
	cfg.FramesPerConn, cfg.FramesPerUser, cfg.ReadRate, cfg.SyncRate = config.Rate{}, config.Rate{}, config.Rate{}, config.Rate{}
	cfg.AckRate, cfg.TypingRate = config.Rate{}, config.Rate{}
	cfg.RetryInterval = 300 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.DrainSpread = 0 // tests stop nodes often: close at once
	return cfg
}

// StartNode runs a messageservice with cfg until cleanup. The first node
// started with the default GRPCAddr listens on MessageAddr, where the
// userservice delivers group system messages (it fans them out to every
// node).
func (st *Stack) StartNode(tb testing.TB, cfg config.Config) *Node {
	tb.Helper()
	var grpcLis net.Listener
	st.mu.Lock()
	if !st.deliveryTaken && cfg.GRPCAddr == "127.0.0.1:0" {
		st.deliveryTaken, cfg.GRPCAddr, grpcLis = true, st.MessageAddr, st.deliveryLis
	}
	st.mu.Unlock()
	srv, err := server.NewOn(cfg, Logger(), grpcLis)
	if err != nil {
		tb.Fatalf("messageservice: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	n := &Node{Server: srv, URL: "ws://" + srv.HTTPAddr() + "/ws", Config: cfg}
	n.Stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	tb.Cleanup(func() {
		if err := n.Stop(); err != nil {
			tb.Errorf("messageservice run: %v", err)
		}
	})
	poll.Eventually(tb, 10*time.Second, func() error {
		r, err := st.Client.Get("http://" + srv.HTTPAddr() + "/readyz")
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", r.StatusCode)
		}
		return nil
	})
	return n
}

// Settle waits until every connection of the node has caught up (Dial
// returns once the session is open), so that what a client has not
// received by a ping's pong it will not receive.
func (n *Node) Settle(tb testing.TB) {
	tb.Helper()
	poll.Eventually(tb, 10*time.Second, func() error {
		if c := n.Chat().Stats().CatchingUp; c != 0 {
			return fmt.Errorf("%d connections catching up", c)
		}
		return nil
	})
}

// Logger discards, or writes to stderr when LOG_TEST is set.
func Logger() *slog.Logger {
	if os.Getenv("LOG_TEST") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// User is a signed-up account.
type User struct {
	ID              string
	Token           string
	Email, Password string
}

// Do calls the userservice's HTTP API with v as JSON (nil: no body) and
// fails the test unless the status is want; out, when set, gets the body.
func (st *Stack) Do(tb testing.TB, method, path, token string, v any, want int, out any) {
	tb.Helper()
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, st.Users.URL+"/api/v1"+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := st.Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// NewUser signs up a user with a unique email.
func (st *Stack) NewUser(tb testing.TB, name string) User {
	tb.Helper()
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	email, password := "u"+strings.ToLower(rand.Text()[:12])+"@example.com", "password-"+rand.Text()[:8]
	st.Do(tb, http.MethodPost, "/auth/signup", "", map[string]string{
		"name": name, "email": email, "password": password,
	}, http.StatusCreated, &out)
	return User{ID: out.User.ID, Token: out.Token, Email: email, Password: password}
}

// Befriend makes a and b friends (a asks, b accepts).
func (st *Stack) Befriend(tb testing.TB, a, b User) {
	tb.Helper()
	st.Do(tb, http.MethodPost, "/friends/requests", a.Token, map[string]string{"user_id": b.ID}, http.StatusCreated, nil)
	st.Do(tb, http.MethodPost, "/friends/requests/"+a.ID+"/accept", b.Token, map[string]string{}, http.StatusOK, nil)
}

// Block puts who on by's blacklist.
func (st *Stack) Block(tb testing.TB, by, who User) {
	tb.Helper()
	st.Do(tb, http.MethodPut, "/blacklist/"+who.ID, by.Token, nil, http.StatusNoContent, nil)
}

// NewFriendsGroup makes a group owned by owner with members added at
// creation (each made owner's friend first), whatever the join policy.
func (st *Stack) NewFriendsGroup(tb testing.TB, owner User, members ...User) string {
	tb.Helper()
	ids := []string{}
	for _, m := range members {
		st.Befriend(tb, owner, m)
		ids = append(ids, m.ID)
	}
	var g struct {
		ID string `json:"id"`
	}
	st.Do(tb, http.MethodPost, "/groups", owner.Token, map[string]any{"name": "group " + rand.Text()[:5], "member_ids": ids}, http.StatusCreated, &g)
	return g.ID
}

// NewGroup makes an open group (history "joined") owned by owner that
// members join.
func (st *Stack) NewGroup(tb testing.TB, owner User, members ...User) string {
	tb.Helper()
	var g struct {
		ID string `json:"id"`
	}
	st.Do(tb, http.MethodPost, "/groups", owner.Token, map[string]any{"name": "group " + rand.Text()[:5], "member_ids": []string{}}, http.StatusCreated, &g)
	st.Do(tb, http.MethodPatch, "/groups/"+g.ID+"/access", owner.Token, map[string]any{"join_policy": "open"}, http.StatusOK, nil)
	for _, m := range members {
		st.Do(tb, http.MethodPost, "/groups/"+g.ID+"/join", m.Token, nil, http.StatusOK, nil)
	}
	return g.ID
}

// Frame is a server frame, every field any frame has.
type Frame struct {
	Type         string          `json:"type"`
	ClientMsgID  string          `json:"client_msg_id"`
	MsgID        string          `json:"msg_id"`
	Conversation string          `json:"conversation"`
	Seq          int64           `json:"seq"`
	TS           int64           `json:"ts"`
	From         string          `json:"from"`
	To           json.RawMessage `json:"to"`
	Content      json.RawMessage `json:"content"`
	Messages     []Frame         `json:"messages"`
	HasMore      bool            `json:"has_more"`
	User         string          `json:"user"`
	Online       bool            `json:"online"`
	LastSeen     int64           `json:"last_seen"`
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Until        string          `json:"until"`
	// receipt frames
	ReadCount      int64  `json:"read_count"`
	DeliveredCount int64  `json:"delivered_count"`
	Raw            []byte `json:"-"`
}

// Client is one WebSocket connection of a test.
type Client struct {
	tb  testing.TB
	WS  *websocket.Conn
	buf []Frame // read before Dial returned, not yet taken by Next
}

// Dial connects u (device "" when empty) and fails the test on error.
func (n *Node) Dial(tb testing.TB, u User, device string) *Client {
	tb.Helper()
	return DialURL(tb, n.URL, u, device)
}

// TryDial connects with token and device.
func (n *Node) TryDial(token, device string) (*websocket.Conn, *http.Response, error) {
	return TryDialURL(n.URL, token, device)
}

// DialURL connects u to the WebSocket URL wsURL and fails the test on
// error; the connection is closed at cleanup.
func DialURL(tb testing.TB, wsURL string, u User, device string) *Client {
	tb.Helper()
	c, resp, err := TryDialURL(wsURL, u.Token, device)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		tb.Fatalf("dial as %s: %v (HTTP %d)", u.ID, err, status)
	}
	tb.Cleanup(func() { c.Close() })
	cl := &Client{tb: tb, WS: c}
	// A pong proves the server opened the session (and counts it as
	// catching up, see Node.Settle); frames before it are kept for Next.
	cl.buf = cl.UntilPong(10 * time.Second)
	return cl
}

// TryDialURL connects to wsURL with token and device.
func TryDialURL(wsURL, token, device string) (*websocket.Conn, *http.Response, error) {
	if device != "" {
		wsURL += "?device_id=" + url.QueryEscape(device)
	}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	c, resp, err := d.Dial(wsURL, h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return c, resp, err
}

// WriteJSON sends v as one text frame.
func (c *Client) WriteJSON(v any) {
	c.tb.Helper()
	if err := c.WS.WriteJSON(v); err != nil {
		c.tb.Fatalf("write: %v", err)
	}
}

// Next reads the next frame, failing the test after timeout.
func (c *Client) Next(timeout time.Duration) Frame {
	c.tb.Helper()
	f, err := c.TryNext(timeout)
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return f
}

// TryNext reads the next frame.
func (c *Client) TryNext(timeout time.Duration) (Frame, error) {
	if len(c.buf) > 0 {
		f := c.buf[0]
		c.buf = c.buf[1:]
		return f, nil
	}
	_ = c.WS.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := c.WS.ReadMessage()
	if err != nil {
		return Frame{}, err
	}
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("frame %s: %w", b, err)
	}
	f.Raw = b
	return f, nil
}

// GroupEvent is the event of a group system message (content kind
// "group_event", docs/websocket.md) — a message frame or one of a
// history's messages — and "" for any other frame.
func (f Frame) GroupEvent() string {
	var c struct{ Kind, Event string }
	if (f.Type != "message" && f.Type != "") || json.Unmarshal(f.Content, &c) != nil || c.Kind != "group_event" {
		return ""
	}
	return c.Event
}

// AwaitChat reads frames until a message that is not a group system
// message arrives (those of the group's changes before it are skipped).
func (c *Client) AwaitChat(timeout time.Duration) Frame {
	c.tb.Helper()
	for {
		if f := c.Await("message", timeout); f.GroupEvent() == "" {
			return f
		}
	}
}

// Await reads frames until one of type typ arrives (others are skipped,
// presence frames among them) and returns it.
func (c *Client) Await(typ string, timeout time.Duration) Frame {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f := c.Next(time.Until(deadline))
		if f.Type == typ {
			return f
		}
	}
}

// Send sends a text message to a user or group.
func (c *Client) Send(clientMsgID, kind, to, text string) {
	c.tb.Helper()
	c.WriteJSON(map[string]any{
		"type": "send", "client_msg_id": clientMsgID,
		"to": map[string]string{"kind": kind, "id": to}, "content": map[string]string{"kind": "text", "text": text},
	})
}

// Ack acks conv up to seq.
func (c *Client) Ack(conv string, seq int64) {
	c.tb.Helper()
	c.WriteJSON(map[string]any{"type": "ack", "conversation": conv, "seq": seq})
}

// Ping sends a ping; the pong comes after every frame queued before it.
func (c *Client) Ping() {
	c.tb.Helper()
	c.WriteJSON(map[string]string{"type": "ping"})
}

// UntilPong reads frames up to the pong of a Ping sent now and returns
// them (not the pong).
func (c *Client) UntilPong(timeout time.Duration) []Frame {
	c.tb.Helper()
	c.Ping()
	var out []Frame
	deadline := time.Now().Add(timeout)
	for {
		f := c.Next(time.Until(deadline))
		if f.Type == "pong" {
			return out
		}
		out = append(out, f)
	}
}

// Messages keeps the message frames of fs.
func Messages(fs []Frame) []Frame {
	var out []Frame
	for _, f := range fs {
		if f.Type == "message" {
			out = append(out, f)
		}
	}
	return out
}

// ExpectClose reads until the server closes the connection and returns the
// close code and reason.
func (c *Client) ExpectClose(timeout time.Duration) (int, string) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_ = c.WS.SetReadDeadline(deadline)
		_, _, err := c.WS.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code, ce.Text
			}
			c.tb.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}
