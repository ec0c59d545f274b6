package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/privateim/privateim/foundation/apitest"

	"github.com/privateim/privateim/subscriptionservice/internal/subtest"
)

func picture(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func multipartBody(t *testing.T, field string, data []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile(field, "pic.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

// TestAvatarAndQRCode: avatars are checked by decoding and served back;
// bad ones are refused like the userservice refuses user avatars; the QR
// code reads back as privateim://subscription/<id>.
func TestAvatarAndQRCode(t *testing.T) {
	e := subtest.Start(t)
	owner := e.NewAccount(t, "Owner")
	other := e.NewAccount(t, "Other")
	s := createSub(t, e, owner.Token, "Media "+rand.Text()[:8])
	path := "/api/v1/subscriptions/" + s.ID + "/avatar"
	put := func(token, field string, data []byte) apitest.Response {
		ct, body := multipartBody(t, field, data)
		return e.Raw(t, http.MethodPut, path, token, ct, body)
	}

	var first string
	for _, f := range []string{"png", "jpeg", "gif"} {
		r := put(owner.Token, "avatar", picture(t, f, 64, 48))
		want(t, "avatar "+f, r, http.StatusOK)
		var out struct {
			AvatarURL string `json:"avatar_url"`
		}
		r.Decode(t, &out)
		if first == "" {
			first = out.AvatarURL
		}
		i := strings.Index(out.AvatarURL, "/static/avatars/")
		if i < 0 {
			t.Fatalf("avatar_url %q", out.AvatarURL)
		}
		got := e.Raw(t, http.MethodGet, out.AvatarURL[i:], "", "", nil)
		if got.Status != http.StatusOK || !strings.HasPrefix(got.Header.Get("Content-Type"), "image/") {
			t.Fatalf("GET avatar: %d %s", got.Status, got.Header.Get("Content-Type"))
		}
	}
	// The replaced avatar's file is gone.
	wantErr(t, "replaced avatar", e.Raw(t, http.MethodGet, first[strings.Index(first, "/static/"):], "", "", nil), http.StatusNotFound, "not_found")
	var got subJSON
	r := e.Do(t, http.MethodGet, "/api/v1/subscriptions/"+s.ID, owner.Token, nil)
	r.Decode(t, &got)
	if !strings.Contains(got.AvatarURL, "/static/avatars/") || !strings.HasSuffix(got.AvatarURL, ".gif") {
		t.Fatalf("account avatar_url = %q, want the last one", got.AvatarURL)
	}

	png := picture(t, "png", 16, 16)
	cases := []struct {
		name   string
		token  string
		field  string
		data   []byte
		status int
		code   string
	}{
		{"not an image", owner.Token, "avatar", []byte("hello, I am text, not a picture at all"), 415, "unsupported_image"},
		{"truncated", owner.Token, "avatar", png[:len(png)/2], 400, "invalid_image"},
		{"over 2 MiB", owner.Token, "avatar", append(append([]byte{}, png...), make([]byte, 2<<20)...), 413, "too_large"},
		{"wrong part", owner.Token, "file", png, 400, "required"},
		{"not the owner", other.Token, "avatar", png, 403, "not_owner"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.name, put(tc.token, tc.field, tc.data), tc.status, tc.code)
		})
	}
	wantErr(t, "not multipart", e.Raw(t, http.MethodPut, path, owner.Token, "image/png", png), 415, "unsupported_media_type")
	wantErr(t, "static traversal", e.Raw(t, http.MethodGet, "/static/avatars/..%2f..%2fetc%2fpasswd", "", "", nil), 404, "not_found")

	// QR code.
	r = e.Do(t, http.MethodGet, "/api/v1/subscriptions/"+s.ID+"/qrcode", other.Token, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qrcode: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	img, _, err := image.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("read qr code: %v", err)
	}
	if res.GetText() != "privateim://subscription/"+s.ID {
		t.Fatalf("qr code holds %q", res.GetText())
	}
	wantErr(t, "qrcode of nothing", e.Do(t, http.MethodGet, "/api/v1/subscriptions/42424242/qrcode", other.Token, nil), 404, "subscription_not_found")
}
