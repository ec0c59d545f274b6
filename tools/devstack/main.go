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
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/privateim/privateim/protos/tlsconfig/devpki"
)

// config is everything devstack needs, from flags and the environment.
type config struct {
	root         string // repository root, where `go build` runs
	bin          string // where the service binaries are built
	certs        string // directory written by tools/certgen
	mysqlDSN     string // server DSN from scripts/provision.sh (.dev/env)
	dataAddr     string // DataService gRPC listen address
	docBackend   string // DOC_BACKEND, passed on in the environment; shown
	startTimeout time.Duration
	stopGrace    time.Duration
}

func loadConfig(args []string) (config, error) {
	c := config{
		mysqlDSN:   envOr("MYSQL_DSN", "root@tcp(127.0.0.1:3306)/"),
		dataAddr:   envOr("DATASERVICE_ADDR", "127.0.0.1:9090"),
		docBackend: envOr("DOC_BACKEND", "mysql"),
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
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// service is one binary of the stack. Later issues append theirs to
// services(): userservice, messageservice, subscriptionservice.
type service struct {
	name string   // binary name: the last element of pkg
	pkg  string   // Go package to build, relative to the repository root
	addr string   // gRPC address, checked with grpc.health.v1 over mTLS
	env  []string // added to devstack's own environment
	note string   // shown next to the endpoint
	bin  string   // path of the built binary, set by build
}

func services(c config) []service {
	certs := devpki.Paths(c.certs)
	tlsEnv := []string{"TLS_CA=" + certs.Server.CA, "TLS_CERT=" + certs.Server.Cert, "TLS_KEY=" + certs.Server.Key}
	dsn := withDatabase(c.mysqlDSN, "privateim")
	return []service{{
		name: "dataservice",
		pkg:  "./dataservice/cmd/dataservice",
		addr: c.dataAddr,
		env:  append([]string{"GRPC_ADDR=" + c.dataAddr, "MYSQL_DSN=" + dsn}, tlsEnv...),
		note: fmt.Sprintf("MySQL %s, documents in %s", maskDSN(dsn), c.docBackend),
	}}
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

// maskDSN hides the password of a DSN for printing.
func maskDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	user, _, hasPass := strings.Cut(dsn[:at], ":")
	if !hasPass {
		return dsn
	}
	return user + ":***" + dsn[at:]
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
		if err := checkFree(s.addr); err != nil {
			return fmt.Errorf("%s: %w (is another `make run` still running?)", s.name, err)
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
		fmt.Fprintf(w, "  %-20s gRPC + mTLS  %-16s %s\n", s.name, s.addr, s.note)
	}
	fmt.Fprintf(w, "Client certificate: %s, key %s, CA %s. For example:\n", rel(certs.Client.Cert), rel(certs.Client.Key), rel(certs.Client.CA))
	fmt.Fprintf(w, "  go tool grpcurl -cacert %s -cert %s -key %s %s list\n\n",
		rel(certs.Client.CA), rel(certs.Client.Cert), rel(certs.Client.Key), svcs[0].addr)
}
