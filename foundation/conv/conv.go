// Package conv is PrivateIM's conversations: their kinds and names
// ("u:<low>:<high>", "g:<id>", "s:<id>", "sys:<user>"), parsed and built
// here only, for the messageservice (its chat features decide what a kind
// means; its wire protocol uses Parse to refuse a malformed name) and the
// userservice (the conversation list's HTTP API).
//
// It imports only the standard library.
package conv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is what a conversation is between.
type Kind string

// The conversation kinds.
const (
	KindUser         Kind = "u"   // two users (1:1)
	KindGroup        Kind = "g"   // a group's members
	KindSubscription Kind = "s"   // a subscription's posts to its followers
	KindSystem       Kind = "sys" // a user's system notices
)

// Conversation is a parsed conversation name: u:<low>:<high> (A < B),
// g:<id>, s:<id> or sys:<id> (A is the id).
type Conversation struct {
	Kind Kind
	A, B int64
}

// ErrBadName is what Parse returns (wrapped) for a malformed name.
var ErrBadName = errors.New("bad conversation name")

// badName carries the message clients see in a bad_frame error.
type badName struct{ msg string }

func (e *badName) Error() string { return e.msg }
func (e *badName) Unwrap() error { return ErrBadName }

// Parse reads a conversation name. Its error (errors.Is ErrBadName) says
// what a name must look like, in words fit for the client.
func Parse(s string) (Conversation, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || len(s) > 128 {
		return Conversation{}, &badName{fmt.Sprintf("conversation %q: want u:<id>:<id>, g:<id>, s:<id> or sys:<id>", truncate(s, 64))}
	}
	c := Conversation{Kind: Kind(kind)}
	var err error
	switch c.Kind {
	case KindUser:
		a, b, ok := strings.Cut(rest, ":")
		if !ok {
			break
		}
		if c.A, err = parseID(a); err != nil {
			break
		}
		if c.B, err = parseID(b); err != nil {
			break
		}
		if c.A < c.B {
			return c, nil
		}
	case KindGroup, KindSubscription, KindSystem:
		if c.A, err = parseID(rest); err == nil {
			return c, nil
		}
	}
	return Conversation{}, &badName{fmt.Sprintf("conversation %q: want u:<lower id>:<higher id>, g:<id>, s:<id> or sys:<id>", truncate(s, 64))}
}

// String is the conversation's name.
func (c Conversation) String() string {
	if c.Kind == KindUser {
		return "u:" + strconv.FormatInt(c.A, 10) + ":" + strconv.FormatInt(c.B, 10)
	}
	return string(c.Kind) + ":" + strconv.FormatInt(c.A, 10)
}

// Direct is the 1:1 conversation of two users.
func Direct(a, b int64) Conversation {
	if a > b {
		a, b = b, a
	}
	return Conversation{Kind: KindUser, A: a, B: b}
}

// Group is the conversation of a group.
func Group(id int64) Conversation { return Conversation{Kind: KindGroup, A: id} }

// Subscription is the conversation of a subscription's posts.
func Subscription(id int64) Conversation { return Conversation{Kind: KindSubscription, A: id} }

// System is the conversation of a user's system notices.
func System(user int64) Conversation { return Conversation{Kind: KindSystem, A: user} }

// IsDirect reports whether name is a 1:1 conversation's, without parsing
// the ids.
func IsDirect(name string) bool { return strings.HasPrefix(name, string(KindUser)+":") }

// parseID reads a decimal id > 0 written the canonical way (as
// frame.ParseID does for the protocol's ids).
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 || strconv.FormatInt(id, 10) != s {
		return 0, errors.New("want a decimal id > 0")
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
