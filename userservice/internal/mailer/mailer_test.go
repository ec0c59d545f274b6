package mailer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
)

const from = "PrivateIM <no-reply@privateim.localhost>"

func newMailer(t *testing.T, o Options) *Mailer {
	t.Helper()
	if o.From == "" {
		o.From = from
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tlsMailpit starts a mailpit whose SMTP certificate is signed by a
// throw-away dev CA; it returns the CA file.
func tlsMailpit(t *testing.T, extra ...string) (*stacktest.Mailpit, string) {
	t.Helper()
	set, err := devpki.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	smtp, err := set.Issue("mailpit")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--smtp-tls-cert", smtp.Cert, "--smtp-tls-key", smtp.Key}, extra...)
	return stacktest.StartMailpit(t, args...), set.CA
}

func sendAndRead(t *testing.T, mp *stacktest.Mailpit, m *Mailer, to string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body := "Hello 爱达,\n\nhttp://127.0.0.1:8080/reset-password?token=abc_-123\n" + strings.Repeat("long line ", 20) + "\n"
	if err := m.SendMail(ctx, to, "Reset — 重置", body); err != nil {
		t.Fatal(err)
	}
	msg := mp.WaitMessage(t, to, 1, 15*time.Second)
	if msg.Subject != "Reset — 重置" || msg.From.Address != "no-reply@privateim.localhost" {
		t.Errorf("subject %q from %+v", msg.Subject, msg.From)
	}
	if !strings.Contains(msg.Text, "token=abc_-123") || !strings.Contains(msg.Text, "爱达") || !strings.Contains(msg.Text, strings.Repeat("long line ", 20)) {
		t.Errorf("text %q", msg.Text)
	}
}

func TestSendPlainToDevServer(t *testing.T) {
	t.Parallel()
	mp := stacktest.StartMailpit(t)
	sendAndRead(t, mp, newMailer(t, Options{Addr: mp.SMTPAddr, Mode: None}), "ada@example.com")
	// With credentials (mailpit accepts any; net/smtp allows PLAIN in clear
	// only to localhost).
	sendAndRead(t, mp, newMailer(t, Options{Addr: mp.SMTPAddr, Mode: None, User: "user", Password: "pass"}), "bob@example.com")
}

func TestSendWithRequiredSTARTTLS(t *testing.T) {
	t.Parallel()
	mp, ca := tlsMailpit(t, "--smtp-require-starttls")
	sendAndRead(t, mp, newMailer(t, Options{Addr: mp.SMTPAddr, Mode: StartTLS, CAFile: ca, User: "u", Password: "p"}), "ada@example.com")
}

func TestSendWithImplicitTLS(t *testing.T) {
	t.Parallel()
	mp, ca := tlsMailpit(t, "--smtp-require-tls")
	sendAndRead(t, mp, newMailer(t, Options{Addr: mp.SMTPAddr, Mode: TLS, CAFile: ca}), "ada@example.com")
}

func TestDefaultModeIsSTARTTLS(t *testing.T) {
	t.Parallel()
	if m := newMailer(t, Options{Addr: "127.0.0.1:25"}); m.Mode() != StartTLS {
		t.Errorf("default mode %q", m.Mode())
	}
}

func TestSendFails(t *testing.T) {
	t.Parallel()
	m := newMailer(t, Options{Addr: stacktest.FreeAddr(t), Mode: None})
	if err := m.SendMail(context.Background(), "ada@example.com", "s", "b"); err == nil {
		t.Error("sent through a closed port")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.SendMail(ctx, "ada@example.com", "s", "b"); err == nil {
		t.Error("sent with a canceled context")
	}
	if err := m.SendMail(context.Background(), "not an address", "s", "b"); err == nil {
		t.Error("sent to a bad address")
	}
	if err := m.SendMail(context.Background(), "ada@example.com", "s\r\nBcc: eve@example.com", "b"); err == nil {
		t.Error("sent a subject with a header injection")
	}
	for name, o := range map[string]Options{
		"no port":    {Addr: "nohost", From: from},
		"bad port":   {Addr: "host:port:x", From: from},
		"empty addr": {Addr: "", From: from},
		"empty from": {Addr: "127.0.0.1:25"},
		"bad from":   {Addr: "127.0.0.1:25", From: "not an address"},
		"bad mode":   {Addr: "127.0.0.1:25", From: from, Mode: "maybe"},
		"missing ca": {Addr: "127.0.0.1:25", From: from, CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New(%+v) accepted", name, o)
		}
	}
}
