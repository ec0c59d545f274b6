package stacktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binaries are the services StartupLog runs, by name.
var binaries = map[string]*binary{"dataservice": dataservice, "userservice": userservice, "messageservice": messageservice}

// StartupLog runs the binary of service (dataservice, userservice or
// messageservice: the ones holding credentials), built once per process, with env
// added to the environment, until it logs "listening" or exits (at most
// 60 s), stops it, and returns all it wrote: its startup line, and the
// error it stopped on when it could not start. Tests of what the binaries
// log (credentials masked) read it.
func StartupLog(tb testing.TB, service string, env []string) string {
	tb.Helper()
	b, ok := binaries[service]
	if !ok {
		tb.Fatalf("stacktest: no binary %q", service)
	}
	bin := b.build(tb)
	logFile := filepath.Join(tb.TempDir(), service+".log")
	p := startProcess(tb, bin, logFile, env, nil)
	_, _ = p.waitLine(60*time.Second, func(line string) (string, bool) {
		var rec struct{ Msg string }
		return "", json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening"
	})
	p.stop()
	out, err := os.ReadFile(logFile)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// NoSecretsLogged fails the test when log (a binary's output, StartupLog)
// holds any of secrets, or has no "starting" line with the configuration
// (then it proves nothing).
func NoSecretsLogged(tb testing.TB, log string, secrets ...string) {
	tb.Helper()
	if !strings.Contains(log, `"msg":"starting"`) || !strings.Contains(log, `"config":{`) {
		tb.Fatalf("no startup line with the configuration in:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			tb.Errorf("the log shows the secret %q:\n%s", s, log)
		}
	}
}
