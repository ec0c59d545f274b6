package frame

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

const file = `"url":"http://h/static/files/1/a.png?exp=1&sig=x","size":3,"mime":"image/png"`

func TestDecodeContent(t *testing.T) {
	tests := []struct {
		name, in string
		field    string // named by the error; "" when it decodes
		stored   string // the stored JSON when it decodes ("" to skip)
	}{
		{"text", `{"kind":"text","text":"hi","url":"dropped"}`, "", `{"kind":"text","text":"hi"}`},
		{"emoji", `{"kind":"emoji","text":"👍"}`, "", `{"kind":"emoji","text":"👍"}`},
		{"empty text", `{"kind":"text","text":""}`, "content.text", ""},
		{"long text", `{"kind":"text","text":"` + strings.Repeat("é", MaxText+1) + `"}`, "content.text", ""},
		{"image", `{"kind":"image",` + file + `,"name":"a.png","width":640,"height":480,"thumbnail":"http://h/t"}`, "",
			`{"kind":"image","url":"http://h/static/files/1/a.png?exp=1\u0026sig=x","name":"a.png","size":3,"mime":"image/png","width":640,"height":480,"thumbnail":"http://h/t"}`},
		{"image without width", `{"kind":"image",` + file + `,"name":"a.png","height":480}`, "content.width", ""},
		{"image too high", `{"kind":"image",` + file + `,"name":"a.png","width":1,"height":100001}`, "content.height", ""},
		{"image without url", `{"kind":"image","name":"a","mime":"image/png","width":1,"height":1}`, "content.url", ""},
		{"file", `{"kind":"file",` + file + `,"name":"a.pdf","width":3}`, "", ""},
		{"file without name", `{"kind":"file",` + file + `}`, "content.name", ""},
		{"file negative size", `{"kind":"file","url":"u","name":"a","size":-1,"mime":"x"}`, "content.size", ""},
		{"file without mime", `{"kind":"file","url":"u","name":"a"}`, "content.mime", ""},
		{"voice", `{"kind":"voice",` + file + `,"duration":1500}`, "", `{"kind":"voice","url":"http://h/static/files/1/a.png?exp=1\u0026sig=x","size":3,"mime":"image/png","duration":1500}`},
		{"voice zero duration", `{"kind":"voice",` + file + `,"duration":0}`, "content.duration", ""},
		{"voice negative duration", `{"kind":"voice",` + file + `,"duration":-5}`, "content.duration", ""},
		{"voice over an hour", `{"kind":"voice",` + file + `,"duration":3600001}`, "content.duration", ""},
		{"voice fractional duration", `{"kind":"voice",` + file + `,"duration":1.5}`, "content", ""},
		{"video", `{"kind":"video",` + file + `,"duration":60000,"width":1920,"height":1080,"thumbnail":"http://h/t"}`, "", ""},
		{"video without height", `{"kind":"video",` + file + `,"duration":60000,"width":1920}`, "content.height", ""},
		{"location", `{"kind":"location","lat":0,"lon":-180,"name":"Null Island"}`, "", `{"kind":"location","name":"Null Island","lat":0,"lon":-180}`},
		{"location without lat", `{"kind":"location","lon":2}`, "content.lat", ""},
		{"lat out of range", `{"kind":"location","lat":90.5,"lon":2}`, "content.lat", ""},
		{"lon out of range", `{"kind":"location","lat":1,"lon":-180.01}`, "content.lon", ""},
		{"lat a string", `{"kind":"location","lat":"1","lon":2}`, "content", ""},
		{"card user", `{"kind":"card","card":{"kind":"user","id":"12"}}`, "", `{"kind":"card","card":{"kind":"user","id":"12"}}`},
		{"card group", `{"kind":"card","card":{"kind":"group","id":"7"}}`, "", ""},
		{"card bad kind", `{"kind":"card","card":{"kind":"bot","id":"7"}}`, "content.card.kind", ""},
		{"card bad id", `{"kind":"card","card":{"kind":"user","id":"07"}}`, "content.card.id", ""},
		{"card missing", `{"kind":"card"}`, "content.card.kind", ""},
		{"custom", `{"kind":"custom","type":"poll.v1","data":{ "q" : "<tea>?", "n":1.50 }}`, "", `{"kind":"custom","type":"poll.v1","data":{ "q" : "<tea>?", "n":1.50 }}`},
		{"custom without data", `{"kind":"custom","type":"poll"}`, "content.data", ""},
		{"custom data not an object", `{"kind":"custom","type":"poll","data":[1]}`, "content.data", ""},
		{"custom data null", `{"kind":"custom","type":"poll","data":null}`, "content.data", ""},
		{"custom data too large", `{"kind":"custom","type":"poll","data":{"a":"` + strings.Repeat("x", MaxCustomData-7) + `"}}`, "content.data", ""},
		{"custom data at the limit", `{"kind":"custom","type":"poll","data":{"a":"` + strings.Repeat("x", MaxCustomData-8) + `"}}`, "", ""},
		{"custom without type", `{"kind":"custom","data":{}}`, "content.type", ""},
		{"custom type with space", `{"kind":"custom","type":"a b","data":{}}`, "content.type", ""},
		{"unknown kind", `{"kind":"sticker"}`, "content.kind", ""},
		{"no kind", `{"text":"x"}`, "content.kind", ""},
		{"ext", `{"kind":"text","text":"x","ext":{"z": [1, 2],"a":"\u00e9"}}`, "", `{"kind":"text","text":"x","ext":{"z": [1, 2],"a":"\u00e9"}}`},
		{"ext too large", `{"kind":"text","text":"x","ext":{"a":"` + strings.Repeat("x", MaxExt) + `"}}`, "content.ext", ""},
		{"ext a string", `{"kind":"text","text":"x","ext":"x"}`, "content.ext", ""},
		{"reply", `{"kind":"text","text":"x","reply_to":{"seq":4}}`, "", `{"kind":"text","text":"x","reply_to":{"seq":4}}`},
		{"reply seq 0", `{"kind":"text","text":"x","reply_to":{"seq":0}}`, "content.reply_to.seq", ""},
		{"mentions", `{"kind":"text","text":"x","mentions":["3","4","3"],"mention_all":true}`, "", `{"kind":"text","text":"x","mentions":["3","4"],"mention_all":true}`},
		{"mention bad id", `{"kind":"text","text":"x","mentions":["3","x"]}`, "content.mentions[1]", ""},
		{"too many mentions", `{"kind":"text","text":"x","mentions":[` + strings.Repeat(`"1",`, MaxMentions) + `"2"]}`, "content.mentions", ""},
		{"forward", `{"forwarded_from":{"conversation":"g:9","seq":2},"ext":{}}`, "", `{"kind":"","forwarded_from":{"conversation":"g:9","seq":2},"ext":{}}`},
		{"forward with kind", `{"kind":"text","text":"x","forwarded_from":{"conversation":"g:9","seq":2}}`, "content.kind", ""},
		{"forward bad conversation", `{"forwarded_from":{"conversation":"u:2:1","seq":2}}`, "content.forwarded_from.conversation", ""},
		{"forward seq 0", `{"forwarded_from":{"conversation":"g:9","seq":0}}`, "content.forwarded_from.seq", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, msg := decodeContent([]byte(tt.in))
			if tt.field != "" {
				if !strings.HasPrefix(msg, tt.field+":") && !strings.HasPrefix(msg, tt.field+" ") {
					t.Fatalf("decodeContent = %q, want an error naming %s", msg, tt.field)
				}
				return
			}
			if msg != "" {
				t.Fatalf("decodeContent: %s", msg)
			}
			if got := string(c.Encode()); tt.stored != "" && got != tt.stored {
				t.Fatalf("stored\n %s\nwant\n %s", got, tt.stored)
			}
		})
	}
}

