package security

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/stacktest"
	"github.com/privateim/privateim/foundation/tlsconfig/devpki"
	"github.com/privateim/privateim/userservice/internal/mailer"
)

const mailFrom = "PrivateIM <no-reply@privateim.localhost>"

// noMail checks that mailpit received nothing.
func noMail(t *testing.T, mp *stacktest.Mailpit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if msgs, err := mp.Messages(ctx); err != nil || len(msgs) != 0 {
		t.Errorf("mailpit holds %d messages (err %v), want none", len(msgs), err)
	}
}

// A server that does not offer STARTTLS (or a man in the middle that strips
// the capability from the EHLO answer, which looks the same) gets neither
// the SMTP password nor the mail with its one-time link: with the default
// mode the mailer stops before AUTH and MAIL.
func TestSTARTTLSStrippedSMTPServerGetsNoPasswordOrMail(t *testing.T) {
	t.Parallel()
	mp := stacktest.StartMailpit(t) // plain SMTP, no STARTTLS offered
	m, err := mailer.New(mailer.Options{Addr: mp.SMTPAddr, User: "u", Password: "secret", From: mailFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = m.SendMail(context.Background(), "ada@example.com", "Reset", "token=abc")
	if !errors.Is(err, mailer.ErrNoSTARTTLS) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err %v, want ErrNoSTARTTLS naming STARTTLS", err)
	}
	noMail(t, mp)
}

// A server whose certificate the configured CAs do not sign (an impostor
// on the path) gets no mail either: the certificate is verified.
func TestSMTPServerWithUntrustedCertificateGetsNoMail(t *testing.T) {
	t.Parallel()
	set, err := devpki.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, err := devpki.Write(t.TempDir()) // another CA
	if err != nil {
		t.Fatal(err)
	}
	smtp, err := set.Issue("mailpit")
	if err != nil {
		t.Fatal(err)
	}
	mp := stacktest.StartMailpit(t, "--smtp-tls-cert", smtp.Cert, "--smtp-tls-key", smtp.Key, "--smtp-require-starttls")
	m, err := mailer.New(mailer.Options{Addr: mp.SMTPAddr, CAFile: other.CA, From: mailFrom})
	if err != nil {
		t.Fatal(err)
	}
	err = m.SendMail(context.Background(), "ada@example.com", "Reset", "token=abc")
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err %v, want a certificate error", err)
	}
	noMail(t, mp)
}
