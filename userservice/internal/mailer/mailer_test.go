package mailer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/stacktest"
)

func TestSendThroughMailpit(t *testing.T) {
	t.Parallel()
	mp := stacktest.StartMailpit(t)
	m, err := New(mp.SMTPAddr, "", "", "PrivateIM <no-reply@privateim.localhost>")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body := "Hello 爱达,\n\nhttp://127.0.0.1:8080/reset-password?token=abc_-123\n"
	if err := m.SendMail(ctx, "ada@example.com", "Reset — 重置", body); err != nil {
		t.Fatal(err)
	}
	msg := mp.WaitMessage(t, "ada@example.com", 1, 15*time.Second)
	if msg.Subject != "Reset — 重置" || msg.From.Address != "no-reply@privateim.localhost" {
		t.Errorf("subject %q from %+v", msg.Subject, msg.From)
	}
	if !strings.Contains(msg.Text, "token=abc_-123") || !strings.Contains(msg.Text, "爱达") {
		t.Errorf("text %q", msg.Text)
	}

	// With credentials (mailpit accepts any).
	auth, err := New(mp.SMTPAddr, "user", "pass", "no-reply@privateim.localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.SendMail(ctx, "bob@example.com", "hi", "hi"); err != nil {
		t.Fatal(err)
	}
	mp.WaitMessage(t, "bob@example.com", 1, 15*time.Second)
}

func TestSendFails(t *testing.T) {
	t.Parallel()
	m, err := New(stacktest.FreeAddr(t), "", "", "a@b.c")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SendMail(context.Background(), "ada@example.com", "s", "b"); err == nil {
		t.Error("sent through a closed port")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.SendMail(ctx, "ada@example.com", "s", "b"); err == nil {
		t.Error("sent with a canceled context")
	}
	for _, addr := range []string{"nohost", "host:port", ""} {
		if _, err := New(addr, "", "", "a@b.c"); err == nil {
			t.Errorf("New(%q) accepted", addr)
		}
	}
	if _, err := New("127.0.0.1:25", "", "", ""); err == nil {
		t.Error("empty from accepted")
	}
}
