package frame

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeLifecycle(t *testing.T) {
	long := strings.Repeat("é", MaxText+1)
	tests := []struct {
		name  string
		in    string
		want  any    // the frame, when it decodes
		code  string // else the error code,
		field string // the field its message names first
		id    string // and the client_msg_id it carries
	}{
		{"recall", `{"type":"recall","client_msg_id":"r1","conversation":"u:1:2","seq":4}`,
			&Recall{ClientMsgID: "r1", Conversation: "u:1:2", Seq: 4}, "", "", ""},
		{"edit", `{"type":"edit","client_msg_id":"e1","conversation":"g:9","seq":1,"text":"fixed"}`,
			&Edit{ClientMsgID: "e1", Conversation: "g:9", Seq: 1, Text: "fixed"}, "", "", ""},
		{"react", `{"type":"react","client_msg_id":"x1","conversation":"g:9","seq":2,"emoji":"👍🏽"}`,
			&React{ClientMsgID: "x1", Conversation: "g:9", Seq: 2, Emoji: "👍🏽"}, "", "", ""},
		{"unreact", `{"type":"unreact","client_msg_id":"x2","conversation":"g:9","seq":2,"emoji":"👍"}`,
			&React{ClientMsgID: "x2", Conversation: "g:9", Seq: 2, Emoji: "👍", Remove: true}, "", "", ""},
		{"react no emoji", `{"type":"react","client_msg_id":"x3","conversation":"g:9","seq":2}`, nil, CodeBadFrame, "emoji", "x3"},
		{"react space", `{"type":"react","client_msg_id":"x4","conversation":"g:9","seq":2,"emoji":"a b"}`, nil, CodeBadFrame, "emoji", "x4"},
		{"react long", `{"type":"react","client_msg_id":"x5","conversation":"g:9","seq":2,"emoji":"` + strings.Repeat("👍", 17) + `"}`, nil, CodeBadFrame, "emoji", "x5"},
		{"unreact no seq", `{"type":"unreact","client_msg_id":"x6","conversation":"g:9","emoji":"👍"}`, nil, CodeBadFrame, "seq", "x6"},
		{"delete for me", `{"type":"delete_for_me","client_msg_id":"d1","conversation":"u:1:2","seq":9}`,
			&DeleteForMe{ClientMsgID: "d1", Conversation: "u:1:2", Seq: 9}, "", "", ""},
		{"delete for me no seq", `{"type":"delete_for_me","client_msg_id":"d2","conversation":"u:1:2"}`, nil, CodeBadFrame, "seq", "d2"},
		{"delete for me no conversation", `{"type":"delete_for_me","client_msg_id":"d3","seq":1}`, nil, CodeBadFrame, "conversation", "d3"},
		{"recall no client id", `{"type":"recall","conversation":"u:1:2","seq":4}`, nil, CodeBadFrame, "client_msg_id", ""},
		{"recall long client id", `{"type":"recall","client_msg_id":"` + strings.Repeat("a", 65) + `","conversation":"u:1:2","seq":4}`, nil, CodeBadFrame, "client_msg_id", ""},
		{"recall no conversation", `{"type":"recall","client_msg_id":"r1","seq":4}`, nil, CodeBadFrame, "conversation", "r1"},
		{"recall bad conversation", `{"type":"recall","client_msg_id":"r1","conversation":"u:2:1","seq":4}`, nil, CodeBadFrame, "", "r1"},
		{"recall no seq", `{"type":"recall","client_msg_id":"r1","conversation":"u:1:2"}`, nil, CodeBadFrame, "seq", "r1"},
		{"recall seq 0", `{"type":"recall","client_msg_id":"r1","conversation":"u:1:2","seq":0}`, nil, CodeBadFrame, "seq", "r1"},
		{"recall seq string", `{"type":"recall","client_msg_id":"r1","conversation":"u:1:2","seq":"4"}`, nil, CodeBadFrame, "", ""},
		{"edit no text", `{"type":"edit","client_msg_id":"e1","conversation":"g:9","seq":1}`, nil, CodeBadFrame, "text", "e1"},
		{"edit empty text", `{"type":"edit","client_msg_id":"e1","conversation":"g:9","seq":1,"text":""}`, nil, CodeBadFrame, "text", "e1"},
		{"edit long text", `{"type":"edit","client_msg_id":"e1","conversation":"g:9","seq":1,"text":"` + long + `"}`, nil, CodeBadFrame, "text", "e1"},
		{"edit no seq", `{"type":"edit","client_msg_id":"e1","conversation":"g:9","text":"x"}`, nil, CodeBadFrame, "seq", "e1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				switch w := tt.want.(type) {
				case *Recall:
					if g, ok := got.(*Recall); !ok || *g != *w {
						t.Fatalf("Decode = %#v, want %#v", got, w)
					}
				case *Edit:
					if g, ok := got.(*Edit); !ok || *g != *w {
						t.Fatalf("Decode = %#v, want %#v", got, w)
					}
				case *React:
					if g, ok := got.(*React); !ok || *g != *w {
						t.Fatalf("Decode = %#v, want %#v", got, w)
					}
				case *DeleteForMe:
					if g, ok := got.(*DeleteForMe); !ok || *g != *w {
						t.Fatalf("Decode = %#v, want %#v", got, w)
					}
				}
				if ClientID(got) == "" {
					t.Errorf("ClientID(%T) is empty", got)
				}
				return
			}
			var fe *Error
			if got != nil || !errors.As(err, &fe) || fe.Code != tt.code {
				t.Fatalf("Decode = %v, %v; want code %s and no frame", got, err, tt.code)
			}
			if !strings.HasPrefix(fe.Message, tt.field) {
				t.Errorf("message %q does not start with the field %q", fe.Message, tt.field)
			}
			if fe.ClientMsgID != tt.id {
				t.Errorf("client_msg_id %q, want %q", fe.ClientMsgID, tt.id)
			}
		})
	}
}
