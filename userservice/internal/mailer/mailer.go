// Package mailer sends mail over SMTP with the standard library's net/smtp.
// TLS is required unless the configuration says otherwise: STARTTLS that the
// server must offer (Mode StartTLS, the default), TLS from the first byte
// (Mode TLS, port 465), or plain text for a local development server such as
// mailpit (Mode None). A server that does not offer STARTTLS when it is
// required is refused before anything is sent, so credentials and the
// one-time links in the mails never cross the network in clear. It is the
// adapter behind account.Mailer.
package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strings"
	"time"
)

// Mode is how the SMTP session is protected.
type Mode string

const (
	// None sends in plain text: only for a local development server.
	None Mode = "none"
	// StartTLS requires the server to offer STARTTLS and upgrades before
	// authenticating or sending.
	StartTLS Mode = "starttls"
	// TLS opens the connection with TLS (implicit TLS, usually port 465).
	TLS Mode = "tls"
)

// Modes lists the valid modes, for configuration help and validation.
var Modes = []Mode{None, StartTLS, TLS}

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("smtp tls mode %q: want none, starttls or tls", s)
}

// ErrNoSTARTTLS is returned when TLS is required and the server does not
// offer STARTTLS.
var ErrNoSTARTTLS = errors.New("smtp server does not offer STARTTLS, which is required (SMTP_TLS=starttls)")

// Options configure a Mailer.
type Options struct {
	Addr     string // host:port
	User     string // empty: no authentication
	Password string
	From     string // From header, "Name <addr>" or "addr"
	Mode     Mode   // default StartTLS
	// CAFile is a PEM file of the CAs that may sign the server's certificate;
	// empty: the system's roots.
	CAFile string
	// Timeout bounds one whole SMTP session when the caller's context has
	// no earlier deadline; default 30s.
	Timeout time.Duration
}

// Mailer is safe for concurrent use; each mail is one SMTP session.
type Mailer struct {
	addr, host     string
	user, password string
	from           *mail.Address
	mode           Mode
	tls            *tls.Config
	timeout        time.Duration
}

// New checks o and returns a Mailer. Nothing is dialed yet.
func New(o Options) (*Mailer, error) {
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: %w", o.Addr, err)
	}
	if host == "" {
		return nil, fmt.Errorf("smtp address %q: no host", o.Addr)
	}
	if o.From == "" {
		return nil, errors.New("mail from is empty")
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail from %q: %w", o.From, err)
	}
	if o.Mode == "" {
		o.Mode = StartTLS
	}
	if _, err := ParseMode(string(o.Mode)); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp tls ca %s: no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	return &Mailer{addr: o.Addr, host: host, user: o.User, password: o.Password, from: from,
		mode: o.Mode, tls: cfg, timeout: o.Timeout}, nil
}

// Mode returns the Mailer's TLS mode.
func (m *Mailer) Mode() Mode { return m.mode }

// SendMail sends a plain-text UTF-8 mail in one SMTP session that ends by
// ctx's deadline (or the Mailer's timeout).
func (m *Mailer) SendMail(ctx context.Context, to, subject, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("mail to %q: %w", to, err)
	}
	msg, err := m.compose(rcpt, subject, body)
	if err != nil {
		return err
	}
	if err := m.send(ctx, rcpt.Address, msg); err != nil {
		return fmt.Errorf("send mail via %s (tls %s): %w", m.addr, m.mode, err)
	}
	return nil
}

func (m *Mailer) send(ctx context.Context, rcpt string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// net/smtp takes no context: the deadline on the connection ends a
	// stalled session, and a canceled ctx closes it.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if m.mode == TLS {
		tc := tls.Client(conn, m.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if m.mode == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrNoSTARTTLS
		}
		if err := c.StartTLS(m.tls); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if m.user != "" {
		// PlainAuth itself refuses to send the password over a connection
		// without TLS to any host but localhost.
		if err := c.Auth(smtp.PlainAuth("", m.user, m.password, m.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose builds the RFC 5322 message: UTF-8 headers Q-encoded, the body
// quoted-printable, CRLF line ends.
func (m *Mailer) compose(to *mail.Address, subject, body string) ([]byte, error) {
	if strings.ContainsAny(subject, "\r\n") {
		return nil, errors.New("mail subject has a line break")
	}
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", m.from.String())
	hdr("To", to.String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=UTF-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
