package stacktest

import (
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/logtail"
	"github.com/privateim/privateim/foundation/natsauth"
)

var userservice = &binary{name: "userservice", pkg: "./userservice/cmd/userservice", dir: "."}

// UserService is one running userservice process.
type UserService struct {
	URL      string // http://127.0.0.1:port, the public HTTP API
	GRPCAddr string // 127.0.0.1:port, Auth over mutual TLS (the DataService's CA)
	// MetricsAddr is 127.0.0.1:port of GET /metrics.
	MetricsAddr string
	LogFile     string
}

// UserServiceOptions change what StartUserService sets up.
type UserServiceOptions struct {
	// NATS makes it publish relation events there, as the publisher
	// role; nil for none.
	NATS *NATS
	// MessageAddr is the MessageService's internal gRPC it delivers group
	// system messages through; "" for none.
	MessageAddr string
	// Env is added last, overriding the defaults below.
	Env []string
}

// StartUserService starts the userservice binary, built once per process
// from userservice/cmd/userservice, against d: on 127.0.0.1:0 ports, with
// the userservice's certificate of d's set (d.Certs.Client calls its gRPC API), a random JWT
// secret, bcrypt at its minimum cost, rate limits off, mail to a closed
// port, uploads and search index in a temp dir. It is stopped at cleanup.
func StartUserService(tb testing.TB, d *DataService, o UserServiceOptions) *UserService {
	tb.Helper()
	bin := userservice.build(tb)
	dir := tb.TempDir()
	u := &UserService{LogFile: filepath.Join(dir, "userservice.log")}
	env := []string{
		"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=127.0.0.1:0", "DATA_ADDR=" + d.Addr,
		"JWT_SECRET=" + rand.Text() + rand.Text(),
		"BCRYPT_COST=4",
		"SMTP_ADDR=" + FreeAddr(tb), // nobody listens: mails fail and are logged
		"UPLOAD_DIR=" + filepath.Join(dir, "uploads"), "SEARCH_DIR=" + filepath.Join(dir, "search"),
		"RATE_SIGNIN_EMAIL=off", "RATE_SIGNIN_IP=off", "RATE_FORGOT_EMAIL=off", "RATE_FORGOT_IP=off",
		"RATE_SIGNUP_IP=off", "RATE_SIGNUP_ALL=off", "RATE_RESET_IP=off", "RATE_RESET_ALL=off",
		"NATS_URL=",
		"MESSAGE_ADDR=" + o.MessageAddr,
		"LOG_LEVEL=info",
		"METRICS_ADDR=127.0.0.1:0",
	}
	env = append(env, d.Certs.User.Env()...)
	if o.NATS != nil {
		env = append(env, o.NATS.Env(natsauth.Publisher)...)
	}
	p := startProcess(tb, bin, u.LogFile, append(env, o.Env...), nil)
	// The userservice logs {"msg":"listening","http":...,"grpc":...} once
	// it serves.
	var addrs struct{ HTTP, GRPC string }
	_, err := p.waitLine(60*time.Second, func(line string) (string, bool) {
		var rec struct{ Msg, HTTP, GRPC, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "metrics" {
			u.MetricsAddr = rec.Addr
		}
		if rec.Msg == "listening" && rec.HTTP != "" && rec.GRPC != "" {
			addrs.HTTP, addrs.GRPC = rec.HTTP, rec.GRPC
			return rec.HTTP, true
		}
		return "", false
	})
	if err != nil {
		tb.Fatalf("userservice did not start: %v\n%s", err, logtail.Tail(u.LogFile, 4000))
	}
	u.URL, u.GRPCAddr = "http://"+addrs.HTTP, addrs.GRPC
	if err := waitServing(u.GRPCAddr, d.Certs.Client, 30*time.Second); err != nil {
		tb.Fatalf("userservice not healthy: %v\n%s", err, logtail.Tail(u.LogFile, 4000))
	}
	return u
}
