package security

import (
	"net/http"
	"strings"
	"testing"

	"github.com/privateim/privateim/foundation/apitest"
	"github.com/privateim/privateim/messageservice/internal/mstest"
)

// sendFile sends an image message of url from c to user to.
func sendFile(c *mstest.Client, id, to, url string) {
	c.WriteJSON(map[string]any{
		"type": "send", "client_msg_id": id, "to": map[string]string{"kind": "user", "id": to},
		"content": map[string]any{"kind": "image", "url": url, "name": "cat.png", "size": 5, "mime": "image/png", "width": 4, "height": 3},
	})
}

// TestMessageURLToForeignHostRefused sends image messages whose url points
// anywhere but this deployment's file store (FILE_BASE_URL, by default the
// userservice's PUBLIC_URL + /static/, which the stack's userservice
// uses): each is refused with a bad_frame naming the content's url and reaches
// nobody, while the URL the userservice answered for an upload goes
// through.
func TestMessageURLToForeignHostRefused(t *testing.T) {
	t.Parallel()
	st, n, a, b := friends(t, nil)
	ca, cb := n.Dial(t, a, "a1"), n.Dial(t, b, "b1")

	r := apitest.NewAPI(st.Users.URL).Upload(t, http.MethodPost, "/api/v1/files", a.Token, "file", "cat.png", []byte("\x89PNG\r\n\x1a\nnot really"))
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var f struct {
		URL string `json:"url"`
	}
	r.Decode(t, &f)
	path := f.URL[strings.Index(f.URL, "/static/"):] // /static/files/<id>/<hex>.png?exp=...&sig=...

	for name, url := range map[string]string{
		"another host":           "https://evil.example" + path,
		"look-alike host":        "http://127.0.0.1.evil.example:8080" + path,
		"another port":           "http://127.0.0.1:8081" + path,
		"user info":              "http://attacker@127.0.0.1:8080" + path,
		"relative":               path,
		"outside the file store": "http://127.0.0.1:8080/api/v1/me",
		"an avatar path":         "http://127.0.0.1:8080/static/avatars/0123456789abcdef0123456789abcdef.png",
		"traversal":              "http://127.0.0.1:8080/static/files/1/../../../api/v1/me?exp=1&sig=x",
		"unsigned":               strings.Split(f.URL, "?")[0],
		"extra query":            f.URL + "&next=https://evil.example",
		"javascript":             "javascript:alert(1)",
		"internal address":       "http://169.254.169.254/latest/meta-data/",
	} {
		t.Run(name, func(t *testing.T) {
			sendFile(ca, "m-"+strings.ReplaceAll(name, " ", "-"), b.ID, url)
			e := ca.Await("error", wait)
			if e.Code != "bad_frame" || !strings.Contains(e.Message, "content.url: must be") || e.ClientMsgID != "m-"+strings.ReplaceAll(name, " ", "-") {
				t.Fatalf("error %s, want bad_frame naming content url for this client_msg_id", e.Raw)
			}
		})
	}
	if got := mstest.Messages(cb.UntilPong(wait)); len(got) != 0 {
		t.Fatalf("the receiver got %d messages of refused urls: %v", len(got), got)
	}

	sendFile(ca, "m-ok", b.ID, f.URL)
	ca.Await("sent", wait)
	m := cb.Await("message", wait)
	if !strings.Contains(string(m.Content), "/static/files/"+a.ID+"/") {
		t.Fatalf("message content %s, want the uploaded file's URL", m.Content)
	}
}
