package grpcapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
)

// recorder is a slog.Handler that keeps every record, for tests that check
// what the server logged.
type recorder struct {
	mu   sync.Mutex
	recs []string // "msg k=v k=v"
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, b.String())
	r.mu.Unlock()
	return nil
}

// count returns how many records contain s.
func (r *recorder) count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.recs {
		if strings.Contains(rec, s) {
			n++
		}
	}
	return n
}

func TestMutualTLSRefusesStrangers(t *testing.T) {
	rec := &recorder{}
	e := dataservicetest.StartWith(t, dataservicetest.Options{Log: slog.New(rec)})
	ctx := testCtx(t)
	// A trusted client gets through (and is logged by the interceptor).
	if _, err := e.Users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: []int64{1}}); err != nil {
		t.Fatalf("trusted client: %v", err)
	}
	handled := rec.count("rpc method=")
	if handled != 1 {
		t.Fatalf("%d calls logged, want 1", handled)
	}

	caPEM, err := os.ReadFile(e.Certs.Client.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)

	otherCA, err := devpki.NewCA("someone else's CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := otherCA.Issue("intruder", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	otherCert, err := tls.X509KeyPair(leaf.PEM, leaf.Key)
	if err != nil {
		t.Fatal(err)
	}

	for name, cfg := range map[string]*tls.Config{
		"no client certificate":       {RootCAs: roots, MinVersion: tls.VersionTLS12},
		"certificate of another CA":   {RootCAs: roots, Certificates: []tls.Certificate{otherCert}, MinVersion: tls.VersionTLS12},
		"TLS 1.2 with no certificate": {RootCAs: roots, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient(e.Addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = datav1.NewUsersClient(conn).GetUsers(ctx, &datav1.GetUsersRequest{Ids: []int64{1}})
			wantCode(t, err, codes.Unavailable)
		})
	}
	if got := rec.count("rpc method="); got != handled {
		t.Errorf("%d calls reached a handler, want %d: refused clients must not", got, handled)
	}
}

// conversationLock holds the row lock of a conversation's counter from a
// connection of its own, so an append to it waits inside MySQL.
func conversationLock(t *testing.T, e *dataservicetest.Env, conversation string) (release func()) {
	t.Helper()
	db, err := sql.Open("mysql", e.DSN)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := tx.QueryRow("SELECT seq FROM conversation_seq WHERE conversation = ? FOR UPDATE", conversation).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			tx.Rollback()
			db.Close()
		})
	}
	t.Cleanup(release) // a failing test must not leave the lock behind
	return release
}

// waitForStatement polls until a statement other than the poll's own runs
// in the test's database: with the lock held, that is the blocked call.
func waitForStatement(t *testing.T, e *dataservicetest.Env) {
	t.Helper()
	poll.Eventually(t, 20*time.Second, func() error {
		var n int
		err := e.DB.QueryRow(`SELECT COUNT(*) FROM information_schema.processlist
			WHERE db = DATABASE() AND info IS NOT NULL AND id <> CONNECTION_ID()`).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("no statement is waiting for the lock yet")
		}
		return nil
	})
}

func TestClientCancelsMidCall(t *testing.T) {
	rec := &recorder{}
	e := dataservicetest.StartWith(t, dataservicetest.Options{Log: slog.New(rec)})
	ctx := testCtx(t)
	appendTo := func(ctx context.Context, id string) (*datav1.AppendMessageResponse, error) {
		return e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "c:lock", SenderId: 1, ClientMsgId: id, Kind: "text"})
	}
	check(appendTo(ctx, "first"))(t)
	release := conversationLock(t, e, "c:lock")

	callCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := appendTo(callCtx, "cancelled")
		done <- err
	}()
	waitForStatement(t, e) // the call is inside MySQL now
	cancel()
	wantCode(t, <-done, codes.Canceled)
	// The client knows at once; the server learns of the cancel when the
	// stream's reset arrives. Releasing the lock before that lets the
	// append go on and commit, as it rightly may: a cancel that comes after
	// the commit cannot undo it (this raced 1 run in 20). So the lock is
	// released only once the handler has returned.
	poll.Eventually(t, 20*time.Second, func() error {
		if n := rec.count("method=/privateim.data.v1.Messages/AppendMessage"); n < 2 {
			return fmt.Errorf("%d AppendMessage calls returned, want 2 (the first and the cancelled one)", n)
		}
		return nil
	})
	release()

	// The server goes on: the next append gets the next seq, no gap, and
	// the cancelled one was not stored.
	next := check(appendTo(ctx, "next"))(t)
	if next.GetMessage().GetSeq() != 2 {
		t.Errorf("next seq %d, want 2", next.GetMessage().GetSeq())
	}
	wantCode(t, errOf(e.Messages.GetMessageByClientID(ctx, &datav1.GetMessageByClientIDRequest{SenderId: 1, ClientMsgId: "cancelled"})), codes.NotFound)
	if _, err := e.Users.GetUsers(ctx, &datav1.GetUsersRequest{Ids: []int64{1}}); err != nil {
		t.Errorf("a later call: %v", err)
	}
}

