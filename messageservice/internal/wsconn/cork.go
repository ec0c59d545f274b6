package wsconn

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// corkConn is the socket under gorilla's Conn. While the writer holds it
// (hold .. release, around a batch of queued frames), writes are gathered
// in a buffer and go out in one write when released or when the buffer
// fills: a busy group (one frame per message per member) costs a syscall
// per batch instead of one per frame. Outside hold, writes go straight
// through, so a lone frame is not delayed. The buffer comes from a pool
// and goes back on release: an idle connection holds none.
type corkConn struct {
	net.Conn
	// mu guards held and buf: gorilla serialises its writes, but a close
	// frame (WriteControl) may come from another goroutine mid-batch.
	mu   sync.Mutex
	held bool
	buf  *[]byte
}

// corkMax bounds the bytes gathered before they are written anyway.
const corkMax = 64 << 10

var corkBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, corkMax)
	return &b
}}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held {
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = corkBuffers.Get().(*[]byte)
	}
	if len(*c.buf)+len(p) > corkMax {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > corkMax {
			return c.Conn.Write(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

func (c *corkConn) flushLocked() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// hold gathers the writes that follow until release.
func (c *corkConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// release writes what was gathered (under the write deadline gorilla set
// last) and lets writes through again.
func (c *corkConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	err := c.flushLocked()
	if c.buf != nil {
		corkBuffers.Put(c.buf)
		c.buf = nil
	}
	return err
}

// corkHijacker hands gorilla's Upgrade the hijacked socket wrapped in a
// corkConn.
type corkHijacker struct {
	http.ResponseWriter
	conn *corkConn
}

func (h *corkHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &corkConn{Conn: nc}
	return h.conn, brw, nil
}
