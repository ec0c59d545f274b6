package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// stack starts services as child processes and supervises them. It is used
// by one goroutine (run); each child has a goroutine that waits for it.
type stack struct {
	log          *slog.Logger
	out          io.Writer // children's stdout and stderr, line-prefixed
	creds        credentials.TransportCredentials
	startTimeout time.Duration
	stopGrace    time.Duration
}

func newStack(log *slog.Logger, client tlsconfig.Files, out io.Writer) (*stack, error) {
	creds, err := tlsconfig.ClientCredentials(client, "")
	if err != nil {
		return nil, fmt.Errorf("client tls (run `make certs`): %w", err)
	}
	return &stack{log: log, out: &lockedWriter{w: out}, creds: creds, startTimeout: 90 * time.Second, stopGrace: 15 * time.Second}, nil
}

// child is one running service.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited; err is set before
	err  error
}

// run starts svcs in order, each once the one before is healthy, calls ready,
// and blocks until ctx ends (nil) or a child exits on its own (an error). In
// both cases every child still running is stopped and waited for.
func (s *stack) run(ctx context.Context, svcs []service, ready func()) (err error) {
	var started []*child
	defer func() {
		for i := len(started) - 1; i >= 0; i-- {
			if stopErr := s.stop(started[i]); stopErr != nil {
				err = errors.Join(err, stopErr)
			}
		}
	}()
	died := make(chan *child, len(svcs))
	for _, svc := range svcs {
		c, err := s.start(svc)
		if err != nil {
			return err
		}
		started = append(started, c)
		go func() { <-c.done; died <- c }()
		wait := func() error { return s.waitHealthy(ctx, c, svc.addr) }
		if svc.httpHealth != "" {
			wait = func() error { return s.waitHTTP(ctx, c, svc.httpHealth) }
		}
		if err := wait(); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while starting: stop what runs, quietly
			}
			return err
		}
		s.log.Info("healthy", "service", svc.name, "addr", svc.addr)
	}
	if ready != nil {
		ready()
	}
	select {
	case <-ctx.Done():
		s.log.Info("stopping", "services", len(started))
		return nil
	case c := <-died:
		return fmt.Errorf("%s exited: %v", c.name, exitReason(c.err))
	}
}

func (s *stack) start(svc service) (*child, error) {
	cmd := exec.Command(svc.bin, svc.args...)
	cmd.Env = append(os.Environ(), svc.env...)
	w := &prefixWriter{w: s.out, prefix: []byte(svc.name + " | ")}
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group keeps a terminal's Ctrl-C from reaching the child
	// directly: devstack stops the children itself, in order. Pdeathsig stops
	// it should devstack be killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", svc.name, err)
	}
	s.log.Info("started", "service", svc.name, "pid", cmd.Process.Pid)
	c := &child{name: svc.name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		w.flush()
		close(c.done)
	}()
	return c, nil
}

// stop sends SIGTERM to the child's process group and waits stopGrace for it
// to exit, then kills it. A child that had already exited is not an error
// here: run reports an unexpected exit.
func (s *stack) stop(c *child) error {
	select {
	case <-c.done:
		return nil
	default:
	}
	pid := c.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	t := time.NewTimer(s.stopGrace)
	defer t.Stop()
	select {
	case <-c.done:
		s.log.Info("stopped", "service", c.name, "status", exitReason(c.err))
		return nil
	case <-t.C:
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-c.done
	return fmt.Errorf("%s did not stop within %s and was killed", c.name, s.stopGrace)
}

// waitHealthy polls the gRPC health service at addr until it reports
// SERVING, the child exits, ctx ends or startTimeout passes.
func (s *stack) waitHealthy(ctx context.Context, c *child, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, s.startTimeout)
	defer cancel()
	// gRPC's default reconnect backoff starts at a second; a service that
	// comes up in 200ms should be seen up in about that.
	backoffCfg := backoff.DefaultConfig
	backoffCfg.BaseDelay, backoffCfg.MaxDelay = 50*time.Millisecond, time.Second
	conn, err := grpc.NewClient(dialAddr(addr), grpc.WithTransportCredentials(s.creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoffCfg, MinConnectTimeout: 2 * time.Second}))
	if err != nil {
		return fmt.Errorf("dial %s at %s: %w", c.name, addr, err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := health.Check(cctx, &healthpb.HealthCheckRequest{})
		ccancel()
		switch {
		case err != nil:
			last = err
		case resp.GetStatus() == healthpb.HealthCheckResponse_SERVING:
			return nil
		default:
			last = fmt.Errorf("health status %s", resp.GetStatus())
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was healthy: %v", c.name, exitReason(c.err))
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s: %w (last: %v)", c.name, addr, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// waitHTTP polls url until it answers 200, the child exits, ctx ends or
// startTimeout passes: for services without a gRPC health service (mailpit).
func (s *stack) waitHTTP(ctx context.Context, c *child, url string) error {
	ctx, cancel := context.WithTimeout(ctx, s.startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was healthy: %v", c.name, exitReason(c.err))
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s: %w (last: %v)", c.name, url, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// dialAddr turns a listen address such as ":9090" into one to dial.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || (host != "" && host != "0.0.0.0" && host != "::") {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// lockedWriter serializes the writes of the children's prefixWriters so
// their lines do not interleave.
type lockedWriter struct {
	mu sync.Mutex // guards w; taken after a prefixWriter's mu
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// prefixWriter writes whole lines to w, each starting with prefix. One
// exists per child; exec's copying goroutines for stdout and stderr share it.
type prefixWriter struct {
	w      io.Writer // the stack's lockedWriter
	prefix []byte
	mu     sync.Mutex // guards buf
	buf    []byte     // a partial line waiting for its newline
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.emit(p.buf[:i+1])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.emit(append(p.buf, '\n'))
		p.buf = nil
	}
}

func (p *prefixWriter) emit(line []byte) {
	_, _ = p.w.Write(append(append([]byte{}, p.prefix...), line...))
}
