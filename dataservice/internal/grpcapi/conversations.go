package grpcapi

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

const (
	maxHeads            = 2000 // GetHeads, GetConversationStates: a long conversation list in one call
	defaultContentLimit = 4096
	maxReceiptExcludes  = 1000
)

type conversationsServer struct {
	datav1.UnimplementedConversationsServer
	*base
}

func statePB(s store.ConversationState) *datav1.ConversationState {
	return &datav1.ConversationState{
		Conversation: s.Conversation,
		ReadSeq:      s.ReadSeq,
		LastSentSeq:  s.LastSentSeq,
		Muted:        s.Muted,
		Pinned:       s.Pinned,
		HiddenSeq:    s.HiddenSeq,
		ClearedSeq:   s.ClearedSeq,
		UpdatedAt:    ts(s.UpdatedAt),
		MentionSeq:   s.MentionSeq,
	}
}

func (s *conversationsServer) SetReadSeq(ctx context.Context, r *datav1.SetReadSeqRequest) (*datav1.SetReadSeqResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	c.key("conversation", r.GetConversation(), maxConversationBytes)
	c.id("seq", r.GetSeq())
	if err := c.err(); err != nil {
		return nil, err
	}
	seq, changed, err := s.docs.SetReadSeq(ctx, r.GetUserId(), r.GetConversation(), r.GetSeq())
	if err != nil {
		return nil, s.fail(ctx, "set read seq", err)
	}
	return &datav1.SetReadSeqResponse{ReadSeq: seq, Changed: changed}, nil
}

func (s *conversationsServer) GetConversationStates(ctx context.Context, r *datav1.GetConversationStatesRequest) (*datav1.GetConversationStatesResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	c.conversations("conversations", r.GetConversations(), 0, maxHeads)
	if err := c.err(); err != nil {
		return nil, err
	}
	sts, err := s.docs.ConversationStates(ctx, r.GetUserId(), r.GetConversations())
	if err != nil {
		return nil, s.fail(ctx, "conversation states", err)
	}
	out := &datav1.GetConversationStatesResponse{States: make([]*datav1.ConversationState, len(sts))}
	for i, st := range sts {
		out.States[i] = statePB(st)
	}
	return out, nil
}

