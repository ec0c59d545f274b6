// Package wsconn is the WebSocket transport of the messageservice
// (gorilla/websocket): it checks the token before the upgrade (401), reads
// frames up to a size limit (larger: close 1009), decodes them (frame),
// calls the chat session and answers, turning errors into error codes in one
// table (code). Each connection has a bounded write queue; a reader that
// lets it overflow is disconnected, never blocking others. The server pings
// every PingInterval and closes a connection silent for IdleTimeout. Error
// frames never close the connection.
package wsconn

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// Session is what a connection's frames are handed to (*chat.Session).
type Session interface {
	Send(ctx context.Context, f *frame.Send) ([]byte, error)
	Ack(ctx context.Context, f *frame.Ack) error
	Sync(ctx context.Context, f *frame.Sync) ([]byte, error)
	Read(ctx context.Context, f *frame.Read) error
	Close()
}

// Authenticator checks a bearer token; a refused token is any error
// matching ErrBadToken.
type Authenticator interface {
	CheckToken(ctx context.Context, token string) (int64, error)
}

// Options of a Server.
type Options struct {
	MaxFrameBytes int64
	SendQueue     int
	PingInterval  time.Duration
	IdleTimeout   time.Duration
	WriteTimeout  time.Duration // 0: 10s
	// BadToken matches the Authenticator's refusal (errors.Is).
	BadToken error
}

// Close codes of the transport.
const (
	CloseGoingAway  = websocket.CloseGoingAway     // 1001: the server shuts down
	CloseTooBig     = websocket.CloseMessageTooBig // 1009
	CloseSlowReader = websocket.CloseTryAgainLater // 1013: the write queue overflowed
)

// Server upgrades GET /ws and runs the connections; safe for concurrent use.
type Server struct {
	log   *slog.Logger
	auth  Authenticator
	open  func(c *Conn, user int64, device string) Session
	opt   Options
	upg   websocket.Upgrader
	mu    sync.Mutex // guards conns and closing
	conns map[*Conn]struct{}
	wg    sync.WaitGroup // one per connection, until its goroutines end
	// closing refuses new upgrades once CloseAll began.
	closing bool
}

