package fileurl

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

const path = "files/42/0123456789abcdef0123456789abcdef.png"

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := New(DeriveKey("a token secret of at least 32 bytes!!"), time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(s.Query(path))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := s.Verify(path, q)
	if err != nil || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("Verify = %v, %v", exp, err)
	}
	other, _ := New(DeriveKey("another secret of at least 32 bytes!!"), time.Hour, clock)
	for name, tc := range map[string]struct {
		s    *Signer
		path string
		q    url.Values
		want error
	}{
		"other file":     {s, strings.Replace(path, "42", "43", 1), q, ErrBadSignature},
		"other key":      {other, path, q, ErrBadSignature},
		"no signature":   {s, path, url.Values{"exp": q["exp"]}, ErrBadSignature},
		"later expiry":   {s, path, url.Values{"exp": {"1900000000"}, "sig": q["sig"]}, ErrBadSignature},
		"padded expiry":  {s, path, url.Values{"exp": {"0" + q.Get("exp")}, "sig": q["sig"]}, ErrBadSignature},
		"empty query":    {s, path, url.Values{}, ErrBadSignature},
		"garbage expiry": {s, path, url.Values{"exp": {"soon"}, "sig": q["sig"]}, ErrBadSignature},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tc.s.Verify(tc.path, tc.q); !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	now = now.Add(time.Hour)
	if _, err := s.Verify(path, q); !errors.Is(err, ErrExpired) {
		t.Errorf("at the expiry: %v, want ErrExpired", err)
	}
	if _, err := New([]byte("short"), time.Hour, nil); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestBaseCheck(t *testing.T) {
	t.Parallel()
	b, err := ParseBase("https://im.example.com/static")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != "https://im.example.com/static/" {
		t.Errorf("base %q", b)
	}
	const good = "https://im.example.com/static/" + path + "?exp=1&sig=x"
	if err := b.Check(good); err != nil {
		t.Errorf("Check(%q) = %v", good, err)
	}
	for _, bad := range []string{
		"https://evil.example/static/" + path + "?exp=1&sig=x",
		"http://im.example.com/static/" + path + "?exp=1&sig=x",
		"https://im.example.com.evil.example/static/" + path + "?exp=1&sig=x",
		"https://user@im.example.com/static/" + path + "?exp=1&sig=x",
		"https://im.example.com:444/static/" + path + "?exp=1&sig=x",
		"https://im.example.com/static/" + path,
		"https://im.example.com/static/" + path + "?exp=1&sig=x&next=https://evil",
		"https://im.example.com/static/" + path + "?exp=1&sig=x#frag",
		"https://im.example.com/static/avatars/0123456789abcdef0123456789abcdef.png?exp=1&sig=x",
		"https://im.example.com/static/files/42/../../../etc/passwd?exp=1&sig=x",
		"https://im.example.com/static/files%2F42/0123456789abcdef0123456789abcdef.png?exp=1&sig=x",
		"https://im.example.com/other/" + path + "?exp=1&sig=x",
		"/static/" + path + "?exp=1&sig=x",
		"javascript:alert(1)",
		"",
	} {
		if err := b.Check(bad); !errors.Is(err, ErrForeign) {
			t.Errorf("Check(%q) = %v, want ErrForeign", bad, err)
		}
	}
	for _, bad := range []string{"ftp://h/", "https:///x", "https://u@h/", "https://h/?q", "nope"} {
		if _, err := ParseBase(bad); err == nil {
			t.Errorf("ParseBase(%q) accepted", bad)
		}
	}
}
