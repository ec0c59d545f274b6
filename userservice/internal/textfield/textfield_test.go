package textfield_test

import (
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/textfield"
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
			if tc.code == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Check(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != tc.code || e.Field != "f" || e.Kind != errs.KindInvalid {
				t.Fatalf("Check(%q) error %v, want code %s on field f", tc.in, err, tc.code)
			}
		})
	}
}
