// The content of a message (docs/websocket.md "Content"): the kinds a
// client sends, their limits, the common optional fields any message may
// carry, and the stored encoding, which keeps the client's own JSON (a
// custom message's data, ext) byte-for-byte.

package frame

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// CodeForbidden refuses what the sender's role does not allow
// (mention_all by a group member who is not its owner or an admin).
const CodeForbidden = "forbidden"

// Limits of content.
const (
	MaxURL        = 1024
	MaxName       = 255
	MaxMIME       = 255
	MaxDimension  = 100_000             // pixels of an image or video side
	MaxVoiceMS    = 60 * 60 * 1000      // an hour of voice
	MaxVideoMS    = 24 * 60 * 60 * 1000 // a day of video
	MaxCustomType = 64                  // bytes of a custom message's type
	MaxCustomData = 4096                // bytes of a custom message's data, as sent
	MaxExt        = 1024                // bytes of ext, as sent
	MaxMentions   = 50
)

// ClientKinds are the kinds a client sends (and may forward); the server
// stores others (group_event, ...) on its own.
var ClientKinds = []string{"text", "emoji", "image", "file", "voice", "video", "location", "card", "custom"}

// MsgRef names a stored message: forwarded_from.
type MsgRef struct {
	Conversation string `json:"conversation"`
	Seq          int64  `json:"seq"`
}

// ReplyTo names the message of the same conversation a message answers.
type ReplyTo struct {
	Seq int64 `json:"seq"`
}

// Content of a message. Each kind has its own fields (the others are
// dropped); the common fields may come with any kind. Data and Ext hold
// the client's bytes, which Encode stores as they came.
type Content struct {
	Kind      string   `json:"kind"`
	Text      string   `json:"text,omitempty"`      // text, emoji
	URL       string   `json:"url,omitempty"`       // image, file, voice, video
	Name      string   `json:"name,omitempty"`      // image, file, voice, video; location: the place
	Size      int64    `json:"size,omitempty"`      // image, file, voice, video
	MIME      string   `json:"mime,omitempty"`      // image, file, voice, video
	Width     int      `json:"width,omitempty"`     // image, video
	Height    int      `json:"height,omitempty"`    // image, video
	Thumbnail string   `json:"thumbnail,omitempty"` // image, video: a file URL too
	Duration  int64    `json:"duration,omitempty"`  // voice, video: milliseconds
	Lat       *float64 `json:"lat,omitempty"`       // location
	Lon       *float64 `json:"lon,omitempty"`       // location
	Card      *Target  `json:"card,omitempty"`      // card: a user or group
	Type      string   `json:"type,omitempty"`      // custom: the application's type

	Data json.RawMessage `json:"data,omitempty"` // custom: a JSON object, verbatim

	// Common optional fields of any kind.
	ReplyTo       *ReplyTo        `json:"reply_to,omitempty"`
	Mentions      []string        `json:"mentions,omitempty"`
	MentionAll    bool            `json:"mention_all,omitempty"`
	ForwardedFrom *MsgRef         `json:"forwarded_from,omitempty"`
	Ext           json.RawMessage `json:"ext,omitempty"` // a JSON object, verbatim

	// EditedAt (unix ms) is set by an edit (lifecycle.go), never by a send.
	EditedAt int64 `json:"edited_at,omitempty"`

	// Decoded from the fields above by decodeContent.
	MentionIDs []int64 `json:"-"`
	CardID     int64   `json:"-"`
}

// URLs are the file URLs of c with the field each is in, for the check
// that they point at this deployment's file store.
func (c *Content) URLs() (fields, urls []string) {
	if c.URL != "" {
		fields, urls = append(fields, "content.url"), append(urls, c.URL)
	}
	if c.Thumbnail != "" {
		fields, urls = append(fields, "content.thumbnail"), append(urls, c.Thumbnail)
	}
	return fields, urls
}

// Encode is the stored JSON of c: its fields, then data and ext exactly
// as the client sent them (encoding/json would compact and re-escape
// them).
func (c Content) Encode() []byte {
	data, ext := c.Data, c.Ext
	c.Data, c.Ext = nil, nil
	b := Marshal(c)
	if len(data) == 0 && len(ext) == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+len(data)+len(ext)+16)
	out = append(out, b[:len(b)-1]...)
	if len(data) > 0 {
		out = append(append(out, `,"data":`...), data...)
	}
	if len(ext) > 0 {
		out = append(append(out, `,"ext":`...), ext...)
	}
	return append(out, '}')
}