func TestInternalErrorsCarryNoDriverText(t *testing.T) {
	rec := &recorder{}
	e := dataservicetest.StartWith(t, dataservicetest.Options{Log: slog.New(rec)})
	ctx := testCtx(t)
	check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{Conversation: "c", SenderId: 1, ClientMsgId: "a", Kind: "text"}))(t)

	t.Run("table dropped", func(t *testing.T) {
		if _, err := e.DB.Exec("DROP TABLE messages"); err != nil {
			t.Fatal(err)
		}
		st := wantCode(t, errOf(e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "c"})), codes.Internal)
		if st.Message() != "internal error" {
			t.Errorf("message %q, want exactly \"internal error\"", st.Message())
		}
		// The cause went to the log instead.
		if rec.count("doesn't exist") == 0 {
			t.Errorf("the driver's error was not logged: %v", rec.recs)
		}
	})
	t.Run("database closed", func(t *testing.T) {
		e.DB.Close()
		st := wantCode(t, errOf(e.Users.GetUser(ctx, &datav1.GetUserRequest{Id: 1})), codes.Internal)
		if st.Message() != "internal error" {
			t.Errorf("message %q, want exactly \"internal error\"", st.Message())
		}
		if rec.count("database is closed") == 0 {
			t.Errorf("the cause was not logged: %v", rec.recs)
		}
	})
}

func TestConcurrentDoubleAppend(t *testing.T) {
	e := dataservicetest.Start(t)
	ctx := testCtx(t)
	const callers = 8
	for round := range 5 {
		clientID := fmt.Sprintf("dup-%d", round)
		req := &datav1.AppendMessageRequest{Conversation: "u:1:2", SenderId: 1, ClientMsgId: clientID, Kind: "text", Content: []byte("once")}
		results := make([]*datav1.AppendMessageResponse, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = e.Messages.AppendMessage(ctx, req)
			}()
		}
		close(start)
		wg.Wait()
		fresh := 0
		for i, r := range results {
			if errs[i] != nil {
				t.Fatalf("round %d caller %d: %v", round, i, errs[i])
			}
			if !r.GetDuplicate() {
				fresh++
			}
			if r.GetMessage().GetId() != results[0].GetMessage().GetId() || r.GetMessage().GetSeq() != results[0].GetMessage().GetSeq() {
				t.Errorf("round %d: caller %d got id %d seq %d, caller 0 id %d seq %d", round, i,
					r.GetMessage().GetId(), r.GetMessage().GetSeq(), results[0].GetMessage().GetId(), results[0].GetMessage().GetSeq())
			}
		}
		if fresh != 1 {
			t.Errorf("round %d: %d answers say stored anew, want exactly 1", round, fresh)
		}
		if got := results[0].GetMessage().GetSeq(); got != int64(round+1) {
			t.Errorf("round %d: seq %d, want %d", round, got, round+1)
		}
	}
	hist := check(e.Messages.GetMessages(ctx, &datav1.GetMessagesRequest{Conversation: "u:1:2"}))(t)
	if len(hist.GetMessages()) != 5 {
		t.Errorf("%d messages stored, want 5 (one per round)", len(hist.GetMessages()))
	}
}
