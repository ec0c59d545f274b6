// Package media stores the avatars of subscription accounts and makes their
// QR codes. An avatar is trusted by its bytes only: it is decoded whole (PNG,
// JPEG, GIF or WebP; at most MaxAvatarBytes and MaxAvatarPixels) before it is
// kept, under a random name in UPLOAD_DIR/avatars/, and served back at
// PublicURL/static/avatars/<name> (Open). QR codes (foundation/qrcode)
// encode privateim://subscription/<id>.
//
// It answers with *errs.Error values and imports no gin, grpc or adapter.
package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/imagecheck"
	"github.com/privateim/privateim/foundation/qrcode"
)

// Limits of an avatar: its file, and its decoded size (a small file can
// declare a huge image, so dimensions are checked before decoding).
const (
	MaxAvatarBytes  = 2 << 20
	MaxAvatarPixels = 4096 * 4096
	dirAvatars      = "avatars"
)

// Errors of the package.
var (
	ErrNotImage     = imagecheck.ErrNotImage
	ErrBadImage     = imagecheck.ErrBadImage
	ErrImageTooBig  = imagecheck.ErrTooManyPixels
	ErrAvatarTooBig = errs.New(errs.KindTooLarge, "too_large", "the avatar is larger than 2 MiB")
	// ErrStaticNotFound is every miss under /static/, whatever the reason.
	ErrStaticNotFound = errs.New(errs.KindNotFound, "not_found", "no such file")
)

// avatarName is the shape of a stored avatar's name.
var avatarName = regexp.MustCompile(`^[0-9a-f]{32}\.(?:png|jpg|gif|webp)$`)

// Avatars stores avatars in a directory; safe for concurrent use.
type Avatars struct {
	root   *os.Root
	public string
	log    *slog.Logger
	decode chan struct{} // bounds the images decoded at once
}

// New opens (creating) dir/avatars; URLs start with publicURL.
func New(dir, publicURL string, log *slog.Logger) (*Avatars, error) {
	if err := os.MkdirAll(path.Join(dir, dirAvatars), 0o750); err != nil {
		return nil, fmt.Errorf("upload dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("upload dir: %w", err)
	}
	return &Avatars{root: root, public: strings.TrimRight(publicURL, "/"), log: log, decode: make(chan struct{}, 2)}, nil
}

// Close releases the directory.
func (a *Avatars) Close() error { return a.root.Close() }

// Put reads an image of at most MaxAvatarBytes from r, decodes it whole to
// check it, stores it under a new random name and returns its URL.
func (a *Avatars) Put(ctx context.Context, r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxAvatarBytes+1))
	if err != nil {
		return "", &errs.ReadError{Err: err}
	}
	if len(data) > MaxAvatarBytes {
		return "", ErrAvatarTooBig
	}
	select {
	case a.decode <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	_, format, err := imagecheck.Decode(data, MaxAvatarPixels)
	<-a.decode
	if err != nil {
		return "", err
	}
	name := randomName() + imagecheck.Ext[format]
	rel := path.Join(dirAvatars, name)
	f, err := a.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", fmt.Errorf("store avatar: %w", err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		a.remove(rel)
		return "", fmt.Errorf("store avatar: %w", werr)
	}
	return a.public + "/static/" + dirAvatars + "/" + name, nil
}

// Remove deletes the stored avatar url names; other URLs are ignored.
func (a *Avatars) Remove(url string) {
	i := strings.LastIndex(url, "/static/"+dirAvatars+"/")
	if i < 0 {
		return
	}
	name := url[i+len("/static/"+dirAvatars+"/"):]
	if avatarName.MatchString(name) {
		a.remove(path.Join(dirAvatars, name))
	}
}

func (a *Avatars) remove(rel string) {
	if err := a.root.Remove(rel); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.log.Warn("remove avatar", "file", rel, "err", err)
	}
}

// Open opens the stored avatar name for serving; ErrStaticNotFound for
// anything else (names of another shape are refused without touching the
// disk).
func (a *Avatars) Open(name string) (*os.File, error) {
	if !avatarName.MatchString(name) {
		return nil, ErrStaticNotFound
	}
	f, err := a.root.Open(path.Join(dirAvatars, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrStaticNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open avatar: %w", err)
	}
	return f, nil
}

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// QRCode is a PNG of the account's QR code (privateim://subscription/<id>).
func QRCode(id int64) ([]byte, error) {
	return qrcode.Encode(qrcode.Content(qrcode.Subscription, id))
}
