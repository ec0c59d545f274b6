package httpkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/privateim/privateim/foundation/errs"
)

// MaxJSONBody is the largest JSON request body accepted, in bytes.
const MaxJSONBody = 1 << 20

// Bind decodes the request's JSON body into dst strictly (see DecodeJSON)
// and answers the error itself; the handler returns when Bind is false.
func Bind(c *gin.Context, dst any) bool {
	r := c.Request
	if r.ContentLength > MaxJSONBody {
		Fail(c, errTooLarge)
		return false
	}
	err := DecodeJSON(r.Header.Get("Content-Type"), http.MaxBytesReader(c.Writer, r.Body, MaxJSONBody), dst)
	if err != nil {
		Fail(c, err)
		return false
	}
	return true
}

var (
	errTooLarge  = errs.New(errs.KindTooLarge, "too_large", "request body larger than 1 MiB")
	errMediaType = errs.New(errs.KindUnsupportedMedia, "unsupported_media_type", "Content-Type must be application/json")
)

func badJSON(msg string) *errs.Error { return errs.New(errs.KindInvalid, "bad_json", msg) }

// DecodeJSON reads one JSON object from body into dst (a pointer to a
// struct). Its errors are *errs.Error, or those of reading body:
//
//   - contentType not application/json (parameters allowed): 415 unsupported_media_type
//   - body over MaxJSONBody (an *http.MaxBytesError from the reader): 413 too_large
//   - empty, malformed or trailing data, or not an object: 400 bad_json
//   - a value of the wrong type: 400 wrong_type with the field's JSON path
//   - a field dst does not have: 400 unknown_field naming it
func DecodeJSON(contentType string, body io.Reader, dst any) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return errMediaType
	}
	rec := &readRecorder{r: body}
	dec := json.NewDecoder(rec)
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	// A marked id came before anything the decoder stopped at.
	if path, id, ok := findBadID(reflect.ValueOf(dst), ""); ok {
		return &errs.Error{Kind: errs.KindInvalid, Code: "wrong_type", Field: path,
			Message: "must be an id (a decimal string > 0), not " + id.held()}
	}
	if err != nil {
		if rec.err != nil {
			// Reading failed: the connection's fault (or the size
			// limit's), not the JSON's.
			var mbe *http.MaxBytesError
			if errors.As(rec.err, &mbe) {
				return errTooLarge
			}
			return fmt.Errorf("read request body: %w", rec.err)
		}
		return decodeError(err)
	}
	// One object and nothing after it but white space.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return badJSON("unexpected data after the JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return badJSON("empty body; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badJSON("JSON ends too early")
	case errors.As(err, &syntax):
		return badJSON("malformed JSON: " + strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badJSON("the body must be a JSON object")
		}
		return &errs.Error{Kind: errs.KindInvalid, Code: "wrong_type", Field: fieldPath(typ.Field),
			Message: "must be " + jsonKind(typ.Type.Kind().String()) + ", not " + typ.Value}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return &errs.Error{Kind: errs.KindInvalid, Code: "unknown_field", Field: f, Message: "unknown field"}
	}
	// Other decoder errors (a bad ",string"-tagged value is one) are about
	// the JSON.
	return badJSON(strings.TrimPrefix(err.Error(), "json: "))
}

// fieldPath is the decoder's path of a field without array indices: Go
// 1.27's decoder writes "tags.0" where 1.26's wrote "tags".
func fieldPath(f string) string {
	parts := strings.Split(f, ".")
	out := parts[:0]
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil || p == "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

// readRecorder keeps the first error of reading, other than io.EOF.
type readRecorder struct {
	r   io.Reader
	err error
}

func (r *readRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

// jsonKind names a Go kind as a JSON type.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "another type"
}
