// Command devstack is what `make run` starts: it builds the PrivateIM service
// binaries, starts each as a child process with its configuration in the
// environment, waits until each answers the gRPC health check over mutual TLS
// with the dev certificates, prints the endpoints, and on Ctrl-C or SIGTERM
// stops the children in reverse order and waits for them. If a child dies
// on its own, the others are stopped and devstack exits non-zero.
//
// It is a developer tool: it may print to the terminal, and it reads the
// environment only in loadConfig.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	fconfig "github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// config is everything devstack needs, from flags and the environment.
type config struct {
	root         string // repository root, where `go build` runs
	bin          string // where the service binaries are built
	certs        string // directory written by tools/certgen
	mysqlDSN     string // server DSN from scripts/provision.sh (.dev/env)
	dataAddr     string // DataService gRPC listen address
	userHTTP     string // userservice public HTTP API
	userGRPC     string // userservice internal gRPC (mTLS)
	msgHTTP      string // messageservice WebSocket (GET /ws) and health
	msgGRPC      string // messageservice internal gRPC (mTLS)
	natsListen   string // the NATS server embedded in the messageservice; the userservice publishes there
	subHTTP      string // subscriptionservice public HTTP API
	subGRPC      string // subscriptionservice internal gRPC (mTLS)
	webHTTP      string // webgateway: the web app and the APIs at one origin, the address to open
	reviewers    string // REVIEWER_EMAILS, passed through to the subscriptionservice
	mailSMTP     string // mailpit SMTP
	mailWeb      string // mailpit web UI and API
	jwtSecret    string // JWT_SECRET, or read from (made into) .dev/jwt-secret
	natsEvents   string // the userservice's NATS password on the embedded server: random per run
	docBackend   string // DOC_BACKEND, passed on in the environment; shown
	startTimeout time.Duration
	stopGrace    time.Duration
}

func loadConfig(args []string) (config, error) {
	c := config{
		mysqlDSN:   envOr("MYSQL_DSN", "root@tcp(127.0.0.1:3306)/"),
		dataAddr:   envOr("DATASERVICE_ADDR", "127.0.0.1:9090"),
		docBackend: envOr("DOC_BACKEND", "mysql"),
		userHTTP:   envOr("USERSERVICE_HTTP_ADDR", "127.0.0.1:8080"),
		userGRPC:   envOr("USERSERVICE_GRPC_ADDR", "127.0.0.1:9092"),
		msgHTTP:    envOr("MESSAGESERVICE_HTTP_ADDR", "127.0.0.1:8081"),
		msgGRPC:    envOr("MESSAGESERVICE_GRPC_ADDR", "127.0.0.1:9091"),
		natsListen: envOr("NATS_LISTEN", "127.0.0.1:4250"),
		subHTTP:    envOr("SUBSCRIPTIONSERVICE_HTTP_ADDR", "127.0.0.1:8082"),
		subGRPC:    envOr("SUBSCRIPTIONSERVICE_GRPC_ADDR", "127.0.0.1:9093"),
		webHTTP:    envOr("WEB_HTTP_ADDR", "127.0.0.1:8000"),
		reviewers:  os.Getenv("REVIEWER_EMAILS"),
		mailSMTP:   envOr("MAILPIT_SMTP_ADDR", "127.0.0.1:1025"),
		mailWeb:    envOr("MAILPIT_WEB_ADDR", "127.0.0.1:8025"),
		jwtSecret:  os.Getenv("JWT_SECRET"),
		natsEvents: rand.Text(),
	}
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.StringVar(&c.root, "root", ".", "repository root")
	fs.StringVar(&c.bin, "bin", ".dev/bin", "directory for the built service binaries (relative to -root)")
	fs.StringVar(&c.certs, "certs", "certs", "dev certificates made by tools/certgen (relative to -root)")
	fs.DurationVar(&c.startTimeout, "start-timeout", 90*time.Second, "how long a service may take to become healthy")
	fs.DurationVar(&c.stopGrace, "stop-grace", 15*time.Second, "how long a service may take to stop before it is killed")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	root, err := filepath.Abs(c.root)
	if err != nil {
		return c, fmt.Errorf("root: %w", err)
	}
	c.root = root
	for _, p := range []*string{&c.bin, &c.certs} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(root, *p)
		}
	}
	if c.jwtSecret == "" {
		if c.jwtSecret, err = devSecret(filepath.Join(root, ".dev", "jwt-secret")); err != nil {
			return c, err
		}
	}
	return c, nil
}