func (s *conversationsServer) UpdateConversationSettings(ctx context.Context, r *datav1.UpdateConversationSettingsRequest) (*datav1.ConversationState, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	c.key("conversation", r.GetConversation(), maxConversationBytes)
	if r.Muted == nil && r.Pinned == nil && r.Hidden == nil {
		c.add("muted", "set at least one of muted, pinned, hidden")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	st, err := s.docs.UpdateConversationSettings(ctx, r.GetUserId(), r.GetConversation(),
		store.ConversationSettings{Muted: r.Muted, Pinned: r.Pinned, Hidden: r.Hidden})
	if err != nil {
		return nil, s.fail(ctx, "update conversation settings", err)
	}
	return statePB(st), nil
}

// excludes checks a list of user ids to leave out (0..1000, each > 0).
func (c *checker) excludes(field string, v []int64) {
	if len(v) > maxReceiptExcludes {
		c.add(field, "must hold 0..%d ids", maxReceiptExcludes)
		return
	}
	for i, id := range v {
		if id <= 0 {
			c.add(fmt.Sprintf("%s[%d]", field, i), "must be > 0")
		}
	}
}

func (s *conversationsServer) ListReaders(ctx context.Context, r *datav1.ListReadersRequest) (*datav1.ListReadersResponse, error) {
	var c checker
	c.key("conversation", r.GetConversation(), maxConversationBytes)
	c.id("seq", r.GetSeq())
	c.excludes("exclude_user_ids", r.GetExcludeUserIds())
	c.nonNegative("after_user_id", r.GetAfterUserId())
	limit := c.limit(r.GetLimit())
	if err := c.err(); err != nil {
		return nil, err
	}
	ids, more, err := s.docs.ListReaders(ctx, store.ReaderQuery{Conversation: r.GetConversation(), Seq: r.GetSeq(), Exclude: r.GetExcludeUserIds()},
		r.GetAfterUserId(), limit)
	if err != nil {
		return nil, s.fail(ctx, "list readers", err)
	}
	return &datav1.ListReadersResponse{UserIds: ids, HasMore: more}, nil
}

func (s *conversationsServer) CountReceipts(ctx context.Context, r *datav1.CountReceiptsRequest) (*datav1.CountReceiptsResponse, error) {
	var c checker
	in := r.GetQueries()
	if len(in) == 0 || len(in) > maxBatch {
		c.add("queries", "must hold 1..%d queries", maxBatch)
	} else {
		for i, q := range in {
			p := fmt.Sprintf("queries[%d].", i)
			c.key(p+"conversation", q.GetConversation(), maxConversationBytes)
			c.id(p+"seq", q.GetSeq())
			c.excludes(p+"exclude_user_ids", q.GetExcludeUserIds())
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	qs := make([]store.ReaderQuery, len(in))
	for i, q := range in {
		qs[i] = store.ReaderQuery{Conversation: q.GetConversation(), Seq: q.GetSeq(), Exclude: q.GetExcludeUserIds()}
	}
	counts, err := s.docs.CountReceipts(ctx, qs)
	if err != nil {
		return nil, s.fail(ctx, "count receipts", err)
	}
	out := &datav1.CountReceiptsResponse{Counts: make([]*datav1.ReceiptCount, len(counts))}
	for i, n := range counts {
		out.Counts[i] = &datav1.ReceiptCount{Conversation: qs[i].Conversation, Seq: qs[i].Seq, ReadCount: n.Read, DeliveredCount: n.Delivered}
	}
	return out, nil
}

func (s *conversationsServer) GetUserReceipts(ctx context.Context, r *datav1.GetUserReceiptsRequest) (*datav1.GetUserReceiptsResponse, error) {
	var c checker
	in := r.GetKeys()
	if len(in) == 0 || len(in) > maxBatch {
		c.add("keys", "must hold 1..%d keys", maxBatch)
	} else {
		for i, k := range in {
			p := fmt.Sprintf("keys[%d].", i)
			c.key(p+"conversation", k.GetConversation(), maxConversationBytes)
			c.id(p+"user_id", k.GetUserId())
		}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	keys := make([]store.UserReceipt, len(in))
	for i, k := range in {
		keys[i] = store.UserReceipt{Conversation: k.GetConversation(), UserID: k.GetUserId()}
	}
	got, err := s.docs.UserReceipts(ctx, keys)
	if err != nil {
		return nil, s.fail(ctx, "user receipts", err)
	}
	out := &datav1.GetUserReceiptsResponse{Receipts: make([]*datav1.UserReceipt, len(got))}
	for i, u := range got {
		out.Receipts[i] = &datav1.UserReceipt{Conversation: u.Conversation, UserId: u.UserID, ReadSeq: u.ReadSeq, DeliveredSeq: u.DeliveredSeq}
	}
	return out, nil
}

func (s *conversationsServer) GetHeads(ctx context.Context, r *datav1.GetHeadsRequest) (*datav1.GetHeadsResponse, error) {
	var c checker
	c.conversations("conversations", r.GetConversations(), 1, maxHeads)
	limit := int(r.GetContentLimit())
	switch {
	case limit < 0 || limit > maxContentBytes:
		c.add("content_limit", "must be 0..%d", maxContentBytes)
	case r.GetHeadsOnly():
		limit = 0
	case limit == 0:
		limit = defaultContentLimit
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	heads, err := s.docs.Heads(ctx, r.GetConversations(), limit)
	if err != nil {
		return nil, s.fail(ctx, "get heads", err)
	}
	out := &datav1.GetHeadsResponse{Heads: make([]*datav1.ConversationHeadInfo, len(heads))}
	for i, h := range heads {
		info := &datav1.ConversationHeadInfo{Conversation: h.Conversation, HeadSeq: h.Seq}
		if h.Seq > 0 {
			info.UpdatedAt = ts(h.UpdatedAt)
			info.ContentTruncated = h.Truncated
			if h.Last.ID != 0 {
				info.LastMessage = messagePB(h.Last)
			}
		}
		out.Heads[i] = info
	}
	return out, nil
}

func (s *conversationsServer) GetUnreadPlus(ctx context.Context, r *datav1.GetUnreadPlusRequest) (*datav1.GetUnreadPlusResponse, error) {
	var c checker
	c.id("user_id", r.GetUserId())
	qs := r.GetConversations()
	if len(qs) < 1 || len(qs) > maxHeads {
		c.add("conversations", "must hold 1..%d", maxHeads)
	}
	in := make([]store.UnreadQuery, len(qs))
	for i, q := range qs {
		c.key(fmt.Sprintf("conversations[%d].conversation", i), q.GetConversation(), maxConversationBytes)
		c.nonNegative(fmt.Sprintf("conversations[%d].floor_seq", i), q.GetFloorSeq())
		in[i] = store.UnreadQuery{Conversation: q.GetConversation(), FloorSeq: q.GetFloorSeq()}
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	es, err := s.docs.Unread(ctx, r.GetUserId(), in)
	if err != nil {
		return nil, s.fail(ctx, "get unread", err)
	}
	if r.GetTotalOnly() {
		out := &datav1.GetUnreadPlusResponse{}
		for _, e := range es {
			hidden := e.State.HiddenSeq > 0 && e.Head.Seq <= e.State.HiddenSeq
			if !e.State.Muted && !hidden {
				out.Total += e.Unread
			}
		}
		return out, nil
	}
	out := &datav1.GetUnreadPlusResponse{Entries: make([]*datav1.UnreadEntry, len(es))}
	for i, e := range es {
		pe := &datav1.UnreadEntry{Conversation: e.Head.Conversation, HeadSeq: e.Head.Seq, State: statePB(e.State), Unread: e.Unread}
		if e.Head.Seq > 0 {
			pe.UpdatedAt = ts(e.Head.UpdatedAt)
		}
		out.Entries[i] = pe
	}
	return out, nil
}
