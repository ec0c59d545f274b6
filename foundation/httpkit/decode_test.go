package httpkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/errs"
)

// decodeTarget has the field types requests use.
type decodeTarget struct {
	Name   string   `json:"name"`
	Age    int      `json:"age"`
	Ok     bool     `json:"ok"`
	Nick   *string  `json:"nick"`
	UserID ID       `json:"user_id,omitzero"` // an id is never 0; "0" is refused
	Tags   []string `json:"tags"`
	IDs    []ID     `json:"ids"`
	Inner  struct {
		Note  string `json:"note"`
		Owner *ID    `json:"owner"`
	} `json:"inner"`
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	const ct = "application/json"
	tests := []struct {
		name        string
		contentType string
		body        string
		kind        errs.Kind // KindInternal: no error expected
		code        string
		field       string
	}{
		{"ok", ct, `{"name":"Ada","age":3,"ok":true,"nick":"a","user_id":"42","tags":["x"],"inner":{"note":"n"}}`, 0, "", ""},
		{"ok with charset", "application/json; charset=utf-8", `{"name":"Ada"}`, 0, "", ""},
		{"ok white space after", ct, "{}\n\t ", 0, "", ""},
		{"null body is an empty object", ct, `null`, 0, "", ""},
		{"no content type", "", `{}`, errs.KindUnsupportedMedia, "unsupported_media_type", ""},
		{"text/plain", "text/plain", `{}`, errs.KindUnsupportedMedia, "unsupported_media_type", ""},
		{"form", "application/x-www-form-urlencoded", `name=x`, errs.KindUnsupportedMedia, "unsupported_media_type", ""},
		{"bad media type syntax", "application/json; =", `{}`, errs.KindUnsupportedMedia, "unsupported_media_type", ""},
		{"empty", ct, ``, errs.KindInvalid, "bad_json", ""},
		{"malformed", ct, `{"name":}`, errs.KindInvalid, "bad_json", ""},
		{"truncated", ct, `{"name":"Ada"`, errs.KindInvalid, "bad_json", ""},
		{"trailing object", ct, `{}{}`, errs.KindInvalid, "bad_json", ""},
		{"trailing garbage", ct, `{} x`, errs.KindInvalid, "bad_json", ""},
		{"array", ct, `[]`, errs.KindInvalid, "bad_json", ""},
		{"string", ct, `"x"`, errs.KindInvalid, "bad_json", ""},
		{"number for string", ct, `{"name":5}`, errs.KindInvalid, "wrong_type", "name"},
		{"string for int", ct, `{"age":"3"}`, errs.KindInvalid, "wrong_type", "age"},
		{"float for int", ct, `{"age":3.5}`, errs.KindInvalid, "wrong_type", "age"},
		{"string for bool", ct, `{"ok":"yes"}`, errs.KindInvalid, "wrong_type", "ok"},
		{"object for pointer string", ct, `{"nick":{}}`, errs.KindInvalid, "wrong_type", "nick"},
		{"number for id", ct, `{"user_id":42}`, errs.KindInvalid, "wrong_type", "user_id"},
		{"non-decimal id", ct, `{"user_id":"4x"}`, errs.KindInvalid, "wrong_type", "user_id"},
		{"zero id", ct, `{"user_id":"0"}`, errs.KindInvalid, "wrong_type", "user_id"},
		{"nested wrong type", ct, `{"inner":{"note":1}}`, errs.KindInvalid, "wrong_type", "inner.note"},
		{"array element", ct, `{"tags":[1]}`, errs.KindInvalid, "wrong_type", "tags"},
		{"id in an array", ct, `{"ids":["1","x"]}`, errs.KindInvalid, "wrong_type", "ids"},
		{"nested pointer id", ct, `{"inner":{"owner":true}}`, errs.KindInvalid, "wrong_type", "inner.owner"},
		{"bad id before an unknown field", ct, `{"user_id":7,"admin":true}`, errs.KindInvalid, "wrong_type", "user_id"},
		{"nested array element", ct, `{"inner":{"note":[1]}}`, errs.KindInvalid, "wrong_type", "inner.note"},
		{"unknown field", ct, `{"name":"a","admin":true}`, errs.KindInvalid, "unknown_field", "admin"},
		{"unknown nested field", ct, `{"inner":{"x":1}}`, errs.KindInvalid, "unknown_field", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var dst decodeTarget
			err := DecodeJSON(tt.contentType, strings.NewReader(tt.body), &dst)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("err = %v, want *errs.Error", err)
			}
			if e.Kind != tt.kind || e.Code != tt.code || e.Field != tt.field {
				t.Errorf("err = kind %d code %q field %q (%s), want kind %d code %q field %q",
					e.Kind, e.Code, e.Field, e.Message, tt.kind, tt.code, tt.field)
			}
		})
	}
}

