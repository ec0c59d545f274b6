package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// relay is the --baseline: a minimal gorilla/websocket server in this
// process that speaks the same frames as the messageservice (send -> sent
// and message, ping -> pong, sync -> an empty history) but stores nothing,
// checks nothing beyond the token, and delivers only to who is online. What
// the real stack reaches divided by what the relay reaches is how close it
// comes to what this machine can do at all with the same clients.
//
// Locks: relay.mu (users' connections, groups, subscriptions, seqs) is
// taken alone; a relayConn's queue is a channel.
type relay struct {
	srv    *http.Server
	ln     net.Listener
	nextID atomic.Int64

	mu     sync.Mutex
	conns  map[string][]*relayConn // user id -> connections
	groups map[string][]string     // group id -> member ids
	subs   map[string][]string     // subscription id -> follower ids
	seqs   map[string]int64        // conversation -> last seq
	msgID  int64
}

type relayConn struct {
	user string
	ws   *websocket.Conn
	out  chan []byte // bounded; full closes the connection (slow reader)
	once sync.Once
	done chan struct{}
}

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096, CheckOrigin: func(*http.Request) bool { return true }}

func startRelay() (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{ln: ln, conns: map[string][]*relayConn{}, groups: map[string][]string{}, subs: map[string][]string{}, seqs: map[string]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", r.serveWS)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *relay) close() {
	_ = r.srv.Close()
	r.mu.Lock()
	var all []*relayConn
	for _, cs := range r.conns {
		all = append(all, cs...)
	}
	r.mu.Unlock()
	for _, c := range all {
		c.stop()
	}
}

func (r *relay) serveWS(w http.ResponseWriter, req *http.Request) {
	// Tokens are "relay:<user id>".
	uid, ok := strings.CutPrefix(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer "), "relay:")
	if !ok || uid == "" {
		http.Error(w, "unauthenticated", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		return
	}
	c := &relayConn{user: uid, ws: ws, out: make(chan []byte, 512), done: make(chan struct{})}
	r.mu.Lock()
	r.conns[uid] = append(r.conns[uid], c)
	r.mu.Unlock()
	go c.writeLoop()
	defer func() {
		r.mu.Lock()
		cs := r.conns[uid]
		for i, x := range cs {
			if x == c {
				r.conns[uid] = append(cs[:i:i], cs[i+1:]...)
				break
			}
		}
		if len(r.conns[uid]) == 0 {
			delete(r.conns, uid)
		}
		r.mu.Unlock()
		c.stop()
	}()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			Type         string                    `json:"type"`
			ClientMsgID  string                    `json:"client_msg_id"`
			To           struct{ Kind, ID string } `json:"to"`
			Content      json.RawMessage           `json:"content"`
			Conversation string                    `json:"conversation"`
		}
		if json.Unmarshal(b, &f) != nil {
			c.send([]byte(`{"type":"error","code":"bad_frame","message":"not JSON"}`))
			continue
		}
		switch f.Type {
		case "ping":
			c.send([]byte(`{"type":"pong"}`))
		case "ack", "read":
		case "sync":
			h, _ := json.Marshal(map[string]any{"type": "history", "conversation": f.Conversation, "messages": []any{}, "has_more": false})
			c.send(h)
		case "send":
			r.handleSend(c, f.ClientMsgID, f.To.Kind, f.To.ID, f.Content)
		default:
			c.send([]byte(`{"type":"error","code":"unknown_type","message":"unknown type"}`))
		}
	}
}

func (r *relay) handleSend(c *relayConn, clientMsgID, kind, to string, content json.RawMessage) {
	var conv string
	var receivers []string
	r.mu.Lock()
	switch kind {
	case "user":
		a, b := c.user, to
		if id64(a) > id64(b) {
			a, b = b, a
		}
		conv, receivers = "u:"+a+":"+b, []string{to}
	case "group":
		conv, receivers = "g:"+to, r.groups[to]
	}
	r.seqs[conv]++
	seq := r.seqs[conv]
	r.msgID++
	msgID := r.msgID
	r.mu.Unlock()
	now := time.Now().UnixMilli()
	msg, _ := json.Marshal(map[string]any{
		"type": "message", "msg_id": strconv.FormatInt(msgID, 10), "conversation": conv, "seq": seq,
		"from": c.user, "to": map[string]string{"kind": kind, "id": to}, "content": content, "ts": now,
	})
	r.fanout(receivers, c, msg)
	sent, _ := json.Marshal(map[string]any{"type": "sent", "client_msg_id": clientMsgID, "msg_id": strconv.FormatInt(msgID, 10), "conversation": conv, "seq": seq, "ts": now})
	c.send(sent)
}

// fanout hands msg to every connection of receivers except skip.
func (r *relay) fanout(receivers []string, skip *relayConn, msg []byte) {
	var targets []*relayConn
	r.mu.Lock()
	for _, u := range receivers {
		for _, x := range r.conns[u] {
			if x != skip {
				targets = append(targets, x)
			}
		}
	}
	r.mu.Unlock()
	for _, x := range targets {
		x.send(msg)
	}
}

func (c *relayConn) send(b []byte) {
	select {
	case <-c.done:
	case c.out <- b:
	default: // slow reader
		c.stop()
	}
}

func (c *relayConn) stop() {
	c.once.Do(func() { close(c.done); _ = c.ws.Close() })
}

func (c *relayConn) writeLoop() {
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.stop()
				return
			}
		}
	}
}

