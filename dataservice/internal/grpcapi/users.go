package grpcapi

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

type usersServer struct {
	datav1.UnimplementedUsersServer
	*base
}

const genderMax = int32(datav1.Gender_GENDER_OTHER)

const lastSeenVisibilityMax = int32(datav1.LastSeenVisibility_LAST_SEEN_VISIBILITY_NOBODY)

func (s *usersServer) CreateUser(ctx context.Context, r *datav1.CreateUserRequest) (*datav1.User, error) {
	var c checker
	c.email("email", r.GetEmail())
	c.name("name", r.GetName(), maxNameRunes)
	c.key("password_hash", r.GetPasswordHash(), maxPasswordHashBytes)
	c.maxBytes("mobile", r.GetMobile(), maxMobileBytes)
	c.enum("gender", int32(r.GetGender()), 0, genderMax)
	c.maxBytes("avatar", r.GetAvatar(), maxURLBytes)
	c.maxBytes("qr_code", r.GetQrCode(), maxURLBytes)
	if err := c.err(); err != nil {
		return nil, err
	}
	now := s.now()
	u, err := s.rel.CreateUser(ctx, store.User{
		ID:           s.ids.Next(),
		Email:        r.GetEmail(),
		Name:         r.GetName(),
		PasswordHash: r.GetPasswordHash(),
		Mobile:       r.GetMobile(),
		Gender:       store.Gender(r.GetGender()),
		Avatar:       r.GetAvatar(),
		QRCode:       r.GetQrCode(),
		CreatedAt:    now,
		UpdatedAt:    now,
		TokenVersion: 1,
	})
	if err != nil {
		return nil, s.fail(ctx, "create user", err)
	}
	return userPB(u), nil
}

func (s *usersServer) GetUser(ctx context.Context, r *datav1.GetUserRequest) (*datav1.User, error) {
	var c checker
	c.id("id", r.GetId())
	if err := c.err(); err != nil {
		return nil, err
	}
	u, err := s.rel.GetUser(ctx, r.GetId())
	if err != nil {
		return nil, s.fail(ctx, "get user", err)
	}
	return userPB(u), nil
}

func (s *usersServer) GetUserByEmail(ctx context.Context, r *datav1.GetUserByEmailRequest) (*datav1.User, error) {
	var c checker
	c.key("email", r.GetEmail(), maxEmailBytes)
	if err := c.err(); err != nil {
		return nil, err
	}
	u, err := s.rel.GetUserByEmail(ctx, r.GetEmail())
	if err != nil {
		return nil, s.fail(ctx, "get user by email", err)
	}
	return userPB(u), nil
}

func (s *usersServer) GetUsers(ctx context.Context, r *datav1.GetUsersRequest) (*datav1.GetUsersResponse, error) {
	var c checker
	c.ids("ids", r.GetIds(), 1)
	if err := c.err(); err != nil {
		return nil, err
	}
	us, err := s.rel.GetUsers(ctx, r.GetIds())
	if err != nil {
		return nil, s.fail(ctx, "get users", err)
	}
	return &datav1.GetUsersResponse{Users: usersPB(us)}, nil
}

func (s *usersServer) SearchUsers(ctx context.Context, r *datav1.SearchUsersRequest) (*datav1.SearchUsersResponse, error) {
	var c checker
	c.name("name_prefix", r.GetNamePrefix(), maxNameRunes)
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	us, next, err := s.rel.SearchUsers(ctx, r.GetNamePrefix(), r.GetIncludeDeleted(), p)
	if err != nil {
		return nil, s.fail(ctx, "search users", err)
	}
	return &datav1.SearchUsersResponse{Users: usersPB(us), NextPageToken: encodePageToken(next)}, nil
}

