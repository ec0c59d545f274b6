// Package grpcapi is the userservice's internal gRPC API for the other
// services, served with mutual TLS: privateim.user.v1.Auth (CheckToken),
// privateim.user.v1.Directory (the subscription service keeps the search
// index of subscription accounts current; directory.go), the gRPC health
// service and server reflection. Errors become gRPC codes here, once
// (codeOf); causes of internal errors go to the log only.
//
// It may import grpc, the protos and the features; never an adapter.
package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/userservice/internal/account"
	"github.com/privateim/privateim/foundation/errs"
)

// TokenChecker is what Auth needs of the account feature.
type TokenChecker interface {
	CheckToken(ctx context.Context, token string) (account.Claims, error)
}

// Server is the gRPC server with its health service.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
}

// NewServer builds the server; it reports NOT_SERVING until SetServing(true).
func NewServer(log *slog.Logger, tokens TokenChecker, dir Directory, creds credentials.TransportCredentials) *Server {
	s := &Server{
		grpc:   grpc.NewServer(grpc.Creds(creds)),
		health: health.NewServer(),
	}
	userv1.RegisterAuthServer(s.grpc, &authServer{log: log, tokens: tokens})
	userv1.RegisterDirectoryServer(s.grpc, &directoryServer{log: log, dir: dir})
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.SetServing(false)
	return s
}

// Serve accepts on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// SetServing sets the health status of every service.
func (s *Server) SetServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(userv1.Auth_ServiceDesc.ServiceName, st)
	s.health.SetServingStatus(userv1.Directory_ServiceDesc.ServiceName, st)
}

// Shutdown reports NOT_SERVING, then stops gracefully; when ctx ends first
// the calls still running are cut.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
	}
}

type authServer struct {
	userv1.UnimplementedAuthServer
	log    *slog.Logger
	tokens TokenChecker
}

func (a *authServer) CheckToken(ctx context.Context, r *userv1.CheckTokenRequest) (*userv1.CheckTokenResponse, error) {
	if r.GetToken() == "" {
		return nil, status.Error(codes.InvalidArgument, "token: required")
	}
	cl, err := a.tokens.CheckToken(ctx, r.GetToken())
	if err != nil {
		return nil, statusOf(ctx, a.log, "check token", err)
	}
	return &userv1.CheckTokenResponse{
		UserId:       cl.UserID,
		TokenVersion: cl.Version,
		ExpiresAt:    timestamppb.New(cl.ExpiresAt),
	}, nil
}

// codeOf is the one table from error kinds to gRPC codes.
var codeOf = map[errs.Kind]codes.Code{
	errs.KindInvalid:          codes.InvalidArgument,
	errs.KindUnauthenticated:  codes.Unauthenticated,
	errs.KindForbidden:        codes.PermissionDenied,
	errs.KindNotFound:         codes.NotFound,
	errs.KindConflict:         codes.AlreadyExists,
	errs.KindGone:             codes.FailedPrecondition,
	errs.KindTooLarge:         codes.ResourceExhausted,
	errs.KindUnsupportedMedia: codes.InvalidArgument,
	errs.KindRateLimited:      codes.ResourceExhausted,
}

// statusOf turns err into a status: an *errs.Error of a known kind keeps
// its message (prefixed by the field at fault, "name: required"); anything
// else is logged and answered Internal.
func statusOf(ctx context.Context, log *slog.Logger, op string, err error) error {
	if e, ok := errs.As(err); ok {
		if c, ok := codeOf[e.Kind]; ok {
			if e.Field != "" {
				return status.Error(c, e.Field+": "+e.Message)
			}
			return status.Error(c, e.Message)
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	log.ErrorContext(ctx, "call failed", "op", op, "err", err)
	return status.Error(codes.Internal, "internal error")
}
