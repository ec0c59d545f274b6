package grpcapi

import (
	"context"
	"fmt"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// SetMentionSeqs records the messageservice's mentions (issue 15): 1..1000
// entries, each with a user, a conversation and a seq >= 1; the store
// refuses a seq beyond its head (FailedPrecondition, nothing stored).
func (s *conversationsServer) SetMentionSeqs(ctx context.Context, r *datav1.SetMentionSeqsRequest) (*datav1.SetMentionSeqsResponse, error) {
	var c checker
	in := r.GetMentions()
	if len(in) == 0 || len(in) > maxBatch {
		c.add("mentions", "must hold 1..%d mentions", maxBatch)
	}
	ms := make([]store.MentionSeq, 0, len(in))
	for i, m := range in {
		if i >= maxBatch {
			break
		}
		p := fmt.Sprintf("mentions[%d].", i)
		c.id(p+"user_id", m.GetUserId())
		c.key(p+"conversation", m.GetConversation(), maxConversationBytes)
		c.id(p+"seq", m.GetSeq())
		ms = append(ms, store.MentionSeq{UserID: m.GetUserId(), Conversation: m.GetConversation(), Seq: m.GetSeq()})
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	if err := s.docs.SetMentionSeqs(ctx, ms); err != nil {
		return nil, s.fail(ctx, "set mention seqs", err)
	}
	return &datav1.SetMentionSeqsResponse{}, nil
}
