package grpcapi

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// Limits from the comments in protos/data/v1. "bytes" limits count bytes,
// "runes" limits count characters.
const (
	maxEmailBytes        = 254
	maxNameRunes         = 64
	maxPasswordHashBytes = 255
	maxMobileBytes       = 32
	maxURLBytes          = 512 // avatar, qr_code, cover_url
	maxTokenHashBytes    = 128
	maxNoteRunes         = 64
	maxGreetingRunes     = 255
	maxIntroRunes        = 1024
	maxListIDs           = 1000
	maxConversationBytes = 128
	maxClientMsgIDBytes  = 64
	maxKindBytes         = 32
	maxContentBytes      = 256 << 10
	maxBatch             = 1000
	maxDeviceIDBytes     = 64
	maxTitleRunes        = 200
	maxBodyBytes         = 1 << 20
	maxStates            = 64
	defaultLimit         = 50
	maxLimit             = 1000
)

// checker collects the field violations of one request. The zero value is
// ready; err returns nil when nothing was found.
type checker struct {
	violations []*errdetails.BadRequest_FieldViolation
}

func (c *checker) add(field, format string, args ...any) {
	c.violations = append(c.violations, &errdetails.BadRequest_FieldViolation{
		Field:       field,
		Description: fmt.Sprintf(format, args...),
	})
}

// err is InvalidArgument whose message names every field at fault
// ("name: required; limit: must be 0..1000"), with a BadRequest detail.
func (c *checker) err() error {
	if len(c.violations) == 0 {
		return nil
	}
	parts := make([]string, len(c.violations))
	for i, v := range c.violations {
		parts[i] = v.Field + ": " + v.Description
	}
	st := status.New(codes.InvalidArgument, strings.Join(parts, "; "))
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: c.violations}); err == nil {
		st = d
	}
	return st.Err()
}

// invalid is a single-field InvalidArgument.
func invalid(field, description string) error {
	var c checker
	c.add(field, "%s", description)
	return c.err()
}

// id: a row id, > 0.
func (c *checker) id(field string, v int64) {
	if v <= 0 {
		c.add(field, "required, must be > 0")
	}
}

func (c *checker) nonNegative(field string, v int64) {
	if v < 0 {
		c.add(field, "must be >= 0")
	}
}

func (c *checker) maxBytes(field, v string, max int) {
	if len(v) > max {
		c.add(field, "at most %d bytes", max)
	} else if !utf8.ValidString(v) {
		c.add(field, "not valid UTF-8")
	}
}

func (c *checker) maxRunes(field, v string, max int) {
	if !utf8.ValidString(v) {
		c.add(field, "not valid UTF-8")
	} else if utf8.RuneCountInString(v) > max {
		c.add(field, "at most %d characters", max)
	}
}

// name: a required string of at most max characters.
func (c *checker) name(field, v string, max int) {
	if v == "" {
		c.add(field, "required")
		return
	}
	c.maxRunes(field, v, max)
}

// key: a required string of at most max bytes.
func (c *checker) key(field, v string, max int) {
	if v == "" {
		c.add(field, "required")
		return
	}
	c.maxBytes(field, v, max)
}

// optName is name for an optional field: absent is fine, present must be valid.
func (c *checker) optName(field string, v *string, max int) {
	if v != nil {
		c.name(field, *v, max)
	}
}

func (c *checker) optRunes(field string, v *string, max int) {
	if v != nil {
		c.maxRunes(field, *v, max)
	}
}

func (c *checker) optBytes(field string, v *string, max int) {
	if v != nil {
		c.maxBytes(field, *v, max)
	}
}

func (c *checker) optKey(field string, v *string, max int) {
	if v != nil {
		c.key(field, *v, max)
	}
}

func (c *checker) optID(field string, v *int64) {
	if v != nil {
		c.id(field, *v)
	}
}

// email: required, at most 254 bytes, a bare address net/mail accepts.
func (c *checker) email(field, v string) {
	switch {
	case v == "":
		c.add(field, "required")
	case len(v) > maxEmailBytes:
		c.add(field, "at most %d bytes", maxEmailBytes)
	default:
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v {
			c.add(field, "not an email address")
		}
	}
}

// ids: a list of 1..1000 ids, each > 0.
func (c *checker) ids(field string, v []int64, min int) {
	if len(v) < min || len(v) > maxListIDs {
		c.add(field, "must hold %d..%d ids", min, maxListIDs)
		return
	}
	for i, id := range v {
		if id <= 0 {
			c.add(fmt.Sprintf("%s[%d]", field, i), "must be > 0")
		}
	}
}

// enum: v must be one of lo..hi.
func (c *checker) enum(field string, v, lo, hi int32) {
	if v < lo || v > hi {
		c.add(field, "must be %d..%d", lo, hi)
	}
}

// timestamp: required and valid.
func (c *checker) timestamp(field string, v *timestamppb.Timestamp) {
	if v == nil {
		c.add(field, "required")
	} else if err := v.CheckValid(); err != nil {
		c.add(field, "not a valid timestamp")
	}
}

func (c *checker) optTimestamp(field string, v *timestamppb.Timestamp) {
	if v != nil {
		c.timestamp(field, v)
	}
}

// page checks limit and page_token and returns the store's Page (limit 0
// means 50).
func (c *checker) page(limit int32, token string) store.Page {
	p := store.Page{Limit: int(limit)}
	switch {
	case limit < 0 || limit > maxLimit:
		c.add("limit", "must be 0..%d", maxLimit)
	case limit == 0:
		p.Limit = defaultLimit
	}
	after, ok := decodePageToken(token)
	if !ok {
		c.add("page_token", "not a token this list handed out")
	}
	p.After = after
	return p
}

// limit checks a limit with no token (GetMessages).
func (c *checker) limit(limit int32) int {
	switch {
	case limit < 0 || limit > maxLimit:
		c.add("limit", "must be 0..%d", maxLimit)
		return 0
	case limit == 0:
		return defaultLimit
	}
	return int(limit)
}

// nested is the status err of a request held in field of a larger one (a
// ...Plus RPC): the same code, with field in front of the field violations
// of an InvalidArgument and of the message of any other code.
func nested(field string, err error) error {
	st := status.Convert(err)
	var c checker
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				c.add(field+"."+v.GetField(), "%s", v.GetDescription())
			}
		}
	}
	if st.Code() == codes.InvalidArgument && len(c.violations) > 0 {
		return c.err()
	}
	return status.Error(st.Code(), field+": "+st.Message())
}
