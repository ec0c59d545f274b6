package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPasswordReset: the reset mail's link (read from mailpit) opens the
// app's reset page, which sets the new password; signing in with it works.
func TestPasswordReset(t *testing.T) {
	chromium, build := requireBrowser(t)
	st := startStack(t, build)
	email := fmt.Sprintf("rita-%d@example.com", time.Now().UnixNano())
	if code, body := st.call(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": "Rita", "email": email, "password": "old password 1"}); code >= 300 {
		t.Fatalf("sign up: %d %v", code, body)
	}
	rita := newUser(t, chromium, "rita", st.Base)
	rita.open("/signin")
	rita.click("a", "Forgot password?")
	rita.fill("input[name=email]", email)
	rita.click("form button[type=submit]", "Send the reset link")
	rita.wait("told the mail is on its way", `document.querySelector("p.ok").textContent.includes("reset link is on its way")`)

	link, _ := st.Mail.WaitLink(t, email, "Reset your PrivateIM password", "/reset-password", 1, 30*time.Second)
	if !strings.HasPrefix(link, st.Base+"/reset-password?token=") {
		t.Fatalf("the reset link %s does not open the app at %s", link, st.Base)
	}
	rita.do("open the mail's link", navigate(link))
	rita.fill("input[name=password]", "new password 2")
	rita.click("form button[type=submit]", "Set the password")
	rita.wait("password set", `document.querySelector("p.ok").textContent.includes("Your password is set")`)

	rita.click("p.ok a", "Sign in")
	rita.fill("input[name=email]", email)
	rita.fill("input[name=password]", "new password 2")
	rita.click("form button[type=submit]", "Sign in")
	rita.wait("signed in with the new password", `document.querySelector(".conn[data-state=open]")`)
}

// TestBadInputShowsTheServersError: a wrong password, an over-long message
// and a text file as avatar are refused by the services, and the app shows
// their own words; the app goes on working after each.
func TestBadInputShowsTheServersError(t *testing.T) {
	chromium, build := requireBrowser(t)
	st := startStack(t, build)
	run := time.Now().UnixNano()
	email := fmt.Sprintf("vic-%d@example.com", run)
	_, body := st.call(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": "Vic", "email": email, "password": "right password 1"})
	token, _ := body["token"].(string)

	// A wrong password: the userservice's message, as it answers it.
	_, wrong := st.call(t, "POST", "/api/v1/auth/signin", "", map[string]string{"email": email, "password": "wrong password"})
	want := errorMessage(wrong)
	if want == "" {
		t.Fatalf("the userservice answered a wrong password with %v", wrong)
	}
	vic := newUser(t, chromium, "vic", st.Base)
	vic.open("/signin")
	vic.fill("input[name=email]", email)
	vic.fill("input[name=password]", "wrong password")
	vic.click("form button[type=submit]", "Sign in")
	vic.wait("the server's error shown", fmt.Sprintf(`document.querySelector("p.error[role=alert]").textContent === %q`, want))
	vic.fill("input[name=password]", "right password 1")
	vic.click("form button[type=submit]", "Sign in")
	vic.wait("signed in", `document.querySelector(".conn[data-state=open]")`)

	// A text file as avatar: the same words as the API's answer.
	txt := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(txt, []byte("not an image at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want = avatarRefusal(t, st, token, txt)
	vic.open("/me")
	vic.do("choose the text file as avatar", setFiles("input[name=avatar]", txt))
	vic.wait("the avatar refusal shown", fmt.Sprintf(`document.querySelector("section.page p.error[role=alert]").textContent === %q`, want))

	// An over-long message, to a friend: the messageservice names the field.
	_, friend := st.call(t, "POST", "/api/v1/auth/signup", "", map[string]string{"name": "Wes", "email": fmt.Sprintf("wes-%d@example.com", run), "password": "right password 2"})
	wesToken, _ := friend["token"].(string)
	wes, _ := friend["user"].(map[string]any)
	wesID, _ := wes["id"].(string)
	vicID := vic.text("id", `JSON.parse(localStorage.getItem("privateim.session")).me.id`)
	st.call(t, "POST", "/api/v1/friends/requests", token, map[string]string{"user_id": wesID})
	if code, b := st.call(t, "POST", "/api/v1/friends/requests/"+vicID+"/accept", wesToken, map[string]string{}); code >= 300 {
		t.Fatalf("accept: %d %v", code, b)
	}
	vic.open("/friends")
	vic.click("ul[aria-label='Your friends'] a", "Message")
	vic.fill("#composer", strings.Repeat("x", 8001))
	vic.click("form.composer button.send", "Send")
	vic.wait("the over-long refusal shown", `[...document.querySelectorAll("section.chat [role=alert], section.chat .failed")].some((e) => e.textContent.includes("content.text"))`)
	vic.shot("too-long")
	vic.send("a short one goes through")
}

// avatarRefusal is the userservice's message for path as an avatar.
func avatarRefusal(t *testing.T, st *stack, token, path string) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile("avatar", filepath.Base(path))
	b, _ := os.ReadFile(path)
	part.Write(b)
	w.Close()
	req, _ := http.NewRequest("PUT", st.Users+"/api/v1/me/avatar", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode < 400 || errorMessage(out) == "" {
		t.Fatalf("a text file as avatar: %d %v", res.StatusCode, out)
	}
	return errorMessage(out)
}