// NewServer makes a Server; open makes the chat session of a connection.
func NewServer(log *slog.Logger, auth Authenticator, open func(c *Conn, user int64, device string) Session, opt Options) *Server {
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 10 * time.Second
	}
	return &Server{
		log: log, auth: auth, open: open, opt: opt, conns: make(map[*Conn]struct{}),
		upg: websocket.Upgrader{
			ReadBufferSize: 4096, WriteBufferSize: 4096,
			// Clients authenticate with a bearer token, never a cookie,
			// so a page of another origin cannot act for a user: any
			// origin may connect (browsers pass ?token=).
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// ServeHTTP authenticates and upgrades one connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			token = t
		}
	}
	if token == "" {
		http.Error(w, "missing token", http.StatusUnauthorized)
		return
	}
	device := r.URL.Query().Get("device_id")
	if _, set := r.URL.Query()["device_id"]; set && (len(device) < 1 || len(device) > frame.MaxDeviceID) {
		http.Error(w, "device_id must be 1..64 bytes", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	user, err := s.auth.CheckToken(ctx, token)
	cancel()
	if err != nil {
		if errors.Is(err, s.opt.BadToken) {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		s.log.Error("check token", "err", err)
		http.Error(w, "cannot check the token now", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upg.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	c := &Conn{srv: s, ws: ws, out: make(chan []byte, s.opt.SendQueue), done: make(chan struct{})}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseGoingAway, "going away"), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	c.sess = s.open(c, user, device)
	go c.writeLoop()
	go c.readLoop()
}

// Count is the number of open connections.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseAll closes every connection with 1001 "going away", refuses new
// ones, and waits (until ctx ends) for their goroutines to end. The closes
// are spread over spread in ten waves ("lame duck"), so that the clients
// do not all reconnect to the other nodes in the same instant.
func (s *Server) CloseAll(ctx context.Context, spread time.Duration) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	const waves = 10
	per := max(1, (len(conns)+waves-1)/waves)
	if spread <= 0 {
		per = len(conns)
	}
	for i := 0; i < len(conns); i += per {
		for _, c := range conns[i:min(i+per, len(conns))] {
			c.Close(CloseGoingAway, "going away")
		}
		if i+per < len(conns) {
			select {
			case <-time.After(spread / waves):
			case <-ctx.Done():
				spread, per = 0, len(conns) // out of time: the rest at once
			}
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			c.ws.Close()
		}
		return ctx.Err()
	}
}

// Conn is one WebSocket connection. Send and Close are safe for
// concurrent use; the read loop alone reads, the write loop alone writes
// data frames (close frames go through WriteControl, which gorilla allows
// concurrently).
type Conn struct {
	srv       *Server
	ws        *websocket.Conn
	sess      Session
	out       chan []byte   // bounded write queue
	done      chan struct{} // closed once: stop writing
	closeOnce sync.Once
}

var _ chat.Transport = (*Conn)(nil)

// Send queues b without blocking; a full queue disconnects the connection
// as a slow reader and returns false.
func (c *Conn) Send(b []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- b:
		return true
	default:
		go c.Close(CloseSlowReader, "slow reader")
		return false
	}
}

// SendWait queues b, waiting for room.
func (c *Conn) SendWait(ctx context.Context, b []byte) error {
	select {
	case c.out <- b:
		return nil
	case <-c.done:
		return errors.New("connection closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close sends a close frame with code and reason and ends the connection:
// the read loop waits a moment for the client's close reply, then closes
// the socket.
func (c *Conn) Close(code int, reason string) {
	c.closeOnce.Do(func() {
		close(c.done)
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
	})
}

func (c *Conn) writeLoop() {
	ping := time.NewTicker(c.srv.opt.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case b := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.srv.opt.WriteTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.ws.Close() // the read loop ends and cleans up
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.opt.WriteTimeout)); err != nil {
				c.ws.Close()
				return
			}
		}
	}
}

func (c *Conn) readLoop() {
	s := c.srv
	defer func() {
		c.closeOnce.Do(func() { close(c.done) })
		c.ws.Close()
		c.sess.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	c.ws.SetReadLimit(s.opt.MaxFrameBytes)
	alive := func() {
		select {
		case <-c.done: // closing: keep the short deadline Close set
		default:
			_ = c.ws.SetReadDeadline(time.Now().Add(s.opt.IdleTimeout))
		}
	}
	alive()
	c.ws.SetPongHandler(func(string) error { alive(); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				// gorilla has sent close 1009 already.
				c.Close(CloseTooBig, "too_large")
			}
			return
		}
		select {
		case <-c.done:
			continue // closing: drain until the client's close reply
		default:
		}
		alive()
		if typ != websocket.TextMessage {
			c.Send(frame.ErrorBytes(frame.CodeBadFrame, "want text frames of JSON", ""))
			continue
		}
		c.handle(ctx, b)
	}
}

func (c *Conn) handle(ctx context.Context, b []byte) {
	f, err := frame.Decode(b)
	if err != nil {
		c.sendError(err, "")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch f := f.(type) {
	case *frame.Ping:
		c.Send(frame.Pong)
	case *frame.Send:
		sent, err := c.sess.Send(ctx, f)
		if err != nil {
			c.sendError(err, f.ClientMsgID)
			return
		}
		c.Send(sent)
	case *frame.Ack:
		if err := c.sess.Ack(ctx, f); err != nil {
			c.sendError(err, "")
		}
	case *frame.Sync:
		h, err := c.sess.Sync(ctx, f)
		if err != nil {
			c.sendError(err, "")
			return
		}
		c.Send(h)
	case *frame.Read:
		if err := c.sess.Read(ctx, f); err != nil {
			c.sendError(err, "")
		}
	}
}

// codes is the one table from errors to protocol error codes.
var codes = []struct {
	err     error
	code    string
	message string
}{
	{chat.ErrNotFriends, frame.CodeNotFriends, "you and the receiver are not friends"},
	{chat.ErrBlocked, frame.CodeBlocked, "a blacklist stands between you and the receiver"},
	{chat.ErrNotMember, frame.CodeNotMember, "you are not a member of this conversation"},
	{chat.ErrNoSuchTarget, frame.CodeNoSuchTarget, "no such user or group"},
	{chat.ErrRateLimited, frame.CodeRateLimited, "sending too fast; slow down"},
	{chat.ErrAckAhead, frame.CodeBadFrame, "ack of a seq past the last message of the conversation"},
}

func (c *Conn) sendError(err error, clientMsgID string) {
	var fe *frame.Error
	if errors.As(err, &fe) {
		if fe.ClientMsgID != "" {
			clientMsgID = fe.ClientMsgID
		}
		c.Send(frame.ErrorBytes(fe.Code, fe.Message, clientMsgID))
		return
	}
	for _, e := range codes {
		if errors.Is(err, e.err) {
			c.Send(frame.ErrorBytes(e.code, e.message, clientMsgID))
			return
		}
	}
	c.srv.log.Error("frame failed", "err", err)
	c.Send(frame.ErrorBytes(frame.CodeInternal, "internal error; try again", clientMsgID))
}
