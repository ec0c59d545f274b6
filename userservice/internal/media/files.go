package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/fileurl"
	"github.com/privateim/privateim/userservice/internal/filestore"
)

// File is a stored chat file.
type File struct {
	URL  string
	Name string // the uploader's name for it, sanitized (SanitizeName)
	Size int64
	MIME string // sniffed from its first 512 bytes by http.DetectContentType
}

// ErrEmptyFile refuses a file of no bytes.
var ErrEmptyFile = errs.New(errs.KindInvalid, "empty_file", "the file is empty")

// sniffLen is how much http.DetectContentType looks at.
const sniffLen = 512

// SaveFile streams a file of user of at most MaxFileBytes from r to the
// user's directory under a random name, within the user's quota. name is
// what the uploader called it. The URL answered is signed (fileurl) and
// lasts the signer's TTL. Errors of reading r are returned wrapped.
func (s *Service) SaveFile(ctx context.Context, user int64, name string, r io.Reader) (File, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return File{}, &errs.ReadError{Err: err}
	}
	if n == 0 {
		return File{}, ErrEmptyFile
	}
	head = head[:n]
	room, err := s.quota.reserve(ctx, user, MaxFileBytes)
	if err != nil {
		return File{}, err
	}
	var size int64
	defer func() { s.quota.settle(user, room, size) }()
	if int64(len(head)) > room {
		return File{}, ErrQuotaExceeded
	}
	typ := http.DetectContentType(head)
	rel := path.Join(dirFiles, strconv.FormatInt(user, 10), randomName()+fileExt(typ))

	// One byte past the limit is read, to tell a file of exactly the
	// limit from a larger one; a larger one is deleted again.
	limit := min(room, MaxFileBytes)
	body := io.MultiReader(bytes.NewReader(head), io.LimitReader(errs.MarkReads(r), limit+1-int64(len(head))))
	written, err := s.storage.Put(ctx, rel, typ, body)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil && written > limit {
		err = ErrQuotaExceeded
		if written > MaxFileBytes {
			err = ErrFileTooBig
		}
	}
	if err != nil {
		s.remove(ctx, rel)
		if _, ok := errors.AsType[*errs.ReadError](err); ok {
			return File{}, err
		}
		if _, ok := errors.AsType[*errs.Error](err); !ok {
			err = fmt.Errorf("store file: %w", err)
		}
		return File{}, err
	}
	size = written
	return File{URL: s.public + "/static/" + rel + "?" + s.files.Query(rel), Name: SanitizeName(name), Size: size, MIME: typ}, nil
}

// fileExt is the stored extension of a sniffed type. Types a browser or a
// web server in front could execute or render as a page (HTML, XML, SVG,
// scripts) and unknown ones get ".bin", so that the extension is never
// what makes a file dangerous; the type served is sniffed again anyway.
func fileExt(sniffed string) string {
	t, _, _ := mime.ParseMediaType(sniffed)
	switch t {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/bmp":
		return ".bmp"
	case "application/pdf":
		return ".pdf"
	case "application/zip":
		return ".zip"
	case "application/x-gzip":
		return ".gz"
	case "audio/mpeg":
		return ".mp3"
	case "audio/wave":
		return ".wav"
	case "application/ogg":
		return ".ogg"
	case "video/mp4":
		return ".mp4"
	case "video/webm":
		return ".webm"
	case "text/plain":
		return ".txt"
	}
	return ".bin"
}

// SanitizeName makes an uploader's file name safe to show and to put in a
// Content-Disposition: the last path element only, no control or
// formatting characters (bidi overrides could disguise "exe.txt" as
// "txt.exe"), none of "\"<>:|?*", no leading dots or spaces, at most 255
// bytes (cut on a character boundary, keeping a short extension). An empty
// result is "file".
func SanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		case strings.ContainsRune(`"<>:|?*`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.TrimLeft(strings.TrimSpace(b.String()), ". ")
	name = strings.TrimRight(name, ". ")
	const max = 255
	if len(name) > max {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		base := name[:len(name)-len(ext)]
		cut := max - len(ext)
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		name = strings.TrimRight(base[:cut], ". ") + ext
	}
	if name == "" {
		return "file"
	}
	return name
}

// Static is a stored file opened to be served.
type Static struct {
	File    filestore.Object // the caller closes it
	Name    string
	ModTime time.Time
	// MIME is sniffed from the file's bytes, the same way SaveFile did.
	MIME string
	// Inline is true for types a browser shows without running anything
	// (images, audio, video, plain text); the others are served as
	// attachments.
	Inline bool
	// Private is set for chat files (not avatars): they are not to be
	// kept by shared caches, and the URL that fetched them lasts until
	// Expires.
	Private bool
	Expires time.Time
}

// avatarPath is every path that can name an avatar.
var avatarPath = regexp.MustCompile(`^avatars/[0-9a-f]{32}\.[a-z0-9]{2,5}$`)

// OpenStatic opens the stored file at p (relative to /static/) asked for
// with query q: an avatar, or a chat file whose URL signature (in q) checks
// and has not expired. Any miss, a missing, wrong or expired signature
// included, is ErrStaticNotFound: a stranger cannot tell a file that
// exists from one that does not.
func (s *Service) OpenStatic(ctx context.Context, p string, q url.Values) (*Static, error) {
	p = strings.TrimPrefix(p, "/")
	var expires time.Time
	switch {
	case avatarPath.MatchString(p):
	case fileurl.PathPattern.MatchString(p):
		var err error
		if expires, err = s.files.Verify(p, q); err != nil {
			s.log.Debug("static: refused", "path", p, "err", err)
			return nil, ErrStaticNotFound
		}
	default:
		return nil, ErrStaticNotFound
	}
	f, err := s.storage.Open(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrStaticNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	var head [sniffLen]byte
	n, err := io.ReadFull(f, head[:])
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	typ := http.DetectContentType(head[:n])
	return &Static{File: f, Name: path.Base(p), ModTime: f.ModTime(), MIME: typ, Inline: inline(typ),
		Private: !expires.IsZero(), Expires: expires}, nil
}

func inline(typ string) bool {
	t, _, _ := mime.ParseMediaType(typ)
	switch t {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "text/plain":
		return true
	}
	return strings.HasPrefix(t, "audio/") || strings.HasPrefix(t, "video/")
}
