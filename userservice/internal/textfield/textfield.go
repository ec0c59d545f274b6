// Package textfield checks the short texts people type into the features
// (names, notes, nicknames, greetings) the same way everywhere: trimmed,
// valid UTF-8, printable, at most so many runes, answering an *errs.Error
// naming the field.
//
// It imports only the standard library and errs.
package textfield

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
)

// Check trims v and wants at most max printable runes (spaces allowed); an
// empty result is errs.Required(field) when required, else allowed.
func Check(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return "", errs.Required(field)
	case !utf8.ValidString(v):
		return "", errs.Invalid(field, "not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		return "", errs.Invalid(field, "at most %d characters", max)
	case strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0:
		return "", errs.Invalid(field, "control or invisible characters are not allowed")
	}
	return v, nil
}