// DecodeStored reads stored content (of a message to forward). Data and
// Ext keep their bytes.
func DecodeStored(b []byte) (Content, error) {
	var c Content
	if err := json.Unmarshal(b, &c); err != nil {
		return Content{}, fmt.Errorf("stored content: %s", plainJSONError(err))
	}
	return c, nil
}

// Body is c without the common fields: what a forward copies.
func (c Content) Body() Content {
	c.ReplyTo, c.Mentions, c.MentionAll, c.ForwardedFrom, c.Ext, c.MentionIDs = nil, nil, false, nil, nil, nil
	c.EditedAt = 0 // a forward is a new message
	return c
}

// decodeContent reads and validates a send frame's content; the message
// names the field at fault. With forwarded_from the kind is left out: the
// server copies the original's.
func decodeContent(raw []byte) (Content, string) {
	var in Content
	if err := json.Unmarshal(raw, &in); err != nil {
		return Content{}, "content: " + plainJSONError(err)
	}
	out := Content{Kind: in.Kind}
	if msg := commonFields(&in, &out); msg != "" {
		return Content{}, msg
	}
	if out.ForwardedFrom != nil {
		if in.Kind != "" {
			return Content{}, "content.kind: must be left out with forwarded_from (the server copies the original's content)"
		}
		return out, ""
	}
	if msg := kindFields(&in, &out); msg != "" {
		return Content{}, msg
	}
	return out, ""
}

// commonFields validates the common fields of in into out.
func commonFields(in, out *Content) string {
	if in.ReplyTo != nil {
		if in.ReplyTo.Seq < 1 {
			return "content.reply_to.seq: must be a number >= 1"
		}
		out.ReplyTo = &ReplyTo{Seq: in.ReplyTo.Seq}
	}
	if len(in.Mentions) > MaxMentions {
		return fmt.Sprintf("content.mentions: at most %d users", MaxMentions)
	}
	seen := make(map[int64]bool, len(in.Mentions))
	for i, s := range in.Mentions {
		id, err := ParseID(s)
		if err != nil {
			return fmt.Sprintf("content.mentions[%d]: %v", i, err)
		}
		if !seen[id] {
			seen[id] = true
			out.Mentions = append(out.Mentions, s)
			out.MentionIDs = append(out.MentionIDs, id)
		}
	}
	out.MentionAll = in.MentionAll
	if in.ForwardedFrom != nil {
		if err := conversation(in.ForwardedFrom.Conversation); err != nil {
			return "content.forwarded_from.conversation: " + err.(*Error).Message
		}
		if in.ForwardedFrom.Seq < 1 {
			return "content.forwarded_from.seq: must be a number >= 1"
		}
		out.ForwardedFrom = &MsgRef{Conversation: in.ForwardedFrom.Conversation, Seq: in.ForwardedFrom.Seq}
	}
	if in.Ext != nil {
		if msg := jsonObject(in.Ext, MaxExt); msg != "" {
			return "content.ext: " + msg
		}
		out.Ext = in.Ext
	}
	return ""
}

// kindFields validates the fields of in's kind into out.
func kindFields(in, out *Content) string {
	switch in.Kind {
	case "text", "emoji":
		if in.Text == "" || !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > MaxText {
			return fmt.Sprintf("content.text: must be 1..%d characters of UTF-8", MaxText)
		}
		out.Text = in.Text
	case "image", "file", "voice", "video":
		if msg := fileFields(in, out); msg != "" {
			return msg
		}
	case "location":
		if in.Lat == nil || math.IsNaN(*in.Lat) || *in.Lat < -90 || *in.Lat > 90 {
			return "content.lat: must be a number in -90..90"
		}
		if in.Lon == nil || math.IsNaN(*in.Lon) || *in.Lon < -180 || *in.Lon > 180 {
			return "content.lon: must be a number in -180..180"
		}
		if len(in.Name) > MaxName || !utf8.ValidString(in.Name) {
			return fmt.Sprintf("content.name: must be at most %d bytes of UTF-8", MaxName)
		}
		lat, lon := *in.Lat, *in.Lon
		out.Lat, out.Lon, out.Name = &lat, &lon, in.Name
	case "card":
		if in.Card == nil || (in.Card.Kind != "user" && in.Card.Kind != "group") {
			return `content.card.kind: must be "user" or "group"`
		}
		id, err := ParseID(in.Card.ID)
		if err != nil {
			return "content.card.id: " + err.Error()
		}
		out.Card, out.CardID = &Target{Kind: in.Card.Kind, ID: in.Card.ID}, id
	case "custom":
		if n := len(in.Type); n < 1 || n > MaxCustomType || !printable(in.Type) {
			return fmt.Sprintf("content.type: must be 1..%d printable bytes", MaxCustomType)
		}
		if in.Data == nil {
			return "content.data: is missing"
		}
		if msg := jsonObject(in.Data, MaxCustomData); msg != "" {
			return "content.data: " + msg
		}
		out.Type, out.Data = in.Type, in.Data
	case "":
		return "content.kind: is missing"
	default:
		return `content.kind: must be one of "` + strings.Join(ClientKinds, `", "`) + `"`
	}
	return ""
}

