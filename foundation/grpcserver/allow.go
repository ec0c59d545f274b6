package grpcserver

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/privateim/privateim/foundation/tlsconfig"
)

// Allow is a server's access table: for each full method
// ("/privateim.data.v1.Users/GetUserByEmail") the identities of the
// certificates that may call it (tlsconfig.UserService, ...). Each server
// declares its table in one place, written from what its callers call.
//
// Beyond the table: the health service is open to every certificate the CA
// signed (readiness probes, the dial check), so is reflection when it is
// on, and tlsconfig.Operator may call every method (people and tools)
// but the admin methods. A method whose row lists tlsconfig.Admin is an
// admin method: every admin identity (tlsconfig.IsAdmin) may call it and
// nobody else, the operator included, so each admin action has an admin's
// certificate, and its audit row, behind it. Any other call, an identity
// not listed or a method not in the table, is PermissionDenied.
type Allow map[string][]string

// openPrefixes are the services every verified certificate may call.
var openPrefixes = []string{"/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"}

// permit returns nil when identity may call method, else the
// PermissionDenied status naming the method (not the table: a caller learns
// what it may not do, not who may).
func (a Allow) permit(identity, method string) error {
	for _, p := range openPrefixes {
		if strings.HasPrefix(method, p) {
			return nil
		}
	}
	allowed := a[method]
	if slices.Contains(allowed, tlsconfig.Admin) {
		if tlsconfig.IsAdmin(identity) {
			return nil
		}
	} else if identity == tlsconfig.Operator || slices.Contains(allowed, identity) {
		return nil
	}
	return status.Errorf(codes.PermissionDenied, "%s: this caller's certificate may not call it", method)
}

// PeerIdentity is the identity of the verified certificate of ctx's peer
// (tlsconfig.IdentityOf), "" when it names none.
func PeerIdentity(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return ""
	}
	id, _ := tlsconfig.IdentityOf(info.State.VerifiedChains[0][0])
	return id
}

// check is the allow-list decision of one call, logged when it denies.
func (a Allow) check(ctx context.Context, log *slog.Logger, method string) error {
	id := PeerIdentity(ctx)
	err := a.permit(id, method)
	if err != nil {
		log.WarnContext(ctx, "grpc call denied by the allow-list", "method", method, "identity", id)
	}
	return err
}

func (a Allow) unary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if err := a.check(ctx, log, info.FullMethod); err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
}

func (a Allow) stream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if err := a.check(ss.Context(), log, info.FullMethod); err != nil {
			return err
		}
		return h(srv, ss)
	}
}

// Unlisted returns the methods registered on s that its table does not
// name, sorted: only the operator may call them. A service's test asserts
// there are none, so a new RPC cannot land without deciding who calls it.
func (s *Server) Unlisted() []string {
	var out []string
	for _, m := range s.methods {
		if _, ok := s.allow[m]; !ok {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}
