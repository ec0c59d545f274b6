package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// localStack is the whole stack started by --local: the DataService on a
// fresh MySQL database, the messageservice (with its embedded NATS) and
// the userservice, each a child process built from this repository, on
// free 127.0.0.1 ports, with a throw-away CA. stop ends them in reverse
// order and drops the database.
type localStack struct {
	log      *slog.Logger
	dir      string // temp dir: certs, logs
	certs    devpki.Set
	server   string // MySQL server DSN
	database string
	dataAddr string
	userURL  string
	userGRPC string
	msgWS    string
	msgGRPC  string
	msgPID   int
	procs    []*proc // in start order
}

// proc is one child; lines carries its output lines until nobody reads.
type proc struct {
	name  string
	cmd   *exec.Cmd
	log   string
	lines chan string
	done  chan struct{}
	err   error
}

// repoRoot is the directory of the go.work at or above dir.
func repoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work at or above %s (pass --root)", dir)
		}
	}
}

// buildBinaries builds the three services into <root>/.dev/loadgen/bin
// with one go build (the build cache makes repeats quick).
func buildBinaries(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, ".dev", "loadgen", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	unlock, err := filelock.Lock(filepath.Join(bin, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin+string(filepath.Separator),
		"./dataservice/cmd/dataservice", "./userservice/cmd/userservice", "./messageservice/cmd/messageservice")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startLocal builds (unless bin names a directory holding them) and starts
// the stack. mysqlServer is a server DSN
// (MYSQL_DSN, default root@tcp(127.0.0.1:3306)/); msgEnv is added to the
// messageservice's environment last. On error, whatever started is
// stopped.
func startLocal(ctx context.Context, log *slog.Logger, root, bin, mysqlServer string, msgEnv []string) (_ *localStack, err error) {
	if bin == "" {
		if bin, err = buildBinaries(ctx, root); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return nil, err
	}
	s := &localStack{log: log, dir: dir, server: mysqlServer}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if s.certs, err = devpki.Write(filepath.Join(dir, "certs")); err != nil {
		return nil, fmt.Errorf("make certs: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	s.database = "loadgen_" + hex.EncodeToString(b[:])
	dsn, err := stacktest.WithDatabase(mysqlServer, s.database)
	if err != nil {
		return nil, err
	}

	data, err := s.start(ctx, bin, "dataservice", append([]string{"GRPC_ADDR=127.0.0.1:0", "MYSQL_DSN=" + dsn, "LOG_LEVEL=info", "HEALTH_INTERVAL=0"}, s.certs.Data.Env()...))
	if err != nil {
		return nil, err
	}
	if s.dataAddr, err = data.waitListening(ctx, func(r listenLine) string { return r.Addr }); err != nil {
		return nil, err
	}

	// The messageservice needs the userservice's gRPC address, the
	// userservice the messageservice's embedded NATS: pick both first.
	if s.userGRPC, err = freeAddr(); err != nil {
		return nil, err
	}
	natsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	natsPub := natsauth.Generate("userservice") // the embedded server admits the userservice with it
	msgBase := append([]string{
		"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=127.0.0.1:0", "DATA_ADDR=" + s.dataAddr, "USER_ADDR=" + s.userGRPC,
		"NATS_LISTEN=" + natsAddr, "NATS_URL=", "NATS_EVENTS_USER=" + natsPub.User, "NATS_EVENTS_PASSWORD=" + natsPub.Password, "SEND_RATE=0", "FRAME_RATE_CONN=off", "FRAME_RATE_USER=off", "READ_RATE=off", "SYNC_RATE=off", "ACK_RATE=off", "TYPING_RATE=off", "DRAIN_SPREAD=0", "LOG_LEVEL=info",
	}, s.certs.Message.Env()...)
	msg, err := s.start(ctx, bin, "messageservice", append(msgBase, msgEnv...))
	if err != nil {
		return nil, err
	}
	var msgHTTP string
	if msgHTTP, err = msg.waitListening(ctx, func(r listenLine) string {
		if r.GRPC != "" {
			s.msgGRPC = r.GRPC
		}
		return r.HTTP
	}); err != nil {
		return nil, err
	}
	s.msgWS, s.msgPID = "ws://"+msgHTTP+"/ws", msg.cmd.Process.Pid

	users, err := s.start(ctx, bin, "userservice", append([]string{
		"HTTP_ADDR=127.0.0.1:0", "GRPC_ADDR=" + s.userGRPC, "DATA_ADDR=" + s.dataAddr,
		"JWT_SECRET=" + rand.Text() + rand.Text(), "BCRYPT_COST=4",
		"SMTP_ADDR=127.0.0.1:1", "UPLOAD_DIR=" + filepath.Join(dir, "uploads"), "SEARCH_DIR=" + filepath.Join(dir, "search"),
		"RATE_SIGNIN_EMAIL=off", "RATE_SIGNIN_IP=off", "RATE_FORGOT_EMAIL=off", "RATE_FORGOT_IP=off",
		"RATE_SIGNUP_IP=off", "RATE_SIGNUP_ALL=off", "RATE_RESET_IP=off", "RATE_RESET_ALL=off",
		"NATS_URL=nats://" + natsAddr, "NATS_USER=" + natsPub.User, "NATS_PASSWORD=" + natsPub.Password, "LOG_LEVEL=info",
		"MESSAGE_ADDR=", // group system messages reach devices on catch-up: the groups are made before they connect
	}, s.certs.User.Env()...))
	if err != nil {
		return nil, err
	}
	userHTTP, err := users.waitListening(ctx, func(r listenLine) string { return r.HTTP })
	if err != nil {
		return nil, err
	}
	s.userURL = "http://" + userHTTP
	// The messageservice checks tokens with the userservice; ready means
	// it can.
	if err := poll.Until(60*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", s.userGRPC, time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	}); err != nil {
		return nil, fmt.Errorf("userservice gRPC: %w", err)
	}
	log.Info("local stack up", "ws", s.msgWS, "users", s.userURL, "messageservice_pid", s.msgPID, "database", s.database)
	return s, nil
}

// listenLine is the JSON log line each service writes once it serves.
type listenLine struct {
	Msg, Addr, HTTP, GRPC string
}

func (s *localStack) start(ctx context.Context, bin, name string, env []string) (*proc, error) {
	p, err := startProc(name, filepath.Join(bin, name), nil, env, filepath.Join(s.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	return p, nil
}

// startProc starts path with args and env (added to ours) in its own
// process group, killed when loadgen dies; its output is appended to
// logPath (a restarted child keeps one log) and handed line by line to
// lines while someone reads them.
func startProc(name, path string, args, env []string, logPath string) (*proc, error) {
	p := &proc{name: name, log: logPath, lines: make(chan string, 256), done: make(chan struct{})}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		defer f.Close()
		defer close(p.lines)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(f, sc.Text())
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(f, pr)
	}()
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	return p, nil
}

// waitListening reads p's output until its "listening" line, and returns
// what pick takes from it.
func (p *proc) waitListening(ctx context.Context, pick func(listenLine) string) (string, error) {
	deadline := time.After(90 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				return "", fmt.Errorf("%s exited: %v\n%s", p.name, p.err, logtail.Tail(p.log, 3000))
			}
			var r listenLine
			if json.Unmarshal([]byte(line), &r) == nil && r.Msg == "listening" {
				if v := pick(r); v != "" {
					return v, nil
				}
			}
		case <-deadline:
			return "", fmt.Errorf("%s did not start within 90s\n%s", p.name, logtail.Tail(p.log, 3000))
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// stop ends the children newest first (SIGTERM, then SIGKILL after 15 s),
// drops the database and removes the temp dir.
func (s *localStack) stop() error {
	var errs []error
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			errs = append(errs, fmt.Errorf("%s did not stop within 15s; killed", p.name))
		}
	}
	if s.database != "" {
		if err := stacktest.DropDatabase(s.server, s.database); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", s.database, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Warn("local stack stop", "err", err, "logs", s.dir)
		return err
	}
	return os.RemoveAll(s.dir)
}

// readRSS reads VmRSS of pid from /proc, in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc/pid/status")
}
