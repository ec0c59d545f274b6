// Package grpcapi is the userservice's internal gRPC API for the other
// services, served with mutual TLS: privateim.user.v1.Auth (CheckToken),
// privateim.user.v1.Directory (the subscription service keeps the search
// index of subscription accounts current; directory.go),
// privateim.user.v1.Admin (admins suspend users, dismiss groups and read
// the audit log; admin.go), the
// gRPC health service and server reflection when on (foundation/grpcserver). Errors become gRPC
// codes here, once, by grpcserver.Status; causes of internal errors go to
// the log only.
//
// It may import grpc, the protos and the features; never an adapter.
package grpcapi

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/audit"
	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/foundation/tlsconfig"
	"github.com/privateim/privateim/userservice/internal/account"
)

// TokenChecker is what Auth needs of the account feature.
type TokenChecker interface {
	CheckToken(ctx context.Context, token string) (account.Claims, error)
}

// Access is who may call each method: the message nodes and the
// subscriptionservice check tokens; only the subscriptionservice keeps
// the directory of subscription accounts; Admin is the admins' alone
// (a row naming tlsconfig.Admin is closed to everyone else, the operator
// included: foundation/grpcserver.Allow). A new RPC goes here in the same
// commit (TestAccessNamesEveryMethod).
var Access = grpcserver.Allow{
	userv1.Auth_CheckToken_FullMethodName:              {tlsconfig.MessageService, tlsconfig.SubscriptionService},
	userv1.Directory_IndexSubscription_FullMethodName:  {tlsconfig.SubscriptionService},
	userv1.Directory_RemoveSubscription_FullMethodName: {tlsconfig.SubscriptionService},
	userv1.Admin_SuspendUser_FullMethodName:            {tlsconfig.Admin},
	userv1.Admin_UnsuspendUser_FullMethodName:          {tlsconfig.Admin},
	userv1.Admin_DismissGroup_FullMethodName:           {tlsconfig.Admin},
	userv1.Admin_ListAudit_FullMethodName:              {tlsconfig.Admin},
}

// Accounts is what Auth and Admin need of the account feature.
type Accounts interface {
	TokenChecker
	Banner
}

// Deps are what the servers need.
type Deps struct {
	Accounts  Accounts
	Directory Directory
	Groups    GroupDismisser
	AuditLog  AuditLog
	Audit     *audit.Recorder // records every Admin call but ListAudit
}

// NewServer builds the server with Auth, Directory and Admin registered
// behind Access, reflection when asked for; it reports NOT_SERVING until
// SetServing(true).
// opts add to the server's (metrics and tracing interceptors).
func NewServer(log *slog.Logger, d Deps, creds credentials.TransportCredentials, reflection bool, opts ...grpc.ServerOption) *grpcserver.Server {
	s := grpcserver.New(creds, grpcserver.Options{Allow: Access, Log: log, Reflection: reflection, Server: opts})
	userv1.RegisterAuthServer(s, &authServer{log: log, tokens: d.Accounts})
	userv1.RegisterDirectoryServer(s, &directoryServer{log: log, dir: d.Directory})
	userv1.RegisterAdminServer(s, &adminServer{log: log, ban: d.Accounts, groups: d.Groups, auditLog: d.AuditLog, audit: d.Audit})
	return s
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
		return nil, grpcserver.Status(ctx, a.log, "check token", err)
	}
	return &userv1.CheckTokenResponse{
		UserId:       cl.UserID,
		TokenVersion: cl.Version,
		ExpiresAt:    timestamppb.New(cl.ExpiresAt),
	}, nil
}
