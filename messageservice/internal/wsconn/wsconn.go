// Package wsconn is the WebSocket transport of the messageservice
// (gorilla/websocket): it checks the token before the upgrade (401), reads
// frames up to a size limit (larger: close 1009), decodes them (frame),
// calls the chat session and answers, turning errors into error codes in one
// table (code). Each connection has a bounded write queue; a reader that
// lets it overflow is disconnected, never blocking others. The server pings
// every PingInterval and closes a connection silent for IdleTimeout. Error
// frames never close the connection.
//
// An idle connection costs as little as it can (issue 6: RSS per idle
// connection): one goroutine, the read loop, blocked in gorilla's read on a
// 1 KB buffer. Nothing else waits: the writer goroutine runs only while the
// queue holds frames (Send starts it, it ends once the queue is empty), write
// buffers come from a pool shared by every connection and are held only
// during a write, the queue is a slice that is empty for an idle connection,
// and pings are a runtime timer per connection (time.AfterFunc) that starts
// the writer to send one.
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
	"github.com/privateim/privateim/messageservice/internal/lockorder"
	"github.com/privateim/privateim/messageservice/internal/nodemetrics"
)

// Session is what a connection's frames are handed to (*chat.Session).
type Session interface {
	// Send queues f behind the connection's earlier sends and returns;
	// reply runs once, possibly later on another goroutine, with the sent
	// frame or the error. ctx bounds only the queueing.
	Send(ctx context.Context, f *frame.Send, reply func(sent []byte, err error))
	Ack(ctx context.Context, f *frame.Ack) error
	Sync(ctx context.Context, f *frame.Sync) ([]byte, error)
	Versions(ctx context.Context, f *frame.Versions) ([]byte, error)
	Read(ctx context.Context, f *frame.Read) error
	Typing(ctx context.Context, f *frame.Typing) error
	// Recall and Edit store a lifecycle event like Send, answered the same way.
	Recall(ctx context.Context, f *frame.Recall, reply func(sent []byte, err error))
	Edit(ctx context.Context, f *frame.Edit, reply func(sent []byte, err error))
	// React adds or takes back a reaction, answered the same way.
	React(ctx context.Context, f *frame.React, reply func(sent []byte, err error))
	// DeleteForMe hides messages from the user's devices, answered the same way.
	DeleteForMe(ctx context.Context, f *frame.DeleteForMe, reply func(sent []byte, err error))
	// Admit counts a frame (nil: one that did not decode) against the
	// rate limits before it is handled; a *chat.RateLimitError refuses it.
	Admit(f any) error
	Close()
}

// Authenticator checks a bearer token: its user and expiry; a refused
// token is any error matching Options.BadToken.
type Authenticator interface {
	CheckToken(ctx context.Context, token string) (user int64, expires time.Time, err error)
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
	// Metrics counts frames, slow readers and rate-limited frames; nil:
	// counted in metrics nobody reads.
	Metrics *nodemetrics.Metrics
}

const (
	readBufferSize  = 1024
	writeBufferSize = 4096
	// maxSpare is the largest queue slice a connection keeps for reuse
	// once it is empty; a larger one (after a burst) is let go.
	maxSpare = 64
)

// writeBuffers is shared by every connection of every Server: a
// connection holds a buffer only while it writes a frame.
var writeBuffers sync.Pool

// errClosed is SendWait on a closed connection.
var errClosed = errors.New("connection closed")

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
	open  func(c *Conn, user int64, device string, cred chat.Credentials) Session
	opt   Options
	upg   websocket.Upgrader
	mu    lockorder.Mutex // rank Leaf; guards conns and closing; never held with a Conn's mu
	conns map[*Conn]struct{}
	wg    sync.WaitGroup // one per connection, until its goroutines end
	// closing refuses new upgrades once CloseAll began.
	closing bool
}

