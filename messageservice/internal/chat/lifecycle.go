// Message lifecycle (issue 15): recall and edit. Every change to a message
// is itself a message of the same conversation, a lifecycle event with its
// own seq, stored through the one append path (submit, appender.go) with
// the change of its target in the same transaction. So catch-up, sync,
// dedup by client_msg_id and the cluster carry it like any message, and a
// device that was offline reads the target's final state and then the
// events, in seq order (docs/websocket.md, "Message lifecycle").

package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/foundation/conv"
	"github.com/privateim/privateim/messageservice/internal/frame"
)

// Defaults of Options.RecallWindow and EditWindow.
const (
	DefaultRecallWindow = 2 * time.Minute
	DefaultEditWindow   = 24 * time.Hour
)

// Errors of lifecycle frames; each names the field it is about (wsconn).
var (
	ErrNoLifecycle   = errors.New("recall or edit outside a 1:1 or group conversation")
	ErrNoSuchMessage = errors.New("no such message")
	ErrNotYours      = errors.New("another user's message")
	ErrNotChangeable = errors.New("a system message or lifecycle event")
	ErrRecalled      = errors.New("the message was recalled")
	ErrNotEditable   = errors.New("only text and emoji messages are edited")
	ErrRecallWindow  = errors.New("past the recall window")
	ErrEditWindow    = errors.New("past the edit window")
)

// Recall removes the content of message f.Seq for everyone: the sender
// within Options.RecallWindow, a group's owner or admins at any time. The
// recall event is answered and delivered like a send (submit); the
// target's content becomes the tombstone in the same transaction.
func (ss *Session) Recall(ctx context.Context, f *frame.Recall, reply func(sent []byte, err error)) {
	s := ss.svc
	receivers, t, err := ss.target(ctx, f.Conversation, f.Seq)
	if err == nil {
		err = s.mayRecall(ctx, ss.user, f.Conversation, t)
	}
	if err != nil {
		ss.refuse(ctx, f.ClientMsgID, f.Conversation, receivers, err, reply)
		return
	}
	by := frame.FormatID(ss.user)
	ss.submit(ctx, receivers, AppendRequest{
		Conversation: f.Conversation, SenderID: ss.user, ClientMsgID: f.ClientMsgID, Kind: frame.KindRecall,
		Content: frame.Marshal(frame.RecallEvent{Kind: frame.KindRecall, TargetSeq: t.Seq, By: by}),
		Change:  &Change{TargetSeq: t.Seq, Kind: frame.KindRecalled, Content: frame.Marshal(frame.Recalled{Kind: frame.KindRecalled, By: by})},
	}, reply)
}

// Edit replaces the text of the user's own text or emoji message f.Seq
// within Options.EditWindow; the message keeps its other fields and gets
// edited_at. The previous content is kept as a version when
// Options.EditHistory is on (Versions). An edit reaches the
// conversation like a send, so it is checked like one (friends and no
// blacklist in a 1:1, not muted in a group).
func (ss *Session) Edit(ctx context.Context, f *frame.Edit, reply func(sent []byte, err error)) {
	s := ss.svc
	receivers, t, err := ss.target(ctx, f.Conversation, f.Seq)
	if err == nil {
		err = s.mayEdit(ss.user, t)
	}
	if err == nil {
		receivers, err = s.mayPost(ctx, ss.user, f.Conversation)
	}
	if err != nil {
		ss.refuse(ctx, f.ClientMsgID, f.Conversation, receivers, err, reply)
		return
	}
	at := s.opt.Now().UnixMilli()
	content, err := edited(t.Content, f.Text, at)
	if err != nil {
		reply(nil, fmt.Errorf("edit message %d of %s: %w", t.Seq, f.Conversation, err))
		return
	}
	ss.submit(ctx, receivers, AppendRequest{
		Conversation: f.Conversation, SenderID: ss.user, ClientMsgID: f.ClientMsgID, Kind: frame.KindEdit,
		Content: frame.Marshal(frame.EditEvent{Kind: frame.KindEdit, TargetSeq: t.Seq, Text: f.Text, EditedAt: at}),
		Change:  &Change{TargetSeq: t.Seq, Kind: t.Kind, Content: content, KeepPrevious: s.opt.EditHistory},
	}, reply)
}

// Versions answers the kept versions of message f.Seq (Options.EditHistory),
// the newest f.Limit, oldest first: only its sender and, in a group, the
// owner and admins may read them (ErrNotYours). With EditHistory off none
// are kept, and the answer lists those kept while it was on.
func (ss *Session) Versions(ctx context.Context, f *frame.Versions) ([]byte, error) {
	s := ss.svc
	_, t, err := ss.target(ctx, f.Conversation, f.Seq)
	if err != nil {
		return nil, err
	}
	if t.SenderID != ss.user {
		admin := false
		if c, err := conv.Parse(f.Conversation); err == nil && c.Kind == conv.KindGroup {
			if admin, err = s.grps.privileged(ctx, c.A, ss.user); err != nil {
				return nil, err
			}
		}
		if !admin {
			return nil, ErrNotYours
		}
	}
	vs, more, err := s.store.Versions(ctx, f.Conversation, f.Seq, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("versions of message %d of %s: %w", f.Seq, f.Conversation, err)
	}
	out := frame.VersionHistory{Type: "versions", Conversation: f.Conversation, Seq: f.Seq, Versions: make([]frame.Version, len(vs)), HasMore: more}
	for i, v := range vs {
		out.Versions[i] = frame.Version{Content: v.Content, ReplacedBySeq: v.ReplacedBySeq, ReplacedAt: v.ReplacedAt.UnixMilli()}
	}
	return frame.Marshal(out), nil
}

