package media

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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

func TestSanitizeNameCutsAtSpace(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("a", 254) + "  b" // no extension; the cut falls on a space
	if got := SanitizeName(in); got != strings.Repeat("a", 254) {
		t.Errorf("SanitizeName = %q", got)
	}
}
