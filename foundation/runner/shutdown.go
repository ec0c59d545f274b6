package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server is one thing a program serves until a stop step ends it: the HTTP
// API, the gRPC API. Serve blocks; it returns nil when a stop step ended it
// and the cause otherwise.
type Server struct {
	Name  string // "http", "grpc": names its failure
	Serve func() error
}

// HTTPServer serves srv on lis; http.ErrServerClosed (the end StopHTTP
// brings) counts as a clean end.
func HTTPServer(name string, srv *http.Server, lis net.Listener) Server {
	return Server{Name: name, Serve: func() error {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}}
}

// Serving is a set of servers started by Serve.
type Serving struct {
	results chan result
	pending int // results not yet taken; owned by the caller's goroutine
}

type result struct {
	name string
	err  error
}

// Serve starts every server in its own goroutine.
func Serve(servers ...Server) *Serving {
	s := &Serving{results: make(chan result, len(servers)), pending: len(servers)}
	for _, srv := range servers {
		go func() { s.results <- result{srv.Name, srv.Serve()} }()
	}
	return s
}

// Wait blocks until ctx is done or a server returns, and returns why that
// server stopped (nil when it stopped without an error, or when ctx ended
// first). Either way the program then shuts down.
func (s *Serving) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case r := <-s.results:
		s.pending--
		return r.wrap()
	}
}

// Stopped waits for the servers Wait did not see return, and joins their
// failures. It is the stop step that follows the steps that end them (it
// takes a context only to be one: the servers end when those steps do).
func (s *Serving) Stopped(context.Context) error {
	var errs []error
	for ; s.pending > 0; s.pending-- {
		errs = append(errs, (<-s.results).wrap())
	}
	return errors.Join(errs...)
}

func (r result) wrap() error {
	if r.err == nil {
		return nil
	}
	return fmt.Errorf("serve %s: %w", r.name, r.err)
}

// Step is one named step of an ordered shutdown: readiness off, a server
// stopped, a client closed.
type Step struct {
	Name string
	Stop func(ctx context.Context) error
}

// Shutdown runs the steps in order, all within one deadline of timeout
// from now (ctx's cancellation is ignored: ctx being done is usually why
// the program shuts down). A step that fails does not stop the ones after
// it: its error is logged and returned, joined with the others.
func Shutdown(ctx context.Context, log *slog.Logger, timeout time.Duration, steps ...Step) error {
	log.Info("shutting down", "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	return Stop(ctx, log, steps...)
}

// Stop runs the steps in order within ctx, like Shutdown, for a program
// that gives up before it served (New undoing what it opened).
func Stop(ctx context.Context, log *slog.Logger, steps ...Step) error {
	var errs []error
	for _, st := range steps {
		if err := st.Stop(ctx); err != nil {
			log.Warn("shutdown step failed", "step", st.Name, "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", st.Name, err))
		}
	}
	return errors.Join(errs...)
}

// StopHTTP is the step that shuts srv down: it waits for the requests in
// flight, and when the deadline comes first it logs that and cuts them. A
// request cut short is not a failure of the shutdown.
func StopHTTP(log *slog.Logger, name string, srv *http.Server) Step {
	return Step{Name: name, Stop: func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("http shutdown cut requests short", "server", name, "err", err)
			srv.Close()
		}
		return nil
	}}
}

// Do is a step that cannot fail: readiness off, a loop told to stop.
func Do(name string, f func()) Step {
	return Step{Name: name, Stop: func(context.Context) error { f(); return nil }}
}

// Closers are the stop steps of what a program opened, in the order it
// opened them; they run in reverse, like deferred calls, so that a thing
// closes before the things it uses.
type Closers []Step

// Add appends the step that closes what was just opened.
func (c *Closers) Add(name string, stop func(ctx context.Context) error) {
	*c = append(*c, Step{Name: name, Stop: stop})
}

