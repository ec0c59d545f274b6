// Package media stores the avatars of subscription accounts and makes their
// QR codes. An avatar is trusted by its bytes only: it is decoded whole (PNG,
// JPEG, GIF or WebP; at most MaxAvatarBytes and MaxAvatarPixels) before it is
// kept, under a random name in UPLOAD_DIR/avatars/, and served back at
// PublicURL/static/avatars/<name> (Open). QR codes (skip2/go-qrcode) encode
// privateim://subscription/<id>.
//
// It answers with *errs.Error values and imports no gin, grpc or adapter.
package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	// The image formats accepted, registered with package image.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	"github.com/skip2/go-qrcode"
	_ "golang.org/x/image/webp"

	"github.com/privateim/privateim/foundation/errs"
)

// Limits of an avatar: its file, and its decoded size (a small file can
// declare a huge image, so dimensions are checked before decoding).
const (
	MaxAvatarBytes  = 2 << 20
	MaxAvatarPixels = 4096 * 4096
	QRModulePixels  = 8 // pixels per QR module: whole pixels keep codes readable (a fixed 256 px side made some unreadable)
	dirAvatars      = "avatars"
)

// Errors of the package.
var (
	ErrNotImage     = errs.New(errs.KindUnsupportedMedia, "unsupported_image", "not a PNG, JPEG, GIF or WebP image")
	ErrBadImage     = errs.New(errs.KindInvalid, "invalid_image", "the image is damaged or truncated and cannot be decoded")
	ErrImageTooBig  = errs.New(errs.KindInvalid, "image_too_large", "the image has too many pixels")
	ErrAvatarTooBig = errs.New(errs.KindTooLarge, "too_large", "the avatar is larger than 2 MiB")
	// ErrStaticNotFound is every miss under /static/, whatever the reason.
	ErrStaticNotFound = errs.New(errs.KindNotFound, "not_found", "no such file")
)

// avatarExt is the stored extension of each accepted format.
var avatarExt = map[string]string{"png": ".png", "jpeg": ".jpg", "gif": ".gif", "webp": ".webp"}

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
	format, err := checkImage(data)
	<-a.decode
	if err != nil {
		return "", err
	}
	name := randomName() + avatarExt[format]
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

// checkImage decodes data whole, refusing formats outside avatarExt and
// images over MaxAvatarPixels before decoding them.
func checkImage(data []byte) (string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		return "", ErrNotImage
	}
	if err != nil {
		return "", ErrBadImage
	}
	if _, ok := avatarExt[format]; !ok {
		return "", ErrNotImage
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", ErrBadImage
	}
	if cfg.Width > MaxAvatarPixels/cfg.Height {
		return "", &errs.Error{Kind: ErrImageTooBig.Kind, Code: ErrImageTooBig.Code,
			Message: fmt.Sprintf("the image is %d×%d pixels; at most %d pixels in all", cfg.Width, cfg.Height, MaxAvatarPixels)}
	}
	// Decoding the whole image catches a valid header followed by garbage.
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return "", ErrBadImage
	}
	return format, nil
}

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// QRContent is the text of a subscription account's QR code.
func QRContent(id int64) string { return "privateim://subscription/" + strconv.FormatInt(id, 10) }

// QRCode is a PNG of the account's QR code, with medium error correction.
func QRCode(id int64) ([]byte, error) {
	q, err := qrcode.New(QRContent(id), qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	png, err := q.PNG(-QRModulePixels) // negative: pixels per module
	if err != nil {
		return nil, fmt.Errorf("encode qr code: %w", err)
	}
	return png, nil
}