// fileFields validates a file-backed kind: image, file, voice, video.
func fileFields(in, out *Content) string {
	if in.URL == "" || len(in.URL) > MaxURL {
		return "content.url: must be the URL POST /api/v1/files returned"
	}
	name := in.Name
	if in.Kind == "image" || in.Kind == "file" || name != "" {
		if name == "" || len(name) > MaxName || !utf8.ValidString(name) {
			return fmt.Sprintf("content.name: must be 1..%d bytes of UTF-8", MaxName)
		}
	}
	if in.Size < 0 {
		return "content.size: must be >= 0"
	}
	if in.MIME == "" || len(in.MIME) > MaxMIME || !utf8.ValidString(in.MIME) {
		return fmt.Sprintf("content.mime: must be 1..%d bytes of UTF-8", MaxMIME)
	}
	out.URL, out.Name, out.Size, out.MIME = in.URL, name, in.Size, in.MIME
	if in.Kind == "image" || in.Kind == "video" {
		if in.Width < 1 || in.Width > MaxDimension {
			return fmt.Sprintf("content.width: must be 1..%d", MaxDimension)
		}
		if in.Height < 1 || in.Height > MaxDimension {
			return fmt.Sprintf("content.height: must be 1..%d", MaxDimension)
		}
		if len(in.Thumbnail) > MaxURL {
			return "content.thumbnail: must be the URL POST /api/v1/files returned"
		}
		out.Width, out.Height, out.Thumbnail = in.Width, in.Height, in.Thumbnail
	}
	switch in.Kind {
	case "voice":
		if in.Duration < 1 || in.Duration > MaxVoiceMS {
			return fmt.Sprintf("content.duration: must be 1..%d milliseconds", MaxVoiceMS)
		}
		out.Duration = in.Duration
	case "video":
		if in.Duration < 1 || in.Duration > MaxVideoMS {
			return fmt.Sprintf("content.duration: must be 1..%d milliseconds", MaxVideoMS)
		}
		out.Duration = in.Duration
	}
	return ""
}

// jsonObject checks the client's JSON as it came (encoding/json has
// checked it is JSON): an object of at most max bytes, valid UTF-8 (it is
// sent on in text frames as it is).
func jsonObject(b []byte, max int) string {
	if len(b) == 0 || b[0] != '{' {
		return "must be a JSON object"
	}
	if len(b) > max {
		return fmt.Sprintf("must be at most %d bytes as sent (is %d)", max, len(b))
	}
	if !utf8.Valid(b) {
		return "must be UTF-8"
	}
	return ""
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// marshalMessage encodes a message frame with its content as stored:
// byte-for-byte what Encode (or another source of the message) wrote.
func marshalMessage(m Message) []byte {
	content := m.Content
	if len(content) == 0 || !json.Valid(content) {
		b, err := json.Marshal(m)
		if err != nil {
			panic("frame: marshal " + err.Error())
		}
		return b
	}
	type fields Message
	v := struct {
		*fields
		Content json.RawMessage `json:"content,omitempty"` // hides the embedded one
	}{fields: (*fields)(&m)}
	return appendVerbatim(v, "content", content)
}

// marshalHistory encodes a history frame whose messages are encoded by
// marshalMessage.
func marshalHistory(h History) []byte {
	var list []byte
	list = append(list, '[')
	for i, m := range h.Messages {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, marshalMessage(m)...)
	}
	list = append(list, ']')
	type fields History
	v := struct {
		*fields
		Messages []Message `json:"messages,omitempty"` // hides the embedded one
	}{fields: (*fields)(&h)}
	return appendVerbatim(v, "messages", list)
}

// appendVerbatim writes v (a struct whose field named by key, a JSON
// object or array kept raw, was left out of v) and the raw value after it.
func appendVerbatim(v any, key string, raw []byte) []byte {
	b := Marshal(v)
	if bytes.HasSuffix(b, []byte("{}")) {
		return append(append(append(b[:len(b)-1], `"`+key+`":`...), raw...), '}')
	}
	return append(append(append(b[:len(b)-1], `,"`+key+`":`...), raw...), '}')
}