// NewServer makes a Server; open makes the chat session of a connection,
// handing it the token the connection authenticated with.
func NewServer(log *slog.Logger, auth Authenticator, open func(c *Conn, user int64, device string, cred chat.Credentials) Session, opt Options) *Server {
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 10 * time.Second
	}
	if opt.Metrics == nil {
		opt.Metrics = nodemetrics.New(nil)
	}
	return &Server{
		log: log, auth: auth, open: open, opt: opt, conns: make(map[*Conn]struct{}), mu: lockorder.Mutex{Rank: lockorder.Leaf},
		upg: websocket.Upgrader{
			// Frames are small JSON: a 1 KB read buffer reads most in
			// one call (larger ones in several) and is what an idle
			// connection keeps; the HTTP server's 4 KB reader is let go.
			// Write buffers are held only while a frame is written.
			ReadBufferSize: readBufferSize, WriteBufferSize: writeBufferSize,
			WriteBufferPool: &writeBuffers,
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
	checked := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	user, expires, err := s.auth.CheckToken(ctx, token)
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
	hj := &corkHijacker{ResponseWriter: w}
	ws, err := s.upg.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	c := &Conn{srv: s, ws: ws, cork: hj.conn, done: make(chan struct{}), mu: lockorder.Mutex{Rank: lockorder.Conn}}
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
	c.sess = s.open(c, user, device, chat.Credentials{Token: token, Expires: expires, Checked: checked})
	c.mu.Lock()
	c.pinger = time.AfterFunc(s.opt.PingInterval, c.ping) // ping waits for c.mu: c.pinger is set first
	c.mu.Unlock()
	go c.readLoop()
}

// Count is the number of open connections.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Queued is the number of frames waiting in the send queues of all
// connections (read at scrape time: it takes every connection's lock in
// turn, never two at once).
func (s *Server) Queued() int {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	n := 0
	for _, c := range conns {
		c.mu.Lock()
		n += len(c.queue)
		c.mu.Unlock()
	}
	return n
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

// Conn is one WebSocket connection. Send, SendWait and Close are safe for
// concurrent use; the read loop alone reads; one writer at a time writes
// data frames and pings (writing says which runs); close frames go through
// WriteControl, which gorilla allows concurrently.
type Conn struct {
	srv       *Server
	ws        *websocket.Conn
	cork      *corkConn // the socket under ws
	sess      Session
	done      chan struct{} // closed once: stop writing
	closeOnce sync.Once

	mu      lockorder.Mutex // rank Conn (taken under chat.Session.mu); guards everything below
	queue   [][]byte        // bounded write queue (opt.SendQueue frames)
	spare   [][]byte        // the previous queue's slice, kept for reuse when small
	writing bool            // a writer runs (writeLoop); it ends once queue is empty
	pingDue bool            // the writer sends a ping next
	slow    bool            // the queue overflowed: nothing more is queued; Close is on its way
	room    chan struct{}   // made by a waiting SendWait; closed when the writer takes frames
	pinger  *time.Timer     // fires ping every opt.PingInterval
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
	c.mu.Lock()
	if c.slow || len(c.queue) >= c.srv.opt.SendQueue {
		// Close runs apart (it writes a close frame); until it has, the
		// writer may take the queue and make room, so slow keeps the
		// overflowed connection from taking more meanwhile.
		first := !c.slow
		c.slow = true
		c.mu.Unlock()
		if first {
			c.srv.opt.Metrics.SlowReaderCloses.Inc()
			go c.Close(CloseSlowReader, "slow reader")
		}
		return false
	}
	start := c.pushLocked(b)
	c.mu.Unlock()
	c.srv.opt.Metrics.FrameOut(b)
	if start {
		go c.writeLoop()
	}
	return true
}

// SendWait queues b, waiting for room: it fills the queue only up to
// waitLimit, so the frames Send queues meanwhile (answers to the client's
// frames, live deliveries) have the rest. A catch-up that filled the whole
// queue made the next sent or pong overflow it: a client reading a long
// catch-up was closed as a slow reader the moment it sent a message
// (TestResendDuringCatchUp, once under load).
func (c *Conn) SendWait(ctx context.Context, b []byte) error {
	for {
		select {
		case <-c.done:
			return errClosed
		default:
		}
		c.mu.Lock()
		if c.slow {
			c.mu.Unlock()
			return errClosed
		}
		if len(c.queue) < c.waitLimit() {
			start := c.pushLocked(b)
			c.mu.Unlock()
			c.srv.opt.Metrics.FrameOut(b)
			if start {
				go c.writeLoop()
			}
			return nil
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.mu.Unlock()
		select {
		case <-room:
		case <-c.done:
			return errClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitLimit is how far SendWait fills the queue: three quarters of it.
func (c *Conn) waitLimit() int {
	return c.srv.opt.SendQueue - c.srv.opt.SendQueue/4
}

// pushLocked queues b and reports whether the caller must start the writer.
func (c *Conn) pushLocked(b []byte) (start bool) {
	if c.queue == nil {
		c.queue, c.spare = c.spare, nil
	}
	c.queue = append(c.queue, b)
	start = !c.writing
	c.writing = true
	return start
}

// ping runs on the pinger's timer: the writer sends a ping next.
func (c *Conn) ping() {
	select {
	case <-c.done:
		return
	default:
	}
	c.mu.Lock()
	c.pingDue = true
	start := !c.writing
	c.writing = true
	c.pinger.Reset(c.srv.opt.PingInterval)
	c.mu.Unlock()
	if start {
		c.writeLoop() // on the timer's goroutine, which ends with it
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

// writeLoop writes what is queued, in order, until the queue is empty, and
// ends. Only one runs at a time (c.writing). After a write error, or once
// the connection is done, it ends with writing still set, so no other
// starts: the read loop ends (the socket is closed) and cleans up.
func (c *Conn) writeLoop() {
	opt := c.srv.opt
	for {
		c.mu.Lock()
		batch, ping := c.queue, c.pingDue
		c.queue, c.pingDue = nil, false
		if len(batch) == 0 && !ping {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if c.room != nil {
			close(c.room)
			c.room = nil
		}
		c.mu.Unlock()
		select {
		case <-c.done:
			return
		default:
		}
		if ping {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(opt.WriteTimeout)); err != nil {
				c.ws.Close()
				return
			}
		}
		// Several frames queued: one socket write for the lot (cork.go).
		corked := len(batch) > 1
		if corked {
			c.cork.hold()
		}
		for _, b := range batch {
			_ = c.ws.SetWriteDeadline(time.Now().Add(opt.WriteTimeout))
			err := c.ws.WriteMessage(websocket.TextMessage, b)
			if err != nil {
				if corked {
					_ = c.cork.release()
				}
				c.ws.Close()
				return
			}
		}
		if corked {
			if err := c.cork.release(); err != nil {
				c.ws.Close()
				return
			}
		}
		if cap(batch) <= maxSpare {
			clear(batch) // the frames can go
			c.mu.Lock()
			if c.spare == nil {
				c.spare = batch[:0]
			}
			c.mu.Unlock()
		}
	}
}

func (c *Conn) readLoop() {
	s := c.srv
	defer func() {
		c.closeOnce.Do(func() { close(c.done) })
		c.mu.Lock()
		c.pinger.Stop()
		c.queue, c.spare = nil, nil
		c.mu.Unlock()
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
			s.opt.Metrics.FrameIn(nodemetrics.InInvalid)
			if c.admit(nil, "") {
				c.Send(frame.ErrorBytes(frame.CodeBadFrame, "want text frames of JSON", ""))
			}
			continue
		}
		c.handle(ctx, b)
	}
}

func (c *Conn) handle(ctx context.Context, b []byte) {
	f, err := frame.Decode(b)
	c.srv.opt.Metrics.FrameIn(frameIn(f))
	id := frame.ClientID(f)
	if !c.admit(f, id) {
		return
	}
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
		// The read loop goes on to the next frame while this one is
		// stored, so a connection's sends share append batches.
		c.sess.Send(ctx, f, c.answer(f.ClientMsgID))
	case *frame.Recall:
		c.sess.Recall(ctx, f, c.answer(f.ClientMsgID))
	case *frame.Edit:
		c.sess.Edit(ctx, f, c.answer(f.ClientMsgID))
	case *frame.React:
		c.sess.React(ctx, f, c.answer(f.ClientMsgID))
	case *frame.DeleteForMe:
		c.sess.DeleteForMe(ctx, f, c.answer(f.ClientMsgID))
	case *frame.Ack:
		if err := c.sess.Ack(ctx, f); err != nil {
			c.sendError(err, "")
		}
	case *frame.Sync:
		c.reply(c.sess.Sync(ctx, f))
	case *frame.Versions:
		c.reply(c.sess.Versions(ctx, f))
	case *frame.Read:
		if err := c.sess.Read(ctx, f); err != nil {
			c.sendError(err, "")
		}
	case *frame.Typing:
		if err := c.sess.Typing(ctx, f); err != nil {
			c.sendError(err, "")
		}
	}
}

// reply sends the answer of a read (sync, versions) or its error.
func (c *Conn) reply(answer []byte, err error) {
	if err != nil {
		c.sendError(err, "")
		return
	}
	c.Send(answer)
}

// frameIn is the metrics label of a decoded frame (nil: did not decode).
func frameIn(f any) nodemetrics.FrameIn {
	switch f := f.(type) {
	case *frame.Send:
		return nodemetrics.InSend
	case *frame.Ack:
		return nodemetrics.InAck
	case *frame.Sync:
		return nodemetrics.InSync
	case *frame.Versions:
		return nodemetrics.InVersions
	case *frame.Read:
		return nodemetrics.InRead
	case *frame.Typing:
		return nodemetrics.InTyping
	case *frame.Recall:
		return nodemetrics.InRecall
	case *frame.Edit:
		return nodemetrics.InEdit
	case *frame.React:
		if f.Remove {
			return nodemetrics.InUnreact
		}
		return nodemetrics.InReact
	case *frame.DeleteForMe:
		return nodemetrics.InDeleteForMe
	case *frame.Ping:
		return nodemetrics.InPing
	}
	return nodemetrics.InInvalid
}

// answer is the reply of a lifecycle frame: the sent frame or the error.
func (c *Conn) answer(clientMsgID string) func(sent []byte, err error) {
	return func(sent []byte, err error) {
		if err != nil {
			c.sendError(err, clientMsgID)
			return
		}
		c.Send(sent)
	}
}

// admit counts f (nil: a frame that did not decode) against the rate
// limits; a refused frame is answered (rate_limited, with retry_after)
// and not handled, and a connection that keeps going is closed.
func (c *Conn) admit(f any, clientMsgID string) bool {
	if err := c.sess.Admit(f); err != nil {
		c.sendError(err, clientMsgID)
		return false
	}
	return true
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
	{chat.ErrRateLimited, frame.CodeRateLimited, "over a rate limit; slow down"},
	{chat.ErrAckAhead, frame.CodeBadFrame, "ack of a seq past the last message of the conversation"},
	{chat.ErrBeforeJoin, frame.CodeBadFrame, "seq: read receipt of a message from before you joined the group"},
	{chat.ErrReadAhead, frame.CodeBadFrame, "read of a seq past the last message of the conversation"},
	{chat.ErrNoTyping, frame.CodeBadFrame, "conversation: typing is for 1:1 and group conversations only"},
	{chat.ErrNoLifecycle, frame.CodeBadFrame, "conversation: recall, edit and reactions are for 1:1 and group conversations only"},
	{chat.ErrNoSuchMessage, frame.CodeBadFrame, "seq: no such message in the conversation"},
	{chat.ErrNotYours, frame.CodeForbidden, "seq: not your message"},
	{chat.ErrNotChangeable, frame.CodeBadFrame, "seq: system messages and lifecycle events are not recalled or edited"},
	{chat.ErrRecalled, frame.CodeBadFrame, "seq: the message was recalled"},
	{chat.ErrNotEditable, frame.CodeBadFrame, "seq: only text and emoji messages are edited"},
	{chat.ErrRecallWindow, frame.CodeForbidden, "seq: past the recall window; only group owners and admins recall later"},
	{chat.ErrEditWindow, frame.CodeForbidden, "seq: past the edit window"},
	{chat.ErrClearAhead, frame.CodeBadFrame, "seq: past the last message of the conversation"},
	{chat.ErrReacted, frame.CodeBadFrame, "emoji: you reacted with this emoji already"},
	{chat.ErrNotReacted, frame.CodeBadFrame, "emoji: you have not reacted with this emoji"},
	{chat.ErrTooManyEmoji, frame.CodeBadFrame, "emoji: the message has 20 distinct emoji, the most it holds"},
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
	var rl *chat.RateLimitError
	if errors.As(err, &rl) {
		c.srv.opt.Metrics.RateLimited.WithLabelValues(rl.Limit).Inc()
		c.Send(frame.Marshal(frame.ErrorFrame{
			Type: "error", Code: frame.CodeRateLimited, ClientMsgID: clientMsgID,
			Message:    "over the " + rl.Limit + " rate limit; slow down",
			RetryAfter: max(1, (rl.RetryAfter + time.Millisecond - 1).Milliseconds()),
		}))
		if rl.Close {
			c.Close(chat.CloseRateLimited, "rate_limited")
		}
		return
	}
	var me *chat.MutedError
	if errors.As(err, &me) {
		f := frame.ErrorFrame{Type: "error", Code: frame.CodeMuted, Message: "you are muted in this group", ClientMsgID: clientMsgID}
		if !me.Until.IsZero() {
			f.Until = me.Until.UTC().Format(time.RFC3339)
		} else {
			f.Message = "only the owner and admins may send while the group is muted"
		}
		c.Send(frame.Marshal(f))
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
