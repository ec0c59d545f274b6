package browsertest

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTwoUsersChat is issue 16's first scenario: Ann and Bob sign up in two
// browser contexts, Bob finds Ann by her Chinese name and asks, Ann
// accepts; they write both ways; Ann sends an image that both see rendered;
// Bob closes his page, Ann sends three, Bob opens the app again and finds
// them in order with an unread count of 3.
func TestTwoUsersChat(t *testing.T) {
	chromium, build := requireBrowser(t)
	st := startStack(t, build)
	ann := newUser(t, chromium, "ann", st.Base)
	bob := newUser(t, chromium, "bob", st.Base)
	run := time.Now().UnixNano()

	ann.signUp("安娜 Ann", fmt.Sprintf("ann-%d@example.com", run), "correct horse 1")
	bob.signUp("Bob", fmt.Sprintf("bob-%d@example.com", run), "correct horse 2")

	// Bob finds Ann by the Chinese half of her name and asks.
	bob.open("/friends")
	bob.fill("input[name=q]", "安娜")
	bob.click("form[role=search] button", "Search")
	bob.click("ul[aria-label='Search results'] button", "Add friend")
	bob.wait("request sent", `document.querySelector("p.ok[role=status]").textContent.includes("Request sent")`)

	// Ann accepts and opens the chat from her friend list.
	ann.open("/friends")
	ann.click("ul[aria-label='Requests to you'] button", "Accept")
	ann.click("ul[aria-label='Your friends'] a", "Message")
	ann.wait("chat open", `document.querySelector("section.chat[data-conv] #composer")`)
	ann.send("Hello Bob, 你好!")

	// Bob sees it in his list, opens it, answers.
	bob.open("/")
	bob.click("a.conv", "安娜 Ann")
	bob.waitMessage("Hello Bob, 你好!")
	bob.send("Hi Ann 👋")
	ann.waitMessage("Hi Ann 👋")

	// An image, uploaded then sent, rendered on both sides.
	ann.upload(writePNG(t, 64, 48))
	for _, tb := range []*tab{ann, bob} {
		tb.wait("the image rendered", `[...document.querySelectorAll("ol.messages img.image")].some((i) => i.complete && i.naturalWidth === 64)`)
	}
	ann.shot("chat")

	// Bob goes away; Ann sends three; Bob comes back.
	bob.closePage()
	for _, m := range []string{"one", "two", "three"} {
		ann.send(m)
	}
	bob.open("/")
	bob.wait("3 unread from Ann", `(() => { const a = [...document.querySelectorAll("a.conv")].find((e) => e.textContent.includes("安娜 Ann")); return a && a.querySelector("[data-unread='3']"); })()`)
	bob.shot("list")
	bob.click("a.conv", "安娜 Ann")
	bob.waitMessage("three")
	got := bob.text("the last messages", `JSON.stringify([...document.querySelectorAll("ol.messages li.msg .text")].map((e) => e.textContent).slice(-3))`)
	if got != `["one","two","three"]` {
		t.Errorf("Bob's last three messages are %s, want one, two, three in order", got)
	}
	// Reading clears the count on the list.
	bob.wait("read", `!document.querySelector("a.conv [data-unread]")`)
}

// TestGroupOfThree: Ann creates a group with Bob and Carol in the app; each
// of the three writes and the others see it.
func TestGroupOfThree(t *testing.T) {
	chromium, build := requireBrowser(t)
	st := startStack(t, build)
	run := time.Now().UnixNano()
	users := map[string]*tab{}
	tokens := map[string]string{}
	ids := map[string]string{}
	for _, n := range []string{"Ann", "Bob", "Carol"} {
		tb := newUser(t, chromium, strings.ToLower(n), st.Base)
		tb.signUp(n, fmt.Sprintf("%s-%d@example.com", strings.ToLower(n), run), "correct horse 3")
		users[n] = tb
		tokens[n] = tb.text("token", `JSON.parse(localStorage.getItem("privateim.session")).token`)
		ids[n] = tb.text("id", `JSON.parse(localStorage.getItem("privateim.session")).me.id`)
	}
	// Friendships through the API: the first test walks them in the app.
	for _, n := range []string{"Bob", "Carol"} {
		if code, body := st.call(t, "POST", "/api/v1/friends/requests", tokens["Ann"], map[string]string{"user_id": ids[n]}); code >= 300 {
			t.Fatalf("friend request to %s: %d %v", n, code, body)
		}
		if code, body := st.call(t, "POST", "/api/v1/friends/requests/"+ids["Ann"]+"/accept", tokens[n], map[string]string{}); code >= 300 {
			t.Fatalf("%s accepts: %d %v", n, code, body)
		}
	}
	ann := users["Ann"]
	ann.open("/groups")
	ann.fill("form.stack input[name=name]", "Engines")
	ann.wait("friends listed", `document.querySelectorAll("input[name=member]").length === 2`)
	ann.js("pick Bob and Carol", `document.querySelectorAll("input[name=member]").forEach((e) => (e.checked = true))`)
	ann.click("form.stack button[type=submit]", "Create")
	ann.wait("group chat open", `document.querySelector("section.chat[data-conv^='g:'] #composer")`)
	ann.send("Welcome, engineers")
	for _, n := range []string{"Bob", "Carol"} {
		tb := users[n]
		tb.open("/")
		tb.click("a.conv", "Engines")
		tb.waitMessage("Welcome, engineers")
		tb.send("Hello from " + n)
	}
	for _, n := range []string{"Ann", "Bob", "Carol"} {
		for _, from := range []string{"Bob", "Carol"} {
			users[n].waitMessage("Hello from " + from)
		}
	}
	ann.shot("group")
}

// send writes text into the open conversation's composer and sends it,
// then waits until the server stored it (the message is in the log).
func (tb *tab) send(text string) {
	tb.t.Helper()
	tb.fill("#composer", text)
	tb.click("form.composer button.send", "Send")
	tb.waitMessage(text)
}

// waitMessage waits until the open conversation's log shows text.
func (tb *tab) waitMessage(text string) {
	tb.t.Helper()
	tb.wait(fmt.Sprintf("message %q", text), fmt.Sprintf(`[...document.querySelectorAll("ol.messages[role=log] li.msg")].some((e) => e.textContent.includes(%q))`, text))
}

// upload attaches a file in the open conversation.
func (tb *tab) upload(path string) {
	tb.t.Helper()
	tb.do("attach "+path, setFiles("#attach", path))
}

func writePNG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 200, 255})
		}
	}
	p := filepath.Join(t.TempDir(), "picture.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}
