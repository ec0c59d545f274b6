package grpcserver

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

// echoDesc is a service of one unary and one streaming method, with the
// health messages as its request and reply: enough to see the allow-list
// over a real mutual-TLS connection without protos/.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "test.Echo",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{unaryEcho("Call"), unaryEcho("Admin")},
	Streams: []grpc.StreamDesc{{StreamName: "Watch", ServerStreams: true, Handler: func(_ any, s grpc.ServerStream) error {
		return s.SendMsg(&healthpb.HealthCheckResponse{})
	}}},
}

func unaryEcho(name string) grpc.MethodDesc {
	return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
		req := new(healthpb.HealthCheckRequest)
		if err := dec(req); err != nil {
			return nil, err
		}
		h := func(context.Context, any) (any, error) { return &healthpb.HealthCheckResponse{}, nil }
		if in == nil {
			return h(ctx, req)
		}
		return in(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/test.Echo/" + name}, h)
	}}
}

func startEcho(t *testing.T, allow Allow) (string, devpki.Set) {
	t.Helper()
	set, err := devpki.Write(filepath.Join(t.TempDir(), "certs"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := tlsconfig.ServerCredentials(set.Data)
	if err != nil {
		t.Fatal(err)
	}
	s := New(creds, Options{Allow: allow})
	s.RegisterService(&echoDesc, struct{}{})
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
	return lis.Addr().String(), set
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	addr, set := startEcho(t, Allow{"/test.Echo/Call": {tlsconfig.UserService}, "/test.Echo/Watch": {tlsconfig.MessageService},
		"/test.Echo/Admin": {tlsconfig.Admin}})
	// A certificate of the same CA for an identity no table names.
	stranger := set.For("stranger")
	ca, err := devpki.LoadCA(set.CA, filepath.Join(set.Dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("stranger", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.WriteFiles(stranger); err != nil {
		t.Fatal(err)
	}

	call := func(files tlsconfig.Files) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return stacktest.Dial(t, addr, files).Invoke(ctx, "/test.Echo/Call", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
	}
	admin := func(files tlsconfig.Files) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return stacktest.Dial(t, addr, files).Invoke(ctx, "/test.Echo/Admin", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
	}
	named, err := ca.Issue("admin-ann", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ann := set.For("admin-ann")
	if err := named.WriteFiles(ann); err != nil {
		t.Fatal(err)
	}
	watch := func(files tlsconfig.Files) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := stacktest.Dial(t, addr, files).NewStream(ctx, &echoDesc.Streams[0], "/test.Echo/Watch")
		if err != nil {
			return err
		}
		// A refused stream may fail SendMsg with io.EOF; RecvMsg has the
		// status.
		_ = st.SendMsg(&healthpb.HealthCheckRequest{})
		_ = st.CloseSend()
		if err := st.RecvMsg(&healthpb.HealthCheckResponse{}); err != nil && err != io.EOF {
			return err
		}
		return nil
	}
	health := func(files tlsconfig.Files) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := healthpb.NewHealthClient(stacktest.Dial(t, addr, files)).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	tests := []struct {
		name   string
		do     func(tlsconfig.Files) error
		files  tlsconfig.Files
		denied string // the method named by PermissionDenied; "" = allowed
	}{
		{"listed identity calls", call, set.User, ""},
		{"unlisted service is denied", call, set.Message, "/test.Echo/Call"},
		{"unknown identity is denied", call, stranger, "/test.Echo/Call"},
		{"operator calls anything", call, set.Client, ""},
		{"listed identity streams", watch, set.Message, ""},
		{"stream of another identity is denied", watch, set.User, "/test.Echo/Watch"},
		{"health is open to any certificate of the CA", health, stranger, ""},
		{"admin calls an admin method", admin, set.Admin, ""},
		{"a named admin calls an admin method", admin, ann, ""},
		{"operator may not call an admin method", admin, set.Client, "/test.Echo/Admin"},
		{"a service may not call an admin method", admin, set.User, "/test.Echo/Admin"},
		{"admin may not call another method", call, set.Admin, "/test.Echo/Call"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do(tc.files)
			if tc.denied == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			st := status.Convert(err)
			if st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), tc.denied) {
				t.Fatalf("want PermissionDenied naming %s, got %v", tc.denied, err)
			}
			if strings.Contains(st.Message(), tlsconfig.UserService) || strings.Contains(st.Message(), tlsconfig.MessageService) {
				t.Errorf("the denial shows who may call: %q", st.Message())
			}
		})
	}
}

func TestUnlisted(t *testing.T) {
	t.Parallel()
	s := New(nil, Options{Allow: Allow{"/test.Echo/Call": {tlsconfig.UserService}, "/test.Echo/Admin": {tlsconfig.Admin}}})
	s.RegisterService(&echoDesc, struct{}{})
	if got := s.Unlisted(); len(got) != 1 || got[0] != "/test.Echo/Watch" {
		t.Fatalf("Unlisted = %v, want [/test.Echo/Watch]", got)
	}
}
