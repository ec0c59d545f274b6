package textfield_test

import (
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/textfield"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		required bool
		want     string
		code     string // "" for no error
	}{
		{name: "trimmed", in: "  Ann ", want: "Ann"},
		{name: "CJK at the limit", in: strings.Repeat("群", 4), want: "群群群群"},
		{name: "one rune over", in: strings.Repeat("群", 5), code: "invalid"},
		{name: "empty allowed", in: "  ", want: ""},
		{name: "empty required", in: " ", required: true, code: "required"},
		{name: "control character", in: "a\x00b", code: "invalid"},
		{name: "zero-width space", in: "a\u200bb", code: "invalid"},
		{name: "invalid UTF-8", in: "a\xffb", code: "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := textfield.Check("f", tc.in, 4, tc.required)
			checkResult(t, "Check", tc.in, got, err, tc.want, tc.code)
		})
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name, in, want, code string // code "" for no error
	}{
		{name: "plain", in: " Ada  Lee ", want: "Ada Lee"},
		{name: "fullwidth folded by NFKC", in: "Ａｄａ", want: "Ada"},
		{name: "ideographic space folded", in: "张\u3000三", want: "张 三"},
		{name: "ligature folded", in: "ﬁne", want: "fine"},
		{name: "composed accent", in: "Jose\u0301", want: "José"},
		{name: "emoji", in: "🐱 cat", want: "🐱 cat"},
		{name: "CJK at the limit", in: strings.Repeat("群", 8), want: strings.Repeat("群", 8)},
		{name: "over the limit", in: strings.Repeat("群", 9), code: "invalid"},
		{name: "empty", in: "", code: "required"},
		{name: "only spaces", in: " \u3000 \u00a0", code: "required"},
		{name: "hangul filler", in: "\u3164", code: "invalid"},
		{name: "halfwidth hangul filler", in: "\uffa0", code: "invalid"},
		{name: "hangul filler beside letters", in: "a\u3164b", code: "invalid"},
		{name: "braille blank", in: "\u2800\u2800", code: "invalid"},
		{name: "zero-width space", in: "\u200b", code: "invalid"},
		{name: "zero-width joiner inside", in: "a\u200db", code: "invalid"},
		{name: "byte order mark", in: "\ufeffAda", code: "invalid"},
		{name: "bidi override", in: "\u202eAda", code: "invalid"},
		{name: "soft hyphen", in: "\u00ad", code: "invalid"},
		{name: "combining grapheme joiner", in: "\u034f", code: "invalid"},
		{name: "variation selector", in: "a\ufe0f", code: "invalid"},
		{name: "combining marks only", in: "\u0301\u0302", code: "invalid"},
		{name: "control", in: "a\nb", want: "a b"}, // a newline is white space: folded
		{name: "bell", in: "a\x07b", code: "invalid"},
		{name: "invalid UTF-8", in: "a\xffb", code: "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := textfield.Name("name", tc.in, 8)
			checkResult(t, "Name", tc.in, got, err, tc.want, tc.code)
		})
	}
}

func checkResult(t *testing.T, fn, in, got string, err error, want, code string) {
	t.Helper()
	if code == "" {
		if err != nil || got != want {
			t.Fatalf("%s(%q) = %q, %v; want %q", fn, in, got, err, want)
		}
		return
	}
	e, ok := errs.As(err)
	if !ok || e.Code != code || e.Field == "" || (e.Kind != errs.KindInvalid) {
		t.Fatalf("%s(%q) = %q, %v; want code %s naming the field", fn, in, got, err, code)
	}
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"Ada", "\u3164", "Ａ", "a\u200bb", " ", "\u2800x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := textfield.Name("name", in, 32)
		if err != nil {
			return
		}
		again, err := textfield.Name("name", out, 32)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
	})
}
