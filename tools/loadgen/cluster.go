package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/privateim/privateim/foundation/filelock"
	"github.com/privateim/privateim/foundation/logtail"
	"github.com/privateim/privateim/foundation/natsauth"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// faultStack is the stack of the faults workload, every part of which a
// phase may kill and start again on the same address: a private mariadbd
// (its own port and data dir, never the machine's server), the DataService,
// the userservice, an external cluster of three nats-server processes
// (client and route ports on 127.0.0.1) and three messageservice nodes
// whose NATS_URL lists the three. Every child runs in its own process
// group (Setpgid) with Pdeathsig, so a dying loadgen takes it along, and
// stop kills each group.
type faultStack struct {
	log   *slog.Logger
	bin   string
	dir   string // temp dir: certs, logs, MariaDB data
	certs devpki.Set

	dbPort   int
	db       *proc
	dataAddr string
	data     *proc
	userGRPC string
	userURL  string
	users    *proc
	nats     []*natsNode
	natsURL  string        // the three client URLs, comma-separated
	natsConf string        // their tls and authorization configuration (natsauth.ServerConfig)
	natsPub  natsauth.Auth // the userservice's; each node has its own (msgNode.nats)
	msg      []*msgNode
	sendQ    int  // SEND_QUEUE of the nodes
	keep     bool // stop leaves the logs (a failed run)
}

type natsNode struct {
	client, route string // 127.0.0.1:port
	c             *proc
}

type msgNode struct {
	id         string
	http, grpc string
	nats       natsauth.Auth // its own NATS user: it may announce only as itself
	c          *proc
}

const faultNodes = 3

func faultNodeID(i int) string { return "fault-node-" + strconv.Itoa(i) }

func (n *msgNode) ws() string { return "ws://" + n.http + "/ws" }