// TestSendFrameErrorNamesTheContentField: the error frame of a bad
// content names the field and carries the client_msg_id.
func TestSendFrameErrorNamesTheContentField(t *testing.T) {
	_, err := Decode([]byte(`{"type":"send","client_msg_id":"c9","to":{"kind":"group","id":"3"},"content":{"kind":"location","lat":91,"lon":0}}`))
	var fe *Error
	if !errors.As(err, &fe) || fe.Code != CodeBadFrame || fe.ClientMsgID != "c9" || !strings.Contains(fe.Message, "content.lat") {
		t.Fatalf("err = %#v", err)
	}
}

// TestMessageCarriesContentVerbatim: message and history frames carry
// the stored content byte-for-byte (whitespace, escapes, key order,
// number spelling), not as encoding/json would rewrite it.
func TestMessageCarriesContentVerbatim(t *testing.T) {
	content := []byte(`{"kind":"custom","type":"t","data":{ "b" : "<&>" , "a":1.50e3 , "u":"\u00e9" },"ext":{"k" : [ ]}}`)
	m := Message{Type: "message", MsgID: "1", Conversation: "g:2", Seq: 3, From: "4", To: Target{Kind: "group", ID: "2"}, Content: content, TS: 5}
	b := Marshal(m)
	if !bytes.Contains(b, append([]byte(`"content":`), content...)) || !json.Valid(b) {
		t.Fatalf("message frame %s", b)
	}
	want := `{"type":"message","msg_id":"1","conversation":"g:2","seq":3,"from":"4","to":{"kind":"group","id":"2"},"ts":5,"content":` + string(content) + `}`
	if string(b) != want {
		t.Fatalf("message frame\n %s\nwant\n %s", b, want)
	}
	h := Marshal(History{Type: "history", Conversation: "g:2", Messages: []Message{m, m}, HasMore: true})
	if !json.Valid(h) || bytes.Count(h, content) != 2 || !bytes.Contains(h, []byte(`"has_more":true`)) {
		t.Fatalf("history frame %s", h)
	}
	if e := Marshal(History{Type: "history", Conversation: "g:2", Messages: []Message{}}); string(e) != `{"type":"history","conversation":"g:2","has_more":false,"messages":[]}` {
		t.Fatalf("empty history %s", e)
	}
}

