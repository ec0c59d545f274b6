package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// The test binary doubles as the child service: with DEVSTACK_TEST_CHILD set
// it runs childMain instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("DEVSTACK_TEST_CHILD"); mode != "" {
		os.Exit(childMain(mode))
	}
	os.Exit(m.Run())
}

// childMain is a minimal service: a gRPC health server over mTLS on
// GRPC_ADDR. Modes: serve (stops on SIGTERM), crash (exits 3 at once),
// stubborn (ignores SIGTERM), die-on-usr1 (exits 3 on SIGUSR1).
func childMain(mode string) int {
	if mode == "crash" {
		os.Stderr.WriteString("crashing on purpose\n")
		return 3
	}
	if pf := os.Getenv("DEVSTACK_TEST_PIDFILE"); pf != "" {
		if err := os.WriteFile(pf, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return 4
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGUSR1)
	creds, err := tlsconfig.ServerCredentials(tlsconfig.Files{CA: os.Getenv("TLS_CA"), Cert: os.Getenv("TLS_CERT"), Key: os.Getenv("TLS_KEY")})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 5
	}
	ln, err := net.Listen("tcp", os.Getenv("GRPC_ADDR"))
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 6
	}
	srv := grpc.NewServer(grpc.Creds(creds))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(ln)
	os.Stdout.WriteString("serving\npartial line")
	for s := range sig {
		switch {
		case s == syscall.SIGUSR1 && mode == "die-on-usr1":
			return 3
		case s == syscall.SIGTERM && mode != "stubborn":
			srv.GracefulStop()
			return 0
		}
	}
	return 0
}

type fixture struct {
	st   *stack
	out  *syncBuffer
	svc  service
	pids string // file the child writes its pid to
}

func newFixture(t *testing.T, mode string) *fixture {
	t.Helper()
	set, err := devpki.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	st, err := newStack(slog.New(slog.NewTextHandler(io.Discard, nil)), set.Client, out)
	if err != nil {
		t.Fatal(err)
	}
	st.startTimeout, st.stopGrace = 30*time.Second, 10*time.Second
	pidFile := filepath.Join(t.TempDir(), "pid")
	return &fixture{st: st, out: out, pids: pidFile, svc: service{
		name: "child",
		bin:  os.Args[0],
		addr: freeAddr(t),
		env: append([]string{
			"DEVSTACK_TEST_CHILD=" + mode, "DEVSTACK_TEST_PIDFILE=" + pidFile,
		}, set.Data.Env()...),
	}}
}

func (f *fixture) pid(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(f.pids)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// runAsync starts f.st.run; ready is closed once every child is healthy and
// the returned channel yields run's result.
func (f *fixture) runAsync(ctx context.Context) (ready chan struct{}, result chan error) {
	f.svc.env = append(f.svc.env, "GRPC_ADDR="+f.svc.addr)
	ready, result = make(chan struct{}), make(chan error, 1)
	go func() { result <- f.st.run(ctx, []service{f.svc}, func() { close(ready) }) }()
	return ready, result
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// gone reports whether pid no longer exists. run reaps its children, so a
// stopped child leaves no zombie behind.
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestRunStopsChildrenWhenContextEnds(t *testing.T) {
	f := newFixture(t, "serve")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, result := f.runAsync(ctx)
	select {
	case <-ready:
	case err := <-result:
		t.Fatalf("run returned before ready: %v", err)
	}
	pid := f.pid(t)
	cancel()
	if err := <-result; err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
	if !gone(pid) {
		t.Errorf("child %d still exists after run returned", pid)
	}
	got := f.out.String()
	for _, want := range []string{"child | serving\n", "child | partial line\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("child output lacks %q:\n%s", want, got)
		}
	}
}

func TestRunFailsWhenChildDiesBeforeHealthy(t *testing.T) {
	f := newFixture(t, "crash")
	_, result := f.runAsync(context.Background())
	err := <-result
	if err == nil || !strings.Contains(err.Error(), "child exited before it was healthy") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("run = %v, want the child's early exit", err)
	}
}

func TestRunFailsWhenChildDiesLater(t *testing.T) {
	f := newFixture(t, "die-on-usr1")
	ready, result := f.runAsync(context.Background())
	<-ready
	if err := syscall.Kill(f.pid(t), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	err := <-result
	if err == nil || !strings.Contains(err.Error(), "child exited: exit status 3") {
		t.Fatalf("run = %v, want the child's exit", err)
	}
}

func TestStubbornChildIsKilled(t *testing.T) {
	f := newFixture(t, "stubborn")
	f.st.stopGrace = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ready, result := f.runAsync(ctx)
	<-ready
	pid := f.pid(t)
	cancel()
	err := <-result
	if err == nil || !strings.Contains(err.Error(), "was killed") {
		t.Fatalf("run = %v, want the kill reported", err)
	}
	if !gone(pid) {
		t.Errorf("child %d survived", pid)
	}
}

func TestHealthCheckNeedsTrustedServer(t *testing.T) {
	// A stack whose client certificates come from another CA never sees the
	// child healthy: the handshake fails both ways.
	f := newFixture(t, "serve")
	other, err := devpki.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStack(f.st.log, other.Client, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st.startTimeout, st.stopGrace = time.Second, 10*time.Second
	f.st = st
	_, result := f.runAsync(context.Background())
	err = <-result
	if err == nil || !strings.Contains(err.Error(), "not healthy") {
		t.Fatalf("run = %v, want not healthy", err)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"root@tcp(127.0.0.1:3306)/", "root@tcp(127.0.0.1:3306)/privateim"},
		{"root@tcp(127.0.0.1:13306)/?timeout=5s", "root@tcp(127.0.0.1:13306)/privateim?timeout=5s"},
		{"u:p@tcp(db:3306)/other", "u:p@tcp(db:3306)/other"},
		{"u:p@tcp(db:3306)/other?parseTime=true", "u:p@tcp(db:3306)/other?parseTime=true"},
		{"/", "/privateim"},
	} {
		if got := withDatabase(tc.in, "privateim"); got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		":9090":          "127.0.0.1:9090",
		"0.0.0.0:9090":   "127.0.0.1:9090",
		"127.0.0.1:9090": "127.0.0.1:9090",
		"localhost:9090": "localhost:9090",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := checkFree(ln.Addr().String()); err == nil {
		t.Error("checkFree passed on a taken address")
	}
	if err := checkFree(freeAddr(t)); err != nil {
		t.Errorf("checkFree on a free address: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the children's copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
