package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/httpkit"
	"github.com/privateim/privateim/userservice/internal/media"
)

// QRCode serves the caller's and groups' QR codes as PNG and reads QR codes
// from uploaded pictures.
type QRCode struct {
	Svc *media.Service
}

// Register implements Feature.
func (q QRCode) Register(r httpkit.Routes) {
	r.Authed.GET("/me/qrcode", q.me)
	r.Authed.GET("/groups/:id/qrcode", q.group)
	r.Authed.POST("/qrcode/parse", q.parse)
}

// QRCodeJSON answers POST /qrcode/parse.
type QRCodeJSON struct {
	Content string     `json:"content"`
	Kind    string     `json:"kind"`
	ID      httpkit.ID `json:"id"`
}

func (q QRCode) me(c *gin.Context) {
	png, err := q.Svc.UserQRCode(httpkit.UserID(c))
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	writePNG(c, png)
}

func (q QRCode) group(c *gin.Context) {
	id, ok := httpkit.PathID(c, "id")
	if !ok {
		return
	}
	png, err := q.Svc.GroupQRCode(c.Request.Context(), id)
	if err != nil {
		httpkit.Fail(c, err)
		return
	}
	writePNG(c, png)
}

func writePNG(c *gin.Context, png []byte) {
	// The code of an id never changes, but whether the caller may fetch it
	// (a dismissed group) can: cache briefly, privately.
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "image/png", png)
}

func (q QRCode) parse(c *gin.Context) {
	part, ok := httpkit.FormFile(c, "image", media.MaxQRImageBytes, "image")
	if !ok {
		return
	}
	code, err := q.Svc.ParseQRCode(c.Request.Context(), httpkit.UserID(c), part)
	if err != nil {
		httpkit.Fail(c, httpkit.UploadError(err, "image", media.MaxQRImageBytes))
		return
	}
	c.JSON(http.StatusOK, QRCodeJSON{Content: code.Content, Kind: string(code.Kind), ID: httpkit.ID(code.ID)})
}
