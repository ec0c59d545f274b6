package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/userservice/internal/media"
	"github.com/privateim/privateim/userservice/internal/usertest"
)

// upload sends one file part named field.
func upload(t *testing.T, e *usertest.Env, method, path, token, field, filename string, data []byte) usertest.Response {
	t.Helper()
	return e.Upload(t, method, path, token, field, filename, data)
}

// uploadChunked sends the body without a Content-Length, so only reading
// it can find it too large.
func uploadChunked(t *testing.T, e *usertest.Env, method, path, token, field string, data []byte) usertest.Response {
	t.Helper()
	ct, body := apitest.MultipartFile(t, field, "x", data)
	req, err := http.NewRequest(method, e.URL+path, struct{ *bytes.Reader }{bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.Send(t, req)
}

// rawStatus writes request (CRLF line ends added) on a new connection and
// returns the status of the answer, read without sending any body.
func rawStatus(t *testing.T, e *usertest.Env, request string) int {
	t.Helper()
	u, _ := url.Parse(e.URL)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write([]byte(strings.ReplaceAll(request, "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer to %q: %v", request, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), 200, 255})
		}
	}
	return img
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// avatars are small images in every accepted format, by their served type.
func avatars(t *testing.T) map[string][]byte {
	t.Helper()
	img := gradient(32, 24)
	var j, g bytes.Buffer
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&g, img, nil); err != nil {
		t.Fatal(err)
	}
	webp, err := os.ReadFile("../../../foundation/imagecheck/testdata/lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	lossless, err := os.ReadFile("../../../foundation/imagecheck/testdata/lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"image/png":           encodePNG(t, img),
		"image/jpeg":          j.Bytes(),
		"image/gif":           g.Bytes(),
		"image/webp":          webp,
		"image/webp;lossless": lossless,
	}
}

// fetch GETs a URL the service answered, on the test server (PUBLIC_URL
// is the binary's default, not the test's address).
func fetch(t *testing.T, e *usertest.Env, rawURL string) usertest.Response {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return e.Do(t, http.MethodGet, u.RequestURI(), "", nil)
}

