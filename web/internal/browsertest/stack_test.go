package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/privateim/privateim/foundation/filelock"
	"github.com/privateim/privateim/foundation/poll"
	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/web/internal/gateway"
)

// stack is the real PrivateIM behind a webgateway, as `make run` starts it:
// a DataService, NATS, a userservice that mails to mailpit, a message node,
// and the gateway serving the built app at Base.
type stack struct {
	Base  string // http://127.0.0.1:port, the one origin
	Users string // the userservice itself, for the tests' own API calls
	Mail  *stacktest.Mailpit
}

// requireBrowser waits for a running scripts/web.sh (it holds
// .dev/web.lock while it builds, .dev/chromium.lock while it installs
// chromium), then fails, never skips, when chromium or the app's build is
// missing: make test provides both, so their absence is a broken setup,
// not a reason to pass. It returns chromium's path and the build.
func requireBrowser(t *testing.T) (chromium string, build fs.FS) {
	t.Helper()
	root := stacktest.Root(t)
	for _, l := range []string{"web.lock", "chromium.lock"} {
		unlock, err := filelock.Lock(filepath.Join(root, ".dev", l))
		if err != nil {
			t.Fatal(err)
		}
		unlock()
	}
	// The build on disk, not the one embedded in this test binary: go test
	// may have compiled it before scripts/web.sh finished.
	dist := filepath.Join(root, "web", "app", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		t.Fatalf("the web app is not built (%v): run `bash scripts/web.sh`, then test again; make test does both", err)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, os.DirFS(dist)
		}
	}
	t.Fatal("no chromium on PATH: make test installs it (scripts/web.sh: apt-get install chromium); install it with `apt-get install -y chromium`")
	return "", nil
}

func startStack(t *testing.T, build fs.FS) *stack {
	t.Helper()
	// The gateway's address first: the services' public URLs are its.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	d := stacktest.StartDataService(t)
	ns := stacktest.StartNATS(t, d.Certs)
	mail := stacktest.StartMailpit(t)
	msgGRPC := stacktest.FreeAddr(t)
	u := stacktest.StartUserService(t, d, stacktest.UserServiceOptions{NATS: ns, MessageAddr: msgGRPC, Env: []string{
		"PUBLIC_URL=" + base, "SMTP_ADDR=" + mail.SMTPAddr, "SMTP_TLS=none", "TRUSTED_PROXIES=127.0.0.1",
	}})
	m := stacktest.StartMessageService(t, d, u, ns, "GRPC_ADDR="+msgGRPC, "FILE_BASE_URL="+base+"/static/")

	userURL, _ := url.Parse(u.URL)
	msgURL, _ := url.Parse("http://" + m.HTTPAddr)
	// No subscriptionservice in these tests: /sub/ answers 502.
	dead, _ := url.Parse("http://" + stacktest.FreeAddr(t))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := &http.Server{Handler: gateway.New(log, gateway.Upstreams{User: userURL, Subscription: dead, Messages: []*url.URL{msgURL}}, build), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &stack{Base: base, Users: u.URL, Mail: mail}
}

// call is a JSON call of the userservice's API, for what a test sets up
// without the browser and for the error messages the app must show.
func (s *stack) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.Users+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// errorMessage is the message of an error answer.
func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

// browser starts one headless chromium with a fresh profile and returns
// the context of its tab.
func browser(t *testing.T, chromium string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("mute-audio", true),
		chromedp.Flag("window-size", "1200,800"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium %s: %v", chromium, err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// tab is one page of one user.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
}

// newUser starts a browser of the user's own (a fresh profile: storage
// apart from the other users') and returns its tab. A browser each rather
// than browser contexts of one: this chromium hangs a new browser
// context's tab on its first navigation to an http page.
func newUser(t *testing.T, chromium, name, base string) *tab {
	t.Helper()
	return &tab{t: t, name: name, ctx: browser(t, chromium), base: base}
}

// closePage leaves the app (the page unloads: its WebSocket closes), as
// closing the tab would; the profile's storage stays.
func (tb *tab) closePage() {
	tb.t.Helper()
	tb.do("close the page", chromedp.Navigate("about:blank"))
}

func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 45*time.Second)
	defer cancel()
	start := time.Now()
	defer func() { tb.t.Logf("%s: %s (%v)", tb.name, what, time.Since(start).Round(time.Millisecond)) }()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.shot("failed")
		tb.t.Fatalf("%s: %s: %v (page: %s)", tb.name, what, err, tb.describe())
	}
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.base+path))
}

