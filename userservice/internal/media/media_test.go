package media

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/fileurl"
	"github.com/privateim/privateim/userservice/internal/filestore/local"
)

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
	s, dir := newService(t, Config{Quota: MaxFileBytes + 10})
	ctx := context.Background()

	f, err := s.SaveFile(ctx, 7, "../<b>.html", strings.NewReader("<html><script>alert(1)</script>"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "_b_.html" || f.MIME != "text/html; charset=utf-8" || f.Size != 31 {
		t.Errorf("SaveFile = %+v", f)
	}
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := strings.CutPrefix(u.Path, "/static/")
	if u.Host != "h:1" || !ok || !strings.HasPrefix(p, "files/7/") || !strings.HasSuffix(p, ".bin") {
		t.Fatalf("URL %q: want http://h:1/static/files/7/<random>.bin?exp=...&sig=...", f.URL)
	}
	st, err := s.OpenStatic(context.Background(), "/"+p, u.Query())
	if err != nil {
		t.Fatal(err)
	}
	st.File.Close()
	if st.MIME != f.MIME || st.Inline || !st.Private || st.Expires.IsZero() {
		t.Errorf("OpenStatic = %+v; want the sniffed type, as a private attachment", st)
	}

	if _, err := s.SaveFile(ctx, 7, "e", strings.NewReader("")); !errors.Is(err, ErrEmptyFile) {
		t.Errorf("empty file: %v", err)
	}
	big := bytes.NewReader(make([]byte, MaxFileBytes+1))
	if _, err := s.SaveFile(ctx, 8, "big", big); !errors.Is(err, ErrFileTooBig) {
		t.Errorf("file over the limit: %v", err)
	}
	// 31 bytes stored of MaxFileBytes+10: a file of the size limit no
	// longer fits user 7's quota, and a small one still does.
	if _, err := s.SaveFile(ctx, 7, "full", bytes.NewReader(make([]byte, MaxFileBytes))); !errors.Is(err, ErrQuotaExceeded) {
		t.Errorf("file over the quota: %v", err)
	}
	if _, err := s.SaveFile(ctx, 7, "small", strings.NewReader("fits")); err != nil {
		t.Errorf("file within the quota: %v", err)
	}
	if n := countFiles(t, dir, 7) + countFiles(t, dir, 8); n != 2 {
		t.Errorf("%d files stored; the refused ones must be removed", n)
	}

	name := p[len("files/7/"):]
	for _, bad := range []string{"", "/", "/files", "/files/", "/files/7/", "/../" + p, "/files/../files/x",
		"/avatars/" + name, "/files/" + name, "/files/8/" + name, "/files/7/" + strings.ToUpper(name), "/" + p + "/", "/" + p + "x",
		"/files/.tmp", "//etc/passwd", "/files/7/00000000000000000000000000000000.png"} {
		if _, err := s.OpenStatic(context.Background(), bad, u.Query()); !errors.Is(err, ErrStaticNotFound) {
			t.Errorf("OpenStatic(%q) = %v, want ErrStaticNotFound", bad, err)
		}
	}
	for name, q := range map[string]url.Values{"no signature": nil, "no expiry": {"sig": u.Query()["sig"]},
		"other expiry": {"sig": u.Query()["sig"], "exp": {"9999999999"}}} {
		if _, err := s.OpenStatic(context.Background(), "/"+p, q); !errors.Is(err, ErrStaticNotFound) {
			t.Errorf("%s: OpenStatic = %v, want ErrStaticNotFound", name, err)
		}
	}
}

// newService is a Service on a temp dir (the second result), URLs at
// http://h:1/.
func newService(t testing.TB, c Config) (*Service, string) {
	t.Helper()
	files, err := fileurl.New(fileurl.DeriveKey("test"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c.Storage, c.PublicURL, c.Files = d, "http://h:1/", files
	s, err := New(nil, nil, c)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func countFiles(t *testing.T, dir string, user int64) int {
	t.Helper()
	d, err := os.Open(filepath.Join(dir, dirFiles, strconv.FormatInt(user, 10)))
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
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

func TestSanitizeNameCutsAtSpace(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("a", 254) + "  b" // no extension; the cut falls on a space
	if got := SanitizeName(in); got != strings.Repeat("a", 254) {
		t.Errorf("SanitizeName = %q", got)
	}
}