// devSecret reads the JWT secret of the dev stack from path, making a random
// one there first when the file is missing, so tokens survive restarts.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return s, nil
		}
		return "", fmt.Errorf("%s holds fewer than 32 characters; delete it to get a new secret", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write jwt secret: %w", err)
	}
	return s, nil
}

// webURL is the one address a person opens: the webgateway's. The
// services' PUBLIC_URLs are it too, so the links in mails (reset, verify)
// open the app, and avatar and chat-file URLs are of the app's origin (the
// messageservice accepts only file URLs under its FILE_BASE_URL).
// "localhost", not 127.0.0.1: what a person types, and the origin the URLs
// must match in the browser.
func (c config) webURL() string {
	_, port, err := net.SplitHostPort(dialAddr(c.webHTTP))
	if err != nil {
		return "http://" + c.webHTTP
	}
	return "http://localhost:" + port
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// service is one binary of the stack. Later issues append theirs to
// services(): messageservice, subscriptionservice.
type service struct {
	name       string   // binary name: the last element of pkg
	pkg        string   // Go package to build, relative to the repository root (or a tool's import path)
	addr       string   // gRPC address, checked with grpc.health.v1 over mTLS
	httpHealth string   // instead of addr: a URL that answers 200 once it is up
	ports      []string // every address it listens on, checked free before starting
	args       []string // command-line arguments
	env        []string // added to devstack's own environment
	endpoints  []string // lines printed once the stack is up
	bin        string   // path of the built binary, set by build
}

func services(c config) []service {
	certs := devpki.Paths(c.certs)
	// Each service its own certificate; reflection on, so grpcurl needs
	// no .proto files (GRPC_REFLECTION is off by default).
	tlsEnv := func(f tlsconfig.Files) []string { return append(f.Env(), "GRPC_REFLECTION=true") }
	dsn := withDatabase(c.mysqlDSN, "privateim")
	dev := filepath.Join(c.root, ".dev")
	return []service{{
		name:      "dataservice",
		pkg:       "./dataservice/cmd/dataservice",
		addr:      c.dataAddr,
		ports:     []string{c.dataAddr},
		env:       append([]string{"GRPC_ADDR=" + c.dataAddr, "MYSQL_DSN=" + dsn}, tlsEnv(certs.Data)...),
		endpoints: []string{fmt.Sprintf("gRPC + mTLS  %-16s MySQL %s, documents in %s", c.dataAddr, fconfig.Mask(dsn), c.docBackend)},
	}, {
		name:       "mailpit",
		pkg:        "github.com/axllent/mailpit", // a tool of tools/go.mod
		httpHealth: "http://" + dialAddr(c.mailWeb) + "/api/v1/info",
		ports:      []string{c.mailSMTP, c.mailWeb},
		args: []string{"--smtp", c.mailSMTP, "--listen", c.mailWeb, "--database", filepath.Join(dev, "mailpit.db"),
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check"},
		endpoints: []string{
			fmt.Sprintf("SMTP         %-16s catches every mail the services send", c.mailSMTP),
			fmt.Sprintf("web          http://%s/  read the mails (password-reset links)", dialAddr(c.mailWeb)),
		},
	}, {
		// Before the userservice: its embedded NATS server must be up
		// when the userservice connects to publish relation events. It
		// reaches the userservice (token checks) lazily.
		name:  "messageservice",
		pkg:   "./messageservice/cmd/messageservice",
		addr:  c.msgGRPC,
		ports: []string{c.msgHTTP, c.msgGRPC, c.natsListen},
		env: append([]string{
			"HTTP_ADDR=" + c.msgHTTP, "GRPC_ADDR=" + c.msgGRPC, "DATA_ADDR=" + dialAddr(c.dataAddr),
			// Its own embedded NATS, whatever NATS_URL the shell holds.
			"USER_ADDR=" + dialAddr(c.userGRPC), "NATS_URL=", "NATS_LISTEN=" + c.natsListen,
			"NATS_EVENTS_USER=userservice", "NATS_EVENTS_PASSWORD=" + c.natsEvents,
			"FILE_BASE_URL=" + c.webURL() + "/static/", // the userservice's PUBLIC_URL
		}, tlsEnv(certs.Message)...),
		endpoints: []string{
			fmt.Sprintf("WebSocket    ws://%s/ws  (docs/websocket.md; GET /healthz, /readyz)", dialAddr(c.msgHTTP)),
			fmt.Sprintf("gRPC + mTLS  %-16s privateim.message.v1.MessageService (Push, Broadcast, Online, Prune, Stats)", c.msgGRPC),
			fmt.Sprintf("NATS         nats://%s  embedded, mutual TLS; users: the node's (generated), userservice (relation events)", dialAddr(c.natsListen)),
		},
	}, {
		name:  "userservice",
		pkg:   "./userservice/cmd/userservice",
		addr:  c.userGRPC,
		ports: []string{c.userHTTP, c.userGRPC},
		env: append([]string{
			"HTTP_ADDR=" + c.userHTTP, "GRPC_ADDR=" + c.userGRPC, "DATA_ADDR=" + dialAddr(c.dataAddr),
			"MESSAGE_ADDR=" + dialAddr(c.msgGRPC), // group system messages (DeliverGroup)
			"JWT_SECRET=" + c.jwtSecret, "SMTP_ADDR=" + dialAddr(c.mailSMTP),
			"SMTP_TLS=none", // mailpit on this machine: the one case for plain SMTP
			"PUBLIC_URL=" + c.webURL(),
			// The webgateway on this machine forwards the browser's address.
			"TRUSTED_PROXIES=127.0.0.1,::1",
			"UPLOAD_DIR=" + filepath.Join(dev, "uploads"), "SEARCH_DIR=" + filepath.Join(dev, "search"),
			"NATS_URL=nats://" + dialAddr(c.natsListen), "NATS_USER=userservice", "NATS_PASSWORD=" + c.natsEvents,
		}, tlsEnv(certs.User)...),
		endpoints: []string{
			fmt.Sprintf("HTTP         http://%s/api/v1/  (GET /healthz, /readyz)", dialAddr(c.userHTTP)),
			fmt.Sprintf("gRPC + mTLS  %-16s privateim.user.v1.Auth/CheckToken", c.userGRPC),
		},
	}, {
		// After the userservice (token checks, search index) and the
		// messageservice (Broadcast); it reaches both lazily anyway.
		name:  "subscriptionservice",
		pkg:   "./subscriptionservice/cmd/subscriptionservice",
		addr:  c.subGRPC,
		ports: []string{c.subHTTP, c.subGRPC},
		env: append([]string{
			"HTTP_ADDR=" + c.subHTTP, "GRPC_ADDR=" + c.subGRPC, "DATA_ADDR=" + dialAddr(c.dataAddr),
			"USER_ADDR=" + dialAddr(c.userGRPC), "MESSAGE_ADDR=" + dialAddr(c.msgGRPC),
			"REVIEWER_EMAILS=" + c.reviewers, "PUBLIC_URL=" + c.webURL() + "/sub",
			"UPLOAD_DIR=" + filepath.Join(dev, "subscription-uploads"),
		}, tlsEnv(certs.Subscription)...),
		endpoints: []string{
			fmt.Sprintf("HTTP         http://%s/api/v1/  (GET /openapi.yaml, /healthz, /readyz)", dialAddr(c.subHTTP)),
			fmt.Sprintf("gRPC + mTLS  %-16s privateim.subscription.v1.Subscriptions (CreateArticle, Publish, ListArticles)", c.subGRPC),
			fmt.Sprintf("reviewers    %s  (REVIEWER_EMAILS)", reviewersShown(c.reviewers)),
		},
	}, {
		// Last: it only forwards to the others. It serves the app built
		// into it (scripts/web.sh, which make run runs first).
		name:       "webgateway",
		pkg:        "./web/cmd/webgateway",
		httpHealth: "http://" + dialAddr(c.webHTTP) + "/healthz",
		ports:      []string{c.webHTTP},
		env: []string{
			"HTTP_ADDR=" + c.webHTTP, "USER_URL=http://" + dialAddr(c.userHTTP),
			"SUBSCRIPTION_URL=http://" + dialAddr(c.subHTTP), "MESSAGE_URLS=http://" + dialAddr(c.msgHTTP),
		},
		endpoints: []string{
			fmt.Sprintf("HTTP         %s  the web app; /api/ -> userservice, /sub/ -> subscriptionservice, /ws -> messageservice (docs/web.md)", c.webURL()),
		},
	}}
}

// reviewersShown is REVIEWER_EMAILS as printed: "none" when unset, so a
// person sees why nobody can approve articles.
func reviewersShown(v string) string {
	if strings.TrimSpace(v) == "" {
		return "none: set REVIEWER_EMAILS=you@example.com before make run to review articles"
	}
	return v
}

// withDatabase returns dsn (go-sql-driver format) selecting db when it
// selects none: provision.sh hands out a server DSN, the tests make their own
// databases, the DataService of `make run` uses "privateim". It is string
// work on purpose: only the dataservice module may import a database driver.
func withDatabase(dsn, db string) string {
	i := strings.LastIndex(dsn, "/")
	if i < 0 {
		return dsn // not a DSN we understand; the service reports it
	}
	name, params, hasParams := strings.Cut(dsn[i+1:], "?")
	if name != "" {
		return dsn
	}
	out := dsn[:i+1] + db
	if hasParams {
		out += "?" + params
	}
	return out
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, os.Args[1:], os.Stdout); err != nil {
		log.Error("devstack", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	c, err := loadConfig(args)
	if err != nil {
		return err
	}
	svcs := services(c)
	for _, s := range svcs {
		for _, addr := range s.ports {
			if err := checkFree(addr); err != nil {
				return fmt.Errorf("%s: %w (is another `make run` still running?)", s.name, err)
			}
		}
	}
	if err := build(ctx, log, c, svcs); err != nil {
		return err
	}
	st, err := newStack(log, devpki.Paths(c.certs).Client, out)
	if err != nil {
		return err
	}
	st.startTimeout, st.stopGrace = c.startTimeout, c.stopGrace
	return st.run(ctx, svcs, func() { printEndpoints(out, c, svcs) })
}

// checkFree fails when something already listens on addr, which would make
// the health check pass against the wrong process.
func checkFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("address %s is not free: %w", addr, err)
	}
	return ln.Close()
}

// build compiles every service into c.bin with one `go build`.
func build(ctx context.Context, log *slog.Logger, c config, svcs []service) error {
	if err := os.MkdirAll(c.bin, 0o755); err != nil {
		return fmt.Errorf("make bin dir: %w", err)
	}
	args := []string{"build", "-o", c.bin + string(filepath.Separator)}
	for i := range svcs {
		args = append(args, svcs[i].pkg)
		svcs[i].bin = filepath.Join(c.bin, svcs[i].name)
	}
	log.Info("building", "packages", args[3:], "into", c.bin)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = c.root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return errors.Join(errors.New("interrupted while building"), ctx.Err())
		}
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

func printEndpoints(w io.Writer, c config, svcs []service) {
	rel := func(p string) string {
		if r, err := filepath.Rel(c.root, p); err == nil {
			return r
		}
		return p
	}
	certs := devpki.Paths(c.certs)
	fmt.Fprintln(w, "\nPrivateIM dev stack is up. Ctrl-C stops it.")
	for _, s := range svcs {
		for i, e := range s.endpoints {
			name := s.name
			if i > 0 {
				name = ""
			}
			fmt.Fprintf(w, "  %-14s %s\n", name, e)
		}
	}
	fmt.Fprintf(w, "Operator certificate (may call every method): %s, key %s, CA %s. For example:\n", rel(certs.Client.Cert), rel(certs.Client.Key), rel(certs.Client.CA))
	fmt.Fprintf(w, "  go tool grpcurl -cacert %s -cert %s -key %s %s list\n",
		rel(certs.Client.CA), rel(certs.Client.Cert), rel(certs.Client.Key), svcs[0].addr)
	fmt.Fprintf(w, "\n  Open %s in a browser: sign up, add a friend, chat.\n\n", c.webURL())
}