func (s *usersServer) UpdateUser(ctx context.Context, r *datav1.UpdateUserRequest) (*datav1.User, error) {
	var c checker
	c.id("id", r.GetId())
	c.optName("name", r.Name, maxNameRunes)
	c.optBytes("mobile", r.Mobile, maxMobileBytes)
	if r.Gender != nil {
		c.enum("gender", int32(*r.Gender), 0, genderMax)
	}
	c.optBytes("avatar", r.Avatar, maxURLBytes)
	c.optBytes("qr_code", r.QrCode, maxURLBytes)
	c.optKey("password_hash", r.PasswordHash, maxPasswordHashBytes)
	if r.LastSeenVisibility != nil {
		c.enum("last_seen_visibility", int32(*r.LastSeenVisibility), 1, lastSeenVisibilityMax)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	u, err := s.rel.UpdateUser(ctx, r.GetId(), store.UserUpdate{
		Name:               r.Name,
		Mobile:             r.Mobile,
		Gender:             optEnum[datav1.Gender, store.Gender](r.Gender),
		Avatar:             r.Avatar,
		QRCode:             r.QrCode,
		PasswordHash:       r.PasswordHash,
		Deleted:            r.Deleted,
		Banned:             r.Banned,
		LastSeenVisibility: optEnum[datav1.LastSeenVisibility, store.LastSeenVisibility](r.LastSeenVisibility),
		BumpTokenVersion:   r.GetBumpTokenVersion(),
	})
	if err != nil {
		return nil, s.fail(ctx, "update user", err)
	}
	return userPB(u), nil
}

func (s *usersServer) SetPresence(ctx context.Context, r *datav1.SetPresenceRequest) (*datav1.SetPresenceResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	if r.GetAtMs() < 1 {
		c.add("at_ms", "must be > 0")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	p, err := s.rel.SetPresence(ctx, r.GetUserId(), r.GetOnline(), r.GetAtMs())
	if err != nil {
		return nil, s.fail(ctx, "set presence", err)
	}
	return &datav1.SetPresenceResponse{
		Applied: p.Applied, LastSeenMs: p.LastSeenMS,
		LastSeenVisibility: datav1.LastSeenVisibility(p.LastSeenVisibility),
	}, nil
}

func (s *usersServer) DeleteUser(ctx context.Context, r *datav1.DeleteUserRequest) (*datav1.User, error) {
	var c checker
	c.id("id", r.GetId())
	if err := c.err(); err != nil {
		return nil, err
	}
	deleted := true
	u, err := s.rel.UpdateUser(ctx, r.GetId(), store.UserUpdate{Deleted: &deleted})
	if err != nil {
		return nil, s.fail(ctx, "delete user", err)
	}
	return userPB(u), nil
}

// tokenRequest is what CreateResetToken and CreateEmailToken are asked.
type tokenRequest interface {
	GetUserId() int64
	GetTokenHash() string
	GetExpiresAt() *timestamppb.Timestamp
}

// newToken validates r and returns the token to store, with a fresh id.
func (s *usersServer) newToken(r tokenRequest) (store.ResetToken, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	c.key("token_hash", r.GetTokenHash(), maxTokenHashBytes)
	c.timestamp("expires_at", r.GetExpiresAt())
	if err := c.err(); err != nil {
		return store.ResetToken{}, err
	}
	return store.ResetToken{
		ID:        s.ids.Next(),
		UserID:    r.GetUserId(),
		TokenHash: r.GetTokenHash(),
		ExpiresAt: fromTS(r.GetExpiresAt()),
		CreatedAt: s.now(),
	}, nil
}

func (s *usersServer) CreateResetToken(ctx context.Context, r *datav1.CreateResetTokenRequest) (*datav1.ResetToken, error) {
	t, err := s.newToken(r)
	if err != nil {
		return nil, err
	}
	if t, err = s.rel.CreateResetToken(ctx, t); err != nil {
		return nil, s.fail(ctx, "create reset token", err)
	}
	return resetTokenPB(t), nil
}

func (s *usersServer) ResetPasswordPlus(ctx context.Context, r *datav1.ResetPasswordPlusRequest) (*datav1.ResetPasswordPlusResponse, error) {
	var c checker
	c.key("token_hash", r.GetTokenHash(), maxTokenHashBytes)
	c.key("password_hash", r.GetPasswordHash(), maxPasswordHashBytes)
	c.timestamp("now", r.GetNow())
	if err := c.err(); err != nil {
		return nil, err
	}
	u, err := s.rel.ResetPasswordPlus(ctx, r.GetTokenHash(), r.GetPasswordHash(), fromTS(r.GetNow()))
	if err != nil {
		return nil, s.fail(ctx, "reset password", err)
	}
	return &datav1.ResetPasswordPlusResponse{User: userPB(u)}, nil
}

func (s *usersServer) GetResetToken(ctx context.Context, r *datav1.GetResetTokenRequest) (*datav1.ResetToken, error) {
	var c checker
	c.key("token_hash", r.GetTokenHash(), maxTokenHashBytes)
	if err := c.err(); err != nil {
		return nil, err
	}
	t, err := s.rel.GetResetToken(ctx, r.GetTokenHash())
	if err != nil {
		return nil, s.fail(ctx, "get reset token", err)
	}
	return resetTokenPB(t), nil
}

func (s *usersServer) CreateEmailToken(ctx context.Context, r *datav1.CreateEmailTokenRequest) (*datav1.EmailToken, error) {
	t, err := s.newToken(r)
	if err != nil {
		return nil, err
	}
	if t, err = s.rel.CreateEmailToken(ctx, t); err != nil {
		return nil, s.fail(ctx, "create email token", err)
	}
	return emailTokenPB(t), nil
}

func (s *usersServer) VerifyEmailPlus(ctx context.Context, r *datav1.VerifyEmailPlusRequest) (*datav1.VerifyEmailPlusResponse, error) {
	var c checker
	c.key("token_hash", r.GetTokenHash(), maxTokenHashBytes)
	c.timestamp("now", r.GetNow())
	if err := c.err(); err != nil {
		return nil, err
	}
	u, err := s.rel.VerifyEmailPlus(ctx, r.GetTokenHash(), fromTS(r.GetNow()))
	if err != nil {
		return nil, s.fail(ctx, "verify email", err)
	}
	return &datav1.VerifyEmailPlusResponse{User: userPB(u)}, nil
}

func (s *usersServer) ChangePasswordPlus(ctx context.Context, r *datav1.ChangePasswordPlusRequest) (*datav1.User, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	c.key("password_hash", r.GetPasswordHash(), maxPasswordHashBytes)
	if err := c.err(); err != nil {
		return nil, err
	}
	u, err := s.rel.ChangePasswordPlus(ctx, r.GetUserId(), r.GetPasswordHash())
	if err != nil {
		return nil, s.fail(ctx, "change password", err)
	}
	return userPB(u), nil
}
