package account

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// outMail is one message waiting in the queue.
type outMail struct {
	kind              string // "reset", "verify": for the log
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
	ch     chan outMail
	done   chan struct{} // closed when the sender has returned
	stop   context.CancelFunc
}

func startMailQueue(m Mailer, log *slog.Logger, size int) *mailQueue {
	ctx, stop := context.WithCancel(context.Background())
	q := &mailQueue{mailer: m, log: log, ch: make(chan outMail, size), done: make(chan struct{}), stop: stop}
	go q.send(ctx)
	return q
}

func (q *mailQueue) enqueue(ctx context.Context, m outMail) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.mailer == nil {
		q.log.ErrorContext(ctx, "mail not sent: no mailer running", "kind", m.kind, "user_id", m.userID)
		return
	}
	select {
	case q.ch <- m:
	default:
		q.log.ErrorContext(ctx, "mail dropped: queue full", "kind", m.kind, "user_id", m.userID, "queue", cap(q.ch))
	}
}

func (q *mailQueue) send(ctx context.Context) {
	defer close(q.done)
	for m := range q.ch {
		sctx, cancel := context.WithTimeout(ctx, mailTimeout)
		err := q.mailer.SendMail(sctx, m.to, m.subject, m.body)
		cancel()
		if err != nil {
			q.log.Error("send mail", "kind", m.kind, "user_id", m.userID, "err", err)
			continue
		}
		q.log.Info("mail sent", "kind", m.kind, "user_id", m.userID)
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
