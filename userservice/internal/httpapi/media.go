package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/media"
)

// Media serves avatar and file uploads and the stored files under /static/.
type Media struct {
	Svc *media.Service
}

// Register implements Feature.
func (m Media) Register(r httpkit.Routes) {
	r.Authed.PUT("/me/avatar", m.putAvatar)
	r.Authed.POST("/files", m.postFile)
	r.Root.GET("/static/*path", m.static)
	r.Root.HEAD("/static/*path", m.static)
}

// AvatarJSON answers PUT /me/avatar.
type AvatarJSON struct {
	AvatarURL string `json:"avatar_url"`
}

// FileJSON answers POST /files.
type FileJSON struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	MIME string `json:"mime"`
}

func (m Media) putAvatar(c *gin.Context) {
	part, ok := httpkit.FormFile(c, "avatar", media.MaxAvatarBytes, "avatar")
	if !ok {
		return
	}
	url, err := m.Svc.SetAvatar(c.Request.Context(), httpkit.UserID(c), part)
	if err != nil {
		httpkit.Fail(c, httpkit.UploadError(err, "avatar", media.MaxAvatarBytes))
		return
	}
	c.JSON(http.StatusOK, AvatarJSON{AvatarURL: url})
}

func (m Media) postFile(c *gin.Context) {
	part, ok := httpkit.FormFile(c, "file", media.MaxFileBytes, "file")
	if !ok {
		return
	}
	f, err := m.Svc.SaveFile(c.Request.Context(), httpkit.UserID(c), part.FileName(), part)
	if err != nil {
		httpkit.Fail(c, httpkit.UploadError(err, "file", media.MaxFileBytes))
		return
	}
	c.JSON(http.StatusCreated, FileJSON{URL: f.URL, Name: f.Name, Size: f.Size, MIME: f.MIME})
}

// static serves a stored file: no listings, only names the media feature
// could have made, chat files only on a signed URL that has not expired, the type sniffed from the bytes, and headers that keep
// a browser from running anything uploaded (nosniff, a sandboxing CSP,
// attachments for all but images, audio, video and plain text).
func (m Media) static(c *gin.Context) {
	st, err := m.Svc.OpenStatic(c.Request.Context(), c.Param("path"), c.Request.URL.Query())
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	defer st.File.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", st.MIME)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// Names are random and never reused: the bytes at a URL never change.
	// A chat file may be kept by the browser of whoever fetched it, until
	// its URL expires, but never by a shared cache.
	if st.Private {
		h.Set("Cache-Control", fmt.Sprintf("private, max-age=%d", max(int(time.Until(st.Expires).Seconds()), 0)))
		h.Set("Referrer-Policy", "no-referrer")
	} else {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	if !st.Inline {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": st.Name}))
	}
	http.ServeContent(c.Writer, c.Request, st.Name, st.ModTime, st.File)
}
