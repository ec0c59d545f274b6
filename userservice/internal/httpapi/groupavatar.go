package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/group"
	"github.com/privateim/privateim/userservice/internal/groupavatar"
	"github.com/privateim/privateim/userservice/internal/media"
)

// GroupAvatars serves a group's picture: the upload (owner or admin, the
// checks of user avatars) and the picture itself, drawn from the first
// members until one is uploaded.
type GroupAvatars struct {
	Groups   *group.Service
	Media    *media.Service
	Pictures *groupavatar.Service
}

// Register implements Feature.
func (g GroupAvatars) Register(r httpkit.Routes) {
	r.Authed.PUT("/groups/:id/avatar", g.put)
	// Public like every avatar (an <img> sends no token): it shows what the
	// members' own public avatars show, or their initials.
	r.Public.GET("/groups/:id/avatar", g.get)
}

func (g GroupAvatars) put(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	part, ok := httpkit.FormFile(c, "avatar", media.MaxAvatarBytes, "avatar")
	if !ok {
		return
	}
	ctx, me := c.Request.Context(), httpkit.UserID(c)
	url, err := g.Media.SetGroupAvatar(ctx, me, part, func(url string) (string, error) {
		return g.Groups.SetAvatar(ctx, me, id, url)
	})
	if err != nil {
		httpkit.Fail(c, httpkit.UploadError(err, "avatar", media.MaxAvatarBytes))
		return
	}
	c.JSON(http.StatusOK, AvatarJSON{AvatarURL: url})
}

// get redirects to an uploaded avatar, or answers the drawn PNG with an
// ETag that changes with the members shown.
func (g GroupAvatars) get(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	p, err := g.Pictures.Picture(c.Request.Context(), id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	if p.Uploaded != "" {
		c.Redirect(http.StatusFound, p.Uploaded)
		return
	}
	h := c.Writer.Header()
	h.Set("ETag", p.ETag)
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("X-Content-Type-Options", "nosniff")
	if c.GetHeader("If-None-Match") == p.ETag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "image/png", p.PNG)
}
