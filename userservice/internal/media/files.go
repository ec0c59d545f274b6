package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/fileurl"
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
	room, err := s.quota.reserve(user, MaxFileBytes)
	if err != nil {
		return File{}, err
	}
	var size int64
	defer func() { s.quota.settle(user, room, size) }()
	if int64(len(head)) > room {
		return File{}, ErrQuotaExceeded
	}
	typ := http.DetectContentType(head)
	dir := path.Join(dirFiles, strconv.FormatInt(user, 10))
	if err := s.root.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return File{}, fmt.Errorf("store file: %w", err)
	}
	rel := path.Join(dir, randomName()+fileExt(typ))

	f, err := s.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return File{}, fmt.Errorf("store file: %w", err)
	}
	written, err := writeFile(f, head, r, room)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		s.remove(rel)
		return File{}, err
	}
	size = written
	return File{URL: s.public + "/static/" + rel + "?" + s.files.Query(rel), Name: SanitizeName(name), Size: size, MIME: typ}, nil
}

// writeFile writes head and the rest of r to f and closes it, refusing more
// than MaxFileBytes (ErrFileTooBig) or room (ErrQuotaExceeded) in all.
func writeFile(f *os.File, head []byte, r io.Reader, room int64) (int64, error) {
	defer f.Close()
	if _, err := f.Write(head); err != nil {
		return 0, fmt.Errorf("store file: %w", err)
	}
	limit := min(room, MaxFileBytes)
	rest, err := io.Copy(f, io.LimitReader(errs.MarkReads(r), limit+1-int64(len(head))))
	if err != nil {
		if _, ok := errors.AsType[*errs.ReadError](err); ok {
			return 0, err
		}
		return 0, fmt.Errorf("store file: %w", err)
	}
	size := int64(len(head)) + rest
	switch {
	case size > MaxFileBytes:
		return 0, ErrFileTooBig
	case size > limit:
		return 0, ErrQuotaExceeded
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("store file: %w", err)
	}
	return size, nil
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
	File    *os.File // the caller closes it
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
func (s *Service) OpenStatic(p string, q url.Values) (*Static, error) {
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
	f, err := s.root.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrStaticNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		f.Close()
		return nil, ErrStaticNotFound
	}
	var head [sniffLen]byte
	var n int
	if err == nil {
		n, err = io.ReadFull(f, head[:])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = nil
		}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	typ := http.DetectContentType(head[:n])
	return &Static{File: f, Name: path.Base(p), ModTime: st.ModTime(), MIME: typ, Inline: inline(typ),
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