// target returns who takes part in conversation name and its message seq,
// which the user must be able to read.
func (ss *Session) target(ctx context.Context, name string, seq int64) ([]int64, Message, error) {
	s := ss.svc
	c, err := conv.Parse(name)
	if err != nil || (c.Kind != conv.KindUser && c.Kind != conv.KindGroup) {
		return nil, Message{}, ErrNoLifecycle
	}
	receivers, err := s.participants(ctx, ss.user, name)
	if err != nil {
		return nil, Message{}, err
	}
	t, err := s.readable(ctx, ss.user, name, seq)
	var se seqError
	if errors.As(err, &se) {
		return receivers, Message{}, fmt.Errorf("%w: %s", ErrNoSuchMessage, se)
	}
	if err != nil {
		return nil, Message{}, err
	}
	switch {
	case t.Kind == frame.KindRecalled:
		return receivers, t, ErrRecalled
	case t.SenderID == 0 || lifecycleKind(t.Kind):
		return receivers, t, ErrNotChangeable
	}
	return receivers, t, nil
}

func (s *Service) mayRecall(ctx context.Context, user int64, name string, t Message) error {
	if c, err := conv.Parse(name); err == nil && c.Kind == conv.KindGroup {
		admin, err := s.grps.privileged(ctx, c.A, user)
		if err != nil {
			return err
		}
		if admin {
			return nil
		}
	}
	if t.SenderID != user {
		return ErrNotYours
	}
	if s.opt.Now().Sub(t.CreatedAt) > s.opt.RecallWindow {
		return ErrRecallWindow
	}
	return nil
}

func (s *Service) mayEdit(user int64, t Message) error {
	if t.SenderID != user {
		return ErrNotYours
	}
	if t.Kind != "text" && t.Kind != "emoji" {
		return ErrNotEditable
	}
	if s.opt.Now().Sub(t.CreatedAt) > s.opt.EditWindow {
		return ErrEditWindow
	}
	return nil
}

// mayPost checks that user may post to conversation name now, as a send
// would be checked, and returns its receivers.
func (s *Service) mayPost(ctx context.Context, user int64, name string) ([]int64, error) {
	c, err := conv.Parse(name)
	if err != nil {
		return nil, ErrNoLifecycle
	}
	f := &frame.Send{To: frame.Target{Kind: "group", ID: frame.FormatID(c.A)}, ToID: c.A}
	if c.Kind == conv.KindUser {
		peer := c.A
		if peer == user {
			peer = c.B
		}
		f.To, f.ToID = frame.Target{Kind: "user", ID: frame.FormatID(peer)}, peer
	}
	_, receivers, err := s.authorize(ctx, user, f)
	return receivers, err
}

// edited is content with its text replaced and edited_at set; every other
// field is kept as stored (data and ext byte-for-byte).
func edited(content []byte, text string, at int64) ([]byte, error) {
	c, err := frame.DecodeStored(content)
	if err != nil {
		return nil, err
	}
	c.Text, c.EditedAt = text, at
	return c.Encode(), nil
}

// refuse answers a lifecycle frame its checks refused, unless the refusal
// comes from the frame's own earlier success: a re-sent recall finds its
// target recalled, a re-sent edit may find the window passed. When the
// user stored an event of the conversation with this client_msg_id, the
// frame is a re-send: it is answered with the same `sent`, through the
// append path, which finds the duplicate, stores nothing and fans it out
// again to those who missed it (as a re-sent send is).
func (ss *Session) refuse(ctx context.Context, clientMsgID, name string, receivers []int64, refused error, reply func([]byte, error)) {
	if receivers == nil {
		reply(nil, refused)
		return
	}
	m, err := ss.svc.store.MessageByClientID(ctx, ss.user, clientMsgID)
	switch {
	case errors.Is(err, ErrNotFound):
		reply(nil, refused)
	case err != nil:
		reply(nil, fmt.Errorf("look up %q: %w", clientMsgID, err))
	case m.Conversation != name || !lifecycleKind(m.Kind):
		reply(nil, refused)
	default:
		ss.submit(ctx, receivers, AppendRequest{
			Conversation: m.Conversation, SenderID: ss.user, ClientMsgID: clientMsgID, Kind: m.Kind, Content: m.Content,
		}, reply)
	}
}
