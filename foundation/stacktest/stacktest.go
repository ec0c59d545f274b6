// Package stacktest starts PrivateIM's real binaries for the tests of other
// modules: the DataService, built once per test process from
// dataservice/cmd/dataservice, on a free port with mutual TLS from a
// throw-away CA and a fresh MySQL database; and mailpit (a tool of
// tools/go.mod) on free ports. Everything is stopped, and the database
// dropped, in t.Cleanup.
//
// It imports no database driver (only the dataservice module may): the
// DataService creates its database, and cleanup drops it with the mariadb
// (or mysql) command-line client. MYSQL_DSN is the server DSN, default
// root@tcp(127.0.0.1:3306)/, as for the dataservice's own tests.
package stacktest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/privateim/privateim/foundation/config"
	"github.com/privateim/privateim/foundation/filelock"
	"github.com/privateim/privateim/foundation/logtail"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// Root is the repository root: the directory of the go.work above the
// working directory.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			tb.Fatalf("no go.work above %s", dir)
		}
	}
}

// binary is one program built at most once per process.
type binary struct {
	name string // file name in the bin dir
	pkg  string // package to build
	dir  string // module directory to build in, relative to the root
	once sync.Once
	path string
	err  error
}

var (
	dataservice = &binary{name: "dataservice", pkg: "./dataservice/cmd/dataservice", dir: "."}
	mailpit     = &binary{name: "mailpit", pkg: "github.com/axllent/mailpit", dir: "tools"}
)

// build compiles b into <root>/.dev/stacktest/bin once per process. The
// directory is shared by the test processes of every package, so builds
// take a file lock; `go build` finds an up-to-date binary quickly.
func (b *binary) build(tb testing.TB) string {
	tb.Helper()
	root := Root(tb)
	b.once.Do(func() {
		bin := filepath.Join(root, ".dev", "stacktest", "bin")
		if b.err = os.MkdirAll(bin, 0o755); b.err != nil {
			return
		}
		unlock, err := filelock.Lock(filepath.Join(bin, ".lock"))
		if err != nil {
			b.err = err
			return
		}
		defer unlock()
		out := filepath.Join(bin, b.name)
		cmd := exec.Command(goTool(), "build", "-buildvcs=false", "-o", out, b.pkg)
		cmd.Dir = filepath.Join(root, b.dir)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, msg)
			return
		}
		b.path = out
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

// BuildBinaries builds the DataService and mailpit (once per process) and
// returns their paths.
func BuildBinaries(tb testing.TB) (dataservicePath, mailpitPath string) {
	tb.Helper()
	return dataservice.build(tb), mailpit.build(tb)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// DataService is one running DataService process.
type DataService struct {
	Addr     string     // 127.0.0.1:port, gRPC with mutual TLS
	Certs    devpki.Set // its throw-away CA and every identity's certificate; Client (the operator's) calls anything
	DSN      string     // the database it serves (password included: do not log)
	Database string
	LogFile  string // its stderr
	// MetricsAddr is 127.0.0.1:port of GET /metrics.
	MetricsAddr string
}

// TempCerts writes the certificates of a throw-away CA into dir/certs of a
// new temp dir, removed at cleanup, and returns dir for the other files of
// the server they are for.
func TempCerts(tb testing.TB) (dir string, certs devpki.Set) {
	tb.Helper()
	dir = tb.TempDir()
	certs, err := devpki.Write(filepath.Join(dir, "certs"))
	if err != nil {
		tb.Fatalf("make certs: %v", err)
	}
	return dir, certs
}

// StartDataService starts a DataService on a fresh database and waits until
// its health service says SERVING. It is stopped (SIGTERM, then killed after
// 15s) and the database dropped at cleanup.
func StartDataService(tb testing.TB) *DataService {
	tb.Helper()
	bin := dataservice.build(tb)
	dir, certs := TempCerts(tb)
	server := os.Getenv("MYSQL_DSN")
	if server == "" {
		server = "root@tcp(127.0.0.1:3306)/"
	}
	d := &DataService{Certs: certs, Database: "stacktest_" + randomHex(6), LogFile: filepath.Join(dir, "dataservice.log")}
	var err error
	d.DSN, err = WithDatabase(server, d.Database)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := DropDatabase(server, d.Database); err != nil {
			tb.Logf("drop test database %s: %v", d.Database, err)
		}
	})
	startData(tb, bin, d, 1)
	return d
}

