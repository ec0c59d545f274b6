// Package browsertest proves the web app in a real browser: headless
// Debian chromium driven by chromedp, against the real stack (DataService,
// NATS, userservice, a message node, mailpit) behind the webgateway that
// serves the built app. The tests fail, never skip, when chromium or the
// build is missing: make test provides both (scripts/web.sh). Screenshots go
// to artifacts/ (git-ignored).
package browsertest
