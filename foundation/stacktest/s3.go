package stacktest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/logtail"
	"github.com/privateim/privateim/foundation/poll"
)

// S3 is one running S3-compatible server: versitygw with its posix backend
// (a bucket is a directory of Dir, an object a file), built from the Go
// module proxy by scripts/versitygw.sh into .dev/bin.
type S3 struct {
	Endpoint  string // 127.0.0.1:port, plain HTTP
	URL       string // http://Endpoint
	AccessKey string // the root user's
	SecretKey string
	Region    string
	Dir       string // the posix backend's root
	LogFile   string
	proc      *process
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *S3) Kill() {
	_ = s.proc.cmd.Process.Kill()
	<-s.proc.done
}

var (
	versitygwOnce sync.Once
	versitygwPath string
	versitygwErr  error
)

// buildVersitygw runs scripts/versitygw.sh once per process: it returns at
// once when .dev/bin/versitygw exists, and waits on its lock for a build
// that `make test` started in the background.
func buildVersitygw(tb testing.TB) string {
	tb.Helper()
	versitygwOnce.Do(func() {
		root := Root(tb)
		versitygwPath = filepath.Join(root, ".dev", "bin", "versitygw")
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "versitygw.sh"))
		cmd.Env = append(os.Environ(), "VERSITYGW_BIN="+versitygwPath)
		if out, err := cmd.CombinedOutput(); err != nil {
			versitygwErr = fmt.Errorf("scripts/versitygw.sh: %v\n%s", err, out)
		}
	})
	if versitygwErr != nil {
		tb.Fatal(versitygwErr)
	}
	return versitygwPath
}

// StartS3 starts an S3-compatible server on a free port with a random root
// user, and waits until it answers HTTP. It holds no bucket: the client
// makes its own. It is stopped at cleanup.
func StartS3(tb testing.TB) *S3 {
	tb.Helper()
	bin := buildVersitygw(tb)
	dir := tb.TempDir()
	var lastErr error
	// The free port is only free until someone takes it: try again with a
	// new one if versitygw cannot bind.
	for try := range 3 {
		s := &S3{
			Endpoint: FreeAddr(tb), AccessKey: "test" + randomHex(8), SecretKey: randomHex(20), Region: "us-east-1",
			Dir: filepath.Join(dir, fmt.Sprintf("data-%d", try)), LogFile: filepath.Join(dir, fmt.Sprintf("versitygw-%d.log", try)),
		}
		s.URL = "http://" + s.Endpoint
		meta := filepath.Join(dir, fmt.Sprintf("meta-%d", try))
		for _, d := range []string{s.Dir, meta} {
			if err := os.MkdirAll(d, 0o750); err != nil {
				tb.Fatal(err)
			}
		}
		// Metadata in a sidecar directory, not extended attributes: a
		// temporary directory on tmpfs may not take user xattrs.
		s.proc = startProcess(tb, bin, s.LogFile, []string{"ROOT_SECRET_ACCESS_KEY=" + s.SecretKey},
			[]string{"--port", s.Endpoint, "--access", s.AccessKey, "--region", s.Region,
				"posix", "--sidecar", meta, s.Dir})
		lastErr = poll.Until(30*time.Second, func() error {
			if s.proc.exited() {
				return nil // stop polling; reported below
			}
			// Any answer will do: an anonymous request is refused (403).
			resp, err := http.Get(s.URL + "/")
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		})
		if lastErr == nil && !s.proc.exited() {
			return s
		}
		if lastErr == nil {
			lastErr = fmt.Errorf("versitygw exited: %v\n%s", s.proc.err, logtail.Tail(s.LogFile, 4000))
		}
	}
	tb.Fatalf("versitygw did not start: %v", lastErr)
	return nil
}
