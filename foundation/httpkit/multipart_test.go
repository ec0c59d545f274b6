package httpkit

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
)

// FuzzFormFile sends any Content-Type and body to a handler that finds the
// part "file" with FormFile and reads it through UploadError, as the upload
// routes do: the answer is the part's bytes (200) or a client error of the
// upload table (400, 413, 415), never a panic or a 500, and never more than
// the limit read into the part. `make test` runs the seeds; `go test -fuzz
// FuzzFormFile ./foundation/httpkit` explores.
func FuzzFormFile(f *testing.F) {
	const limit = 1 << 10
	ok := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nhello\r\n--b--\r\n"
	for _, s := range []string{
		ok,
		"--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n" + ok,
		"--b--\r\n", "", "no boundary", "--b\r\n\r\n", "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E6%96%87.txt\r\n\r\nx\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + string(bytes.Repeat([]byte("x"), limit+1)) + "\r\n--b--\r\n",
		"--b\r\nContent-Type: text/plain\r\n" + string(bytes.Repeat([]byte("H: v\r\n"), 2000)) + "\r\n\r\nx\r\n--b--\r\n",
	} {
		f.Add("multipart/form-data; boundary=b", []byte(s))
	}
	f.Add("multipart/form-data", []byte(ok))
	f.Add("multipart/mixed; boundary=b", []byte(ok))
	f.Add("multipart/form-data; boundary=\"", []byte(ok))
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/up", func(c *gin.Context) {
		part, ok := FormFile(c, "file", limit, "file")
		if !ok {
			return
		}
		b, err := io.ReadAll(io.LimitReader(errs.MarkReads(part), limit+1))
		if err != nil {
			Fail(c, UploadError(err, "file", limit))
			return
		}
		if len(b) > limit {
			Fail(c, tooLarge("file", limit))
			return
		}
		c.Data(http.StatusOK, "application/octet-stream", b)
	})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/up", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if rec.Body.Len() > limit {
				t.Fatalf("read %d bytes, over the limit %d", rec.Body.Len(), limit)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			if !bytes.Contains(rec.Body.Bytes(), []byte(`"code"`)) {
				t.Fatalf("status %d without an error body: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for Content-Type %q: %s", rec.Code, contentType, rec.Body)
		}
	})
}
