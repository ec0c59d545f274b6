// Package textfield checks the short texts people type into the features
// the same way everywhere: Check for notes and greetings (trimmed, valid
// UTF-8, printable, at most so many runes) and Name for what names a user,
// a group, a group nickname or a subscription account (Check, after NFKC
// normalization, and nothing invisible or blank-looking). Both answer an
// *errs.Error naming the field.
//
// It imports the standard library, golang.org/x/text and foundation/errs.
package textfield

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

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

// Name checks a name: it is NFKC-normalized (so "Ａｄａ" is "Ada", and the
// ideographic and other wide spaces become plain spaces), trimmed, runs of
// spaces are folded into one, and then it must be 1..max runes with no
// control, format (zero-width, bidi) or blank-looking character and at least
// one visible letter, digit, punctuation or symbol. An empty name is
// errs.Required(field); the others errs.Invalid naming the field.
//
// Blank-looking characters are printable by Unicode's classes yet draw
// nothing in common fonts: the Hangul fillers (U+115F, U+1160, U+3164,
// U+FFA0), the Braille blank U+2800, the combining grapheme joiner U+034F,
// the Khmer inherent vowels U+17B4/U+17B5, variation selectors and Mongolian
// free variation selectors. A name of them alone would show as nobody.
func Name(field, v string, max int) (string, error) {
	if !utf8.ValidString(v) {
		return "", errs.Invalid(field, "not valid UTF-8")
	}
	v = strings.Join(strings.Fields(norm.NFKC.String(v)), " ")
	if v == "" {
		return "", errs.Required(field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", errs.Invalid(field, "at most %d characters", max)
	}
	visible := false
	for _, r := range v {
		switch {
		case r == ' ':
		case !unicode.IsPrint(r), blank(r):
			return "", errs.Invalid(field, "control, invisible or blank-looking characters (U+%04X) are not allowed", r)
		case unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
			visible = true
		}
	}
	if !visible {
		return "", errs.Invalid(field, "must show at least one letter, digit or symbol")
	}
	return v, nil
}

// blank reports the printable characters that draw nothing (see Name).
func blank(r rune) bool {
	switch {
	case r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, // Hangul fillers
		r == 0x2800,              // Braille pattern blank
		r == 0x034F,              // combining grapheme joiner
		r == 0x17B4, r == 0x17B5, // Khmer inherent vowels
		r >= 0x180B && r <= 0x180F,   // Mongolian free variation selectors, vowel separator
		r >= 0xFE00 && r <= 0xFE0F,   // variation selectors
		r >= 0xE0100 && r <= 0xE01EF: // variation selectors supplement
		return true
	}
	return false
}