// alive reports whether p has not exited yet.
func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to p's process group and waits until it is gone.
func (p *proc) kill() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// term asks p's group to stop (SIGTERM) and kills it after grace.
func (p *proc) term(grace time.Duration) {
	if p == nil || !p.alive() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// waitFor reads p's output until match accepts a line (or p exits).
func (p *proc) waitFor(ctx context.Context, timeout time.Duration, match func(string) bool) error {
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, logtail.Tail(p.log, 3000))
			}
			if match(line) {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("%s did not start within %s\n%s", p.name, timeout, logtail.Tail(p.log, 3000))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// spawn starts path with args and env (added to ours) in its own process
// group, its output appended to <dir>/<name>.log.
func (s *faultStack) spawn(name, path string, args, env []string) (*proc, error) {
	return startProc(name, path, args, env, filepath.Join(s.dir, name+".log"))
}

// buildFaultBinaries builds the services and nats-server into
// <root>/.dev/loadgen/bin (nats-server from the messageservice module,
// which requires it, so a fresh machine fetches it through the module
// proxy).
func buildFaultBinaries(ctx context.Context, root string) (string, error) {
	bin, err := buildBinaries(ctx, root)
	if err != nil {
		return "", err
	}
	unlock, err := filelock.Lock(filepath.Join(bin, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", filepath.Join(bin, "nats-server"), "github.com/nats-io/nats-server/v2")
	cmd.Dir = filepath.Join(root, "messageservice")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build nats-server: %v\n%s", err, out)
	}
	return bin, nil
}

func findProgram(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			if p := filepath.Join(dir, n); fileExistsAt(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found (scripts/provision.sh installs mariadb-server)", strings.Join(names, " or "))
}

func fileExistsAt(p string) bool { _, err := os.Stat(p); return err == nil }

func freePortNum() (int, error) {
	a, err := freeAddr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(a)
	return strconv.Atoi(p)
}

// startFaultStack starts everything; sendQueue is the nodes' SEND_QUEUE.
// On error whatever started is stopped.
func startFaultStack(ctx context.Context, log *slog.Logger, root, bin string, sendQueue int) (_ *faultStack, err error) {
	if bin == "" {
		if bin, err = buildFaultBinaries(ctx, root); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "loadgen-faults-")
	if err != nil {
		return nil, err
	}
	s := &faultStack{log: log, bin: bin, dir: dir, sendQ: sendQueue}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if s.certs, err = devpki.Write(filepath.Join(dir, "certs")); err != nil {
		return nil, fmt.Errorf("make certs: %w", err)
	}

	if err := s.initMariaDB(ctx); err != nil {
		return nil, err
	}
	if s.dataAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	if err := s.startData(ctx); err != nil {
		return nil, err
	}
	for range 3 {
		n := &natsNode{}
		if n.client, err = freeAddr(); err != nil {
			return nil, err
		}
		if n.route, err = freeAddr(); err != nil {
			return nil, err
		}
		s.nats = append(s.nats, n)
	}
	urls := make([]string, len(s.nats))
	for i, n := range s.nats {
		urls[i] = "nats://" + n.client
	}
	s.natsURL = strings.Join(urls, ",")
	s.natsPub = natsauth.Generate("userservice")
	users := []natsauth.User{{Role: natsauth.Publisher, Auth: s.natsPub}}
	for i := range faultNodes {
		n := &msgNode{id: faultNodeID(i), nats: natsauth.Generate(faultNodeID(i))}
		s.msg = append(s.msg, n)
		users = append(users, natsauth.User{Role: natsauth.Node, Auth: n.nats, NodeID: n.id})
	}
	natsCert, err := s.certs.Issue("nats")
	if err != nil {
		return nil, fmt.Errorf("nats certificate: %w", err)
	}
	conf, err := natsauth.ServerConfig(natsCert, users)
	if err != nil {
		return nil, err
	}
	s.natsConf = filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(s.natsConf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	for i := range s.nats {
		if err := s.startNATS(ctx, i); err != nil {
			return nil, err
		}
	}
	if s.userGRPC, err = freeAddr(); err != nil {
		return nil, err
	}
	s.users, err = s.spawn("userservice", filepath.Join(bin, "userservice"), nil, append([]string{
		"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=" + s.userGRPC, "DATA_ADDR=" + s.dataAddr,
		"JWT_SECRET=" + rand.Text() + rand.Text(), "BCRYPT_COST=4",
		"SMTP_ADDR=127.0.0.1:1", "UPLOAD_DIR=" + filepath.Join(dir, "uploads"), "SEARCH_DIR=" + filepath.Join(dir, "search"),
		"RATE_SIGNIN_EMAIL=off", "RATE_SIGNIN_IP=off", "RATE_FORGOT_EMAIL=off", "RATE_FORGOT_IP=off",
		"RATE_SIGNUP_IP=off", "RATE_SIGNUP_ALL=off", "RATE_RESET_IP=off", "RATE_RESET_ALL=off",
		"NATS_URL=" + s.natsURL, "NATS_USER=" + s.natsPub.User, "NATS_PASSWORD=" + s.natsPub.Password, "LOG_LEVEL=info",
		"MESSAGE_ADDR=", // group system messages reach devices on catch-up: the groups are made before they connect
	}, s.certs.User.Env()...))
	if err != nil {
		return nil, err
	}
	var userHTTP string
	if err := s.users.waitFor(ctx, 90*time.Second, func(line string) bool {
		if r, ok := parseListen(line); ok && r.HTTP != "" {
			userHTTP = r.HTTP
			return true
		}
		return false
	}); err != nil {
		return nil, err
	}
	s.userURL = "http://" + userHTTP
	for i, n := range s.msg {
		if n.http, err = freeAddr(); err != nil {
			return nil, err
		}
		if n.grpc, err = freeAddr(); err != nil {
			return nil, err
		}
		if err := s.startMsg(ctx, i); err != nil {
			return nil, err
		}
	}
	log.Info("fault stack up", "nodes", len(s.msg), "nats", s.natsURL, "mariadb_port", s.dbPort, "dir", dir)
	return s, nil
}

func parseListen(line string) (listenLine, bool) {
	var r listenLine
	if !strings.Contains(line, `"listening"`) {
		return r, false
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Msg != "listening" {
		return r, false
	}
	return r, true
}

func (s *faultStack) dbDir() string    { return filepath.Join(s.dir, "mariadb") }
func (s *faultStack) dbSocket() string { return filepath.Join(s.dir, "mysqld.sock") }

// initMariaDB makes a data dir, starts mariadbd on a free port and lets
// root in from 127.0.0.1 (with --skip-name-resolve a TCP client is
// root@127.0.0.1).
func (s *faultStack) initMariaDB(ctx context.Context) error {
	install, err := findProgram("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return err
	}
	client, err := findProgram("mariadb", "mysql")
	if err != nil {
		return err
	}
	if s.dbPort, err = freePortNum(); err != nil {
		return err
	}
	args := append([]string{"--no-defaults", "--datadir=" + s.dbDir(), "--auth-root-authentication-method=normal", "--skip-test-db", "--force"}, rootArg()...)
	if out, err := exec.CommandContext(ctx, install, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	if err := s.startMariaDB(ctx); err != nil {
		return err
	}
	sql := "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; " +
		"CREATE DATABASE privateim CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	if out, err := exec.CommandContext(ctx, client, "--no-defaults", "-u", "root", "-S", s.dbSocket(), "-e", sql).CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb grant: %v\n%s", err, out)
	}
	return nil
}

func rootArg() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"} // mariadbd refuses root unless told
	}
	return nil
}

// startMariaDB starts mariadbd on s.dbPort and waits until it accepts TCP
// connections (after a SIGKILL InnoDB recovers first).
func (s *faultStack) startMariaDB(ctx context.Context) error {
	bin, err := findProgram("mariadbd", "mysqld")
	if err != nil {
		return err
	}
	args := append([]string{"--no-defaults",
		"--datadir=" + s.dbDir(), "--socket=" + s.dbSocket(), "--pid-file=" + filepath.Join(s.dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.dir, "mariadb-error.log"),
		"--port=" + strconv.Itoa(s.dbPort), "--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=32M", "--innodb-flush-log-at-trx-commit=1",
		"--max-connections=500",
	}, rootArg()...)
	if s.db, err = s.spawn("mariadbd", bin, args, nil); err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(s.dbPort)
	return poll.Until(60*time.Second, func() error {
		if !s.db.alive() {
			return fmt.Errorf("mariadbd exited: %s", logtail.Tail(filepath.Join(s.dir, "mariadb-error.log"), 3000))
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		// The server greets only once it accepts logins.
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var b [4]byte
		_, err = io.ReadFull(c, b[:])
		c.Close()
		return err
	})
}

func (s *faultStack) startData(ctx context.Context) error {
	dsn := "root@tcp(127.0.0.1:" + strconv.Itoa(s.dbPort) + ")/privateim"
	var err error
	s.data, err = s.spawn("dataservice", filepath.Join(s.bin, "dataservice"), nil,
		append([]string{"GRPC_ADDR=" + s.dataAddr, "MYSQL_DSN=" + dsn, "LOG_LEVEL=info", "HEALTH_INTERVAL=1s"}, s.certs.Data.Env()...))
	if err != nil {
		return err
	}
	return s.data.waitFor(ctx, 90*time.Second, func(line string) bool { _, ok := parseListen(line); return ok })
}

func (s *faultStack) startNATS(ctx context.Context, i int) error {
	n := s.nats[i]
	host, port, _ := net.SplitHostPort(n.client)
	var routes []string
	for j, o := range s.nats {
		if j != i {
			routes = append(routes, "nats-route://"+o.route)
		}
	}
	var err error
	n.c, err = s.spawn("nats-"+strconv.Itoa(i), filepath.Join(s.bin, "nats-server"), []string{
		"-c", s.natsConf, "-a", host, "-p", port, "-n", "fault-nats-" + strconv.Itoa(i),
		"--cluster_name", "loadgen-faults", "--cluster", "nats://" + n.route, "--routes", strings.Join(routes, ","),
	}, nil)
	if err != nil {
		return err
	}
	return n.c.waitFor(ctx, 30*time.Second, func(line string) bool { return strings.Contains(line, "Server is ready") })
}

func (s *faultStack) startMsg(ctx context.Context, i int) error {
	n := s.msg[i]
	var err error
	n.c, err = s.spawn("messageservice-"+strconv.Itoa(i), filepath.Join(s.bin, "messageservice"), nil, append([]string{
		"HTTP_ADDR=" + n.http, "GRPC_ADDR=" + n.grpc, "DATA_ADDR=" + s.dataAddr, "USER_ADDR=" + s.userGRPC,
		"NATS_URL=" + s.natsURL, "NATS_USER=" + n.nats.User, "NATS_PASSWORD=" + n.nats.Password, "NODE_ID=" + n.id, "SEND_RATE=0", "FRAME_RATE_CONN=off", "FRAME_RATE_USER=off", "READ_RATE=off", "SYNC_RATE=off", "ACK_RATE=off", "TYPING_RATE=off", "DRAIN_SPREAD=0", "LOG_LEVEL=info",
		"SEND_QUEUE=" + strconv.Itoa(s.sendQ),
	}, s.certs.Message.Env()...))
	if err != nil {
		return err
	}
	return n.c.waitFor(ctx, 90*time.Second, func(line string) bool {
		r, ok := parseListen(line)
		return ok && r.HTTP != ""
	})
}

// stop ends every child, newest first (SIGTERM, SIGKILL after a few
// seconds: the data is thrown away anyway) and removes the temp dir
// (logs, MariaDB data) unless keep.
func (s *faultStack) stop() {
	var all []*proc
	for _, n := range s.msg {
		all = append(all, n.c)
	}
	all = append(all, s.users)
	for _, n := range s.nats {
		all = append(all, n.c)
	}
	all = append(all, s.data, s.db)
	for _, c := range all {
		if c != nil {
			c.term(5 * time.Second)
		}
	}
	if s.keep {
		s.log.Warn("fault stack logs kept", "dir", s.dir)
		return
	}
	if err := os.RemoveAll(s.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("remove fault stack dir", "dir", s.dir, "err", err)
	}
}
