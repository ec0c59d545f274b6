// Package mailer sends mail over SMTP with gopkg.in/gomail.v2: STARTTLS
// when the server offers it, authentication when a user is configured. It is
// the adapter behind account.Mailer.
package mailer

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"gopkg.in/gomail.v2"
)

// Mailer is safe for concurrent use; each mail is one SMTP session.
type Mailer struct {
	dialer *gomail.Dialer
	from   string
}

// New returns a Mailer for the SMTP server at addr (host:port). user may be
// empty for a server that needs no authentication (mailpit in development).
func New(addr, user, password, from string) (*Mailer, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("smtp port %q: %w", portStr, err)
	}
	if from == "" {
		return nil, fmt.Errorf("mail from is empty")
	}
	return &Mailer{dialer: gomail.NewDialer(host, port, user, password), from: from}, nil
}

// SendMail sends a plain-text mail. gomail takes no context: when ctx ends
// first SendMail returns, and the SMTP session ends on its own timeout.
func (m *Mailer) SendMail(ctx context.Context, to, subject, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg := gomail.NewMessage()
	msg.SetHeader("From", m.from)
	msg.SetHeader("To", to)
	msg.SetHeader("Subject", subject)
	msg.SetBody("text/plain; charset=UTF-8", body)
	done := make(chan error, 1)
	go func() { done <- m.dialer.DialAndSend(msg) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("send mail via %s:%d: %w", m.dialer.Host, m.dialer.Port, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
