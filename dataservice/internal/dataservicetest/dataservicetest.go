// Package dataservicetest starts the real DataService for tests: a
// throw-away CA, a fresh MySQL database, the gRPC server built by
// grpcapi.NewServer exactly as the binary builds it, listening with mutual
// TLS on 127.0.0.1:0, and a client connection. Everything is torn down in
// t.Cleanup.
package dataservicetest

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/grpcapi"
	"github.com/privateim/privateim/dataservice/internal/snowflake"
	"github.com/privateim/privateim/dataservice/internal/store/mysql"
	"github.com/privateim/privateim/dataservice/internal/store/mysql/mysqltest"
)

// Options change what Start sets up; the zero value is the usual.
type Options struct {
	// DSN of the database to serve; a fresh mysqltest database when empty.
	DSN string
	// Log receives the server's log; discarded when nil (set LOG_TEST=1 to
	// see it on stderr).
	Log *slog.Logger
	// HealthInterval, when > 0, runs the store health watch.
	HealthInterval time.Duration
	// NoticeFlush, when > 0, runs the group notice outbox flush.
	NoticeFlush time.Duration
}

// Env is one running DataService.
type Env struct {
	Addr  string
	Certs devpki.Set // server and client files of the throw-away CA
	DSN   string
	DB    *sql.DB // the server's own pool, for tests that break things
	Conn  *grpc.ClientConn
	Srv   *grpcapi.Server

	Users         datav1.UsersClient
	Friends       datav1.FriendsClient
	Groups        datav1.GroupsClient
	Subscriptions datav1.SubscriptionsClient
	Messages      datav1.MessagesClient
	Articles      datav1.ArticlesClient
	GroupChanges  datav1.GroupChangesClient
	Conversations datav1.ConversationsClient
}

// Start starts a DataService on a fresh database.
func Start(tb testing.TB) *Env { return StartWith(tb, Options{}) }

// StartWith starts a DataService as o says.
func StartWith(tb testing.TB, o Options) *Env {
	tb.Helper()
	if o.DSN == "" {
		o.DSN = mysqltest.NewDatabase(tb)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
		if os.Getenv("LOG_TEST") != "" {
			o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	certs := Certs(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := mysql.Open(ctx, o.DSN, mysql.Options{})
	if err != nil {
		tb.Fatalf("open mysql: %v", err)
	}
	ids, err := snowflake.New(1)
	if err != nil {
		tb.Fatal(err)
	}
	creds, err := tlsconfig.ServerCredentials(certs.Data)
	if err != nil {
		tb.Fatal(err)
	}
	srv := grpcapi.NewServer(grpcapi.Deps{
		Relational: mysql.NewRelational(db),
		Documents:  mysql.NewDocuments(db),
		IDs:        ids,
		Log:        o.Log,
	}, creds, false)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	srv.SetServing(true)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	if o.HealthInterval > 0 {
		go srv.WatchStores(watchCtx, o.HealthInterval)
	}
	if o.NoticeFlush > 0 {
		go srv.FlushGroupNotices(watchCtx, o.NoticeFlush)
	}

	// Cleanups run last-in first-out: the client conn (Dial's, below)
	// closes first, then this stops the server and closes the pool, then
	// the database is dropped.
	tb.Cleanup(func() {
		stopWatch()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
		db.Close()
	})
	e := &Env{Addr: lis.Addr().String(), Certs: certs, DSN: o.DSN, DB: db, Srv: srv}
	e.Conn = Dial(tb, e.Addr, certs.Client)
	e.Users = datav1.NewUsersClient(e.Conn)
	e.Friends = datav1.NewFriendsClient(e.Conn)
	e.Groups = datav1.NewGroupsClient(e.Conn)
	e.Subscriptions = datav1.NewSubscriptionsClient(e.Conn)
	e.Messages = datav1.NewMessagesClient(e.Conn)
	e.Articles = datav1.NewArticlesClient(e.Conn)
	e.GroupChanges = datav1.NewGroupChangesClient(e.Conn)
	e.Conversations = datav1.NewConversationsClient(e.Conn)

	return e
}

// Certs writes a throw-away CA with every identity's certificate for
// 127.0.0.1 and localhost into a temp dir.
func Certs(tb testing.TB) devpki.Set {
	tb.Helper()
	set, err := devpki.Write(filepath.Join(tb.TempDir(), "certs"))
	if err != nil {
		tb.Fatalf("make certs: %v", err)
	}
	return set
}

// Dial connects to addr with mutual TLS using files; closed at cleanup.
func Dial(tb testing.TB, addr string, files tlsconfig.Files) *grpc.ClientConn {
	tb.Helper()
	creds, err := tlsconfig.ClientCredentials(files, "")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(grpcapi.MaxMessageBytes), grpc.MaxCallSendMsgSize(grpcapi.MaxMessageBytes)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}
