package stacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privateim/privateim/foundation/logtail"
	"github.com/privateim/privateim/foundation/poll"
)

// Mailpit is one running mailpit: an SMTP server that keeps every mail and
// an HTTP API to read them.
type Mailpit struct {
	SMTPAddr string // 127.0.0.1:port
	URL      string // http://127.0.0.1:port, web UI and API
	LogFile  string
}

// StartMailpit starts mailpit on free ports, accepting any SMTP credentials
// (and none), and waits until its API answers. It is stopped at cleanup.
// extra are more mailpit flags, e.g. "--smtp-tls-cert", f, "--smtp-tls-key",
// k, "--smtp-require-starttls" for a server that insists on STARTTLS.
func StartMailpit(tb testing.TB, extra ...string) *Mailpit {
	tb.Helper()
	bin := mailpit.build(tb)
	dir := tb.TempDir()
	var lastErr error
	// The free ports are only free until someone takes them: try again
	// with new ones if mailpit cannot bind.
	for try := range 3 {
		m := &Mailpit{SMTPAddr: FreeAddr(tb), LogFile: filepath.Join(dir, fmt.Sprintf("mailpit-%d.log", try))}
		web := FreeAddr(tb)
		m.URL = "http://" + web
		args := []string{
			"--smtp", m.SMTPAddr,
			"--listen", web,
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", try)),
			"--smtp-auth-accept-any",
			"--disable-version-check",
		}
		// mailpit refuses to allow plain-text auth and require TLS at once.
		if !slices.Contains(extra, "--smtp-require-starttls") && !slices.Contains(extra, "--smtp-require-tls") {
			args = append(args, "--smtp-auth-allow-insecure")
		}
		p := startProcess(tb, bin, m.LogFile, nil, append(args, extra...))
		lastErr = poll.Until(30*time.Second, func() error {
			if p.exited() {
				return nil // stop polling; reported below
			}
			_, err := m.get(context.Background(), "/api/v1/info")
			return err
		})
		if lastErr == nil && !p.exited() {
			return m
		}
		if lastErr == nil {
			lastErr = fmt.Errorf("mailpit exited: %v\n%s", p.err, logtail.Tail(m.LogFile, 4000))
		}
	}
	tb.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

func (m *Mailpit) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b, nil
}

// Address is a mail address in mailpit's API.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// MessageSummary is one entry of GET /api/v1/messages.
type MessageSummary struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Created time.Time `json:"Created"`
}

// Message is GET /api/v1/message/{ID}.
type Message struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
}

// Messages lists the mails received, newest first.
func (m *Mailpit) Messages(ctx context.Context) ([]MessageSummary, error) {
	b, err := m.get(ctx, "/api/v1/messages?limit=1000")
	if err != nil {
		return nil, err
	}
	var list struct {
		Messages []MessageSummary `json:"messages"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	return list.Messages, nil
}

// Message reads one mail.
func (m *Mailpit) Message(ctx context.Context, id string) (Message, error) {
	var msg Message
	b, err := m.get(ctx, "/api/v1/message/"+url.PathEscape(id))
	if err != nil {
		return msg, err
	}
	if err := json.Unmarshal(b, &msg); err != nil {
		return msg, fmt.Errorf("message %s: %w", id, err)
	}
	return msg, nil
}

// MessagesTo lists the mails to address (case-insensitive), newest first.
func (m *Mailpit) MessagesTo(ctx context.Context, address string) ([]MessageSummary, error) {
	return m.MessagesAbout(ctx, address, "")
}

// MessagesAbout lists the mails to address (case-insensitive) whose subject
// contains subject ("" for any), newest first.
func (m *Mailpit) MessagesAbout(ctx context.Context, address, subject string) ([]MessageSummary, error) {
	all, err := m.Messages(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s MessageSummary) bool {
		return !strings.Contains(s.Subject, subject) ||
			!slices.ContainsFunc(s.To, func(a Address) bool { return strings.EqualFold(a.Address, address) })
	}), nil
}

// WaitMessage polls until at least n mails to address have arrived and
// returns the newest, read whole.
func (m *Mailpit) WaitMessage(tb testing.TB, address string, n int, timeout time.Duration) Message {
	tb.Helper()
	return m.WaitMessageAbout(tb, address, "", n, timeout)
}

// WaitMessageAbout is WaitMessage counting only the mails whose subject
// contains subject.
func (m *Mailpit) WaitMessageAbout(tb testing.TB, address, subject string, n int, timeout time.Duration) Message {
	tb.Helper()
	var msg Message
	poll.Eventually(tb, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		list, err := m.MessagesAbout(ctx, address, subject)
		if err != nil {
			return err
		}
		if len(list) < n {
			return fmt.Errorf("%d mails to %s about %q, want %d", len(list), address, subject, n)
		}
		msg, err = m.Message(ctx, list[0].ID)
		return err
	})
	return msg
}

// WaitLink waits for the n-th mail to address about subject (see
// WaitMessageAbout) and returns the first link in its text whose path ends
// with path (e.g. "/verify-email"), and that link's token query parameter.
func (m *Mailpit) WaitLink(tb testing.TB, address, subject, path string, n int, timeout time.Duration) (link, token string) {
	tb.Helper()
	msg := m.WaitMessageAbout(tb, address, subject, n, timeout)
	for _, f := range strings.Fields(msg.Text) {
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.HasSuffix(u.Path, path) {
			continue
		}
		return f, u.Query().Get("token")
	}
	tb.Fatalf("no %s link in the mail to %s about %q:\n%s", path, address, subject, msg.Text)
	return "", ""
}
