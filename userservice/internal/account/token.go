package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/privateim/privateim/foundation/errs"
)

// Claims are what a valid token says.
type Claims struct {
	UserID    int64
	Version   int64 // the user's token version when it was issued
	IssuedAt  time.Time
	ExpiresAt time.Time
	ID        string // jti
}

// tokenClaims is the JWT payload: sub (the user id in decimal), ver, exp,
// iat and jti.
type tokenClaims struct {
	jwt.RegisteredClaims
	Ver int64 `json:"ver"`
}

// issue signs a token for u at its current token version.
func (s *Service) issue(u User) (string, error) {
	now := s.cfg.Now()
	var jti [16]byte
	_, _ = rand.Read(jti[:]) // crypto/rand never fails
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.TokenTTL)),
			ID:        hex.EncodeToString(jti[:]),
		},
		Ver: u.TokenVersion,
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.cfg.JWTSecret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

// CheckToken verifies token: the HS256 signature, the expiry, and that its
// version is the user's current one (a password change or reset, a deletion
// and a ban bump it) and the user is neither deleted nor banned. Its errors are ErrTokenInvalid,
// ErrTokenExpired, ErrTokenRevoked, or a store failure.
func (s *Service) CheckToken(ctx context.Context, token string) (Claims, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.cfg.Now))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, ErrTokenExpired
	case err != nil:
		return Claims{}, ErrTokenInvalid
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || c.Ver <= 0 || c.IssuedAt == nil {
		return Claims{}, ErrTokenInvalid
	}
	u, err := s.store.GetUser(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Claims{}, ErrTokenRevoked
	case err != nil:
		return Claims{}, fmt.Errorf("check token of user %d: %w", id, err)
	case u.Deleted || u.Banned || u.TokenVersion != c.Ver:
		return Claims{}, ErrTokenRevoked
	}
	return Claims{UserID: id, Version: c.Ver, IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time, ID: c.ID}, nil
}

// Authenticate is CheckToken for the HTTP API, which needs only the id.
func (s *Service) Authenticate(ctx context.Context, token string) (int64, error) {
	c, err := s.CheckToken(ctx, token)
	return c.UserID, err
}
