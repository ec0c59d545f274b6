package conversation

import (
	"strconv"
	"strings"

	"github.com/privateim/privateim/foundation/errs"
)

// Name is a parsed conversation name: u:<low>:<high> (A < B), g:<id>,
// s:<id> or sys:<user id> (A). The messageservice's package conv is the
// protocol's parser; this one reads the same names for the HTTP API.
type Name struct {
	Kind Kind
	A, B int64
}

func (n Name) String() string {
	switch n.Kind {
	case KindUser:
		return "u:" + strconv.FormatInt(n.A, 10) + ":" + strconv.FormatInt(n.B, 10)
	case KindGroup:
		return "g:" + strconv.FormatInt(n.A, 10)
	case KindSubscription:
		return "s:" + strconv.FormatInt(n.A, 10)
	}
	return "sys:" + strconv.FormatInt(n.A, 10)
}

// Direct is the 1:1 of a and b.
func Direct(a, b int64) Name {
	if a > b {
		a, b = b, a
	}
	return Name{Kind: KindUser, A: a, B: b}
}

// ParseName reads a conversation name; a malformed one is 400 invalid
// naming field conversation.
func ParseName(s string) (Name, error) {
	bad := errs.Invalid("conversation", "want u:<id>:<id> (lower id first), g:<id>, s:<id> or sys:<id>")
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || len(s) > 128 {
		return Name{}, bad
	}
	switch kind {
	case "u":
		a, b, ok := strings.Cut(rest, ":")
		if !ok {
			return Name{}, bad
		}
		x, err1 := parseID(a)
		y, err2 := parseID(b)
		if err1 != nil || err2 != nil || x >= y {
			return Name{}, bad
		}
		return Name{Kind: KindUser, A: x, B: y}, nil
	case "g", "s", "sys":
		id, err := parseID(rest)
		if err != nil {
			return Name{}, bad
		}
		k := map[string]Kind{"g": KindGroup, "s": KindSubscription, "sys": KindSystem}[kind]
		return Name{Kind: k, A: id}, nil
	}
	return Name{}, bad
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != s {
		return 0, errs.Invalid("conversation", "bad id")
	}
	return id, nil
}
