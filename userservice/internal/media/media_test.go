package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
)

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, color.RGBA{uint8(x * 10), uint8(y * 15), 99, 255})
		}
	}
	return img
}

// Encoded returns testImage in each format, WebP from testdata (the
// standard library has no WebP encoder).
func encoded(t *testing.T) map[string][]byte {
	t.Helper()
	var p, j, g bytes.Buffer
	if err := png.Encode(&p, testImage()); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&g, testImage(), nil); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"png": p.Bytes(), "jpeg": j.Bytes(), "gif": g.Bytes()}
	for _, name := range []string{"lossy", "lossless"} {
		b, err := os.ReadFile("testdata/" + name + ".webp")
		if err != nil {
			t.Fatal(err)
		}
		out["webp-"+name] = b
	}
	return out
}

func TestDecodeImage(t *testing.T) {
	t.Parallel()
	for name, b := range encoded(t) {
		t.Run(name, func(t *testing.T) {
			img, format, err := decodeImage(b, MaxAvatarPixels)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if want, _, _ := strings.Cut(name, "-"); format != want {
				t.Errorf("format %q, want %q", format, want)
			}
			if img.Bounds().Dx() == 0 {
				t.Errorf("empty image")
			}
		})
	}

	pngBytes := encoded(t)["png"]
	// A PNG header declaring 100000×100000 pixels: refused before decoding.
	huge := bytes.Clone(pngBytes[:33])
	copy(huge[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	tests := []struct {
		name string
		data []byte
		want *errs.Error
	}{
		{"text", []byte("hello, this is not a picture"), ErrNotImage},
		{"empty", nil, ErrNotImage},
		{"png header then garbage", append(bytes.Clone(pngBytes[:40]), bytes.Repeat([]byte{0xa5}, 500)...), ErrBadImage},
		{"truncated png", pngBytes[:len(pngBytes)-20], ErrBadImage},
		{"huge dimensions", huge, ErrImageTooBig},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeImage(tt.data, MaxAvatarPixels)
			e, ok := errs.As(err)
			if !ok || e.Code != tt.want.Code {
				t.Fatalf("err %v, want code %s", err, tt.want.Code)
			}
		})
	}
}

func TestQRRoundTrip(t *testing.T) {
	t.Parallel()
	for _, content := range []string{QRContent(QRUser, 1), QRContent(QRGroup, 7402916376119017472), "https://example.com/x"} {
		b, err := EncodeQR(content)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if w := img.Bounds().Dx(); w%QRModulePixels != 0 || w < 21*QRModulePixels {
			t.Errorf("side %d px, want whole modules of %d px", w, QRModulePixels)
		}
		got, err := DecodeQR(img)
		if err != nil || got != content {
			t.Errorf("DecodeQR = %q, %v; want %q", got, err, content)
		}
	}
	if _, err := DecodeQR(testImage()); !errors.Is(err, ErrNoQRCode) {
		t.Errorf("DecodeQR of a gradient = %v, want ErrNoQRCode", err)
	}
}

