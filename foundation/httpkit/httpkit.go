// Package httpkit is the HTTP plumbing on gin that the services with a public
// HTTP API share (the userservice and the subscriptionservice), so that
// every one of them answers alike: the engine with recovery, a request log
// and /healthz, /readyz (this file); strict JSON decoding (Bind, decode.go);
// ids as decimal strings (ID, ids.go); streamed multipart uploads
// (FormFile, multipart.go); the Bearer middleware over an Authenticator
// (UserID, PathID, auth.go); and errors turned into statuses through one
// table (Fail, errors.go), with the body {"error":{"code","message","field"}}.
//
// A service's own httpapi package holds its features: each a type
// implementing Feature, passed in Deps.Features, registering its routes on
// Routes.Public or Routes.Authed.
//
// It may import gin and errs; never a service's feature or adapter, and no
// business rule of any service.
package httpkit

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/metrics"
)

// Feature registers one feature's routes.
type Feature interface {
	Register(Routes)
}

// Routes are where a Feature registers.
type Routes struct {
	Root   *gin.Engine      // outside /api/v1: /static/, /openapi.yaml
	Public *gin.RouterGroup // /api/v1, no token needed
	Authed *gin.RouterGroup // /api/v1, a valid bearer token needed; UserID(c) is the caller
}

// Authenticator verifies a bearer token and returns its user's id. Its
// errors are *errs.Error of KindUnauthenticated for tokens at fault.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (userID int64, err error)
}

// Deps is what the API needs.
type Deps struct {
	Log            *slog.Logger
	Auth           Authenticator
	Ready          func(context.Context) error // nil when the DataService answers its health check
	TrustedProxies []string                    // whose X-Forwarded-For is believed; nil: none
	Features       []Feature
	// Outer are middleware that run before everything else (metrics,
	// tracing: foundation/metrics.Registry.Gin), in this order.
	Outer []gin.HandlerFunc
}

// API is the HTTP handler with its readiness switch.
type API struct {
	engine *gin.Engine
	ready  atomic.Bool
	deps   Deps
}

// readyTimeout bounds the DataService health check of /readyz.
const readyTimeout = 2 * time.Second

// New builds the API; it reports not ready until SetReady(true).
func New(d Deps) (*API, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if err := e.SetTrustedProxies(d.TrustedProxies); err != nil {
		return nil, err
	}
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	a := &API{engine: e, deps: d}
	// The request log is outermost so that it also logs the requests whose
	// handler panicked, answered by recovery.
	e.Use(d.Outer...)
	e.Use(a.logRequests, a.recovery)
	e.NoRoute(func(c *gin.Context) { WriteError(c, http.StatusNotFound, "not_found", "no such route", "") })
	e.NoMethod(func(c *gin.Context) {
		WriteError(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route", "")
	})
	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", a.readyz)

	v1 := e.Group("/api/v1")
	r := Routes{Root: e, Public: v1, Authed: v1.Group("", a.authenticate)}
	for _, f := range d.Features {
		f.Register(r)
	}
	return a, nil
}

// Handler serves the API.
func (a *API) Handler() http.Handler { return a.engine }

// Server is the http.Server of the API: bounded headers, the timeouts t
// (the binary's HTTP_*_TIMEOUT settings), and its own errors logged at
// warn.
func (a *API) Server(t config.HTTPTimeouts) *http.Server {
	return &http.Server{
		Handler:           a.engine,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.deps.Log.Handler(), slog.LevelWarn),
	}
}

// SetReady switches /readyz; the server turns it off first when stopping so
// load balancers stop sending before the listener closes.
func (a *API) SetReady(ok bool) { a.ready.Store(ok) }

func (a *API) readyz(c *gin.Context) {
	if !a.ready.Load() {
		WriteError(c, http.StatusServiceUnavailable, "not_ready", "not serving", "")
		return
	}
	if a.deps.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := a.deps.Ready(ctx); err != nil {
			a.deps.Log.WarnContext(ctx, "not ready", "err", err)
			WriteError(c, http.StatusServiceUnavailable, "not_ready", "dataservice unreachable", "")
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// logKey is where logRequests leaves the logger for Fail.
const logKey = "httpkit.log"

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(logKey); ok {
		return l.(*slog.Logger)
	}
	return slog.New(slog.DiscardHandler)
}

// logRequests logs one line per request, after it is answered. Health
// probes log at debug.
func (a *API) logRequests(c *gin.Context) {
	start := time.Now()
	c.Set(logKey, a.deps.Log)
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	level := slog.LevelInfo
	if route == "/healthz" || route == "/readyz" {
		level = slog.LevelDebug
	}
	a.deps.Log.Log(c.Request.Context(), level, "http",
		"method", c.Request.Method,
		"route", route,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"bytes", c.Writer.Size(),
		"dur", time.Since(start),
		"ip", c.ClientIP(),
	)
}

// recovery turns a panic in a handler into a logged error and a 500 whose
// body says nothing about it.
func (a *API) recovery(c *gin.Context) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			panic(r) // net/http's way to abort a response; it logs nothing
		}
		a.deps.Log.ErrorContext(c.Request.Context(), "panic in handler",
			"method", c.Request.Method, "path", c.Request.URL.Path, "panic", r, "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		WriteError(c, http.StatusInternalServerError, codeInternal, msgInternal, "")
	}()
	c.Next()
}

// Metrics counts every request of the engine by its route template
// (c.FullPath(), "/api/v1/users/:id") in r (foundation/metrics: requests
// by route, method and code, and their duration). Put it in Deps.Outer,
// first, so that it sees the status the handlers and the other middleware
// set.
func Metrics(r *metrics.Registry) gin.HandlerFunc {
	observe := r.HTTPObserver()
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		observe(c.FullPath(), c.Request.Method, c.Writer.Status(), start)
	}
}
