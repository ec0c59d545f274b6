// Package gateway is the one origin a browser talks to: it serves the web
// app's files and reverse-proxies the services' public APIs behind it, so
// the app needs no CORS and no service needs to know the app exists.
//
// Routes (docs/web.md):
//
//	/api/..., /static/...    the userservice (its HTTP API, avatars and chat files)
//	/sub/...                 the subscriptionservice, without the /sub prefix
//	                         (/sub/api/v1/subscriptions/... is its /api/v1/subscriptions/...)
//	/ws                      a message node's WebSocket; each new connection goes to the next node
//	/healthz                 the gateway's own liveness
//	anything else            the app: a file of the build, or index.html for the app's own
//	                         pages (/reset-password, /verify-email, ...)
//
// The subscriptionservice gets a prefix because both services answer
// /api/v1/subscriptions/...: the userservice follows and searches
// subscriptions, the subscriptionservice runs them.
//
// It imports only the standard library.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"
)

// SubPrefix is the path prefix of the subscriptionservice's routes.
const SubPrefix = "/sub"

// Upstreams are the services behind the gateway.
type Upstreams struct {
	User         *url.URL   // the userservice's public HTTP API
	Subscription *url.URL   // the subscriptionservice's public HTTP API
	Messages     []*url.URL // the message nodes' HTTP addresses (GET /ws); at least one
}

// New returns the gateway's handler. app holds the built app (index.html at
// its root); when it has no index.html every app route answers a page that
// says how to build it, and the APIs are proxied all the same.
func New(log *slog.Logger, up Upstreams, app fs.FS) http.Handler {
	mux := http.NewServeMux()
	user := proxy(log, "userservice", up.User, "")
	mux.Handle("/api/", user)
	mux.Handle("/static/", user)
	mux.Handle(SubPrefix+"/", proxy(log, "subscriptionservice", up.Subscription, SubPrefix))
	nodes := make([]http.Handler, len(up.Messages))
	for i, u := range up.Messages {
		nodes[i] = proxy(log, "messageservice", u, "")
	}
	var next atomic.Uint64
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		nodes[(next.Add(1)-1)%uint64(len(nodes))].ServeHTTP(w, r)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/", appHandler(app))
	return mux
}

// proxy forwards to target, with prefix cut from the path. The upstream sees
// the client's address in X-Forwarded-For (the userservice believes it from
// TRUSTED_PROXIES, for its per-IP rate limits) and the gateway's host in
// X-Forwarded-Host. An unreachable upstream is answered 502 in the
// services' error shape, so the app shows it like any refusal.
func proxy(log *slog.Logger, name string, target *url.URL, prefix string) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			if prefix != "" {
				pr.Out.URL.Path = strings.TrimPrefix(pr.Out.URL.Path, prefix)
				pr.Out.URL.RawPath = strings.TrimPrefix(pr.Out.URL.RawPath, prefix)
			}
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		// Streams (and WebSocket frames, after the upgrade) pass at once.
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return // the client went away or the gateway is stopping
			}
			log.Warn("upstream unavailable", "upstream", name, "method", r.Method, "path", r.URL.Path, "err", err)
			writeError(w, http.StatusBadGateway, "unavailable", "the "+name+" cannot be reached; try again shortly")
		},
	}
}

// writeError answers the body every service answers errors with:
// {"error":{"code","message"}} (foundation/httpkit).
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// appHandler serves app's files; a path that names no file and has no
// extension is one of the app's pages and gets index.html (the app routes
// by location.pathname). A missing file with an extension is 404, so a
// broken asset link fails loudly instead of loading HTML as a script.
func appHandler(app fs.FS) http.Handler {
	index, err := fs.ReadFile(app, "index.html")
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(notBuiltPage))
		})
	}
	files := http.FileServerFS(app)
	start := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the app's files are read with GET")
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(app, name); err == nil && !st.IsDir() {
				// Bundles are named by content hash (assets/...): cached
				// for good; anything else is checked again each time.
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					w.Header().Set("Cache-Control", "no-cache")
				}
				files.ServeHTTP(w, r)
				return
			}
			if path.Ext(name) != "" {
				http.NotFound(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", csp)
		http.ServeContent(w, r, "index.html", start, bytes.NewReader(index))
	})
}

// csp lets the page load only its own scripts and styles, and talk only to
// its own origin (the APIs and /ws are behind the gateway); images may also
// be data: (QR codes) and blob: (previews of a file before upload).
const csp = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PrivateIM: the web app is not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The web app is not built</h1>
<p>This gateway was compiled without the app's files (<code>web/app/dist</code> held only its placeholder).
Build the app, then build and start the gateway again:</p>
<pre>bash scripts/web.sh     # npm ci and the build of web/sdk and web/app
make run                # does both for you</pre>
<p>The APIs are served all the same: <code>/api/...</code> (userservice), <code>/sub/api/...</code>
(subscriptionservice) and <code>/ws</code> (message nodes).</p>
</body></html>
`