func TestDecodeJSONValues(t *testing.T) {
	t.Parallel()
	var dst decodeTarget
	err := DecodeJSON("application/json", strings.NewReader(`{"name":"爱达","user_id":"9007199254740993","nick":null}`), &dst)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Name != "爱达" || dst.UserID != 9007199254740993 || dst.Nick != nil {
		t.Errorf("decoded %+v", dst)
	}
	b, _ := json.Marshal(struct {
		ID ID `json:"id"`
	}{9007199254740993})
	if string(b) != `{"id":"9007199254740993"}` {
		t.Errorf("ID marshals to %s, want a decimal string", b)
	}
}

func TestDecodeJSONTooLarge(t *testing.T) {
	t.Parallel()
	big := `{"name":"` + strings.Repeat("x", MaxJSONBody) + `"}`
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(big)), MaxJSONBody)
	var dst decodeTarget
	err := DecodeJSON("application/json", body, &dst)
	if e, ok := errs.As(err); !ok || e.Kind != errs.KindTooLarge {
		t.Fatalf("err = %v, want too_large", err)
	}
	// White space past the limit after a complete object is too large too:
	// the limit is on the body, not on the JSON.
	body = http.MaxBytesReader(rec, io.NopCloser(strings.NewReader("{}"+strings.Repeat(" ", MaxJSONBody))), MaxJSONBody)
	if e, ok := errs.As(DecodeJSON("application/json", body, &dst)); !ok || e.Kind != errs.KindTooLarge {
		t.Fatalf("trailing white space over the limit: want too_large")
	}
}

// FuzzDecodeJSON checks that any body either decodes into a value that
// survives a round trip, or fails with a client error (*errs.Error of a 4xx
// kind) — never a panic, never an internal error. `make test` runs the
// seeds; `go test -fuzz FuzzDecodeJSON ./pkg/httpkit` explores.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"Ada","age":3,"ok":true,"nick":"a","user_id":"42","tags":["x"],"inner":{"note":"n"}}`,
		`{}`, `null`, ``, `[]`, `"x"`, `{"name":5}`, `{"age":"3"}`, `{"user_id":42}`, `{"user_id":"-1"}`,
		`{"admin":true}`, `{"inner":{"x":1}}`, `{}{}`, `{"name":"\ud800"}`, `{"name":"a"` + "\x00", `{"age":1e400}`,
		`{"tags":[1,2,{}]}`, `{"nick":null,"name":null}`, "\xef\xbb\xbf{}",
	} {
		f.Add("application/json", []byte(s))
	}
	f.Add("text/plain", []byte(`{}`))
	f.Add("application/json; charset=utf-8", []byte(`{"name":"爱达"}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		rec := httptest.NewRecorder()
		var dst decodeTarget
		err := DecodeJSON(contentType, http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader(body)), MaxJSONBody), &dst)
		if err != nil {
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("err %v (%T) is not an *errs.Error", err, err)
			}
			if _, ok := statusOf[e.Kind]; !ok || e.Kind == errs.KindInternal {
				t.Fatalf("err %v has kind %d, not a client error", e, e.Kind)
			}
			if e.Code == "" || e.Message == "" {
				t.Fatalf("err %+v lacks a code or message", e)
			}
			return
		}
		b, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", dst, err)
		}
		var again decodeTarget
		if err := DecodeJSON("application/json", bytes.NewReader(b), &again); err != nil {
			t.Fatalf("round trip of %s: %v", b, err)
		}
		if b2, _ := json.Marshal(again); !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed %s into %s", b, b2)
		}
	})
}

func TestDecodeJSONReadErrorIsNotTheCallersJSON(t *testing.T) {
	t.Parallel()
	err := DecodeJSON("application/json", io.MultiReader(strings.NewReader(`{"name":`), errReader{}), &decodeTarget{})
	if !errors.Is(err, errRead) {
		t.Fatalf("err = %v, want the read error", err)
	}
	if _, ok := errs.As(err); ok {
		t.Fatalf("a read error became a client error: %v", err)
	}
}

var errRead = errors.New("connection reset")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }
