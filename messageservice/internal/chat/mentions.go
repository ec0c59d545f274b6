// The mention writer: who a stored group message mentions, written as
// their mention seq of the conversation (the conversation list's
// "mentioned" while it is past their read seq).

package chat

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/privateim/privateim/messageservice/internal/frame"
)

// MentionSeq raises one user's mention seq in one conversation.
type MentionSeq struct {
	User         int64
	Conversation string
	Seq          int64
}

// mentionJob is one stored message's mentions.
type mentionJob struct {
	conv  string
	seq   int64
	users []int64
}

const (
	maxMentionCall   = 1000 // SetMentionSeqs takes at most 1000
	mentionQueue     = 4096 // messages with mentions waiting to be written
	mentionTries     = 3
	mentionRetryWait = 200 * time.Millisecond
)

// mentionWriter writes the mentions of stored messages off the append
// workers, which must not wait for a round trip: add never blocks. The
// queue is bounded; a message whose mentions find it full, or whose write
// fails mentionTries times, is logged and its mentions lost (the message
// itself is stored and delivered: only the list's "mentioned" flag is
// missing). A mention written after the user read past it changes
// nothing visible (mentioned is mention seq > read seq).
//
// Owner: Service (run stops on Close, after writing what is queued).
type mentionWriter struct {
	log     *slog.Logger
	store   Store
	queue   chan mentionJob
	dropped atomic.Int64
}

func newMentionWriter(log *slog.Logger, st Store) *mentionWriter {
	return &mentionWriter{log: log, store: st, queue: make(chan mentionJob, mentionQueue)}
}

// mentioned are the users a send to a group mentions, without the
// sender: mentions, or with mention_all every member.
func mentioned(sender int64, members []int64, c *frame.Content) []int64 {
	var out []int64
	if c.MentionAll {
		out = slices.Clone(members)
	} else {
		out = slices.Clone(c.MentionIDs)
	}
	return slices.DeleteFunc(out, func(id int64) bool { return id == sender })
}

// add queues the mentions of a stored message; it never blocks.
func (w *mentionWriter) add(conv string, seq int64, users []int64) {
	if len(users) == 0 {
		return
	}
	select {
	case w.queue <- mentionJob{conv: conv, seq: seq, users: users}:
	default:
		w.dropped.Add(1)
		w.log.Warn("mention queue full: mentions not recorded", "conversation", conv, "seq", seq, "users", len(users))
	}
}

// run writes queued mentions until stop closes, then what is queued.
func (w *mentionWriter) run(stop <-chan struct{}) {
	for {
		select {
		case j := <-w.queue:
			w.write(w.take(j), stop)
		case <-stop:
			for {
				select {
				case j := <-w.queue:
					w.write(w.take(j), nil)
				default:
					return
				}
			}
		}
	}
}

// take is j and whatever else waits, up to maxMentionCall mentions
// (a job over the limit goes alone and is split by write).
func (w *mentionWriter) take(j mentionJob) []MentionSeq {
	ms := make([]MentionSeq, 0, len(j.users))
	for _, u := range j.users {
		ms = append(ms, MentionSeq{User: u, Conversation: j.conv, Seq: j.seq})
	}
	for len(ms) < maxMentionCall {
		select {
		case j := <-w.queue:
			for _, u := range j.users {
				ms = append(ms, MentionSeq{User: u, Conversation: j.conv, Seq: j.seq})
			}
		default:
			return ms
		}
	}
	return ms
}

// write stores ms in calls of up to maxMentionCall, each tried
// mentionTries times (not waiting between tries once stop is closed).
func (w *mentionWriter) write(ms []MentionSeq, stop <-chan struct{}) {
	for len(ms) > 0 {
		n := min(len(ms), maxMentionCall)
		var err error
		for try := range mentionTries {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = w.store.SetMentionSeqs(ctx, ms[:n])
			cancel()
			if err == nil || try == mentionTries-1 {
				break
			}
			select {
			case <-time.After(mentionRetryWait):
			case <-stop:
			}
		}
		if err != nil {
			w.dropped.Add(int64(n))
			w.log.Warn("mentions not recorded", "mentions", n, "conversation", ms[0].Conversation, "seq", ms[0].Seq, "err", err)
		}
		ms = ms[n:]
	}
}
