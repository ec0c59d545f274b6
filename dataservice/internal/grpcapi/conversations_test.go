package grpcapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/privateim/privateim/dataservice/internal/dataservicetest"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// TestConversationsOverGRPC: every Conversations RPC reaches the store and
// converts both ways over real gRPC; sending moves the sender's read seq;
// bad input names its field and stores nothing.
func TestConversationsOverGRPC(t *testing.T) {
	e := dataservicetest.Start(t)
	ctx := testCtx(t)
	conv := fmt.Sprintf("u:%d:%d", 901, 902)
	for i := range 3 {
		check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{
			Conversation: conv, SenderId: 901, ClientMsgId: fmt.Sprintf("c-%d", i), Kind: "text",
			Content: []byte(`{"text":"` + strings.Repeat("x", 50) + `"}`),
		}))(t)
	}
	c := e.Conversations

	t.Run("SetReadSeq", func(t *testing.T) {
		got := check(c.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: 902, Conversation: conv, Seq: 2}))(t)
		if got.GetReadSeq() != 2 || !got.GetChanged() {
			t.Errorf("SetReadSeq 2 = %v", got)
		}
		got = check(c.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: 902, Conversation: conv, Seq: 1}))(t)
		if got.GetReadSeq() != 2 || got.GetChanged() {
			t.Errorf("SetReadSeq 1 after 2 = %v, want 2 unchanged", got)
		}
		st := wantCode(t, errOf(c.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: 902, Conversation: conv, Seq: 4})), codes.FailedPrecondition)
		if !strings.Contains(st.Message(), "beyond") {
			t.Errorf("beyond the head: message %q", st.Message())
		}
		wantField(t, errOf(c.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: 902, Conversation: conv, Seq: -1})), "seq")
		wantField(t, errOf(c.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: 902, Conversation: "", Seq: 1})), "conversation")
		wantField(t, errOf(c.SetReadSeq(ctx, &datav1.SetReadSeqRequest{UserId: 0, Conversation: conv, Seq: 1})), "user_id")
	})

	t.Run("SetMentionSeqs", func(t *testing.T) {
		check(c.SetMentionSeqs(ctx, &datav1.SetMentionSeqsRequest{Mentions: []*datav1.MentionSeq{{UserId: 903, Conversation: conv, Seq: 2}}}))(t)
		got := check(c.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: 903, Conversations: []string{conv}}))(t)
		if s := got.GetStates()[0]; s.GetMentionSeq() != 2 || s.GetReadSeq() != 0 {
			t.Errorf("state after a mention = %v, want mention_seq 2", s)
		}
		st := wantCode(t, errOf(c.SetMentionSeqs(ctx, &datav1.SetMentionSeqsRequest{Mentions: []*datav1.MentionSeq{
			{UserId: 904, Conversation: conv, Seq: 1}, {UserId: 903, Conversation: conv, Seq: 4}}})), codes.FailedPrecondition)
		if !strings.Contains(st.Message(), "beyond") {
			t.Errorf("beyond the head: message %q", st.Message())
		}
		wantField(t, errOf(c.SetMentionSeqs(ctx, &datav1.SetMentionSeqsRequest{})), "mentions")
		wantField(t, errOf(c.SetMentionSeqs(ctx, &datav1.SetMentionSeqsRequest{Mentions: []*datav1.MentionSeq{{UserId: 0, Conversation: conv, Seq: 1}}})), "mentions[0].user_id")
		wantField(t, errOf(c.SetMentionSeqs(ctx, &datav1.SetMentionSeqsRequest{Mentions: []*datav1.MentionSeq{{UserId: 904, Conversation: "", Seq: 1}}})), "mentions[0].conversation")
		wantField(t, errOf(c.SetMentionSeqs(ctx, &datav1.SetMentionSeqsRequest{Mentions: []*datav1.MentionSeq{{UserId: 904, Conversation: conv, Seq: 1}, {UserId: 904, Conversation: conv, Seq: 0}}})), "mentions[1].seq")
		if s := check(c.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: 904, Conversations: []string{conv}}))(t).GetStates()[0]; s.GetMentionSeq() != 0 || s.GetUpdatedAt() != nil {
			t.Errorf("refused mentions stored: %v", s)
		}
	})

	t.Run("States", func(t *testing.T) {
		// The sender's read seq moves with AdvanceCursorsPlus sent (the
		// messageservice's cursor writer), not with the append.
		sent := func(noResult bool, ss ...*datav1.SentSeq) (*datav1.AdvanceCursorsPlusResponse, error) {
			return e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{NoResult: noResult, Sent: ss})
		}
		check(sent(true, &datav1.SentSeq{UserId: 901, Conversation: conv, Seq: 3}, &datav1.SentSeq{UserId: 902, Conversation: conv, Seq: 3}))(t)
		wantField(t, errOf(sent(false, &datav1.SentSeq{UserId: 901, Conversation: conv, Seq: 3})), "no_result")
		wantField(t, errOf(sent(true, &datav1.SentSeq{UserId: 901, Conversation: conv})), "sent[0].seq")
		wantField(t, errOf(sent(true, &datav1.SentSeq{Conversation: conv, Seq: 1})), "sent[0].user_id")
		wantField(t, errOf(sent(true)), "cursors")
		got := check(c.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: 901, Conversations: []string{conv, "nope"}}))(t)
		if len(got.GetStates()) != 2 {
			t.Fatalf("states = %v", got)
		}
		if s := got.GetStates()[0]; s.GetReadSeq() != 3 || s.GetLastSentSeq() != 3 || s.GetUpdatedAt() == nil {
			t.Errorf("sender's state = %v, want read and sent 3", s)
		}
		if s := got.GetStates()[1]; s.GetConversation() != "nope" || s.GetReadSeq() != 0 || s.GetUpdatedAt() != nil {
			t.Errorf("state without a row = %v", s)
		}
		all := check(c.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: 902}))(t)
		if len(all.GetStates()) != 1 || all.GetStates()[0].GetReadSeq() != 2 {
			t.Errorf("every state of 902 = %v", all)
		}
		wantField(t, errOf(c.GetConversationStates(ctx, &datav1.GetConversationStatesRequest{UserId: 901, Conversations: make([]string, 2001)})), "conversations")
	})

	t.Run("Settings", func(t *testing.T) {
		got := check(c.UpdateConversationSettings(ctx, &datav1.UpdateConversationSettingsRequest{UserId: 902, Conversation: conv, Pinned: proto.Bool(true), Hidden: proto.Bool(true)}))(t)
		if !got.GetPinned() || got.GetMuted() || got.GetHiddenSeq() != 3 || got.GetReadSeq() != 2 {
			t.Errorf("after pin and hide: %v", got)
		}
		wantField(t, errOf(c.UpdateConversationSettings(ctx, &datav1.UpdateConversationSettingsRequest{UserId: 902, Conversation: conv})), "muted")
	})

	t.Run("Receipts", func(t *testing.T) {
		check(e.Messages.AdvanceCursorsPlus(ctx, &datav1.AdvanceCursorsPlusRequest{Cursors: []*datav1.AdvanceCursorRequest{
			{UserId: 902, DeviceId: "phone", Conversation: conv, DeliveredSeq: 3, AckedSeq: 3},
		}}))(t)
		readers := check(c.ListReaders(ctx, &datav1.ListReadersRequest{Conversation: conv, Seq: 2, ExcludeUserIds: []int64{901}}))(t)
		if !slices.Equal(readers.GetUserIds(), []int64{902}) || readers.GetHasMore() {
			t.Errorf("readers of 2 = %v", readers)
		}
		counts := check(c.CountReceipts(ctx, &datav1.CountReceiptsRequest{Queries: []*datav1.ReceiptQuery{
			{Conversation: conv, Seq: 3, ExcludeUserIds: []int64{901}},
		}}))(t)
		if n := counts.GetCounts()[0]; n.GetReadCount() != 0 || n.GetDeliveredCount() != 1 || n.GetSeq() != 3 || n.GetConversation() != conv {
			t.Errorf("counts of 3 = %v, want read 0, delivered 1", n)
		}
		rs := check(c.GetUserReceipts(ctx, &datav1.GetUserReceiptsRequest{Keys: []*datav1.UserReceiptKey{{Conversation: conv, UserId: 902}}}))(t)
		if r := rs.GetReceipts()[0]; r.GetReadSeq() != 2 || r.GetDeliveredSeq() != 3 || r.GetUserId() != 902 {
			t.Errorf("receipt of 902 = %v", r)
		}
		wantField(t, errOf(c.ListReaders(ctx, &datav1.ListReadersRequest{Conversation: conv, Seq: 1, Limit: 1001})), "limit")
		wantField(t, errOf(c.CountReceipts(ctx, &datav1.CountReceiptsRequest{})), "queries")
		wantField(t, errOf(c.CountReceipts(ctx, &datav1.CountReceiptsRequest{Queries: []*datav1.ReceiptQuery{{Conversation: conv, Seq: 0}}})), "queries[0].seq")
		wantField(t, errOf(c.GetUserReceipts(ctx, &datav1.GetUserReceiptsRequest{Keys: []*datav1.UserReceiptKey{{Conversation: conv}}})), "keys[0].user_id")
	})

	t.Run("Heads", func(t *testing.T) {
		got := check(c.GetHeads(ctx, &datav1.GetHeadsRequest{Conversations: []string{"none", conv}, ContentLimit: 20}))(t)
		if h := got.GetHeads()[0]; h.GetHeadSeq() != 0 || h.GetLastMessage() != nil || h.GetUpdatedAt() != nil {
			t.Errorf("head of none = %v", h)
		}
		h := got.GetHeads()[1]
		if h.GetHeadSeq() != 3 || h.GetUpdatedAt() == nil || !h.GetContentTruncated() ||
			h.GetLastMessage().GetSeq() != 3 || h.GetLastMessage().GetSenderId() != 901 || len(h.GetLastMessage().GetContent()) != 20 {
			t.Errorf("head = %v", h)
		}
		only := check(c.GetHeads(ctx, &datav1.GetHeadsRequest{Conversations: []string{conv}, ContentLimit: 20, HeadsOnly: true}))(t).GetHeads()[0]
		if only.GetHeadSeq() != 3 || !only.GetUpdatedAt().AsTime().Equal(h.GetUpdatedAt().AsTime()) || only.GetLastMessage() != nil || only.GetContentTruncated() {
			t.Errorf("heads only = %v, want seq 3 at %v and no message", only, h.GetUpdatedAt())
		}
		wantField(t, errOf(c.GetHeads(ctx, &datav1.GetHeadsRequest{})), "conversations")
		wantField(t, errOf(c.GetHeads(ctx, &datav1.GetHeadsRequest{Conversations: []string{conv}, ContentLimit: -1})), "content_limit")
	})

	t.Run("GetUnreadPlus", func(t *testing.T) {
		// 902 read 2 of 901's 3 messages (SetReadSeq above); 905 read none
		// and reads after a floor of 1; an uncounted message counts for nobody.
		check(e.Messages.AppendMessage(ctx, &datav1.AppendMessageRequest{
			Conversation: conv, ClientMsgId: "notice", Kind: "group_event", Content: []byte(`{}`), Uncounted: true}))(t)
		got := check(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{UserId: 902, Conversations: []*datav1.UnreadQuery{
			{Conversation: "none"}, {Conversation: conv}}}))(t).GetEntries()
		if e := got[0]; e.GetConversation() != "none" || e.GetHeadSeq() != 0 || e.GetUpdatedAt() != nil || e.GetUnread() != 0 {
			t.Errorf("entry of none = %v", e)
		}
		if e := got[1]; e.GetHeadSeq() != 4 || e.GetUpdatedAt() == nil || e.GetState().GetReadSeq() != 2 || e.GetUnread() != 1 {
			t.Errorf("entry of 902 = %v, want head 4, read 2, unread 1", e)
		}
		floored := check(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{UserId: 905, Conversations: []*datav1.UnreadQuery{
			{Conversation: conv, FloorSeq: 1}}}))(t).GetEntries()[0]
		if floored.GetUnread() != 2 || floored.GetState().GetConversation() != conv {
			t.Errorf("entry of 905 after floor 1 = %v, want unread 2", floored)
		}
		// total_only: the sum over conversations neither muted nor hidden.
		total := func(settings *datav1.UpdateConversationSettingsRequest) int64 {
			t.Helper()
			if settings != nil {
				settings.UserId, settings.Conversation = 902, conv
				check(c.UpdateConversationSettings(ctx, settings))(t)
			}
			got := check(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{UserId: 902, TotalOnly: true, Conversations: []*datav1.UnreadQuery{
				{Conversation: "none"}, {Conversation: conv}}}))(t)
			if len(got.GetEntries()) != 0 {
				t.Errorf("total_only answered entries %v", got.GetEntries())
			}
			return got.GetTotal()
		}
		if n := total(nil); n != 1 {
			t.Errorf("total of 902 = %d, want 1", n)
		}
		if n := total(&datav1.UpdateConversationSettingsRequest{Muted: proto.Bool(true)}); n != 0 {
			t.Errorf("total of 902 muted = %d, want 0", n)
		}
		if n := total(&datav1.UpdateConversationSettingsRequest{Muted: proto.Bool(false), Hidden: proto.Bool(true)}); n != 0 {
			t.Errorf("total of 902 hidden at the head = %d, want 0", n)
		}
		if n := total(&datav1.UpdateConversationSettingsRequest{Hidden: proto.Bool(false)}); n != 1 {
			t.Errorf("total of 902 shown again = %d, want 1", n)
		}
		wantField(t, errOf(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{UserId: 902})), "conversations")
		wantField(t, errOf(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{Conversations: []*datav1.UnreadQuery{{Conversation: conv}}})), "user_id")
		wantField(t, errOf(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{UserId: 902, Conversations: []*datav1.UnreadQuery{{Conversation: ""}}})), "conversations[0].conversation")
		wantField(t, errOf(c.GetUnreadPlus(ctx, &datav1.GetUnreadPlusRequest{UserId: 902, Conversations: []*datav1.UnreadQuery{{Conversation: conv, FloorSeq: -1}}})), "conversations[0].floor_seq")
	})
}
