// Package media is the userservice's media feature: avatars and chat files
// stored under one upload directory and served back under /static/, and
// PrivateIM QR codes (privateim://user/<id>, privateim://group/<id>,
// privateim://subscription/<id>) made as PNG and read from pictures.
//
// Uploads are trusted by their bytes only: an avatar is decoded whole (PNG,
// JPEG, GIF or WebP) before it is kept; a file's type is sniffed from its
// first 512 bytes (http.DetectContentType), never taken from its name or the
// client's header. Stored names are random, so a URL is unguessable and
// never reused.
//
// Layout of the upload directory (URLs are PublicURL + "/static/" + path):
//
//	avatars/<32 hex><ext>   ext from the decoded format (.png .jpg .gif .webp)
//	files/<user id>/<32 hex><ext>   ext from the sniffed type, ".bin" when unsafe or unknown
//
// Avatars are public. Chat files are private: their URLs carry a signature
// and an expiry (foundation/fileurl) that OpenStatic checks, and each user
// may store at most Config.Quota bytes of them (the sizes under
// files/<user id>/, counted once per process and kept up to date).
// Decoding pictures (avatars, QR codes) runs in two bounded pools, each
// taking at most PerUserDecodes pictures of one user at once.
//
// It declares the Store it needs and answers with *errs.Error values. It
// imports no gin, grpc or adapter.
package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/fileurl"
	"github.com/privateim/privateim/foundation/imagecheck"
	"github.com/privateim/privateim/foundation/qrcode"
)

// Size limits of what is uploaded.
const (
	MaxAvatarBytes  = 2 << 20  // an avatar file
	MaxFileBytes    = 20 << 20 // a file sent in chat
	MaxQRImageBytes = 8 << 20  // a picture to read a QR code from (phone photos)

	// Decoded size limits: a small file can declare a huge image (a
	// decompression bomb), so dimensions are checked before decoding.
	MaxAvatarPixels = 4096 * 4096
	MaxQRPixels     = 6000 * 6000
)

// Store is what the feature needs of storage. Errors wrap the errs store
// sentinels.
type Store interface {
	// SetUserAvatar sets the user's avatar URL and returns the one it
	// replaced. errs.ErrNotFound: no such user.
	SetUserAvatar(ctx context.Context, userID int64, url string) (previous string, err error)
	// GroupExists reports whether the group exists and is not dismissed.
	GroupExists(ctx context.Context, groupID int64) (bool, error)
}

// Config of the feature.
type Config struct {
	Dir       string // UPLOAD_DIR; created when missing
	PublicURL string // base of the URLs answered, e.g. "http://127.0.0.1:8080"
	// Files signs and checks the URLs of chat files (foundation/fileurl);
	// required.
	Files *fileurl.Signer
	// Quota is the most bytes of chat files one user may store (0: 100
	// MiB); an upload past it is ErrQuotaExceeded.
	Quota int64
	// QRDecoders and AvatarDecoders bound the images of each kind decoded
	// at once (each can take tens of MiB), in two pools so that one kind
	// cannot starve the other; 0 means 2. PerUserDecodes bounds those of
	// one user at once in each pool (0 means 1); more is ErrBusy.
	QRDecoders, AvatarDecoders, PerUserDecodes int
}

// DefaultQuota is Config.Quota's default.
const DefaultQuota = 100 << 20

// Errors of the feature.
var (
	ErrNotImage      = imagecheck.ErrNotImage
	ErrBadImage      = imagecheck.ErrBadImage
	ErrImageTooBig   = imagecheck.ErrTooManyPixels
	ErrAvatarTooBig  = errs.New(errs.KindTooLarge, "too_large", "the avatar is larger than 2 MiB")
	ErrFileTooBig    = errs.New(errs.KindTooLarge, "too_large", "the file is larger than 20 MiB")
	ErrQRImageTooBig = errs.New(errs.KindTooLarge, "too_large", "the image is larger than 8 MiB")
	ErrQRNotImage    = errs.New(errs.KindInvalid, "not_an_image", "not a PNG, JPEG, GIF or WebP image")
	ErrNoQRCode      = qrcode.ErrNoCode
	ErrNotOurQRCode  = qrcode.ErrNotOurs
	ErrGroupNotFound = errs.New(errs.KindNotFound, "group_not_found", "no such group")
	ErrUserNotFound  = errs.New(errs.KindNotFound, "user_not_found", "no such user")
	// ErrStaticNotFound is every miss under /static/, whatever the reason,
	// so that probing tells nothing.
	ErrStaticNotFound = errs.New(errs.KindNotFound, "not_found", "no such file")
	ErrQuotaExceeded  = errs.New(errs.KindTooLarge, "upload_quota_exceeded", "your stored files would pass your upload quota")
	ErrBusy           = errs.New(errs.KindRateLimited, "busy", "another image of yours is being processed; send this one when it is done")
)

// Service is the media feature. It is safe for concurrent use.
type Service struct {
	store  Store
	log    *slog.Logger
	root   *os.Root // the upload directory; every file access goes through it
	public string   // PublicURL without a trailing slash
	files  *fileurl.Signer
	quota  *quota
	qr     *pool // decodes of pictures to read QR codes from
	avatar *pool // decodes of avatars
}

const (
	dirAvatars = "avatars"
	dirFiles   = "files"
)

// New opens (creating if needed) the upload directory. Close releases it.
func New(store Store, log *slog.Logger, c Config) (*Service, error) {
	if c.Dir == "" {
		return nil, errors.New("media: no upload directory")
	}
	if c.Files == nil {
		return nil, errors.New("media: no file URL signer")
	}
	if c.Quota <= 0 {
		c.Quota = DefaultQuota
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{dirAvatars, dirFiles} {
		if err := os.MkdirAll(c.Dir+string(os.PathSeparator)+d, 0o750); err != nil {
			return nil, fmt.Errorf("media: create upload directory: %w", err)
		}
	}
	root, err := os.OpenRoot(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("media: open upload directory: %w", err)
	}
	return &Service{
		store:  store,
		log:    log,
		root:   root,
		public: strings.TrimRight(c.PublicURL, "/"),
		files:  c.Files,
		quota:  newQuota(root, c.Quota),
		qr:     newPool(c.QRDecoders, c.PerUserDecodes),
		avatar: newPool(c.AvatarDecoders, c.PerUserDecodes),
	}, nil
}

// Close releases the upload directory.
func (s *Service) Close(context.Context) error { return s.root.Close() }

// randomName is 32 hex digits (128 random bits).
func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

func (s *Service) url(dir, name string) string { return s.public + "/static/" + dir + "/" + name }