// relayBackend makes the population in the relay's memory.
type relayBackend struct{ r *relay }

func (b relayBackend) name() string          { return "baseline" }
func (b relayBackend) wsURL() string         { return "ws://" + b.r.ln.Addr().String() + "/ws" }
func (b relayBackend) stores() bool          { return false }
func (b relayBackend) rss() (int64, bool)    { return 0, false }
func (b relayBackend) procs() map[string]int { return nil }

func (b relayBackend) signUp(_ context.Context, n int) ([]*user, error) {
	us := make([]*user, n)
	for i := range us {
		id := strconv.FormatInt(b.r.nextID.Add(1), 10)
		us[i] = &user{idx: i, id: id, token: "relay:" + id, rx: newReceiver()}
	}
	return us, nil
}

func (b relayBackend) befriend(context.Context, [][2]*user) error { return nil }

func (b relayBackend) newGroup(_ context.Context, owner *user, members []*user) (string, error) {
	gid := strconv.FormatInt(b.r.nextID.Add(1), 10)
	ids := []string{owner.id}
	for _, m := range members {
		if m != owner {
			ids = append(ids, m.id)
		}
	}
	b.r.mu.Lock()
	b.r.groups[gid] = ids
	b.r.mu.Unlock()
	return gid, nil
}

func (b relayBackend) newSubscription(_ context.Context, _ *user, followers []*user) (string, error) {
	sid := strconv.FormatInt(b.r.nextID.Add(1), 10)
	ids := make([]string, len(followers))
	for i, f := range followers {
		ids[i] = f.id
	}
	b.r.mu.Lock()
	b.r.subs[sid] = ids
	b.r.mu.Unlock()
	return sid, nil
}

func (b relayBackend) broadcast(_ context.Context, sub string, owner *user, _ string, content []byte) (int64, error) {
	conv := "s:" + sub
	b.r.mu.Lock()
	followers, ok := b.r.subs[sub]
	b.r.seqs[conv]++
	seq := b.r.seqs[conv]
	b.r.mu.Unlock()
	if !ok {
		return 0, errors.New("no such subscription")
	}
	msg, _ := json.Marshal(map[string]any{"type": "message", "msg_id": "0", "conversation": conv, "seq": seq, "from": owner.id,
		"to": map[string]string{"kind": "subscription", "id": sub}, "content": json.RawMessage(content), "ts": time.Now().UnixMilli()})
	b.r.fanout(followers, nil, msg)
	return seq, nil
}

func (b relayBackend) push(_ context.Context, users []*user, _ string, content []byte) ([]int64, error) {
	seqs := make([]int64, len(users))
	for i, u := range users {
		conv := "sys:" + u.id
		b.r.mu.Lock()
		b.r.seqs[conv]++
		seqs[i] = b.r.seqs[conv]
		b.r.mu.Unlock()
		msg, err := json.Marshal(map[string]any{"type": "message", "msg_id": "0", "conversation": conv, "seq": seqs[i], "from": "0",
			"to": map[string]string{"kind": "user", "id": u.id}, "content": json.RawMessage(content), "ts": time.Now().UnixMilli()})
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		b.r.fanout([]string{u.id}, nil, msg)
	}
	return seqs, nil
}
