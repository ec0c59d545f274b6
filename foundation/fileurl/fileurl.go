// Package fileurl is the form of the URLs of private chat files, shared by
// the userservice, which makes and checks them, and the messageservice,
// which accepts in a message only a URL of that form on this deployment's
// file store:
//
//	<base>files/<uploader id>/<32 hex><.ext>?exp=<unix seconds>&sig=<signature>
//
// <base> is the file store's public base ("https://im.example.com/static/").
// The signature is HMAC-SHA256, keyed by a secret of the deployment, over
// the path after <base> and the expiry; a GET is served only with a
// signature that checks and an expiry still ahead (Signer.Verify), so a
// file is readable by whoever was handed its URL (the people of the chat it
// was sent in) and only until then.
//
// It imports only the standard library.
package fileurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PathPattern is every stored chat file's path under the base: the
// uploader's id, 128 random bits, the stored extension.
var PathPattern = regexp.MustCompile(`^files/[1-9][0-9]{0,18}/[0-9a-f]{32}\.[a-z0-9]{2,5}$`)

// Errors of Verify. Both are answered like a missing file (404), so that a
// stranger learns nothing; they differ for logs and tests.
var (
	ErrBadSignature = errors.New("fileurl: no or wrong signature")
	ErrExpired      = errors.New("fileurl: expired")
)

// ErrForeign is the error of a message URL that is not a file of this
// deployment (Check).
var ErrForeign = errors.New("fileurl: not a file URL of this deployment")

// Signer signs and checks file URLs. The zero value is not usable: New.
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// New returns a Signer with key (at least 32 bytes of secret) whose
// signatures last ttl. now is the clock (nil: time.Now).
func New(key []byte, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, errors.New("fileurl: the key must be at least 32 bytes")
	}
	if ttl <= 0 {
		return nil, errors.New("fileurl: the lifetime must be > 0")
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, ttl: ttl, now: now}, nil
}

// DeriveKey makes a file-URL key from another secret of the deployment
// (the token key), for when no key of its own is configured: knowing
// file-URL signatures tells nothing of the secret they came from.
func DeriveKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("privateim file urls v1"))
	return m.Sum(nil)
}

// TTL is how long a signature lasts.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Query is the query string ("exp=...&sig=...") that signs path (relative
// to the base, e.g. "files/7/<hex>.png") until now + TTL.
func (s *Signer) Query(path string) string {
	exp := s.now().Add(s.ttl).Unix()
	return "exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.sign(path, exp)
}

// Verify checks the signature and expiry in q for path. It also returns the
// expiry, for the caching headers.
func (s *Signer) Verify(path string, q url.Values) (time.Time, error) {
	expS, sig := q.Get("exp"), q.Get("sig")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if err != nil || sig == "" || strconv.FormatInt(exp, 10) != expS {
		return time.Time{}, ErrBadSignature
	}
	if !hmac.Equal([]byte(sig), []byte(s.sign(path, exp))) {
		return time.Time{}, ErrBadSignature
	}
	t := time.Unix(exp, 0)
	if !s.now().Before(t) {
		return time.Time{}, ErrExpired
	}
	return t, nil
}

func (s *Signer) sign(path string, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Base is a parsed file-store base URL.
type Base struct{ u *url.URL }

// ParseBase reads a base URL: http(s), a host, no user info, query or
// fragment; the path ends with "/" (added when missing).
func ParseBase(raw string) (Base, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Base{}, errors.New("want an http(s) URL with a host and no user, query or fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return Base{u: u}, nil
}

func (b Base) String() string { return b.u.String() }

// Check reports whether raw is a chat file URL under b: same scheme and
// host, the base path followed by a PathPattern path, a query of exp and
// sig only, nothing else. It does not check the signature (the file store
// does, on GET). Anything else is ErrForeign.
func (b Base) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || b.u == nil {
		return ErrForeign
	}
	if u.Scheme != b.u.Scheme || u.Host != b.u.Host || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return ErrForeign
	}
	// The escaped path must equal the decoded one: no %2F tricks.
	if u.RawPath != "" && u.RawPath != u.Path {
		return ErrForeign
	}
	rest, ok := strings.CutPrefix(u.Path, b.u.Path)
	if !ok || !PathPattern.MatchString(rest) {
		return ErrForeign
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || len(q) != 2 || len(q["exp"]) != 1 || len(q["sig"]) != 1 {
		return ErrForeign
	}
	return nil
}