// storedAgain: content Decode accepted encodes to JSON that decodes again
// to the same stored bytes, with data and ext in it as they came.
func storedAgain(c Content) bool {
	enc := c.Encode()
	if !json.Valid(enc) || !utf8.Valid(enc) || !bytes.Contains(enc, c.Data) || !bytes.Contains(enc, c.Ext) {
		return false
	}
	again, msg := decodeContent(enc)
	return msg == "" && bytes.Equal(again.Encode(), enc)
}

// FuzzDecodeContent: the content decoder never panics; what it accepts
// is stored as valid UTF-8 JSON that decodes again to the same bytes,
// within the limits, and a message frame carries it verbatim.
func FuzzDecodeContent(f *testing.F) {
	for _, s := range []string{
		`{"kind":"text","text":"hi","reply_to":{"seq":1},"mentions":["1"],"ext":{"a" : 1}}`,
		`{"kind":"image",` + file + `,"name":"a","width":1,"height":2,"thumbnail":"t"}`,
		`{"kind":"voice",` + file + `,"duration":9}`,
		`{"kind":"video",` + file + `,"duration":9,"width":3,"height":4}`,
		`{"kind":"location","lat":-90,"lon":180,"name":"x"}`,
		`{"kind":"card","card":{"kind":"group","id":"5"}}`,
		`{"kind":"custom","type":"a.b","data":{"x":[1,{"y":"\ud800"}]}}`,
		`{"forwarded_from":{"conversation":"u:1:2","seq":3}}`,
		`{"kind":"custom","type":"t","data":{"a":"\xff"}}`, `{"lat":1e999}`, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, msg := decodeContent(b)
		if msg != "" {
			if !strings.HasPrefix(msg, "content") {
				t.Fatalf("decodeContent(%q): %q names no field", b, msg)
			}
			return
		}
		if !storedAgain(c) {
			t.Fatalf("decodeContent(%q) = %+v: not stored again as it is", b, c)
		}
		if len(c.Data) > MaxCustomData || len(c.Ext) > MaxExt || len(c.Mentions) > MaxMentions || len(c.Mentions) != len(c.MentionIDs) {
			t.Fatalf("decodeContent(%q) = %+v: over a limit", b, c)
		}
		if c.ForwardedFrom == nil && !strings.Contains(strings.Join(ClientKinds, ","), c.Kind) {
			t.Fatalf("decodeContent(%q): kind %q", b, c.Kind)
		}
		enc := c.Encode()
		fr := Marshal(Message{Type: "message", Content: enc})
		if !json.Valid(fr) || !utf8.Valid(fr) || !bytes.Contains(fr, enc) {
			t.Fatalf("message frame of %s: %s", enc, fr)
		}
	})
}
