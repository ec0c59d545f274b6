package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/privateim/privateim/foundation/errs"
)

// Forgot starts a password reset for email: when an account has it, a
// one-time token (32 random bytes; only its SHA-256 is stored) valid for
// ResetTTL is mailed as a link. Whether an account exists is never told:
// the answer is nil either way, and the mail is sent in the background so
// the time taken does not tell either. Only a malformed email or a store
// failure is an error.
func (s *Service) Forgot(ctx context.Context, email string) error {
	email, err := checkEmail("email", email)
	if err != nil {
		return err
	}
	u, err := s.store.GetUserByEmail(ctx, email)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		s.log.DebugContext(ctx, "password forgot for an unknown email")
		return nil
	case err != nil:
		return fmt.Errorf("forgot: %w", err)
	case u.Deleted:
		return nil
	}
	var secret [32]byte
	_, _ = rand.Read(secret[:]) // crypto/rand never fails
	token := base64.RawURLEncoding.EncodeToString(secret[:])
	expires := s.cfg.Now().Add(s.cfg.ResetTTL)
	if err := s.store.CreateResetToken(ctx, u.ID, hashResetToken(token), expires); err != nil {
		return fmt.Errorf("forgot: create reset token for user %d: %w", u.ID, err)
	}
	link := s.cfg.ResetURL + "?token=" + url.QueryEscape(token)
	body := fmt.Sprintf(`Hello %s,

someone (we hope you) asked to reset the password of your PrivateIM account.
Open this link within %s to choose a new password:

%s

The link works once. If you did not ask, ignore this mail: your password stays as it is.
`, u.Name, s.cfg.ResetTTL.Round(time.Minute), link)
	s.mails.enqueue(ctx, resetMail{to: u.Email, subject: "Reset your PrivateIM password", body: body, userID: u.ID})
	return nil
}

// Reset sets a new password with a token from a reset mail. The token is
// then spent, and every token issued before is revoked. Errors:
// ErrResetTokenUnknown (400: never issued, or malformed), ErrResetTokenUsed
// and ErrResetTokenExpired (410), or a field error for the password.
func (s *Service) Reset(ctx context.Context, token, password string) error {
	switch {
	case token == "":
		return errs.Required("token")
	case len(token) > maxResetTokenSize:
		return ErrResetTokenUnknown
	}
	if err := checkPassword("password", password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	_, err = s.store.ResetPassword(ctx, hashResetToken(token), string(hash), s.cfg.Now())
	var se *errs.StoreError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrNotFound):
		return ErrResetTokenUnknown
	case errors.Is(err, errs.ErrPrecondition):
		// The DataService says which: "reset token used" or "... expired".
		if errors.As(err, &se) && strings.Contains(se.Message, "expired") {
			return ErrResetTokenExpired
		}
		return ErrResetTokenUsed
	}
	return fmt.Errorf("reset password: %w", err)
}

// hashResetToken is what is stored of a reset token: SHA-256, hex.
func hashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// resetMail is one message waiting in the queue.
type resetMail struct {
	to, subject, body string
	userID            int64 // for the log; the address is not logged
}

// mailTimeout bounds sending one mail.
const mailTimeout = 30 * time.Second

// mailQueue sends mails one at a time on its own goroutine, so a slow SMTP
// server slows no request and the time a request takes does not tell
// whether a mail was sent. It is bounded: when full, a mail is dropped and
// logged. The goroutine is owned by the queue and stopped by close.
type mailQueue struct {
	mailer Mailer
	log    *slog.Logger
	mu     sync.Mutex // guards closed and sends on ch
	closed bool
	ch     chan resetMail
	done   chan struct{} // closed when the sender has returned
	stop   context.CancelFunc
}

func startMailQueue(m Mailer, log *slog.Logger, size int) *mailQueue {
	ctx, stop := context.WithCancel(context.Background())
	q := &mailQueue{mailer: m, log: log, ch: make(chan resetMail, size), done: make(chan struct{}), stop: stop}
	go q.send(ctx)
	return q
}

func (q *mailQueue) enqueue(ctx context.Context, m resetMail) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.mailer == nil {
		q.log.ErrorContext(ctx, "reset mail not sent: no mailer running", "user_id", m.userID)
		return
	}
	select {
	case q.ch <- m:
	default:
		q.log.ErrorContext(ctx, "reset mail dropped: queue full", "user_id", m.userID, "queue", cap(q.ch))
	}
}

func (q *mailQueue) send(ctx context.Context) {
	defer close(q.done)
	for m := range q.ch {
		sctx, cancel := context.WithTimeout(ctx, mailTimeout)
		err := q.mailer.SendMail(sctx, m.to, m.subject, m.body)
		cancel()
		if err != nil {
			q.log.Error("send reset mail", "user_id", m.userID, "err", err)
			continue
		}
		q.log.Info("reset mail sent", "user_id", m.userID)
	}
}

// close stops taking mails and waits until the queued ones are sent or ctx
// ends (then the one being sent is cut and the rest dropped).
func (q *mailQueue) close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		q.stop()
		return nil
	case <-ctx.Done():
		q.stop()
		<-q.done
		return fmt.Errorf("mail queue: %d mails not sent: %w", len(q.ch), ctx.Err())
	}
}
