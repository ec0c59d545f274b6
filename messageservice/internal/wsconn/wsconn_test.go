package wsconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/messageservice/internal/chat"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

var errBad = errors.New("bad token")

type tokens struct{}

func (tokens) CheckToken(_ context.Context, t string) (int64, time.Time, error) {
	switch t {
	case "good":
		return 7, time.Time{}, nil
	case "down":
		return 0, time.Time{}, errors.New("userservice unavailable")
	}
	return 0, time.Time{}, errBad
}

// session answers sends with a set error or a sent frame.
type session struct {
	mu      sync.Mutex
	sendErr error
}

func (s *session) setErr(err error) {
	s.mu.Lock()
	s.sendErr = err
	s.mu.Unlock()
}

func (s *session) Send(_ context.Context, _ *frame.Send, reply func([]byte, error)) {
	s.mu.Lock()
	err := s.sendErr
	s.mu.Unlock()
	if err != nil {
		reply(nil, err)
		return
	}
	reply([]byte(`{"type":"sent"}`), nil)
}
func (s *session) Ack(context.Context, *frame.Ack) error { return nil }
func (s *session) Sync(context.Context, *frame.Sync) ([]byte, error) {
	return []byte(`{"type":"history"}`), nil
}
func (s *session) Versions(context.Context, *frame.Versions) ([]byte, error) {
	return []byte(`{"type":"versions"}`), nil
}
func (s *session) Read(context.Context, *frame.Read) error     { return nil }
func (s *session) Typing(context.Context, *frame.Typing) error { return nil }
func (s *session) Recall(_ context.Context, _ *frame.Recall, reply func([]byte, error)) {
	reply(nil, errors.New("no recall here"))
}
func (s *session) Edit(_ context.Context, _ *frame.Edit, reply func([]byte, error)) {
	reply(nil, errors.New("no edit here"))
}
func (s *session) DeleteForMe(_ context.Context, _ *frame.DeleteForMe, reply func([]byte, error)) {
	reply(nil, errors.New("no delete here"))
}
func (s *session) React(_ context.Context, _ *frame.React, reply func([]byte, error)) {
	reply(nil, errors.New("no reaction here"))
}
func (s *session) Admit(any) error { return nil }
func (s *session) Close()          {}

type fixture struct {
	srv   *Server
	url   string
	mu    sync.Mutex
	conns []*Conn
	sess  *session
}

func start(t *testing.T, opt Options) *fixture {
	t.Helper()
	if opt.MaxFrameBytes == 0 {
		opt.MaxFrameBytes = 1024
	}
	if opt.SendQueue == 0 {
		opt.SendQueue = 16
	}
	if opt.PingInterval == 0 {
		opt.PingInterval, opt.IdleTimeout = time.Minute, 2*time.Minute
	}
	opt.BadToken = errBad
	f := &fixture{sess: &session{}}
	f.srv = NewServer(slog.New(slog.DiscardHandler), tokens{}, func(c *Conn, user int64, device string, _ chat.Credentials) Session {
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		return f.sess
	}, opt)
	hs := httptest.NewServer(f.srv)
	t.Cleanup(func() {
		_ = f.srv.CloseAll(context.Background(), 0)
		hs.Close()
	})
	f.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return f
}

func (f *fixture) dial(t *testing.T, query string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(f.url+"?token=good"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) opened() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// waitOpened waits until n sessions have opened: the server opens one just
// after the upgrade answer, so a dial can return first.
func (f *fixture) waitOpened(t *testing.T, n int) {
	t.Helper()
	poll.Eventually(t, 10*time.Second, func() error {
		if got := f.opened(); got != n {
			return fmt.Errorf("%d sessions opened, want %d", got, n)
		}
		return nil
	})
}

func (f *fixture) conn(i int) *Conn {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns[i]
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func TestRefusedBeforeUpgrade(t *testing.T) {
	f := start(t, Options{})
	for _, tt := range []struct {
		name, query string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"bad token", "?token=bad", http.StatusUnauthorized},
		{"userservice down", "?token=down", http.StatusServiceUnavailable},
		{"empty device", "?token=good&device_id=", http.StatusBadRequest},
		{"long device", "?token=good&device_id=" + strings.Repeat("d", 65), http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := websocket.DefaultDialer.Dial(f.url+tt.query, nil)
			if err == nil || resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("dial = %v, %v; want HTTP %d", resp, err, tt.status)
			}
		})
	}
	t.Run("bearer header", func(t *testing.T) {
		c, _, err := websocket.DefaultDialer.Dial(f.url, http.Header{"Authorization": {"Bearer good"}})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
}

func TestErrorFramesKeepTheConnection(t *testing.T) {
	f := start(t, Options{})
	c := f.dial(t, "")
	send := `{"type":"send","client_msg_id":"c1","to":{"kind":"user","id":"2"},"content":{"kind":"text","text":"x"}}`
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{`nonsense`, `"code":"bad_frame"`, nil},
		{`{"type":"nope"}`, `"code":"unknown_type"`, nil},
		{send, `{"type":"error","code":"not_friends","message":"you and the receiver are not friends","client_msg_id":"c1"}`, chat.ErrNotFriends},
		{send, `"code":"blocked"`, chat.ErrBlocked},
		{send, `"code":"rate_limited"`, chat.ErrRateLimited},
		{send, `"code":"internal"`, errors.New("dataservice down")},
		{`{"type":"ping"}`, `{"type":"pong"}`, nil},
	} {
		f.sess.setErr(tt.err)
		if err := c.WriteMessage(websocket.TextMessage, []byte(tt.in)); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); !strings.Contains(got, tt.want) {
			t.Fatalf("%s -> %s, want %s", tt.in, got, tt.want)
		}
	}
	if err := c.WriteMessage(websocket.BinaryMessage, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c); !strings.Contains(got, "bad_frame") {
		t.Fatalf("binary frame -> %s", got)
	}
}