// StartReplica starts another DataService on d's database and
// certificates, with snowflake node id node (not 1, d's; each instance
// needs its own), as a second instance behind a balancer would run. It is
// stopped at cleanup.
func (d *DataService) StartReplica(tb testing.TB, node int) *DataService {
	tb.Helper()
	r := *d
	r.LogFile = filepath.Join(tb.TempDir(), fmt.Sprintf("dataservice-%d.log", node))
	startData(tb, dataservice.build(tb), &r, node)
	return &r
}

// startData starts the DataService binary for d (its DSN, certificates and
// log file set) and fills in d.Addr once it serves.
func startData(tb testing.TB, bin string, d *DataService, node int) {
	tb.Helper()
	p := startProcess(tb, bin, d.LogFile, append([]string{
		"GRPC_ADDR=127.0.0.1:0",
		"MYSQL_DSN=" + d.DSN,
		"LOG_LEVEL=info",
		"HEALTH_INTERVAL=0",
		"SNOWFLAKE_NODE=" + strconv.Itoa(node),
		"METRICS_ADDR=127.0.0.1:0",
	}, d.Certs.Data.Env()...), nil)
	// The DataService logs {"msg":"metrics","addr":...}, then
	// {"msg":"listening","addr":...} once its stores are open and migrated.
	addr, err := p.waitLine(60*time.Second, func(line string) (string, bool) {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "metrics" {
			d.MetricsAddr = rec.Addr
		}
		if rec.Msg == "listening" && rec.Addr != "" {
			return rec.Addr, true
		}
		return "", false
	})
	if err != nil {
		tb.Fatalf("dataservice did not start: %v\n%s", err, logtail.Tail(d.LogFile, 4000))
	}
	d.Addr = addr
	if err := waitServing(d.Addr, d.Certs.Client, 30*time.Second); err != nil {
		tb.Fatalf("dataservice not healthy: %v\n%s", err, logtail.Tail(d.LogFile, 4000))
	}
}

// waitServing polls the gRPC health service at addr until SERVING.
func waitServing(addr string, client tlsconfig.Files, timeout time.Duration) error {
	creds, err := tlsconfig.ClientCredentials(client, "")
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	h := healthpb.NewHealthClient(conn)
	return poll.Until(timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %s", resp.GetStatus())
		}
		return nil
	})
}

// process is a child started by a test; its stderr and stdout go to a file
// and, line by line, to whoever waits for a line.
type process struct {
	cmd      *exec.Cmd
	lines    chan string   // closed when output ends
	done     chan struct{} // closed when the process has exited
	copied   chan struct{} // closed when all its output is in the log file
	err      error         // of Wait, set before done closes
	stopOnce sync.Once
	stop     func() // SIGTERM (then SIGKILL), wait for the output, close the log; once
}

// startProcess starts bin with env added to the environment, writing its
// output to logFile, and stops it at cleanup: SIGTERM, 15s, SIGKILL. A
// non-zero exit after SIGTERM fails the test.
func startProcess(tb testing.TB, bin, logFile string, env, args []string) *process {
	tb.Helper()
	log, err := os.Create(logFile)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		tb.Fatalf("start %s: %v", bin, err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 64), done: make(chan struct{}), copied: make(chan struct{})}
	copied := p.copied
	go func() {
		defer close(copied)
		defer close(p.lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(log, sc.Text())
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for lines any more
			}
		}
		_, _ = io.Copy(log, pr) // an over-long line: keep draining
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	p.stop = func() { p.stopOnce.Do(func() { stopProcess(tb, p, bin, logFile, log) }) }
	tb.Cleanup(p.stop)
	return p
}

