package apitest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// SlowHeadersAreCut attacks the HTTP server at addr (host:port) as
// slowloris does: it starts a request and sends one more header line every
// 100 ms, never ending the headers, for up to 3 s. It fails the test unless
// the server cut the connection off by then (or within a second after):
// give the server a header timeout under 2 s.
func SlowHeadersAreCut(tb testing.TB, addr string) {
	tb.Helper()
	if !slowHeaders(tb, addr) {
		tb.Fatal("a request whose headers dripped for 3s is still open")
	}
}

func slowHeaders(tb testing.TB, addr string) (cut bool) {
	tb.Helper()
	conn := dialRaw(tb, addr)
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		tb.Fatal(err)
	}
	drip := time.NewTicker(100 * time.Millisecond)
	defer drip.Stop()
	for start, i := time.Now(), 0; time.Since(start) < 3*time.Second; i++ {
		if _, err := fmt.Fprintf(conn, "X-Drip-%d: y\r\n", i); err != nil {
			return true
		}
		<-drip.C
	}
	return closedWithin(conn, time.Second)
}

// SlowBodyIsCut attacks the HTTP server at addr (host:port) with a request
// whose headers arrive at once and whose body (POST /healthz, 1000 bytes
// announced) then drips a byte every 100 ms, for up to 3 s. The server
// reads (or discards) the body before it may reuse the connection, so only
// a read timeout ends it: the test fails unless the connection was cut by
// then (or within a second after). Give the server a read timeout under 2 s.
func SlowBodyIsCut(tb testing.TB, addr string) {
	tb.Helper()
	conn := dialRaw(tb, addr)
	if _, err := io.WriteString(conn, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	// The answer (a 405 or an error) may come before the body is read:
	// read it away, so that only the server closing (EOF, reset) counts.
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(closed) }()
	drip := time.NewTicker(100 * time.Millisecond)
	defer drip.Stop()
	for start := time.Now(); time.Since(start) < 3*time.Second; {
		select {
		case <-closed:
			return
		case <-drip.C:
			if _, err := io.WriteString(conn, " "); err != nil {
				return // cut
			}
		}
	}
	select {
	case <-closed:
		return
	case <-time.After(time.Second):
	}
	tb.Fatal("a request whose body dripped for 3s is still open")
}

// IdleKeepAliveIsClosed sends GET /healthz on a keep-alive connection to
// addr, reads the status line, then sends nothing more; it fails the test
// unless the server closes the connection within d.
func IdleKeepAliveIsClosed(tb testing.TB, addr string, d time.Duration) {
	tb.Helper()
	if !idleKeepAlive(tb, addr, d) {
		tb.Fatalf("an idle keep-alive connection is still open %v after its request", d)
	}
}

func idleKeepAlive(tb testing.TB, addr string, d time.Duration) (closed bool) {
	tb.Helper()
	conn := dialRaw(tb, addr)
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, " 200 ") {
		tb.Fatalf("GET /healthz: %q, %v", line, err)
	}
	return closedWithin(conn, d)
}

func dialRaw(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// closedWithin reports whether the server closes conn within d (EOF or a
// reset, not a timeout).
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}
