package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// upstream is a real HTTP server that answers who it is, the path and
// query it got and the X-Forwarded-For it saw; GET /ws upgrades to a
// line echo protocol, as a message node upgrades to WebSocket.
func upstream(t *testing.T, name string) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			if r.Header.Get("Upgrade") != "test-echo" {
				http.Error(w, "want an upgrade", http.StatusBadRequest)
				return
			}
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n\r\n")
			brw.Flush()
			for {
				line, err := brw.ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprintf(brw, "%s:%s:%s", name, r.URL.Query().Get("token"), line)
				brw.Flush()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"upstream": name, "path": r.URL.Path, "query": r.URL.RawQuery, "xff": r.Header.Get("X-Forwarded-For"),
			"host": r.Header.Get("X-Forwarded-Host"),
		})
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func get(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, r.Header, string(b)
}

func TestRoutes(t *testing.T) {
	app := fstest.MapFS{
		"index.html":       {Data: []byte("<!doctype html><title>app</title>")},
		"assets/app-1.js":  {Data: []byte("console.log(1)")},
		"assets/app-1.css": {Data: []byte("body{}")},
	}
	up := Upstreams{User: upstream(t, "user"), Subscription: upstream(t, "sub"), Messages: []*url.URL{upstream(t, "node1")}}
	gw := httptest.NewServer(New(quiet(), up, app))
	defer gw.Close()
	host := strings.TrimPrefix(gw.URL, "http://")

	for _, c := range []struct {
		path, upstream, upPath, query string
	}{
		{"/api/v1/me", "user", "/api/v1/me", ""},
		{"/api/v1/users/search?q=%E5%BC%A0", "user", "/api/v1/users/search", "q=%E5%BC%A0"},
		{"/static/avatars/a.png", "user", "/static/avatars/a.png", ""},
		{"/sub/api/v1/subscriptions/7/articles", "sub", "/api/v1/subscriptions/7/articles", ""},
		{"/sub/static/avatars/b.png", "sub", "/static/avatars/b.png", ""},
	} {
		t.Run(c.path, func(t *testing.T) {
			code, _, body := get(t, gw.URL+c.path)
			var got map[string]string
			if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
				t.Fatalf("GET %s: %d %s", c.path, code, body)
			}
			if got["upstream"] != c.upstream || got["path"] != c.upPath || got["query"] != c.query {
				t.Errorf("GET %s reached %v, want %s %s ?%s", c.path, got, c.upstream, c.upPath, c.query)
			}
			if got["xff"] != "127.0.0.1" || got["host"] != host {
				t.Errorf("GET %s: X-Forwarded-For %q, X-Forwarded-Host %q; want 127.0.0.1, %s", c.path, got["xff"], got["host"], host)
			}
		})
	}

	for _, c := range []struct {
		path, want, cache string
		code              int
	}{
		{"/", "<title>app</title>", "no-cache", 200},
		{"/reset-password?token=abc", "<title>app</title>", "no-cache", 200}, // the app's page
		{"/chat/u:1:2", "<title>app</title>", "no-cache", 200},
		{"/assets/app-1.js", "console.log(1)", "public, max-age=31536000, immutable", 200},
		{"/assets/missing.js", "404 page not found", "", 404}, // never index.html as a script
	} {
		t.Run("app"+c.path, func(t *testing.T) {
			code, h, body := get(t, gw.URL+c.path)
			if code != c.code || !strings.Contains(body, c.want) || h.Get("Cache-Control") != c.cache {
				t.Errorf("GET %s: %d %q Cache-Control %q; want %d %q %q", c.path, code, body, h.Get("Cache-Control"), c.code, c.want, c.cache)
			}
		})
	}
	if _, h, _ := get(t, gw.URL+"/"); !strings.Contains(h.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Errorf("index.html without the CSP: %q", h.Get("Content-Security-Policy"))
	}
}

