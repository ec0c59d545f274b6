package httpkit

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
)

// multipartSlack is what a multipart body may hold beyond the file itself:
// boundaries, part headers, a few small fields.
const multipartSlack = 64 << 10

var (
	errNotMultipart = errs.New(errs.KindUnsupportedMedia, "unsupported_media_type", "Content-Type must be multipart/form-data")
	errBadMultipart = errs.New(errs.KindInvalid, "bad_multipart", "malformed or truncated multipart body")
)

// tooLarge is the 413 of an upload over limit bytes.
func tooLarge(what string, limit int64) *errs.Error {
	return errs.New(errs.KindTooLarge, "too_large", fmt.Sprintf("%s larger than %d MiB", what, limit>>20))
}

// FormFile finds the part named field of a multipart/form-data body without
// buffering anything (no ParseMultipartForm, no temporary files): the parts
// before it are skipped, and the body is cut at limit+multipartSlack bytes;
// a Content-Length over that is refused before anything is read. It answers
// the error itself; the handler returns when ok is false, and otherwise
// reads the part, passing the errors through UploadError.
func FormFile(c *gin.Context, field string, limit int64, what string) (part *multipart.Part, ok bool) {
	r := c.Request
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		Fail(c, errNotMultipart)
		return nil, false
	}
	max := limit + multipartSlack
	if r.ContentLength > max {
		Fail(c, tooLarge(what, limit))
		return nil, false
	}
	mr := multipart.NewReader(http.MaxBytesReader(c.Writer, r.Body, max), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			Fail(c, errs.Required(field))
			return nil, false
		}
		if err != nil {
			Fail(c, bodyError(err, what, limit))
			return nil, false
		}
		if p.FormName() == field {
			return p, true
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			Fail(c, bodyError(err, what, limit))
			return nil, false
		}
	}
}

// UploadError is the answer to an error of a call that read an upload
// (an *errs.ReadError in its chain): reading failures are the body's (bodyError), the rest pass.
func UploadError(err error, what string, limit int64) error {
	if re, ok := errors.AsType[*errs.ReadError](err); ok {
		return bodyError(re.Err, what, limit)
	}
	return err
}

// bodyError is the answer to an error of reading the multipart body: over
// the size limit is 413, anything else a malformed or cut body.
func bodyError(err error, what string, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(what, limit)
	}
	return errBadMultipart
}
