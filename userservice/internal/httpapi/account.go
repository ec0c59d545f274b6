package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/account"
)

// Account serves sign-up, sign-in, the caller's profile and password, and
// the forgotten-password flow, within Limits (limits.go).
type Account struct {
	Svc *account.Service
	Limits
}

// Register implements Feature. The per-address limits run before the
// body is read, the global ones after them, so that one address cannot
// spend everyone's share.
func (a Account) Register(r httpkit.Routes) {
	r.Public.POST("/auth/signup", limitIP(a.SignupPerIP), limitAll(a.SignupAll), a.signup)
	r.Public.POST("/auth/signin", limitIP(a.SigninPerIP), a.signin)
	r.Public.POST("/auth/password/forgot", limitIP(a.ForgotPerIP), a.forgot)
	r.Public.POST("/auth/password/reset", limitIP(a.ResetPerIP), limitAll(a.ResetAll), a.reset)
	r.Public.POST("/auth/email/verify", a.verifyEmail)
	r.Authed.POST("/auth/email/resend", a.resendVerification)
	r.Authed.GET("/me", a.me)
	r.Authed.PATCH("/me", a.patchMe)
	r.Authed.DELETE("/me", a.deleteMe)
	r.Authed.PUT("/me/password", a.changePassword)
}

// MeJSON is the caller's own account.
type MeJSON struct {
	ID        httpkit.ID `json:"id"`
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	Mobile    string     `json:"mobile"`
	Gender    string     `json:"gender"`
	Avatar    string     `json:"avatar"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	// EmailVerified: the account's owner opened a verification link.
	EmailVerified bool `json:"email_verified"`
	// LastSeenVisibility: who sees when the caller was last online.
	LastSeenVisibility string `json:"last_seen_visibility"`
}

func meJSON(u account.User) MeJSON {
	return MeJSON{ID: httpkit.ID(u.ID), Email: u.Email, Name: u.Name, Mobile: u.Mobile, Gender: string(u.Gender),
		Avatar: u.Avatar, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, EmailVerified: u.EmailVerified,
		LastSeenVisibility: string(u.LastSeenVisibility)}
}

// AuthJSON answers sign-up and sign-in.
type AuthJSON struct {
	Token string `json:"token"`
	User  MeJSON `json:"user"`
}

func (a Account) signup(c *gin.Context) {
	var req struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	tok, u, err := a.Svc.SignUp(c.Request.Context(), req.Name, req.Email, req.Password)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, AuthJSON{Token: tok, User: meJSON(u)})
}

func (a Account) signin(c *gin.Context) {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !httpkit.Bind(c, &req) || !limitEmail(c, a.SigninPerEmail, req.Email, true, "too many sign-in attempts for this email from this address") {
		return
	}
	tok, u, err := a.Svc.SignIn(c.Request.Context(), req.Email, req.Password)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, AuthJSON{Token: tok, User: meJSON(u)})
}

func (a Account) forgot(c *gin.Context) {
	var req struct {
		Email string `json:"email"`
	}
	if !httpkit.Bind(c, &req) || !limitEmail(c, a.ForgotPerEmail, req.Email, false, "too many reset requests for this email") {
		return
	}
	if err := a.Svc.Forgot(c.Request.Context(), req.Email); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "if an account has this email, a reset link is on its way"})
}

func (a Account) reset(c *gin.Context) {
	var req struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if err := a.Svc.Reset(c.Request.Context(), req.Token, req.Password); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a Account) verifyEmail(c *gin.Context) {
	var req struct {
		Token string `json:"token"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	// 204 and no account data: whoever holds a link (a mail scanner that
	// opened it, say) learns nothing from it but that it worked.
	if _, err := a.Svc.VerifyEmail(c.Request.Context(), req.Token); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a Account) resendVerification(c *gin.Context) {
	id := httpkit.UserID(c)
	if !limit(c, a.VerifyPerUser, strconv.FormatInt(id, 10), "too many verification mails asked for; wait") {
		return
	}
	if err := a.Svc.SendVerification(c.Request.Context(), id); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "a verification link is on its way"})
}

func (a Account) me(c *gin.Context) {
	u, err := a.Svc.Me(c.Request.Context(), httpkit.UserID(c))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, meJSON(u))
}

func (a Account) patchMe(c *gin.Context) {
	var req struct {
		Name   *string `json:"name"`
		Mobile *string `json:"mobile"`
		Gender *string `json:"gender"`
		// LastSeenVisibility: everyone, friends or nobody.
		LastSeenVisibility *string `json:"last_seen_visibility"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	p := account.ProfilePatch{Name: req.Name, Mobile: req.Mobile}
	if req.LastSeenVisibility != nil {
		v := account.Visibility(*req.LastSeenVisibility)
		p.LastSeenVisibility = &v
	}
	if req.Gender != nil {
		g := account.Gender(*req.Gender)
		p.Gender = &g
	}
	u, err := a.Svc.UpdateProfile(c.Request.Context(), httpkit.UserID(c), p)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, meJSON(u))
}

func (a Account) changePassword(c *gin.Context) {
	var req struct {
		OldPassword string `json:"old_password"`
		Password    string `json:"password"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if err := a.Svc.ChangePassword(c.Request.Context(), httpkit.UserID(c), req.OldPassword, req.Password); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a Account) deleteMe(c *gin.Context) {
	var req struct {
		Password string `json:"password"`
	}
	if !httpkit.Bind(c, &req) {
		return
	}
	if err := a.Svc.DeleteAccount(c.Request.Context(), httpkit.UserID(c), req.Password); err != nil {
		httpkit.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