func TestAvatar(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	const path = "/api/v1/me/avatar"
	prefix := strings.TrimRight(e.Config.PublicURL, "/") + "/static/avatars/"

	var previous string
	for typ, data := range avatars(t) {
		t.Run(typ, func(t *testing.T) {
			r := upload(t, e, http.MethodPut, path, a.Token, "avatar", "a.txt", data)
			want(t, r, http.StatusOK, "", "")
			var out struct {
				AvatarURL string `json:"avatar_url"`
			}
			r.Decode(t, &out)
			if !strings.HasPrefix(out.AvatarURL, prefix) {
				t.Fatalf("avatar_url %q, want it under %s", out.AvatarURL, prefix)
			}
			got := fetch(t, e, out.AvatarURL)
			want(t, got, http.StatusOK, "", "")
			wantType, _, _ := strings.Cut(typ, ";")
			if !bytes.Equal(got.Body, data) {
				t.Errorf("served %d bytes differ from the %d uploaded", len(got.Body), len(data))
			}
			if ct := got.Header.Get("Content-Type"); ct != wantType {
				t.Errorf("Content-Type %q, want %q", ct, wantType)
			}
			if got.Header.Get("X-Content-Type-Options") != "nosniff" || got.Header.Get("Content-Disposition") != "" {
				t.Errorf("headers %v: want nosniff, inline", got.Header)
			}
			var me meJSON
			e.Do(t, http.MethodGet, "/api/v1/me", a.Token, nil).Decode(t, &me)
			if me.Avatar != out.AvatarURL {
				t.Errorf("GET /me avatar %q, want %q", me.Avatar, out.AvatarURL)
			}
			// The replaced avatar is deleted.
			if previous != "" {
				want(t, fetch(t, e, previous), http.StatusNotFound, "not_found", "")
			}
			previous = out.AvatarURL
		})
	}

	pngData := avatars(t)["image/png"]
	bad := []struct {
		name   string
		data   []byte
		status int
		code   string
	}{
		{"text", []byte("I am not a picture at all"), http.StatusUnsupportedMediaType, "unsupported_image"},
		{"html named png", []byte("<html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType, "unsupported_image"},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), http.StatusUnsupportedMediaType, "unsupported_image"},
		{"png header then garbage", append(bytes.Clone(pngData[:64]), bytes.Repeat([]byte("garbage!"), 100)...), http.StatusBadRequest, "invalid_image"},
		{"truncated png", pngData[:len(pngData)/2], http.StatusBadRequest, "invalid_image"},
		{"empty", nil, http.StatusUnsupportedMediaType, "unsupported_image"},
		{"over 2 MiB", append(bytes.Clone(pngData), make([]byte, media.MaxAvatarBytes)...), http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			want(t, upload(t, e, http.MethodPut, path, a.Token, "avatar", "x.png", tt.data), tt.status, tt.code, "")
		})
	}
	t.Run("over 2 MiB without Content-Length", func(t *testing.T) {
		r := uploadChunked(t, e, http.MethodPut, path, a.Token, "avatar", make([]byte, media.MaxAvatarBytes+1))
		want(t, r, http.StatusRequestEntityTooLarge, "too_large", "")
	})
	t.Run("exactly 2 MiB is read whole", func(t *testing.T) {
		// A valid PNG padded to the limit with data after IEND: decodes.
		data := append(bytes.Clone(pngData), make([]byte, media.MaxAvatarBytes-len(pngData))...)
		want(t, upload(t, e, http.MethodPut, path, a.Token, "avatar", "x.png", data), http.StatusOK, "", "")
	})
	t.Run("Content-Length over the limit is refused before the body", func(t *testing.T) {
		status := rawStatus(t, e, "PUT "+path+" HTTP/1.1\nHost: x\nAuthorization: Bearer "+a.Token+
			"\nContent-Type: multipart/form-data; boundary=b\nContent-Length: 3000000\n\n")
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413 before any body is sent", status)
		}
	})
	t.Run("missing field", func(t *testing.T) {
		want(t, upload(t, e, http.MethodPut, path, a.Token, "picture", "x.png", pngData), http.StatusBadRequest, "required", "avatar")
	})
	t.Run("empty multipart", func(t *testing.T) {
		want(t, e.Raw(t, http.MethodPut, path, a.Token, "multipart/form-data; boundary=zz", []byte("--zz--\r\n")), http.StatusBadRequest, "required", "avatar")
	})
	t.Run("no parts", func(t *testing.T) {
		want(t, e.Raw(t, http.MethodPut, path, a.Token, "multipart/form-data; boundary=zz", []byte("no boundary here")), http.StatusBadRequest, "required", "avatar")
	})
	t.Run("truncated multipart", func(t *testing.T) {
		body := "--zz\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n\r\n" + string(pngData)
		want(t, e.Raw(t, http.MethodPut, path, a.Token, "multipart/form-data; boundary=zz", []byte(body)), http.StatusBadRequest, "bad_multipart", "")
		body = "--zz\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nvalue"
		want(t, e.Raw(t, http.MethodPut, path, a.Token, "multipart/form-data; boundary=zz", []byte(body)), http.StatusBadRequest, "bad_multipart", "")
	})
	t.Run("wrong media type", func(t *testing.T) {
		for _, ct := range []string{"", "application/json", "image/png", "multipart/form-data", "multipart/mixed; boundary=zz"} {
			want(t, e.Raw(t, http.MethodPut, path, a.Token, ct, pngData), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
		}
	})
	t.Run("unauthenticated", func(t *testing.T) {
		want(t, upload(t, e, http.MethodPut, path, "", "avatar", "x.png", pngData), http.StatusUnauthorized, "unauthenticated", "")
		want(t, upload(t, e, http.MethodPut, path, "bogus", "avatar", "x.png", pngData), http.StatusUnauthorized, "invalid_token", "")
	})
}

func TestFiles(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	const path = "/api/v1/files"

	type fileJSON struct {
		URL  string `json:"url"`
		Name string `json:"name"`
		Size int64  `json:"size"`
		MIME string `json:"mime"`
	}
	files := []struct {
		name, filename, wantName, mime string
		data                           []byte
		attachment                     bool
	}{
		{"text", "notes.txt", "notes.txt", "text/plain; charset=utf-8", []byte("hello, 世界\n"), false},
		{"png named pdf", "photo.pdf", "photo.pdf", "image/png", encodePNG(t, gradient(8, 8)), false},
		{"html", "../../evil<1>.html", "evil_1_.html", "text/html; charset=utf-8", []byte("<!DOCTYPE html><script>alert(1)</script>"), true},
		{"binary", "C:\\tmp\\data.bin", "data.bin", "application/octet-stream", []byte{0, 1, 2, 3, 0xff, 0xfe}, true},
		{"pdf", "a.pdf", "a.pdf", "application/pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), true},
		{"exactly 20 MiB", "big.dat", "big.dat", "application/octet-stream", bytes.Repeat([]byte{0, 0xff}, media.MaxFileBytes/2), true},
	}
	for _, tt := range files {
		t.Run(tt.name, func(t *testing.T) {
			r := upload(t, e, http.MethodPost, path, a.Token, "file", tt.filename, tt.data)
			want(t, r, http.StatusCreated, "", "")
			var f fileJSON
			r.Decode(t, &f)
			if f.Name != tt.wantName || f.Size != int64(len(tt.data)) || f.MIME != tt.mime {
				t.Errorf("answer %+v, want name %q size %d mime %q", f, tt.wantName, len(tt.data), tt.mime)
			}
			got := fetch(t, e, f.URL)
			want(t, got, http.StatusOK, "", "")
			if !bytes.Equal(got.Body, tt.data) {
				t.Errorf("served %d bytes differ from the %d uploaded", len(got.Body), len(tt.data))
			}
			h := got.Header
			if h.Get("Content-Type") != tt.mime || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("headers %v: want Content-Type %q, nosniff, a sandbox CSP", h, tt.mime)
			}
			if cd := h.Get("Content-Disposition"); strings.HasPrefix(cd, "attachment") != tt.attachment {
				t.Errorf("Content-Disposition %q, attachment %v", cd, tt.attachment)
			}
			head := e.Do(t, http.MethodHead, mustRequestURI(t, f.URL), "", nil)
			if head.Status != http.StatusOK || head.Header.Get("Content-Length") != fmt.Sprint(len(tt.data)) || len(head.Body) != 0 {
				t.Errorf("HEAD = %d %v", head.Status, head.Header)
			}
		})
	}

	t.Run("over 20 MiB", func(t *testing.T) {
		r := upload(t, e, http.MethodPost, path, a.Token, "file", "big", make([]byte, media.MaxFileBytes+1))
		want(t, r, http.StatusRequestEntityTooLarge, "too_large", "")
		r = uploadChunked(t, e, http.MethodPost, path, a.Token, "file", make([]byte, media.MaxFileBytes+1))
		want(t, r, http.StatusRequestEntityTooLarge, "too_large", "")
	})
	t.Run("Content-Length over the limit is refused before the body", func(t *testing.T) {
		status := rawStatus(t, e, "POST "+path+" HTTP/1.1\nHost: x\nAuthorization: Bearer "+a.Token+
			"\nContent-Type: multipart/form-data; boundary=b\nContent-Length: 30000000\n\n")
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413 before any body is sent", status)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		want(t, upload(t, e, http.MethodPost, path, a.Token, "file", "e.txt", nil), http.StatusBadRequest, "empty_file", "")
	})
	t.Run("missing field", func(t *testing.T) {
		want(t, upload(t, e, http.MethodPost, path, a.Token, "avatar", "x", []byte("x")), http.StatusBadRequest, "required", "file")
	})
	t.Run("wrong media type", func(t *testing.T) {
		want(t, e.Raw(t, http.MethodPost, path, a.Token, "text/plain", []byte("x")), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	})
	t.Run("unauthenticated", func(t *testing.T) {
		want(t, upload(t, e, http.MethodPost, path, "", "file", "x", []byte("x")), http.StatusUnauthorized, "unauthenticated", "")
	})
}

// mustRequestURI is the path and query of rawURL.
func mustRequestURI(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func TestStaticRefusesTraversal(t *testing.T) {
	t.Parallel()
	e := usertest.Start(t)
	a := e.NewAccount(t, "Ada")
	r := upload(t, e, http.MethodPost, "/api/v1/files", a.Token, "file", "n.txt", []byte("secret-ish"))
	want(t, r, http.StatusCreated, "", "")
	var f struct {
		URL string `json:"url"`
	}
	r.Decode(t, &f)
	p := mustRequestURI(t, f.URL) // /static/files/<user>/<hex>.txt?exp=...&sig=...
	p, query, _ := strings.Cut(p, "?")
	name := p[strings.LastIndex(p, "/"):]                    // /<hex>.txt
	dir := p[len("/static/files"):strings.LastIndex(p, "/")] // /<user>

	// A file next to the upload directory, which traversal would reach.
	if err := os.WriteFile(e.Config.UploadDir+"/../outside.txt", []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.Config.UploadDir+"/files/plain.txt", []byte("not a stored name"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{
		"/static/", "/static/files", "/static/files/", "/static/avatars/",
		"/static/../outside.txt", "/static/files/../../outside.txt", "/static/%2e%2e/outside.txt",
		"/static/files/..%2f..%2foutside.txt", "/static/files/%2e%2e%2f%2e%2e%2foutside.txt",
		"/static/..%5c..%5coutside.txt", "/static//etc/passwd", "/static/files/plain.txt",
		"/static/avatars" + name, "/static/files/../files" + dir + name, "/static/files" + dir + name + "/",
		"/static/files" + dir + name + "%00.png", "/static/files" + dir + "/." + name[1:], "/static/" + e.Config.UploadDir + "/files" + dir + name,
		"/static/files" + name, "/static/files" + dir + "/../" + dir + name,
	} {
		if strings.Contains(target, "files") {
			target += "?" + query // the signature does not open other paths
		}
		status := rawStatus(t, e, "GET "+target+" HTTP/1.1\nHost: x\nConnection: close\n\n")
		if status != http.StatusNotFound && status != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 404", target, status)
		}
	}
	if status := rawStatus(t, e, "GET "+p+"?"+query+" HTTP/1.1\nHost: x\nConnection: close\n\n"); status != http.StatusOK {
		t.Errorf("GET %s = %d, want 200", p, status)
	}
}
