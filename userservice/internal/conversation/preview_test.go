package conversation

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreview(t *testing.T) {
	long := strings.Repeat("é", 150)
	for _, tt := range []struct {
		name, kind, content, want string
	}{
		{"text", "text", `{"kind":"text","text":"hello"}`, "hello"},
		{"emoji", "emoji", `{"kind":"emoji","text":"👍"}`, "👍"},
		{"long text cut to 100 characters", "text", `{"kind":"text","text":"` + long + `"}`, strings.Repeat("é", 100)},
		{"cut JSON", "text", `{"kind":"text","text":"` + long[:51], strings.Repeat("é", 25)},
		{"cut JSON in an escape", "text", `{"kind":"text","text":"a\"b\u00`, `a"b`},
		{"image", "image", `{"kind":"image","url":"http://x/y","name":"cat.png","size":3,"mime":"image/png"}`, "cat.png"},
		{"file", "file", `{"kind":"file","url":"http://x/y","name":"a.pdf","size":3,"mime":"application/pdf"}`, "a.pdf"},
		{"group event", "group_event", `{"kind":"group_event","event":"member_joined","actor":"1","users":["1"]}`, "member_joined"},
		{"location", "location", `{"kind":"location","lat":31.2,"lon":121.5,"name":"外滩"}`, "外滩"},
		{"custom", "custom", `{"kind":"custom","type":"vote","data":{"q":"lunch?"}}`, "vote"},
		{"edit event", "edit", `{"kind":"edit","target_seq":2,"text":"hello again","edited_at":1}`, "hello again"},
		{"reaction event", "react", `{"kind":"react","target_seq":2,"emoji":"👍","user":"202"}`, "👍"},
		{"recall event", "recall", `{"kind":"recall","target_seq":3,"by":"101"}`, ""},
		{"recalled", "recalled", `{"kind":"recalled","by":"101"}`, ""},
		{"voice", "voice", `{"kind":"voice","url":"http://x/y","duration":3000}`, ""},
		{"unknown kind", "poll", `{"kind":"poll"}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Preview(tt.kind, []byte(tt.content))
			if got != tt.want || utf8.RuneCountInString(got) > PreviewRunes {
				t.Fatalf("Preview = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseName(t *testing.T) {
	for _, s := range []string{"u:1:2", "g:5", "s:7", "sys:9"} {
		n, err := ParseName(s)
		if err != nil || n.String() != s {
			t.Errorf("ParseName(%q) = %v, %v", s, n, err)
		}
	}
	for _, s := range []string{"", "u:2:1", "u:1:1", "g:0", "g:01", "x:1", "g:-1", "sys:", "u:1"} {
		if _, err := ParseName(s); err == nil {
			t.Errorf("ParseName(%q) accepted", s)
		}
	}
}
