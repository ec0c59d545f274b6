package conversation

import (
	"github.com/privateim/privateim/foundation/conv"
	"github.com/privateim/privateim/foundation/errs"
)

// Name is a parsed conversation name (foundation/conv).
type Name = conv.Conversation

// Direct is the 1:1 of a and b.
func Direct(a, b int64) Name { return conv.Direct(a, b) }

// ParseName reads a conversation name; a malformed one is 400 invalid
// naming field conversation, with conv's words for what a name is.
func ParseName(s string) (Name, error) {
	n, err := conv.Parse(s)
	if err != nil {
		return Name{}, errs.Invalid("conversation", "%s", err.Error())
	}
	return n, nil
}

// kindOf is the API's word for a conversation kind.
func kindOf(k conv.Kind) Kind {
	switch k {
	case conv.KindUser:
		return KindUser
	case conv.KindGroup:
		return KindGroup
	case conv.KindSubscription:
		return KindSubscription
	}
	return KindSystem
}