// wait polls a JavaScript predicate until it is truthy (20 s). It
// evaluates the predicate from Go every 100 ms rather than with Poll, whose
// in-page polling a headless tab without focus may never run.
func (tb *tab) wait(what, expr string) {
	tb.t.Helper()
	start := time.Now()
	var last string
	err := poll.Until(20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		defer cancel()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err != nil {
			last = err.Error()
			return err
		}
		if !ok {
			return errors.New("not yet")
		}
		return nil
	})
	tb.t.Logf("%s: wait until %s (%v)", tb.name, what, time.Since(start).Round(time.Millisecond))
	if err != nil {
		tb.shot("failed")
		tb.t.Fatalf("%s: wait until %s: %v %s (page: %s)", tb.name, what, err, last, tb.describe())
	}
}

// js runs a statement in the page.
func (tb *tab) js(what, stmt string) {
	tb.t.Helper()
	tb.do(what, chromedp.Evaluate[chromedp.Void](`(() => { `+stmt+`; })()`))
}

func (tb *tab) text(what, expr string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		tb.shot("failed")
		tb.t.Fatalf("%s: %s: %v", tb.name, what, err)
	}
	return v
}

// fill sets an input's value as typing would (the input event fires).
func (tb *tab) fill(selector, value string) {
	tb.t.Helper()
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(value)
	tb.wait(selector+" present", fmt.Sprintf(`document.querySelector(%s)`, sel))
	tb.js("fill "+selector, fmt.Sprintf(`const e = document.querySelector(%s); e.value = %s; e.dispatchEvent(new Event("input", {bubbles: true}))`, sel, val))
}

// click clicks the first element matching selector whose text contains
// text ("" for any), once it is there.
func (tb *tab) click(selector, text string) {
	tb.t.Helper()
	sel, _ := json.Marshal(selector)
	txt, _ := json.Marshal(text)
	find := fmt.Sprintf(`[...document.querySelectorAll(%s)].find((e) => e.textContent.includes(%s))`, sel, txt)
	tb.wait(fmt.Sprintf("%s %q present", selector, text), find)
	tb.js(fmt.Sprintf("click %s %q", selector, text), find+`.click()`)
}

// describe tells where the page is and what it shows, for a failure.
func (tb *tab) describe() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + JSON.stringify(document.body.innerText.slice(0, 600))`))
	if err != nil {
		return "unknown: " + err.Error()
	}
	return v
}

// shot saves a screenshot of the page under artifacts/ (git-ignored).
func (tb *tab) shot(name string) {
	dir := filepath.Join("artifacts")
	_ = os.MkdirAll(dir, 0o755)
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			tb.t.Logf("screenshot %s: %v", name, err)
		}
		return
	}
	p := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.png", tb.t.Name(), tb.name, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
	}
}

// signUp creates the account through the app's sign-up page.
func (tb *tab) signUp(name, email, password string) {
	tb.t.Helper()
	tb.open("/signup")
	tb.fill("input[name=name]", name)
	tb.fill("input[name=email]", email)
	tb.fill("input[name=password]", password)
	tb.click("form button[type=submit]", "Sign up")
	tb.wait("signed in", `document.querySelector("nav[aria-label=Main]") && document.querySelector(".conn[data-state=open]")`)
}

func navigate(u string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(u) }

func setFiles(selector string, paths ...string) chromedp.Action[chromedp.Void] {
	return chromedp.SetUploadFiles(chromedp.CSS(selector), paths)
}
