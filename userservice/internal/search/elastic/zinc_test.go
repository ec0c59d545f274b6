package elastic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/poll"

	"github.com/privateim/privateim/userservice/internal/search"
)

const (
	zincUser     = "admin"
	zincPassword = "Zinc-test-Password-1"
)

// zinc is one zincsearch server shared by the package's tests (each test
// uses its own index); TestMain stops it.
type zinc struct {
	url  string // with credentials and the /es prefix of its Elasticsearch API
	base string // without both
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

var (
	zincOnce   sync.Once
	zincServer *zinc
	zincErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if zincServer != nil {
		if err := zincServer.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop zincsearch:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// startZinc returns the shared server, building (scripts/zincsearch.sh keeps
// the binary in .dev/bin) and starting it on first use.
func startZinc(t *testing.T) *zinc {
	t.Helper()
	zincOnce.Do(func() { zincServer, zincErr = launchZinc() })
	if zincErr != nil {
		t.Fatalf("zincsearch: %v", zincErr)
	}
	return zincServer
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory")
		}
		dir = parent
	}
}

func launchZinc() (*zinc, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(root, ".dev", "bin", "zincsearch")
	build := exec.Command("bash", filepath.Join(root, "scripts", "zincsearch.sh"))
	build.Env = append(os.Environ(), "ZINCSEARCH_BIN="+bin)
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("scripts/zincsearch.sh: %v\n%s", err, out)
	}

	dir, err := os.MkdirTemp("", "zincsearch-test-")
	if err != nil {
		return nil, err
	}
	// A free port: zincsearch cannot be told to pick one and report it.
	addr := closedAddrErr()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "zincsearch.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin)
	cmd.Dir = dir // it reads a .env from its working directory
	cmd.Env = append(os.Environ(),
		"ZINC_DATA_PATH="+filepath.Join(dir, "data"),
		"ZINC_SERVER_ADDRESS="+host,
		"ZINC_SERVER_PORT="+port,
		"ZINC_FIRST_ADMIN_USER="+zincUser,
		"ZINC_FIRST_ADMIN_PASSWORD="+zincPassword,
		"ZINC_PLUGIN_ES_VERSION=8.11.0",
		// No traffic beyond this machine: these default to on.
		"ZINC_TELEMETRY=false",
		"ZINC_SENTRY=false",
		"ZINC_PROFILER=false",
		"GIN_MODE=release",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	z := &zinc{
		base: "http://" + addr,
		url:  fmt.Sprintf("http://%s:%s@%s/es", zincUser, zincPassword, addr),
		cmd:  cmd, dir: dir, done: make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(z.done) }()

	// Ready when its Elasticsearch root answers with the product header the
	// client checks.
	for deadline := time.Now().Add(60 * time.Second); ; {
		req, _ := http.NewRequest(http.MethodGet, z.base+"/es/", nil)
		req.SetBasicAuth(zincUser, zincPassword)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK && res.Header.Get("X-Elastic-Product") == "Elasticsearch" {
				return z, nil
			}
		}
		select {
		case <-z.done:
			return nil, fmt.Errorf("zincsearch exited at start:\n%s", z.logTail())
		default:
		}
		if time.Now().After(deadline) {
			_ = z.stop()
			return nil, fmt.Errorf("zincsearch not ready after 60s:\n%s", z.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (z *zinc) logTail() string {
	b, _ := os.ReadFile(filepath.Join(z.dir, "zincsearch.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (z *zinc) stop() error {
	defer os.RemoveAll(z.dir)
	_ = z.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-z.done:
		return nil
	case <-time.After(15 * time.Second):
		_ = z.cmd.Process.Kill()
		<-z.done
		return errors.New("did not stop within 15s of SIGTERM; killed")
	}
}

// deleteIndex removes a test index: DELETE /<index> on Elasticsearch;
// zincsearch has no such route under /es and deletes at /api/index/<index>.
func deleteIndex(t *testing.T, url, name string) {
	t.Helper()
	urls := []string{url + "/" + name}
	if base, ok := strings.CutSuffix(url, "/es"); ok {
		urls = append(urls, base+"/api/index/"+name)
	}
	for _, u := range urls {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodDelete, u, nil)
		if err != nil {
			t.Errorf("delete index %s: %v", name, err)
			return
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Logf("delete index %s: %v", name, err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			return
		}
	}
	t.Logf("delete index %s: not deleted", name)
}

// closedAddr is a loopback address where nothing listens (for now).
func closedAddr(t *testing.T) string {
	t.Helper()
	return closedAddrErr()
}

func closedAddrErr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitFor polls until query q of kind finds exactly want.
func waitFor(t *testing.T, x search.Index, kind search.Kind, q string, want ...int64) {
	t.Helper()
	poll.Eventually(t, 20*time.Second, func() error {
		p, err := x.Search(context.Background(), kind, q, 100, "")
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if !slices.Equal(p.IDs, want) {
			return fmt.Errorf("Search(%q) = %v, want %v", q, p.IDs, want)
		}
		return nil
	})
}