func TestTooLargeCloses1009(t *testing.T) {
	f := start(t, Options{MaxFrameBytes: 1024})
	c := f.dial(t, "")
	_ = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","x":"`+strings.Repeat("a", 2000)+`"}`))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("read = %v, want close 1009", err)
	}
}

// TestSlowReaderDisconnected: a client that never reads is disconnected
// when its queue overflows, and Send never blocks meanwhile; another
// client is served as before.
func TestSlowReaderDisconnected(t *testing.T) {
	f := start(t, Options{SendQueue: 16, MaxFrameBytes: 1 << 20})
	f.dial(t, "") // the slow one: never reads
	f.waitOpened(t, 1)
	sc := f.conn(0)
	fast := f.dial(t, "")
	big := []byte(`{"type":"message","pad":"` + strings.Repeat("p", 64<<10) + `"}`)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Send(big) {
		if time.Now().After(deadline) {
			t.Fatal("the queue of a client that never reads did not overflow")
		}
	}
	if sc.Send(big) {
		t.Fatal("Send succeeded on a closed connection")
	}
	if err := fast.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, fast); got != `{"type":"pong"}` {
		t.Fatalf("fast client got %s", got)
	}
}

// TestCatchUpLeavesRoomForLiveFrames: SendWait (catch-up) fills the queue
// of a client that does not read for now only to three quarters and waits
// there, so the frames Send queues meanwhile (a sent, a pong, a live
// message) still fit instead of closing the client as a slow reader.
func TestCatchUpLeavesRoomForLiveFrames(t *testing.T) {
	const queue = 16
	f := start(t, Options{SendQueue: queue, MaxFrameBytes: 1 << 20, WriteTimeout: time.Minute})
	f.dial(t, "") // reads nothing
	f.waitOpened(t, 1)
	c := f.conn(0)
	big := []byte(`{"type":"message","pad":"` + strings.Repeat("p", 64<<10) + `"}`)
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		for {
			if err := c.SendWait(ctx, big); err != nil {
				waited <- err
				return
			}
		}
	}()
	poll.Eventually(t, 20*time.Second, func() error {
		c.mu.Lock()
		n, waiting := len(c.queue), c.room != nil
		c.mu.Unlock()
		if !waiting || n != queue-queue/4 {
			return fmt.Errorf("%d frames queued, SendWait waiting: %v; want it waiting at %d", n, waiting, queue-queue/4)
		}
		return nil
	})
	for i := range queue / 4 {
		if !c.Send(big) {
			t.Fatalf("live frame %d refused while catch-up waits", i)
		}
	}
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("SendWait = %v, want context.Canceled", err)
	}
}

// TestIdleClosed: a client that answers no ping is closed after the idle
// timeout.
func TestIdleClosed(t *testing.T) {
	f := start(t, Options{PingInterval: 20 * time.Millisecond, IdleTimeout: 100 * time.Millisecond})
	f.dial(t, "")
	// The server opens the session just after the upgrade answer, so the
	// dial can return first: wait for the open (a count that only grows),
	// not for Count, which the idle close may already have taken back to 0.
	f.waitOpened(t, 1)
	poll.Eventually(t, 10*time.Second, func() error {
		if n := f.srv.Count(); n != 0 {
			return fmt.Errorf("a silent connection was not closed: %d open", n)
		}
		return nil
	})
}

func TestCloseAllGoingAway(t *testing.T) {
	f := start(t, Options{})
	c := f.dial(t, "")
	if err := f.srv.CloseAll(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("read = %v, want close 1001", err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(f.url+"?token=good", nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after CloseAll = %v, %v", resp, err)
	}
}

func TestCloseAllInWaves(t *testing.T) {
	f := start(t, Options{})
	var cs []*websocket.Conn
	for range 25 {
		cs = append(cs, f.dial(t, ""))
	}
	if err := f.srv.CloseAll(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("connection %d: %v, want close 1001", i, err)
		}
	}
	if n := f.srv.Count(); n != 0 {
		t.Fatalf("%d connections left", n)
	}
}

// TestBurstInOrder: frames queued faster than they are written go out
// together (one socket write per batch, cork.go), each intact and in
// order, small and large (over the 64 KB batch buffer) mixed.
func TestBurstInOrder(t *testing.T) {
	f := start(t, Options{SendQueue: 4096, MaxFrameBytes: 1 << 20})
	ws := f.dial(t, "")
	f.waitOpened(t, 1)
	sc := f.conn(0)
	const n = 2000
	want := make([]string, n)
	for i := range want {
		pad := strings.Repeat("p", i%7*10)
		if i%500 == 499 {
			pad = strings.Repeat("q", 100<<10)
		}
		want[i] = fmt.Sprintf(`{"type":"message","seq":%d,"pad":"%s"}`, i+1, pad)
	}
	go func() {
		for _, w := range want {
			if !sc.Send([]byte(w)) {
				return
			}
		}
	}()
	for i, w := range want {
		if got := read(t, ws); got != w {
			t.Fatalf("frame %d: got %.80s, want %.80s", i, got, w)
		}
	}
}