// stopProcess stops p (SIGTERM, 15s, SIGKILL; a non-zero exit after
// SIGTERM fails the test) and closes its log once all output is in.
func stopProcess(tb testing.TB, p *process, bin, logFile string, log *os.File) {
	tb.Helper()
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			if p.err != nil {
				tb.Errorf("%s exited uncleanly after SIGTERM: %v\n%s", filepath.Base(bin), p.err, logtail.Tail(logFile, 4000))
			}
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			tb.Errorf("%s did not stop within 15s of SIGTERM; killed", filepath.Base(bin))
		}
	}
	<-p.copied
	log.Close()
}

// waitLine reads output lines until match accepts one, the process exits,
// or timeout passes.
func (p *process) waitLine(timeout time.Duration, match func(string) (string, bool)) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				return "", fmt.Errorf("exited: %v", p.err)
			}
			if v, ok := match(line); ok {
				return v, nil
			}
		case <-deadline:
			return "", fmt.Errorf("no such line within %s", timeout)
		}
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FreeAddr returns 127.0.0.1:port with a port that was free a moment ago,
// for programs that cannot listen on port 0 and say which port they got.
// Any socket of the machine may take the port before the program binds it
// (an outgoing connection's local port too): a test that serves in-process
// keeps a net.Listener open instead and hands it to the server.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// dsn is a go-sql-driver DSN taken apart by hand: user[:pass]@net(addr)/db?params.
type dsn struct {
	user, pass, net, addr, db, params string
}

func parseDSN(s string) (dsn, error) {
	var d dsn
	at := strings.LastIndex(s, "@")
	slash := strings.LastIndex(s, "/")
	if slash < 0 || slash < at {
		return d, fmt.Errorf("DSN %q: want user[:password]@tcp(host:port)/[db][?params]", config.Mask(s))
	}
	if at >= 0 {
		d.user, d.pass, _ = strings.Cut(s[:at], ":")
	}
	netAddr := s[at+1 : slash]
	if netAddr != "" {
		n, rest, ok := strings.Cut(netAddr, "(")
		if !ok || !strings.HasSuffix(rest, ")") {
			return d, fmt.Errorf("DSN %q: address %q: want net(addr)", config.Mask(s), netAddr)
		}
		d.net, d.addr = n, strings.TrimSuffix(rest, ")")
	}
	d.db, d.params, _ = strings.Cut(s[slash+1:], "?")
	return d, nil
}

// WithDatabase returns the server DSN selecting database db.
func WithDatabase(server, db string) (string, error) {
	if _, err := parseDSN(server); err != nil {
		return "", err
	}
	i := strings.LastIndex(server, "/")
	_, params, hasParams := strings.Cut(server[i+1:], "?")
	out := server[:i+1] + db
	if hasParams {
		out += "?" + params
	}
	return out, nil
}

// DropDatabase drops db on the server of DSN server with the mariadb (or
// mysql) client.
func DropDatabase(server, db string) error {
	if strings.ContainsAny(db, "`\\") {
		return fmt.Errorf("database name %q", db)
	}
	d, err := parseDSN(server)
	if err != nil {
		return err
	}
	client, err := exec.LookPath("mariadb")
	if err != nil {
		if client, err = exec.LookPath("mysql"); err != nil {
			return errors.New("neither mariadb nor mysql client in PATH")
		}
	}
	args := []string{"--no-defaults", "-u", d.user, "-e", "DROP DATABASE IF EXISTS `" + db + "`"}
	switch d.net {
	case "unix":
		args = append(args, "-S", d.addr)
	case "", "tcp":
		addr := d.addr
		if addr == "" {
			addr = "127.0.0.1:3306"
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			host, port = addr, "3306"
		}
		args = append(args, "--protocol=TCP", "-h", host, "-P", port)
	default:
		return fmt.Errorf("DSN network %q not supported", d.net)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, client, args...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+d.pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(client), err, out)
	}
	return nil
}

// Dial connects to the gRPC server at addr with mutual TLS as the holder
// of files (a service's certificate, or Certs.Client, the operator's), so
// a test calls as that identity; closed at cleanup.
func Dial(tb testing.TB, addr string, files tlsconfig.Files) *grpc.ClientConn {
	tb.Helper()
	creds, err := tlsconfig.ClientCredentials(files, "")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}
