package sdktest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/filelock"
	"github.com/privateim/privateim/foundation/stacktest"
)

// built waits for a running scripts/web.sh (it holds .dev/web.lock while it
// installs and builds) and returns node and the SDK's directory. A missing
// node or build fails the test: `make test` provides both.
func built(t *testing.T) (node, dir string) {
	t.Helper()
	root := stacktest.Root(t)
	if err := os.MkdirAll(filepath.Join(root, ".dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := filelock.Lock(filepath.Join(root, ".dev", "web.lock"))
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	node, err = exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: run `bash scripts/web.sh` (make test does): %v", err)
	}
	dir = filepath.Join(root, "web", "sdk")
	stamp, err := os.Stat(filepath.Join(dir, "dist", ".built"))
	if err != nil {
		t.Fatalf("web/sdk is not built: run `bash scripts/web.sh` (make test does): %v", err)
	}
	// A build older than a source tests old code.
	for _, sub := range []string{"src", "test", "integration"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(stamp.ModTime()) {
				return fmt.Errorf("%s is newer than the build", path)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("web/sdk/dist is stale: run `bash scripts/web.sh`: %v", err)
		}
	}
	return node, dir
}

// nodeTest starts `node --test` over paths (relative to dir) with env added.
func nodeTest(ctx context.Context, node, dir string, env []string, paths ...string) (*exec.Cmd, *bytes.Buffer) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=tap"}, paths...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	return cmd, &out
}

// report fails t when node's test run failed or ran no test, with its
// output, and logs its summary otherwise.
func report(t *testing.T, err error, out *bytes.Buffer) {
	t.Helper()
	var summary []string
	pass := false
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []string{"# tests ", "# pass ", "# fail ", "# cancelled ", "# skipped "} {
			if strings.HasPrefix(line, k) {
				summary = append(summary, strings.TrimPrefix(line, "# "))
				if k == "# pass " && line != "# pass 0" {
					pass = true
				}
			}
		}
	}
	if err != nil || !pass {
		t.Fatalf("node --test failed (%v):\n%s", err, out.String())
	}
	t.Logf("node --test: %s", strings.Join(summary, ", "))
}

// TestSDKUnit runs the SDK's unit tests and its drift test against
// docs/websocket.md and the OpenAPI files.
func TestSDKUnit(t *testing.T) {
	node, dir := built(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, out := nodeTest(ctx, node, dir, nil, "dist/test/")
	report(t, cmd.Run(), out)
}

// TestSDKIntegration runs web/sdk/integration against the real stack. The
// messageservice listens on fixed ports so a restart comes back where the
// clients reconnect; the node tests kill and start it through the control
// endpoint, served here and acted on by the test goroutine.
func TestSDKIntegration(t *testing.T) {
	node, dir := built(t)
	d := stacktest.StartDataService(t)
	ns := stacktest.StartNATS(t, d.Certs)
	msgGRPC := stacktest.FreeAddr(t)
	// The userservice's address is fixed so that the file URLs it signs
	// (PUBLIC_URL) are what the messageservice takes in messages (FILE_BASE_URL).
	userHTTP := stacktest.FreeAddr(t)
	u := stacktest.StartUserService(t, d, stacktest.UserServiceOptions{NATS: ns, MessageAddr: msgGRPC,
		Env: []string{"HTTP_ADDR=" + userHTTP, "PUBLIC_URL=http://" + userHTTP}})
	msgEnv := []string{"HTTP_ADDR=" + stacktest.FreeAddr(t), "GRPC_ADDR=" + msgGRPC, "NODE_ID=sdk-1", "RETRY_INTERVAL=1s", "EDIT_HISTORY=true",
		"FILE_BASE_URL=http://" + userHTTP + "/static/"}
	ms := stacktest.StartMessageService(t, d, u, ns, msgEnv...)

	type request struct {
		action string
		done   chan error
	}
	requests := make(chan request)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action, ok := strings.CutPrefix(r.URL.Path, "/messageservice/")
		if r.Method != http.MethodPost || !ok || (action != "kill" && action != "start") {
			http.Error(w, "want POST /messageservice/kill or /messageservice/start", http.StatusNotFound)
			return
		}
		req := request{action: action, done: make(chan error, 1)}
		select {
		case requests <- req:
		case <-r.Context().Done():
			return
		}
		if err := <-req.done; err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, out := nodeTest(ctx, node, dir, []string{
		"PRIVATEIM_API=" + u.URL,
		"PRIVATEIM_WS=" + ms.URL(),
		"PRIVATEIM_CONTROL=http://" + l.Addr().String(),
	}, "dist/integration/")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	running := true
	for {
		select {
		case req := <-requests:
			// On the test goroutine: StartMessageService may t.Fatal.
			switch {
			case req.action == "kill" && running:
				ms.Kill()
				running = false
				t.Logf("messageservice killed")
				req.done <- nil
			case req.action == "start" && !running:
				start := time.Now()
				ms = stacktest.StartMessageService(t, d, u, ns, msgEnv...)
				running = true
				t.Logf("messageservice started again in %s", time.Since(start).Round(time.Millisecond))
				req.done <- nil
			default:
				req.done <- fmt.Errorf("messageservice %s: it is running=%v", req.action, running)
			}
		case err := <-exited:
			report(t, err, out)
			return
		}
	}
}
