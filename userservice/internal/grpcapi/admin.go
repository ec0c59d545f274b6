package grpcapi

import (
	"context"
	"log/slog"

	userv1 "github.com/privateim/privateim/protos/user/v1"

	"github.com/privateim/privateim/foundation/grpcserver"
	"github.com/privateim/privateim/userservice/internal/account"
)

// Banner is what Admin needs of the account feature.
type Banner interface {
	SetBanned(ctx context.Context, id int64, banned bool) (account.User, error)
}

// adminServer is privateim.user.v1.Admin: the operators' calls.
type adminServer struct {
	userv1.UnimplementedAdminServer
	log *slog.Logger
	ban Banner
}

func (a *adminServer) BanUser(ctx context.Context, r *userv1.BanUserRequest) (*userv1.BanUserResponse, error) {
	u, err := a.ban.SetBanned(ctx, r.GetUserId(), true)
	if err != nil {
		return nil, grpcserver.Status(ctx, a.log, "ban user", err)
	}
	return &userv1.BanUserResponse{UserId: u.ID, Banned: u.Banned}, nil
}

func (a *adminServer) UnbanUser(ctx context.Context, r *userv1.UnbanUserRequest) (*userv1.UnbanUserResponse, error) {
	u, err := a.ban.SetBanned(ctx, r.GetUserId(), false)
	if err != nil {
		return nil, grpcserver.Status(ctx, a.log, "unban user", err)
	}
	return &userv1.UnbanUserResponse{UserId: u.ID, Banned: u.Banned}, nil
}
