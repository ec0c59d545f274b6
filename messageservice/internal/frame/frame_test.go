package frame

import (
	"errors"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/conv"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any    // a frame type, when it decodes
		code string // else the error code
	}{
		{"send text", `{"type":"send","client_msg_id":"c1","to":{"kind":"user","id":"12"},"content":{"kind":"text","text":"hi"}}`, &Send{}, ""},
		{"send file", `{"type":"send","client_msg_id":"c1","to":{"kind":"group","id":"3"},"content":{"kind":"file","url":"http://h/static/a","name":"a.pdf","size":3,"mime":"application/pdf"}}`, &Send{}, ""},
		{"ack", `{"type":"ack","conversation":"u:1:2","seq":4}`, &Ack{}, ""},
		{"read", `{"type":"read","conversation":"g:9","seq":1}`, &Read{}, ""},
		{"sync", `{"type":"sync","conversation":"g:9","after_seq":0,"limit":200}`, &Sync{}, ""},
		{"versions", `{"type":"versions","conversation":"g:9","seq":3}`, &Versions{}, ""},
		{"versions with limit", `{"type":"versions","conversation":"u:1:2","seq":3,"limit":200}`, &Versions{}, ""},
		{"versions no seq", `{"type":"versions","conversation":"g:9"}`, nil, CodeBadFrame},
		{"versions limit 0", `{"type":"versions","conversation":"g:9","seq":3,"limit":0}`, nil, CodeBadFrame},
		{"versions over limit", `{"type":"versions","conversation":"g:9","seq":3,"limit":201}`, nil, CodeBadFrame},
		{"versions bad conversation", `{"type":"versions","conversation":"g:x","seq":3}`, nil, CodeBadFrame},
		{"ping", `{"type":"ping"}`, &Ping{}, ""},
		{"typing", `{"type":"typing","conversation":"g:9"}`, &Typing{}, ""},
		{"typing no conversation", `{"type":"typing"}`, nil, CodeBadFrame},
		{"typing bad conversation", `{"type":"typing","conversation":"g:x"}`, nil, CodeBadFrame},
		{"not json", `hello`, nil, CodeBadFrame},
		{"array", `[1]`, nil, CodeBadFrame},
		{"no type", `{}`, nil, CodeBadFrame},
		{"type not string", `{"type":1}`, nil, CodeBadFrame},
		{"unknown", `{"type":"dance"}`, nil, CodeUnknownType},
		{"empty client id", `{"type":"send","client_msg_id":"","to":{"kind":"user","id":"1"},"content":{"kind":"text","text":"x"}}`, nil, CodeBadFrame},
		{"long client id", `{"type":"send","client_msg_id":"` + strings.Repeat("a", 65) + `","to":{"kind":"user","id":"1"},"content":{"kind":"text","text":"x"}}`, nil, CodeBadFrame},
		{"bad kind", `{"type":"send","client_msg_id":"c","to":{"kind":"bot","id":"1"},"content":{"kind":"text","text":"x"}}`, nil, CodeBadFrame},
		{"bad id", `{"type":"send","client_msg_id":"c","to":{"kind":"user","id":"01"},"content":{"kind":"text","text":"x"}}`, nil, CodeBadFrame},
		{"empty text", `{"type":"send","client_msg_id":"c","to":{"kind":"user","id":"1"},"content":{"kind":"text","text":""}}`, nil, CodeBadFrame},
		{"image without url", `{"type":"send","client_msg_id":"c","to":{"kind":"user","id":"1"},"content":{"kind":"image","name":"a","mime":"image/png"}}`, nil, CodeBadFrame},
		{"ack bad conversation", `{"type":"ack","conversation":"u:2:1","seq":4}`, nil, CodeBadFrame},
		{"ack no seq", `{"type":"ack","conversation":"u:1:2"}`, nil, CodeBadFrame},
		{"sync over limit", `{"type":"sync","conversation":"g:9","limit":201}`, nil, CodeBadFrame},
		{"sync negative", `{"type":"sync","conversation":"g:9","after_seq":-1}`, nil, CodeBadFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.code != "" {
				var fe *Error
				if !errors.As(err, &fe) || fe.Code != tt.code {
					t.Fatalf("Decode = %v, %v; want code %s", got, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if gotT, wantT := typeName(got), typeName(tt.want); gotT != wantT {
				t.Fatalf("Decode = %s, want %s", gotT, wantT)
			}
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *Send:
		return "send"
	case *Ack:
		return "ack"
	case *Read:
		return "read"
	case *Sync:
		return "sync"
	case *Versions:
		return "versions"
	case *Ping:
		return "ping"
	}
	return "?"
}

func TestSendErrorCarriesClientMsgID(t *testing.T) {
	_, err := Decode([]byte(`{"type":"send","client_msg_id":"c7","to":{"kind":"user","id":"x"},"content":{"kind":"text","text":"x"}}`))
	var fe *Error
	if !errors.As(err, &fe) || fe.ClientMsgID != "c7" {
		t.Fatalf("err = %#v, want client_msg_id c7", err)
	}
}

// FuzzDecode: Decode never panics, returns exactly one of a frame or an
// error, errors are *Error with a protocol code, and what it accepts has
// valid fields.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"send","client_msg_id":"c1","to":{"kind":"user","id":"12"},"content":{"kind":"text","text":"hi"}}`,
		`{"type":"ack","conversation":"u:1:2","seq":4}`,
		`{"type":"sync","conversation":"g:9","after_seq":3,"limit":20}`,
		`{"type":"read","conversation":"sys:9","seq":1}`,
		`{"type":"ping"}`, `{"type":"x"}`, `[]`, `{"type":"send","content":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode(b)
		if (v == nil) == (err == nil) {
			t.Fatalf("Decode(%q) = %v, %v: want exactly one", b, v, err)
		}
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || (fe.Code != CodeBadFrame && fe.Code != CodeUnknownType) {
				t.Fatalf("Decode(%q): error %v is not a protocol error", b, err)
			}
			return
		}
		switch fr := v.(type) {
		case *Send:
			if fr.ClientMsgID == "" || fr.ToID < 1 || !storedAgain(fr.Content) {
				t.Fatalf("Decode(%q) accepted %+v", b, fr)
			}
		case *Ack:
			if _, err := conv.Parse(fr.Conversation); err != nil || fr.Seq < 1 {
				t.Fatalf("Decode(%q) accepted %+v", b, fr)
			}
		case *Sync:
			if fr.Limit < 1 || fr.Limit > MaxSyncLimit || fr.AfterSeq < 0 {
				t.Fatalf("Decode(%q) accepted %+v", b, fr)
			}
		}
	})
}

func BenchmarkDecodeSend(b *testing.B) {
	in := []byte(`{"type":"send","client_msg_id":"c-123456","to":{"kind":"group","id":"383162417879715840"},"content":{"kind":"text","text":"hello, how are you today?"}}`)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalMessage(b *testing.B) {
	m := Message{Type: "message", MsgID: "383162417879715840", Conversation: "g:383162417879715841", Seq: 42,
		From: "383162417674194944", To: Target{Kind: "group", ID: "383162417879715841"},
		Content: []byte(`{"kind":"text","text":"hello, how are you today?"}`), TS: 1795420239236}
	for b.Loop() {
		_ = Marshal(m)
	}
}
