package stacktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/logtail"
	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/poll"
)

var messageservice = &binary{name: "messageservice", pkg: "./messageservice/cmd/messageservice", dir: "."}

// MessageService is one running messageservice process.
type MessageService struct {
	HTTPAddr string // 127.0.0.1:port: GET /ws, /healthz, /readyz
	GRPCAddr string // 127.0.0.1:port, the internal API over mutual TLS (the DataService's CA)
	LogFile  string
	p        *process
}

// URL is the WebSocket URL.
func (m *MessageService) URL() string { return "ws://" + m.HTTPAddr + "/ws" }

// Kill kills the process with SIGKILL and waits until it is gone.
func (m *MessageService) Kill() {
	_ = m.p.cmd.Process.Signal(syscall.SIGKILL)
	<-m.p.done
}

// StartMessageService starts the messageservice binary, built once per
// process from messageservice/cmd/messageservice, against d and u on
// 127.0.0.1:0 ports with the messageservice's certificate of d's set,
// joining ns as a node (nodes of
// one test form a cluster there), or, with ns nil, running its own
// embedded NATS server (set NATS_LISTEN to a free address in env). env is
// added last (NODE_ID, RETRY_INTERVAL, ...). It is stopped at cleanup
// unless killed.
func StartMessageService(tb testing.TB, d *DataService, u *UserService, ns *NATS, env ...string) *MessageService {
	tb.Helper()
	bin := messageservice.build(tb)
	dir := tb.TempDir()
	m := &MessageService{LogFile: filepath.Join(dir, "messageservice.log")}
	base := []string{
		"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=127.0.0.1:0", "DATA_ADDR=" + d.Addr, "USER_ADDR=" + u.GRPCAddr,
		"NATS_URL=", "LOG_LEVEL=info",
	}
	if ns != nil {
		base = append(base, ns.Env(natsauth.Node)...)
	}
	base = append(base, d.Certs.Message.Env()...)
	m.p = startProcess(tb, bin, m.LogFile, append(base, env...), nil)
	var addrs struct{ HTTP, GRPC string }
	_, err := m.p.waitLine(60*time.Second, func(line string) (string, bool) {
		var rec struct{ Msg, HTTP, GRPC string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.HTTP != "" && rec.GRPC != "" {
			addrs.HTTP, addrs.GRPC = rec.HTTP, rec.GRPC
			return rec.HTTP, true
		}
		return "", false
	})
	if err != nil {
		tb.Fatalf("messageservice did not start: %v\n%s", err, logtail.Tail(m.LogFile, 4000))
	}
	m.HTTPAddr, m.GRPCAddr = addrs.HTTP, addrs.GRPC
	if err := poll.Until(30*time.Second, func() error {
		r, err := http.Get("http://" + m.HTTPAddr + "/readyz")
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", r.StatusCode)
		}
		return nil
	}); err != nil {
		tb.Fatalf("messageservice not ready: %v\n%s", err, logtail.Tail(m.LogFile, 4000))
	}
	return m
}
