package account

import (
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/errs"
)

func field(err error) (code, f string) {
	if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalid {
		return e.Code, e.Field
	}
	return "?", "?"
}

func TestCheckName(t *testing.T) {
	for in, want := range map[string]string{"Ada": "Ada", "  Ada L  ": "Ada L", strings.Repeat("爱", 32): strings.Repeat("爱", 32), "李雷": "李雷"} {
		got, err := checkName("name", in)
		if err != nil || got != want {
			t.Errorf("checkName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, code := range map[string]string{"": "required", " \t": "required", strings.Repeat("爱", 33): "invalid", "a\x00b": "invalid", "a\u200bb": "invalid", "\xff": "invalid"} {
		_, err := checkName("name", in)
		if c, f := field(err); c != code || f != "name" {
			t.Errorf("checkName(%q): %v; want %s on name", in, err, code)
		}
	}
}

func TestCheckEmail(t *testing.T) {
	for in, want := range map[string]string{"ada@example.com": "ada@example.com", " Ada@Example.COM ": "ada@example.com", "a.b+c@x.io": "a.b+c@x.io"} {
		got, err := checkEmail("email", in)
		if err != nil || got != want {
			t.Errorf("checkEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com"
	for in, code := range map[string]string{"": "required", "ada": "invalid", "ada@": "invalid", "Ada <ada@x.io>": "invalid", "<ada@x.io>": "invalid", "a@b@c": "invalid", long: "invalid", "ada@x.io, bob@x.io": "invalid"} {
		_, err := checkEmail("email", in)
		if c, f := field(err); c != code || f != "email" {
			t.Errorf("checkEmail(%q): %v; want %s on email", in, err, code)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, ok := range []string{"12345678", strings.Repeat("p", 72), "密码密码密码"} { // 18 bytes
		if err := checkPassword("password", ok); err != nil {
			t.Errorf("checkPassword(%q): %v", ok, err)
		}
	}
	for in, code := range map[string]string{"": "required", "1234567": "invalid", strings.Repeat("p", 73): "invalid", "密码": "invalid"} {
		if c, f := field(checkPassword("password", in)); c != code || f != "password" {
			t.Errorf("checkPassword(%q): want %s", in, code)
		}
	}
}

func TestCheckPatch(t *testing.T) {
	s := func(v string) *string { return &v }
	g := func(v Gender) *Gender { return &v }
	up, err := checkPatch(ProfilePatch{Name: s(" Ada "), Mobile: s(" +1 (555) 010-0000 "), Gender: g(GenderOther)})
	if err != nil || *up.Name != "Ada" || *up.Mobile != "+1 (555) 010-0000" || *up.Gender != GenderOther || up.PasswordHash != nil {
		t.Errorf("checkPatch = %+v, %v", up, err)
	}
	if up, err := checkPatch(ProfilePatch{Mobile: s("")}); err != nil || *up.Mobile != "" {
		t.Errorf("clearing the mobile: %+v, %v", up, err)
	}
	for name, p := range map[string]ProfilePatch{
		"name":   {Name: s("")},
		"mobile": {Mobile: s("12a")},
		"gender": {Gender: g("robot")},
	} {
		if _, f := field(func() error { _, err := checkPatch(p); return err }()); f != name {
			t.Errorf("checkPatch(%s) blamed %q", name, f)
		}
	}
}

func TestResetTokenHash(t *testing.T) {
	h := hashToken("abc")
	if h != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("sha256 hex = %s", h)
	}
}
