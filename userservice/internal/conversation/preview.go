package conversation

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// PreviewRunes bounds a preview.
const PreviewRunes = 100

// Preview is the text the list shows of a message, cut to PreviewRunes
// characters: the text of a text or emoji message and of an edit event (the
// new text), the file name of an image or file, the place name of a
// location, the application type of a custom message, the emoji of a
// reaction event, the event of a group system message. Other kinds (voice,
// video, card, recall and recalled, cleared) have none: the kind says it. content may be a prefix
// of the JSON (the DataService cut it): the text is then read up to where
// it stops.
func Preview(kind string, content []byte) string {
	var c struct {
		Text  string `json:"text"`
		Name  string `json:"name"`
		Event string `json:"event"`
		Type  string `json:"type"`
		Emoji string `json:"emoji"`
	}
	if json.Unmarshal(content, &c) != nil {
		c.Text, c.Name, c.Event = prefixField(content, "text"), prefixField(content, "name"), prefixField(content, "event")
		c.Type, c.Emoji = prefixField(content, "type"), prefixField(content, "emoji")
	}
	var s string
	switch kind {
	case "text", "emoji", "edit":
		s = c.Text
	case "image", "file", "location":
		s = c.Name
	case "custom":
		s = c.Type
	case "react", "unreact":
		s = c.Emoji
	case "group_event":
		s = c.Event
	}
	return cut(s, PreviewRunes)
}

// prefixField reads the string field key of a JSON object that may be cut
// short, as far as it goes.
func prefixField(b []byte, key string) string {
	s := string(b)
	i := strings.Index(s, `"`+key+`":"`)
	if i < 0 {
		return ""
	}
	s = s[i+len(key)+4:]
	var out strings.Builder
	for len(s) > 0 && out.Len() < 4*PreviewRunes {
		switch s[0] {
		case '"':
			return out.String()
		case '\\':
			// Decode one escape with encoding/json; a cut one ends the text.
			n := 2
			if len(s) > 1 && s[1] == 'u' {
				n = 6
			}
			if len(s) < n {
				return out.String()
			}
			var r string
			if json.Unmarshal([]byte(`"`+s[:n]+`"`), &r) != nil {
				return out.String()
			}
			out.WriteString(r)
			s = s[n:]
		default:
			r, size := utf8.DecodeRuneInString(s)
			if r == utf8.RuneError && size <= 1 {
				return out.String()
			}
			out.WriteString(s[:size])
			s = s[size:]
		}
	}
	return out.String()
}

// cut keeps the first n characters of s.
func cut(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