// TestWebSocketsGoRoundRobin: each /ws connection is upgraded by the next
// node, the token query passes, and bytes flow both ways after the upgrade.
func TestWebSocketsGoRoundRobin(t *testing.T) {
	up := Upstreams{User: upstream(t, "user"), Subscription: upstream(t, "sub"), Messages: []*url.URL{upstream(t, "node1"), upstream(t, "node2")}}
	gw := httptest.NewServer(New(quiet(), up, fstest.MapFS{}))
	defer gw.Close()
	for i, want := range []string{"node1", "node2", "node1"} {
		conn, br := upgrade(t, strings.TrimPrefix(gw.URL, "http://"), fmt.Sprint("t", i))
		fmt.Fprintf(conn, "hello %d\n", i)
		line, err := br.ReadString('\n')
		conn.Close()
		if w := fmt.Sprintf("%s:t%d:hello %d\n", want, i, i); err != nil || line != w {
			t.Fatalf("connection %d echoed %q, %v; want %q", i, line, err, w)
		}
	}
}

func upgrade(t *testing.T, addr, token string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /ws?token=%s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: test-echo\r\n\r\n", token, addr)
	br := bufio.NewReader(conn)
	r, err := http.ReadResponse(br, nil)
	if err != nil || r.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", r, err)
	}
	return conn, br
}

func TestNotBuilt(t *testing.T) {
	up := Upstreams{User: upstream(t, "user"), Subscription: upstream(t, "sub"), Messages: []*url.URL{upstream(t, "node1")}}
	gw := httptest.NewServer(New(quiet(), up, fstest.MapFS{".gitkeep": {}}))
	defer gw.Close()
	code, _, body := get(t, gw.URL+"/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "The web app is not built") || !strings.Contains(body, "scripts/web.sh") {
		t.Errorf("GET / unbuilt: %d %s", code, body)
	}
	if code, _, body := get(t, gw.URL+"/api/v1/me"); code != http.StatusOK || !strings.Contains(body, `"upstream":"user"`) {
		t.Errorf("the API is not proxied while the app is unbuilt: %d %s", code, body)
	}
}

// TestUpstreamDown: a service that cannot be reached is a 502 in the
// services' error shape, which the app shows like any refusal.
func TestUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	gw := httptest.NewServer(New(quiet(), Upstreams{User: dead, Subscription: dead, Messages: []*url.URL{dead}}, fstest.MapFS{}))
	defer gw.Close()
	code, _, body := get(t, gw.URL+"/sub/api/v1/subscriptions/mine")
	var e struct {
		Error struct{ Code, Message string }
	}
	if code != http.StatusBadGateway || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "unavailable" || !strings.Contains(e.Error.Message, "subscriptionservice") {
		t.Errorf("GET with the subscriptionservice down: %d %s", code, body)
	}
}

// TestShutdownCutsWebSockets: Run returns after ctx ends even while a
// proxied WebSocket is open (Shutdown does not wait for hijacked
// connections), and the client sees its connection end.
func TestShutdownCutsWebSockets(t *testing.T) {
	up := Upstreams{User: upstream(t, "user"), Subscription: upstream(t, "sub"), Messages: []*url.URL{upstream(t, "node1")}}
	s, err := Listen(quiet(), ServerConfig{Addr: "127.0.0.1:0", ReadHeader: time.Second, Read: time.Minute, Write: time.Minute, Idle: time.Minute,
		ShutdownTimeout: 5 * time.Second, Upstreams: up, App: fstest.MapFS{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = s.Run(ctx) })
	conn, br := upgrade(t, s.Addr(), "x")
	defer conn.Close()
	fmt.Fprintf(conn, "ping\n")
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	wg.Wait()
	if runErr != nil || time.Since(start) > 3*time.Second {
		t.Fatalf("Run returned %v after %v", runErr, time.Since(start))
	}
	if _, err := br.ReadString('\n'); err == nil {
		t.Error("the WebSocket is still open after the shutdown")
	}
}
