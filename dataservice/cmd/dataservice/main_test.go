package main

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	datav1 "github.com/privateim/privateim/protos/data/v1"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
	"github.com/privateim/privateim/dataservice/internal/store/mysql/mysqltest"
)

// addrCatcher is a slog.Handler that hands over the address of the
// "listening" record.
type addrCatcher struct {
	once sync.Once
	addr chan string
}

func (h *addrCatcher) Enabled(context.Context, slog.Level) bool { return true }
func (h *addrCatcher) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *addrCatcher) WithGroup(string) slog.Handler            { return h }
func (h *addrCatcher) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "listening" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "addr" {
				h.once.Do(func() { h.addr <- a.Value.String() })
			}
			return true
		})
	}
	return nil
}

func TestRunServesAndShutsDownGracefully(t *testing.T) {
	certs := dataservicetest.Certs(t)
	// A database that does not exist yet: run creates it.
	server := mysqltest.ServerDSN(t)
	dbCfg := server.Clone()
	dbCfg.DBName = "pimtest_run_" + strings.ReplaceAll(time.Now().UTC().Format("150405.000000"), ".", "_")
	t.Cleanup(func() {
		db, err := sql.Open("mysql", server.FormatDSN())
		if err == nil {
			db.Exec("DROP DATABASE IF EXISTS `" + dbCfg.DBName + "`")
			db.Close()
		}
	})

	args := []string{
		"-grpc-addr", "127.0.0.1:0",
		"-mysql-dsn", dbCfg.FormatDSN(),
		"-tls-ca", certs.Data.CA, "-tls-cert", certs.Data.Cert, "-tls-key", certs.Data.Key,
		"-shutdown-timeout", "5s",
		"-grpc-reflection", "true",
	}
	env := map[string]string{"LOG_LEVEL": "debug", "SNOWFLAKE_NODE": "9"}
	catcher := &addrCatcher{addr: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- run(ctx, slog.New(catcher), args, func(k string) string { return env[k] }) }()

	var addr string
	select {
	case addr = <-catcher.addr:
	case err := <-ran:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("run did not log its address within 60s")
	}

	conn := dataservicetest.Dial(t, addr, certs.Client)
	callCtx, callCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer callCancel()
	hc := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "privateim.data.v1.Messages", "privateim.data.v1.Users"} {
		res, err := hc.Check(callCtx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v %v, want SERVING", svc, res.GetStatus(), err)
		}
	}

	// Reflection, turned on, lists the DataService, so grpcurl works.
	rc, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(callCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	lr, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range lr.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !strings.Contains(strings.Join(names, ","), "privateim.data.v1.Articles") {
		t.Errorf("reflection lists %v", names)
	}
	rc.CloseSend()

	// The binary's ids carry its node id; the call reaches MySQL.
	u, err := datav1.NewUsersClient(conn).CreateUser(callCtx, &datav1.CreateUserRequest{Email: "r@example.com", Name: "r", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if node := u.GetId() >> 12 & 1023; node != 9 {
		t.Errorf("id %d has node %d, want 9", u.GetId(), node)
	}

	// Shutdown: a health watcher sees NOT_SERVING first, then run returns nil.
	watchCtx, stopWatch := context.WithCancel(callCtx)
	w, err := hc.Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := w.Recv(); err != nil || st.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("watch: %v %v", st, err)
	}
	cancel()
	if st, err := w.Recv(); err != nil || st.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("watch during shutdown: %v %v, want NOT_SERVING", st, err)
	}
	stopWatch() // the watch is the last call in flight: let the graceful stop finish
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("run: %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of cancel")
	}
	// New calls are refused once it is down.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if _, err := hc.Check(ctx2, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(false)); err == nil {
		t.Error("health check answered after shutdown")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for name, args := range map[string][]string{
		"bad node":     {"-snowflake-node", "5000"},
		"missing cert": {"-tls-ca", "/nonexistent/ca.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, slog.New(slog.DiscardHandler), args, func(string) string { return "" })
			if err == nil {
				t.Fatal("run accepted a bad config")
			}
		})
	}
}