// Steps returns the steps in the order they run: last opened, first.
func (c Closers) Steps() []Step {
	out := make([]Step, len(c))
	for i, st := range c {
		out[len(c)-1-i] = st
	}
	return out
}

// GRPCServer is what APIs needs of a gRPC server (grpcserver.Server).
type GRPCServer interface {
	Serve(lis net.Listener) error
	SetServing(ok bool)
	Shutdown(ctx context.Context) // NOT_SERVING, then a graceful stop cut at ctx's end
}

// APIs are the public HTTP API and the internal gRPC API of a service
// that has both, with what they use. A service's Server embeds APIs, so
// HTTPAddr, GRPCAddr, Run and Close are its own. Run serves them and shuts
// down in their order: readiness off, HTTP Shutdown (requests in flight
// finish), gRPC NOT_SERVING and graceful stop, then the Closers, all within
// Timeout.
type APIs struct {
	HTTP     *http.Server
	HTTPLis  net.Listener
	GRPC     GRPCServer
	GRPCLis  net.Listener
	SetReady func(bool) // what /readyz reports
	// Closers close what the servers used, once they stopped (the
	// features, the clients).
	Closers Closers
	Timeout time.Duration
	Log     *slog.Logger
}

// Listen opens both listeners; when the gRPC one fails, the HTTP one is
// closed again.
func (a *APIs) Listen(httpAddr, grpcAddr string) (err error) {
	if a.HTTPLis, err = net.Listen("tcp", httpAddr); err != nil {
		return fmt.Errorf("listen http %s: %w", httpAddr, err)
	}
	if a.GRPCLis, err = net.Listen("tcp", grpcAddr); err != nil {
		a.HTTPLis.Close()
		return fmt.Errorf("listen grpc %s: %w", grpcAddr, err)
	}
	return nil
}

// HTTPAddr is the address the HTTP API listens on.
func (a *APIs) HTTPAddr() string { return a.HTTPLis.Addr().String() }

// GRPCAddr is the address the gRPC API listens on.
func (a *APIs) GRPCAddr() string { return a.GRPCLis.Addr().String() }

// Close runs the Closers in reverse order, once: after the servers stop,
// or when building the service failed half-way.
func (a *APIs) Close(ctx context.Context) error {
	err := Stop(ctx, a.Log, a.Closers.Steps()...)
	a.Closers = nil
	return err
}

// CloseOnError runs the Closers when *err is set: deferred by a
// service's New, so that a failure half-way closes what was opened.
func (a *APIs) CloseOnError(err *error) {
	if *err != nil {
		a.Close(context.Background())
	}
}

// CloseUnserved closes the listeners and runs the Closers of APIs that were
// built but never Run: a test that only looks at the wiring.
func (a *APIs) CloseUnserved(ctx context.Context) error {
	a.HTTPLis.Close()
	a.GRPCLis.Close()
	return a.Close(ctx)
}

// Run serves until ctx ends or a server fails, then shuts down in order.
// It returns nil after a clean shutdown, or why serving failed joined with
// what failed to stop.
func (a *APIs) Run(ctx context.Context) error {
	log := a.Log
	serving := Serve(
		HTTPServer("http", a.HTTP, a.HTTPLis),
		Server{Name: "grpc", Serve: func() error { return a.GRPC.Serve(a.GRPCLis) }},
	)
	a.SetReady(true)
	a.GRPC.SetServing(true)
	log.Info("listening", "http", a.HTTPLis.Addr().String(), "grpc", a.GRPCLis.Addr().String())

	failed := serving.Wait(ctx)
	err := errors.Join(failed, Shutdown(ctx, log, a.Timeout,
		Do("readiness off", func() { a.SetReady(false) }),
		StopHTTP(log, "http", a.HTTP),
		Step{Name: "grpc", Stop: func(ctx context.Context) error { a.GRPC.Shutdown(ctx); return nil }},
		Step{Name: "servers", Stop: serving.Stopped},
		Step{Name: "closers", Stop: a.Close},
	))
	if err == nil {
		log.Info("stopped")
	}
	return err
}
