// Package media is the userservice's media feature: avatars and chat files
// kept in a Storage (a directory, or an S3-compatible bucket that several
// instances share) and served back under /static/, and
// PrivateIM QR codes (privateim://user/<id>, privateim://group/<id>,
// privateim://subscription/<id>) made as PNG and read from pictures.
//
// Uploads are trusted by their bytes only: an avatar is decoded whole (PNG,
// JPEG, GIF or WebP) before it is kept; a file's type is sniffed from its
// first 512 bytes (http.DetectContentType), never taken from its name or the
// client's header. Stored names are random, so a URL is unguessable and
// never reused.
//
// Layout of the keys in the Storage (URLs are PublicURL + "/static/" + key):
//
//	avatars/<32 hex><ext>   ext from the decoded format (.png .jpg .gif .webp)
//	files/<user id>/<32 hex><ext>   ext from the sniffed type, ".bin" when unsafe or unknown
//
// Avatars are public. Chat files are private: their URLs carry a signature
// and an expiry (foundation/fileurl) that OpenStatic checks, and each user
// may store at most Config.Quota bytes of them (the sizes under
// files/<user id>/, counted once per process and kept up to date; with
// several instances on one bucket each counts again on a user's first
// upload to it, so a user can pass the quota by at most one file per
// instance).
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
	"log/slog"
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
	// Storage keeps the files; required. The caller closes it after the
	// Service is done.
	Storage   Storage
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
	store   Store
	log     *slog.Logger
	storage Storage // every file access goes through it
	public  string  // PublicURL without a trailing slash
	files   *fileurl.Signer
	quota   *quota
	qr      *pool // decodes of pictures to read QR codes from
	avatar  *pool // decodes of avatars
}

const (
	dirAvatars = "avatars"
	dirFiles   = "files"
)

// New makes the feature on c.Storage.
func New(store Store, log *slog.Logger, c Config) (*Service, error) {
	if c.Storage == nil {
		return nil, errors.New("media: no file storage")
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
	return &Service{
		store:   store,
		log:     log,
		storage: c.Storage,
		public:  strings.TrimRight(c.PublicURL, "/"),
		files:   c.Files,
		quota:   newQuota(c.Storage, c.Quota),
		qr:      newPool(c.QRDecoders, c.PerUserDecodes),
		avatar:  newPool(c.AvatarDecoders, c.PerUserDecodes),
	}, nil
}

// randomName is 32 hex digits (128 random bits).
func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

func (s *Service) url(dir, name string) string { return s.public + "/static/" + dir + "/" + name }
