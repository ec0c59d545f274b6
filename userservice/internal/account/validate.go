package account

import (
	"net/mail"
	"strings"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/textfield"
)

// Limits of the fields people type.
const (
	MaxNameRunes      = 32
	MinPasswordBytes  = 8
	MaxPasswordBytes  = 72 // bcrypt ignores what follows
	MaxEmailBytes     = 254
	MaxMobileBytes    = 32
	maxResetTokenSize = 128
)

func checkSignUp(name, email, password string) (string, string, error) {
	name, err := checkName("name", name)
	if err != nil {
		return "", "", err
	}
	if email, err = checkEmail("email", email); err != nil {
		return "", "", err
	}
	if err := checkPassword("password", password); err != nil {
		return "", "", err
	}
	return name, email, nil
}

// checkName is textfield.Name with MaxNameRunes: NFKC-normalized, and
// nothing invisible or blank-looking.
func checkName(field, v string) (string, error) { return textfield.Name(field, v, MaxNameRunes) }

// checkEmail wants a bare RFC 5322 address (no display name) of at most
// MaxEmailBytes and returns it normalized.
func checkEmail(field, v string) (string, error) {
	v = normalizeEmail(v)
	switch {
	case v == "":
		return "", errs.Required(field)
	case len(v) > MaxEmailBytes:
		return "", errs.Invalid(field, "at most %d bytes", MaxEmailBytes)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return "", errs.Invalid(field, "not an email address")
	}
	return v, nil
}

func checkPassword(field, v string) error {
	switch {
	case v == "":
		return errs.Required(field)
	case len(v) < MinPasswordBytes:
		return errs.Invalid(field, "at least %d bytes", MinPasswordBytes)
	case len(v) > MaxPasswordBytes:
		return errs.Invalid(field, "at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

func checkMobile(field, v string) error {
	if len(v) > MaxMobileBytes {
		return errs.Invalid(field, "at most %d bytes", MaxMobileBytes)
	}
	if strings.IndexFunc(v, func(r rune) bool { return !strings.ContainsRune("0123456789+-() ", r) }) >= 0 {
		return errs.Invalid(field, "only digits, spaces and + - ( )")
	}
	return nil
}

func checkPatch(p ProfilePatch) (Update, error) {
	var up Update
	if p.Name != nil {
		n, err := checkName("name", *p.Name)
		if err != nil {
			return up, err
		}
		up.Name = &n
	}
	if p.Mobile != nil {
		m := strings.TrimSpace(*p.Mobile)
		if err := checkMobile("mobile", m); err != nil {
			return up, err
		}
		up.Mobile = &m
	}
	if p.Gender != nil {
		switch *p.Gender {
		case GenderUnspecified, GenderMale, GenderFemale, GenderOther:
		default:
			return up, errs.Invalid("gender", `one of "", "male", "female", "other"`)
		}
		up.Gender = p.Gender
	}
	if p.LastSeenVisibility != nil {
		switch *p.LastSeenVisibility {
		case VisibilityEveryone, VisibilityFriends, VisibilityNobody:
		default:
			return up, errs.Invalid("last_seen_visibility", `one of "everyone", "friends", "nobody"`)
		}
		up.LastSeenVisibility = p.LastSeenVisibility
	}
	return up, nil
}
