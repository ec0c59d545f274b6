package grpcdial_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/grpcdial"
	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

func serve(t *testing.T, files tlsconfig.Files) string {
	t.Helper()
	creds, err := tlsconfig.ServerCredentials(files)
	if err != nil {
		t.Fatal(err)
	}
	s := grpcserver.New(creds, grpcserver.Options{})
	s.SetServing(true)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return lis.Addr().String()
}

// A process holding a message node's certificate listens where the
// userservice looks for the DataService, to collect the password hashes
// and tokens sent to it: the userservice's connection refuses a server
// whose certificate does not name the peer it dialled.
func TestImpostorWithAnotherServicesCertificateGetsNoCalls(t *testing.T) {
	t.Parallel()
	set, err := devpki.Write(filepath.Join(t.TempDir(), "certs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		server tlsconfig.Files
		ok     bool
	}{
		{"the dataservice itself", set.Data, true},
		{"a message node's certificate", set.Message, false},
		{"the operator's certificate", set.Client, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc, err := grpcdial.Dial(tlsconfig.DataService, serve(t, tc.server), set.User)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = grpcdial.Check(ctx, healthpb.NewHealthClient(cc), "dataservice")
			if tc.ok {
				if err != nil {
					t.Fatalf("health: %v", err)
				}
				return
			}
			if status.Code(errors.Unwrap(err)) != codes.Unavailable || !strings.Contains(err.Error(), "names identity") {
				t.Fatalf("health through an impostor: %v, want Unavailable naming the identity wanted", err)
			}
		})
	}
}
