package grpcapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/poll"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
)

// privateMariaDB is a mariadbd of the test's own, on a free port with its
// data in a temp dir, so the test can kill and restart it. The machine's
// shared server (3306) is never touched.
type privateMariaDB struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	userArg []string
	cmd     *exec.Cmd
	waited  chan struct{} // closed when cmd has exited
}

func findBin(names ...string) string {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			if p := filepath.Join(dir, n); fileExists(p) {
				return p
			}
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newPrivateMariaDB(t *testing.T) *privateMariaDB {
	bin, install := findBin("mariadbd", "mysqld"), findBin("mariadb-install-db", "mysql_install_db")
	if bin == "" || install == "" {
		t.Fatal("mariadbd and mariadb-install-db are needed (make test installs mariadb-server)")
	}
	m := &privateMariaDB{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	if os.Geteuid() == 0 {
		m.userArg = []string{"--user=root"} // mariadbd refuses root unless told
	}
	args := append([]string{"--no-defaults", "--datadir=" + m.datadir(), "--auth-root-authentication-method=normal",
		"--skip-test-db", "--force"}, m.userArg...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	m.start()
	t.Cleanup(m.kill)
	// With --skip-name-resolve a TCP client from 127.0.0.1 is root@127.0.0.1.
	db := m.open("root@unix(" + m.socket() + ")/")
	defer db.Close()
	for _, q := range []string{
		"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'",
		"GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
		"CREATE DATABASE privateim CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return m
}

func (m *privateMariaDB) datadir() string { return filepath.Join(m.dir, "data") }
func (m *privateMariaDB) socket() string  { return filepath.Join(m.dir, "mysqld.sock") }
func (m *privateMariaDB) DSN() string {
	return "root@tcp(127.0.0.1:" + strconv.Itoa(m.port) + ")/privateim"
}

func (m *privateMariaDB) open(dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		m.t.Fatal(err)
	}
	return db
}

// start runs mariadbd and polls until it answers on its socket.
func (m *privateMariaDB) start() {
	m.t.Helper()
	args := append([]string{"--no-defaults",
		"--datadir=" + m.datadir(), "--socket=" + m.socket(), "--pid-file=" + filepath.Join(m.dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(m.dir, "error.log"),
		"--port=" + strconv.Itoa(m.port), "--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
	}, m.userArg...)
	m.cmd = exec.Command(m.bin, args...)
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a ^C to the test does not reach it first
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mariadbd: %v", err)
	}
	exited := make(chan struct{})
	go func(c *exec.Cmd) { c.Wait(); close(exited) }(m.cmd)
	db := m.open("root@unix(" + m.socket() + ")/")
	defer db.Close()
	poll.Eventually(m.t, 60*time.Second, func() error {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
			m.t.Fatalf("mariadbd exited while starting:\n%s", log)
		default:
		}
		return db.Ping()
	})
	m.waited = exited
}

// kill ends mariadbd with SIGKILL, as a crash would, and waits for it.
func (m *privateMariaDB) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.waited
	m.cmd = nil
}

func TestMariaDBRestart(t *testing.T) {
	m := newPrivateMariaDB(t)
	e := dataservicetest.StartWith(t, dataservicetest.Options{DSN: m.DSN(), HealthInterval: 100 * time.Millisecond})
	health := healthpb.NewHealthClient(e.Conn)

	call := func(timeout time.Duration, f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return f(ctx)
	}
	appendMsg := func(id string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "g:1", SenderId: 1, ClientMsgId: id, Kind: "text"})
			return err
		}
	}
	healthIs := func(want healthpb.HealthCheckResponse_ServingStatus) func() error {
		return func() error {
			return call(5*time.Second, func(ctx context.Context) error {
				res, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
				if err != nil {
					return err
				}
				if res.GetStatus() != want {
					return fmt.Errorf("health %v, want %v", res.GetStatus(), want)
				}
				return nil
			})
		}
	}

	if err := call(10*time.Second, appendMsg("before")); err != nil {
		t.Fatalf("append before the crash: %v", err)
	}
	m.kill()

	// Calls in between fail cleanly: a code a caller can act on, never a
	// hang (the per-call deadline would show as DeadlineExceeded) and
	// never driver text.
	calls := map[string]func(ctx context.Context) error{
		"AppendMessage": appendMsg("during"),
		"GetMessages": func(ctx context.Context) error {
			_, err := e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "g:1"})
			return err
		},
		"GetUser": func(ctx context.Context) error {
			_, err := e.Users.GetUser(ctx, &datav1.GetUserRequest{Id: 1})
			return err
		},
		"CreateGroupPlus": func(ctx context.Context) error {
			_, err := e.Groups.CreateGroupPlus(ctx, &datav1.CreateGroupPlusRequest{Name: "g", OwnerId: 1})
			return err
		},
	}
	for round := range 3 {
		for name, f := range calls {
			err := call(10*time.Second, f)
			st := status.Convert(err)
			switch st.Code() {
			case codes.Unavailable, codes.Internal:
				if st.Code() == codes.Internal && st.Message() != "internal error" {
					t.Errorf("round %d %s: Internal with message %q", round, name, st.Message())
				}
			default:
				t.Errorf("round %d %s while MariaDB is down: %v %q, want Unavailable or Internal", round, name, st.Code(), st.Message())
			}
		}
	}
	poll.Eventually(t, 10*time.Second, healthIs(healthpb.HealthCheckResponse_NOT_SERVING))

	m.start()
	// The pool reconnects by itself: calls succeed again, health too.
	poll.Eventually(t, 30*time.Second, func() error { return call(5*time.Second, appendMsg("after")) })
	poll.Eventually(t, 10*time.Second, healthIs(healthpb.HealthCheckResponse_SERVING))

	// What was committed before the crash survived it, and seqs go on
	// without a gap: the append that failed during the outage stored nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hist := check(e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "g:1"}))(t)
	var got []string
	for _, msg := range hist.GetMessages() {
		got = append(got, fmt.Sprintf("%d:%s", msg.GetSeq(), msg.GetClientMsgId()))
	}
	if fmt.Sprint(got) != "[1:before 2:after]" {
		t.Errorf("history after the restart: %v, want [1:before 2:after]", got)
	}
}