func TestParseQRContent(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		kind QRKind
		id   int64
	}{
		{"privateim://user/1", QRUser, 1},
		{"privateim://group/9223372036854775807", QRGroup, 9223372036854775807},
		{"privateim://subscription/42", QRSubscription, 42},
	}
	for _, tt := range ok {
		got, err := ParseQRContent(tt.in)
		if err != nil || got.Kind != tt.kind || got.ID != tt.id || got.Content != tt.in {
			t.Errorf("ParseQRContent(%q) = %+v, %v", tt.in, got, err)
		}
	}
	for _, in := range []string{
		"", "https://example.com", "privateim://", "privateim://user", "privateim://user/", "privateim://user/0",
		"privateim://user/-1", "privateim://user/+1", "privateim://user/01", "privateim://user/1/2",
		"privateim://user/9223372036854775808", "privateim://channel/1", "PRIVATEIM://user/1", " privateim://user/1",
	} {
		if _, err := ParseQRContent(in); !errors.Is(err, ErrNotOurQRCode) {
			t.Errorf("ParseQRContent(%q) = %v, want ErrNotOurQRCode", in, err)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("文", 100) + ".pdf" // 300 bytes of name
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ada\notes.txt`, "notes.txt"},
		{"  .hidden  ", "hidden"},
		{"a\x00b\nc\u202etxt.exe", "ab ctxt.exe"},
		{`what?"<x>|*:.png`, "what___x____.png"},
		{"", "file"},
		{"...", "file"},
		{"/", "file"},
		{"tab\there", "tab here"},
		{"\xff\xfe.txt", "txt"},
		{long, strings.Repeat("文", 83) + ".pdf"},
	}
	for _, tt := range tests {
		if got := SanitizeName(tt.in); got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFilesAndStatic(t *testing.T) {
	t.Parallel()
	s, err := New(nil, nil, Config{Dir: t.TempDir(), PublicURL: "http://h:1/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx := context.Background()

	f, err := s.SaveFile(ctx, "../<b>.html", strings.NewReader("<html><script>alert(1)</script>"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "_b_.html" || f.MIME != "text/html; charset=utf-8" || f.Size != 31 {
		t.Errorf("SaveFile = %+v", f)
	}
	p, ok := strings.CutPrefix(f.URL, "http://h:1/static/")
	if !ok || !strings.HasSuffix(p, ".bin") {
		t.Fatalf("URL %q: want http://h:1/static/files/<random>.bin", f.URL)
	}
	st, err := s.OpenStatic("/" + p)
	if err != nil {
		t.Fatal(err)
	}
	st.File.Close()
	if st.MIME != f.MIME || st.Inline {
		t.Errorf("OpenStatic = %+v; want the sniffed type, as an attachment", st)
	}

	if _, err := s.SaveFile(ctx, "e", strings.NewReader("")); !errors.Is(err, ErrEmptyFile) {
		t.Errorf("empty file: %v", err)
	}
	big := bytes.NewReader(make([]byte, MaxFileBytes+1))
	if _, err := s.SaveFile(ctx, "big", big); !errors.Is(err, ErrFileTooBig) {
		t.Errorf("file over the limit: %v", err)
	}
	if n := countFiles(t, s); n != 1 {
		t.Errorf("%d files stored; the refused ones must be removed", n)
	}

	for _, bad := range []string{"", "/", "/files", "/files/", "/../files/" + p[len("files/"):], "/files/../files/x",
		"/avatars/" + p[len("files/"):], "/files/" + strings.ToUpper(p[len("files/"):]), "/" + p + "/", "/" + p + "x",
		"/files/.tmp", "//etc/passwd", "/files/00000000000000000000000000000000.png"} {
		if _, err := s.OpenStatic(bad); !errors.Is(err, ErrStaticNotFound) {
			t.Errorf("OpenStatic(%q) = %v, want ErrStaticNotFound", bad, err)
		}
	}
}

func countFiles(t *testing.T, s *Service) int {
	t.Helper()
	d, err := s.root.Open(dirFiles)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"a.txt", "../../x", "\u202eexe.txt", " . ", strings.Repeat("長", 200) + ".tar.gz", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeName(in)
		if out == "" || len(out) > 255 || !utf8.ValidString(out) {
			t.Fatalf("SanitizeName(%q) = %q: empty, too long or not UTF-8", in, out)
		}
		for _, r := range out {
			if r == '/' || r == '\\' || strings.ContainsRune(`"<>:|?*`, r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SanitizeName(%q) = %q keeps %q", in, out, r)
			}
		}
		if strings.HasPrefix(out, ".") || out != strings.TrimSpace(out) {
			t.Fatalf("SanitizeName(%q) = %q: leading dot or outer space", in, out)
		}
		if again := SanitizeName(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}

func FuzzParseQRContent(f *testing.F) {
	for _, s := range []string{"privateim://user/1", "privateim://group/01", "privateim://subscription/9223372036854775807", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseQRContent(in)
		if err != nil {
			return
		}
		// Only canonical contents parse: writing the result back gives the input.
		if QRContent(c.Kind, c.ID) != in || c.Content != in || c.ID <= 0 {
			t.Fatalf("ParseQRContent(%q) = %+v", in, c)
		}
	})
}

func TestSanitizeNameCutsAtSpace(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("a", 254) + "  b" // no extension; the cut falls on a space
	if got := SanitizeName(in); got != strings.Repeat("a", 254) {
		t.Errorf("SanitizeName = %q", got)
	}
}

// TestQRRoundTripIDs reads back the codes of ids that once failed to decode
// (fractional module sizes, one binarizer only) and a spread of others.
func TestQRRoundTripIDs(t *testing.T) {
	ids := []int64{7400013137660412863, 7400015061983185814}
	for i := int64(0); i < 100; i++ {
		ids = append(ids, 7400000000000000000+i*7919*1000003)
	}
	for _, id := range ids {
		content := QRContent(QRUser, id)
		b, err := EncodeQR(content)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := DecodeQR(img); err != nil || got != content {
			t.Errorf("DecodeQR(%s) = %q, %v", content, got, err)
		}
	}
}
