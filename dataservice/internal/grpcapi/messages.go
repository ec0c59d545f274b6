package grpcapi

import (
	"context"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

type messagesServer struct {
	datav1.UnimplementedMessagesServer
	*base
	// The lists SessionStartPlus runs.
	friends *friendsServer
	groups  *groupsServer
	subs    *subscriptionsServer
}

// conversations checks a list of conversation names.
func (c *checker) conversations(field string, v []string, min, max int) {
	if len(v) < min || len(v) > max {
		c.add(field, "must hold %d..%d conversations", min, max)
		return
	}
	for i, conv := range v {
		c.key(fmt.Sprintf("%s[%d]", field, i), conv, maxConversationBytes)
	}
}

// appendRequest checks one message to append; prefix is "" or "messages[i].".
func (c *checker) appendRequest(prefix string, r *datav1.AppendMessageRequest) {
	c.key(prefix+"conversation", r.GetConversation(), maxConversationBytes)
	c.nonNegative(prefix+"sender_id", r.GetSenderId()) // 0: system
	c.key(prefix+"client_msg_id", r.GetClientMsgId(), maxClientMsgIDBytes)
	c.key(prefix+"kind", r.GetKind(), maxKindBytes)
	if len(r.GetContent()) > maxContentBytes {
		c.add(prefix+"content", "at most %d bytes", maxContentBytes)
	}
	if ch := r.GetChange(); ch != nil {
		if ch.GetTargetSeq() < 1 {
			c.add(prefix+"change.target_seq", "must be >= 1")
		}
		c.key(prefix+"change.kind", ch.GetKind(), maxKindBytes)
		if ch.GetKeepPrevious() && ch.GetKind() == store.KindRecalled {
			c.add(prefix+"change.keep_previous", "a recall keeps no version")
		}
		if len(ch.GetContent()) > maxContentBytes {
			c.add(prefix+"change.content", "at most %d bytes", maxContentBytes)
		}
	}
	if re := r.GetReaction(); re != nil {
		if re.GetTargetSeq() < 1 {
			c.add(prefix+"reaction.target_seq", "must be >= 1")
		}
		if re.GetUserId() < 1 {
			c.add(prefix+"reaction.user_id", "must be >= 1")
		}
		c.key(prefix+"reaction.emoji", re.GetEmoji(), maxEmojiBytes)
		if r.GetChange() != nil {
			c.add(prefix+"reaction", "a message changes or reacts, not both")
		}
	}
	if cl := r.GetClear(); cl != nil {
		if cl.GetUserId() < 1 {
			c.add(prefix+"clear.user_id", "must be >= 1")
		}
		c.key(prefix+"clear.conversation", cl.GetConversation(), maxConversationBytes)
		if cl.GetUpToSeq() < 1 {
			c.add(prefix+"clear.up_to_seq", "must be >= 1")
		}
	}
}

// maxEmojiBytes bounds a reaction's emoji (a sequence of code points: flags,
// skin tones and joiners make one emoji several).
const maxEmojiBytes = 64

func (s *messagesServer) newMessage(r *datav1.AppendMessageRequest, now time.Time) store.Message {
	return store.Message{
		ID:           s.ids.Next(),
		Conversation: r.GetConversation(),
		SenderID:     r.GetSenderId(),
		ClientMsgID:  r.GetClientMsgId(),
		Kind:         r.GetKind(),
		Content:      r.GetContent(),
		CreatedAt:    now,
		Change:       change(r.GetChange()),
		Reaction:     reaction(r.GetReaction()),
		Clear:        clearOf(r.GetClear()),
		Uncounted:    r.GetUncounted(),
	}
}

func clearOf(c *datav1.Clear) *store.Clear {
	if c == nil {
		return nil
	}
	return &store.Clear{UserID: c.GetUserId(), Conversation: c.GetConversation(), UpToSeq: c.GetUpToSeq()}
}

func reaction(r *datav1.Reaction) *store.Reaction {
	if r == nil {
		return nil
	}
	return &store.Reaction{TargetSeq: r.GetTargetSeq(), UserID: r.GetUserId(), Emoji: r.GetEmoji(), Remove: r.GetRemove()}
}

func change(c *datav1.MessageChange) *store.MessageChange {
	if c == nil {
		return nil
	}
	return &store.MessageChange{TargetSeq: c.GetTargetSeq(), Kind: c.GetKind(), Content: c.GetContent(), KeepPrevious: c.GetKeepPrevious()}
}

func (s *messagesServer) AppendMessage(ctx context.Context, r *datav1.AppendMessageRequest) (*datav1.AppendMessageResponse, error) {
	var c checker
	c.appendRequest("", r)
	if err := c.err(); err != nil {
		return nil, err
	}
	res, err := s.docs.AppendMessages(ctx, []store.Message{s.newMessage(r, s.now())})
	if err != nil {
		return nil, s.fail(ctx, "append message", err)
	}
	if len(res) != 1 {
		return nil, s.fail(ctx, "append message", fmt.Errorf("store returned %d results for 1 message", len(res)))
	}
	return appendResultPB(res[0]), nil
}

func (s *messagesServer) AppendMessagesPlus(ctx context.Context, r *datav1.AppendMessagesPlusRequest) (*datav1.AppendMessagesPlusResponse, error) {
	var c checker
	in := r.GetMessages()
	if len(in) == 0 || len(in) > maxBatch {
		c.add("messages", "must hold 1..%d messages", maxBatch)
	} else {
		for i, m := range in {
			c.appendRequest(fmt.Sprintf("messages[%d].", i), m)
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	now := s.now()
	msgs := make([]store.Message, len(in))
	for i, m := range in {
		msgs[i] = s.newMessage(m, now)
	}
	res, err := s.docs.AppendMessages(ctx, msgs)
	if err != nil {
		return nil, s.fail(ctx, "append messages", err)
	}
	if len(res) != len(msgs) {
		return nil, s.fail(ctx, "append messages", fmt.Errorf("store returned %d results for %d messages", len(res), len(msgs)))
	}
	out := &datav1.AppendMessagesPlusResponse{Results: make([]*datav1.AppendMessageResponse, len(res))}
	for i, x := range res {
		out.Results[i] = appendResultPB(x)
	}
	return out, nil
}

func (s *messagesServer) GetMessages(ctx context.Context, r *datav1.GetMessagesRequest) (*datav1.GetMessagesResponse, error) {
	var c checker
	c.key("conversation", r.GetConversation(), maxConversationBytes)
	c.nonNegative("after_seq", r.GetAfterSeq())
	c.nonNegative("before_seq", r.GetBeforeSeq())
	if r.GetBeforeSeq() > 0 && r.GetBeforeSeq() <= r.GetAfterSeq() {
		c.add("before_seq", "must be greater than after_seq")
	}
	c.nonNegative("reactions_viewer", r.GetReactionsViewer())
	c.nonNegative("cleared_for", r.GetClearedFor())
	limit := c.limit(r.GetLimit())
	if err := c.err(); err != nil {
		return nil, err
	}
	rg := store.MessageRange{
		Conversation: r.GetConversation(),
		AfterSeq:     r.GetAfterSeq(),
		BeforeSeq:    r.GetBeforeSeq(),
		Limit:        limit,
		NewestFirst:  r.GetNewestFirst(),
		ClearedFor:   r.GetClearedFor(),
	}
	viewer := r.GetReactionsViewer()
	if viewer == 0 {
		msgs, more, err := s.docs.GetMessages(ctx, rg)
		if err != nil {
			return nil, s.fail(ctx, "get messages", err)
		}
		return &datav1.GetMessagesResponse{Messages: messagesPB(msgs), HasMore: more}, nil
	}
	msgs, more, rs, err := s.docs.GetMessagesWithReactions(ctx, rg, viewer)
	if err != nil {
		return nil, s.fail(ctx, "get messages", err)
	}
	out := &datav1.GetMessagesResponse{Messages: messagesPB(msgs), HasMore: more}
	for _, m := range msgs {
		counts := rs[m.Seq]
		if len(counts) == 0 {
			continue
		}
		mr := &datav1.MessageReactions{Seq: m.Seq, Counts: make([]*datav1.ReactionCount, len(counts))}
		for i, rc := range counts {
			mr.Counts[i] = &datav1.ReactionCount{Emoji: rc.Emoji, Count: rc.Count, Me: rc.Me}
		}
		out.Reactions = append(out.Reactions, mr)
	}
	return out, nil
}

func (s *messagesServer) GetMessagesByTime(ctx context.Context, r *datav1.GetMessagesByTimeRequest) (*datav1.GetMessagesByTimeResponse, error) {
	var c checker
	c.key("conversation", r.GetConversation(), maxConversationBytes)
	c.timestamp("from", r.GetFrom())
	c.timestamp("to", r.GetTo())
	if len(c.violations) == 0 && !fromTS(r.GetTo()).After(fromTS(r.GetFrom())) {
		c.add("to", "must be after from")
	}
	p := c.page(r.GetLimit(), r.GetPageToken())
	if err := c.err(); err != nil {
		return nil, err
	}
	msgs, next, err := s.docs.GetMessagesByTime(ctx, r.GetConversation(), fromTS(r.GetFrom()), fromTS(r.GetTo()), p)
	if err != nil {
		return nil, s.fail(ctx, "get messages by time", err)
	}
	return &datav1.GetMessagesByTimeResponse{Messages: messagesPB(msgs), NextPageToken: encodePageToken(next)}, nil
}

func (s *messagesServer) GetMessageByClientID(ctx context.Context, r *datav1.GetMessageByClientIDRequest) (*datav1.Message, error) {
	var c checker
	c.nonNegative("sender_id", r.GetSenderId())
	c.key("client_msg_id", r.GetClientMsgId(), maxClientMsgIDBytes)
	if err := c.err(); err != nil {
		return nil, err
	}
	m, err := s.docs.GetMessageByClientID(ctx, r.GetSenderId(), r.GetClientMsgId())
	if err != nil {
		return nil, s.fail(ctx, "get message by client id", err)
	}
	return messagePB(m), nil
}

func (s *messagesServer) GetMessageVersions(ctx context.Context, r *datav1.GetMessageVersionsRequest) (*datav1.GetMessageVersionsResponse, error) {
	var c checker
	c.key("conversation", r.GetConversation(), maxConversationBytes)
	if r.GetSeq() < 1 {
		c.add("seq", "must be >= 1")
	}
	limit := c.limit(r.GetLimit())
	if err := c.err(); err != nil {
		return nil, err
	}
	vs, more, err := s.docs.MessageVersions(ctx, r.GetConversation(), r.GetSeq(), limit)
	if err != nil {
		return nil, s.fail(ctx, "get message versions", err)
	}
	out := &datav1.GetMessageVersionsResponse{Versions: make([]*datav1.MessageVersion, len(vs)), HasMore: more}
	for i, v := range vs {
		out.Versions[i] = &datav1.MessageVersion{Kind: v.Kind, Content: v.Content, ReplacedBySeq: v.ReplacedBySeq, ReplacedAt: ts(v.ReplacedAt)}
	}
	return out, nil
}

func (s *messagesServer) GetConversationHeads(ctx context.Context, r *datav1.GetConversationHeadsRequest) (*datav1.GetConversationHeadsResponse, error) {
	var c checker
	c.conversations("conversations", r.GetConversations(), 1, maxListIDs)
	if err := c.err(); err != nil {
		return nil, err
	}
	heads, err := s.docs.ConversationHeads(ctx, r.GetConversations())
	if err != nil {
		return nil, s.fail(ctx, "get conversation heads", err)
	}
	if len(heads) != len(r.GetConversations()) {
		return nil, s.fail(ctx, "get conversation heads", fmt.Errorf("store returned %d heads for %d conversations", len(heads), len(r.GetConversations())))
	}
	out := &datav1.GetConversationHeadsResponse{Heads: make([]*datav1.ConversationHead, len(heads))}
	for i, h := range heads {
		out.Heads[i] = &datav1.ConversationHead{Conversation: r.GetConversations()[i], LastSeq: h}
	}
	return out, nil
}

// cursorRequest checks one cursor to advance; prefix is "" or "cursors[i].".
func (c *checker) cursorRequest(prefix string, r *datav1.AdvanceCursorRequest) {
	c.id(prefix+"user_id", r.GetUserId())
	c.maxBytes(prefix+"device_id", r.GetDeviceId(), maxDeviceIDBytes)
	c.key(prefix+"conversation", r.GetConversation(), maxConversationBytes)
	c.nonNegative(prefix+"delivered_seq", r.GetDeliveredSeq())
	c.nonNegative(prefix+"acked_seq", r.GetAckedSeq())
}

func cursorOf(r *datav1.AdvanceCursorRequest) store.Cursor {
	return store.Cursor{
		UserID:       r.GetUserId(),
		DeviceID:     r.GetDeviceId(),
		Conversation: r.GetConversation(),
		DeliveredSeq: r.GetDeliveredSeq(),
		AckedSeq:     r.GetAckedSeq(),
	}
}

func (s *messagesServer) AdvanceCursor(ctx context.Context, r *datav1.AdvanceCursorRequest) (*datav1.Cursor, error) {
	var c checker
	c.cursorRequest("", r)
	if err := c.err(); err != nil {
		return nil, err
	}
	cs, err := s.docs.AdvanceCursors(ctx, []store.Cursor{cursorOf(r)})
	if err != nil {
		return nil, s.fail(ctx, "advance cursor", err)
	}
	if len(cs) != 1 {
		return nil, s.fail(ctx, "advance cursor", fmt.Errorf("store returned %d cursors for 1", len(cs)))
	}
	return cursorPB(cs[0]), nil
}

func (s *messagesServer) AdvanceCursorsPlus(ctx context.Context, r *datav1.AdvanceCursorsPlusRequest) (*datav1.AdvanceCursorsPlusResponse, error) {
	var c checker
	in, sent := r.GetCursors(), r.GetSent()
	switch {
	case len(in) > maxBatch || len(in) == 0 && len(sent) == 0:
		c.add("cursors", "must hold 1..%d cursors (0 with sent)", maxBatch)
	case len(sent) > maxBatch:
		c.add("sent", "must hold 0..%d", maxBatch)
	case len(sent) > 0 && !r.GetNoResult():
		c.add("no_result", "must be true with sent")
	}
	for i, x := range in {
		c.cursorRequest(fmt.Sprintf("cursors[%d].", i), x)
	}
	moves := make([]store.SentSeq, len(sent))
	for i, x := range sent {
		c.id(fmt.Sprintf("sent[%d].user_id", i), x.GetUserId())
		c.key(fmt.Sprintf("sent[%d].conversation", i), x.GetConversation(), maxConversationBytes)
		c.id(fmt.Sprintf("sent[%d].seq", i), x.GetSeq())
		moves[i] = store.SentSeq{UserID: x.GetUserId(), Conversation: x.GetConversation(), Seq: x.GetSeq()}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	want := make([]store.Cursor, len(in))
	for i, x := range in {
		want[i] = cursorOf(x)
	}
	if r.GetNoResult() {
		if len(want) > 0 {
			if err := s.docs.AdvanceCursorsNoResult(ctx, want); err != nil {
				return nil, s.fail(ctx, "advance cursors", err)
			}
		}
		if err := s.docs.MoveSenders(ctx, moves); err != nil {
			return nil, s.fail(ctx, "move senders", err)
		}
		return &datav1.AdvanceCursorsPlusResponse{}, nil
	}
	cs, err := s.docs.AdvanceCursors(ctx, want)
	if err != nil {
		return nil, s.fail(ctx, "advance cursors", err)
	}
	return &datav1.AdvanceCursorsPlusResponse{Cursors: cursorsPB(cs)}, nil
}

func (s *messagesServer) ListCursors(ctx context.Context, r *datav1.ListCursorsRequest) (*datav1.ListCursorsResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	c.maxBytes("device_id", r.GetDeviceId(), maxDeviceIDBytes)
	c.conversations("conversations", r.GetConversations(), 0, maxListIDs)
	if err := c.err(); err != nil {
		return nil, err
	}
	cs, err := s.docs.ListCursors(ctx, store.CursorFilter{
		UserID:        r.GetUserId(),
		DeviceID:      r.GetDeviceId(),
		AllDevices:    r.GetAllDevices(),
		Conversations: r.GetConversations(),
	})
	if err != nil {
		return nil, s.fail(ctx, "list cursors", err)
	}
	return &datav1.ListCursorsResponse{Cursors: cursorsPB(cs)}, nil
}

// SessionStartPlus runs each request that is set with its own RPC's handler,
// in one round trip for the caller.
func (s *messagesServer) SessionStartPlus(ctx context.Context, r *datav1.SessionStartPlusRequest) (*datav1.SessionStartPlusResponse, error) {
	if r.GetFriendships() == nil && r.GetGroups() == nil && r.GetFollowing() == nil && r.GetCursors() == nil {
		var c checker
		c.add("friendships", "set at least one of friendships, groups, following, cursors")
		return nil, c.err()
	}
	out := &datav1.SessionStartPlusResponse{}
	var err error
	if q := r.GetFriendships(); q != nil {
		if out.Friendships, err = s.friends.ListFriendships(ctx, q); err != nil {
			return nil, nested("friendships", err)
		}
	}
	if q := r.GetGroups(); q != nil {
		if out.Groups, err = s.groups.ListGroupsByMember(ctx, q); err != nil {
			return nil, nested("groups", err)
		}
	}
	if q := r.GetFollowing(); q != nil {
		if out.Following, err = s.subs.ListFollowing(ctx, q); err != nil {
			return nil, nested("following", err)
		}
	}
	if q := r.GetCursors(); q != nil {
		if out.Cursors, err = s.ListCursors(ctx, q); err != nil {
			return nil, nested("cursors", err)
		}
	}
	return out, nil
}
