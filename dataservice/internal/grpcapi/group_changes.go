package grpcapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// maxAnnouncementRunes bounds a group's announcement.
const maxAnnouncementRunes = 2000

// groupChangesServer serves GroupChanges: a group change and its system
// message, committed together through the notice outbox (the change and
// the notice in one relational transaction, then the notice's append to
// the document store), see protos/data/v1/group_changes.proto.
type groupChangesServer struct {
	datav1.UnimplementedGroupChangesServer
	*base
}

// groupModeration checks the moderation fields of an UpdateGroupRequest.
func (c *checker) groupModeration(prefix string, r *datav1.UpdateGroupRequest) {
	c.optRunes(prefix+"announcement", r.Announcement, maxAnnouncementRunes)
	c.nonNegative(prefix+"announcement_by", r.GetAnnouncementBy())
	c.optTimestamp(prefix+"announcement_at", r.GetAnnouncementAt())
}

// memberUpdate checks an UpdateGroupMemberRequest's changes.
func (c *checker) memberUpdate(prefix string, r *datav1.UpdateGroupMemberRequest) {
	c.optRunes(prefix+"nickname", r.Nickname, maxNameRunes)
	if r.Role != nil {
		c.enum(prefix+"role", int32(*r.Role), 1, roleMax)
	}
	c.optTimestamp(prefix+"muted_until", r.GetMutedUntil())
}

func groupUpdateOf(r *datav1.UpdateGroupRequest) store.GroupUpdate {
	up := store.GroupUpdate{
		Name:      r.Name,
		Avatar:    r.Avatar,
		QRCode:    r.QrCode,
		OwnerID:   r.OwnerId,
		Dismissed: r.Dismissed,
		MuteAll:   r.MuteAll,

		JoinPolicy:          optEnum[datav1.GroupJoinPolicy, store.JoinPolicy](r.JoinPolicy),
		History:             optEnum[datav1.GroupHistory, store.History](r.History),
		InviteNeedsApproval: r.InviteNeedsApproval,
	}
	if r.Announcement != nil {
		up.Announcement, up.AnnouncementBy = r.Announcement, r.GetAnnouncementBy()
		if r.GetAnnouncementAt() != nil {
			up.AnnouncementAt = fromTS(r.GetAnnouncementAt())
		}
	}
	return up
}

func memberUpdateOf(r *datav1.UpdateGroupMemberRequest) store.GroupMemberUpdate {
	up := store.GroupMemberUpdate{
		Nickname: r.Nickname,
		Role:     optEnum[datav1.GroupRole, store.GroupRole](r.Role),
		Left:     r.Left,
	}
	if t := r.GetMutedUntil(); t != nil {
		var until time.Time // the zero Timestamp unmutes
		if t.GetSeconds() != 0 || t.GetNanos() != 0 {
			until = fromTS(t)
		}
		up.MutedUntil = &until
	}
	return up
}

// groupConversation is the name of a group's conversation.
func groupConversation(id int64) string { return "g:" + strconv.FormatInt(id, 10) }

// notice checks a change's system message: required, from sender 0, in
// the group's conversation (filled in when empty; id 0: any group's).
func (c *checker) notice(field string, r *datav1.AppendMessageRequest, groupID int64) {
	if r == nil {
		c.add(field, "required")
		return
	}
	if r.GetSenderId() != 0 {
		c.add(field+".sender_id", "must be 0 (a system message)")
	}
	if conv := r.GetConversation(); conv != "" && groupID > 0 && conv != groupConversation(groupID) {
		c.add(field+".conversation", "must be empty or %s", groupConversation(groupID))
	}
	if groupID == 0 && r.GetConversation() != "" {
		c.add(field+".conversation", "must be empty (the new group's is filled in)")
	}
	c.key(field+".client_msg_id", r.GetClientMsgId(), maxClientMsgIDBytes)
	c.key(field+".kind", r.GetKind(), maxKindBytes)
	if len(r.GetContent()) > maxContentBytes {
		c.add(field+".content", "at most %d bytes", maxContentBytes)
	}
}

func (s *groupChangesServer) newNotice(r *datav1.AppendMessageRequest, groupID int64) store.Message {
	return store.Message{
		ID:           s.ids.Next(),
		Conversation: groupConversation(groupID),
		ClientMsgID:  r.GetClientMsgId(),
		Kind:         r.GetKind(),
		Content:      r.GetContent(),
		CreatedAt:    s.now(),
	}
}

// groupNoticeKind is the kind of the system messages of group changes
// made through the Groups service's ...Plus calls (GroupNotice).
const groupNoticeKind = "group_event"

// groupNotice checks an optional GroupNotice.
func (c *checker) groupNotice(field string, n *datav1.GroupNotice) {
	if n != nil {
		c.noticeFields(field, n.GetClientMsgId(), n.GetContent())
	}
}

// noticeFields checks the fields every system notice has.
func (c *checker) noticeFields(field, clientMsgID string, content []byte) {
	c.key(field+".client_msg_id", clientMsgID, maxClientMsgIDBytes)
	if len(content) > maxContentBytes {
		c.add(field+".content", "at most %d bytes", maxContentBytes)
	}
}

// groupNotice is the outbox message of a GroupNotice, nil for none.
func (b *base) groupNotice(n *datav1.GroupNotice, groupID int64) *store.Message {
	if n == nil {
		return nil
	}
	return b.notice(groupConversation(groupID), groupNoticeKind, n.GetClientMsgId(), n.GetContent())
}

// notice is a system message (sender 0) to store in conversation.
func (b *base) notice(conversation, kind, clientMsgID string, content []byte) *store.Message {
	return &store.Message{
		ID: b.ids.Next(), Conversation: conversation, ClientMsgID: clientMsgID,
		Kind: kind, Content: content, CreatedAt: b.now(),
	}
}

// withNoticeSeq appends a committed change's notice (nil: none) and puts
// its seq in m.
func (b *base) withNoticeSeq(ctx context.Context, m *datav1.GroupMember, n *store.Message) *datav1.GroupMember {
	if n != nil {
		if stored, ok := b.appendNotice(ctx, *n); ok {
			m.NoticeSeq = stored.Seq
		}
	}
	return m
}

func (s *groupChangesServer) ChangeGroupPlus(ctx context.Context, r *datav1.ChangeGroupPlusRequest) (*datav1.ChangeGroupPlusResponse, error) {
	var c checker
	c.id("group_id", r.GetGroupId())
	if g := r.GetGroup(); g != nil {
		c.optName("group.name", g.Name, maxNameRunes)
		c.optBytes("group.avatar", g.Avatar, maxURLBytes)
		c.optBytes("group.qr_code", g.QrCode, maxURLBytes)
		c.optID("group.owner_id", g.OwnerId)
		c.groupModeration("group.", g)
		c.groupAccess("group.", g)
	}
	if len(r.GetMembers()) > maxBatch {
		c.add("members", "at most %d", maxBatch)
	}
	for i, m := range r.GetMembers() {
		p := fmt.Sprintf("members[%d].", i)
		c.id(p+"user_id", m.GetUserId())
		c.enum(p+"role", int32(m.GetRole()), 0, roleMax)
		c.maxRunes(p+"nickname", m.GetNickname(), maxNameRunes)
		c.enum(p+"expect_role", int32(m.GetExpectRole()), 0, roleMax)
		switch {
		case m.GetUnban() && (m.GetAdd() || m.GetUpdate() != nil):
			c.add(p+"unban", "set exactly one of add, update and unban")
		case m.GetUnban():
		case m.GetAdd() == (m.GetUpdate() != nil):
			c.add(p+"update", "set exactly one of add and update")
		case m.GetUpdate() != nil:
			c.memberUpdate(p+"update.", m.GetUpdate())
		}
		if m.GetBan() && (m.GetUpdate() == nil || r.GetActorId() <= 0) {
			c.add(p+"ban", "needs update and actor_id")
		}
	}
	c.notice("notice", r.GetNotice(), r.GetGroupId())
	c.nonNegative("actor_id", r.GetActorId())
	c.enum("actor_min_role", int32(r.GetActorMinRole()), 0, roleMax)
	if r.GetActorMinRole() != 0 {
		c.id("actor_id", r.GetActorId())
	}
	if r.GetMaxAdmins() < 0 {
		c.add("max_admins", "must be >= 0")
	}
	if r.GetMaxMembers() < 0 {
		c.add("max_members", "must be >= 0")
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	ch := store.GroupChange{
		GroupID:      r.GetGroupId(),
		ActorID:      r.GetActorId(),
		ActorMinRole: store.GroupRole(r.GetActorMinRole()),
		MaxAdmins:    int(r.GetMaxAdmins()),
		MaxMembers:   int(r.GetMaxMembers()),
		Notice:       s.newNotice(r.GetNotice(), r.GetGroupId()),
	}
	if g := r.GetGroup(); g != nil {
		up := groupUpdateOf(g)
		ch.Group = &up
	}
	for _, m := range r.GetMembers() {
		mc := store.GroupMemberChange{
			UserID: m.GetUserId(), Add: m.GetAdd(), Role: store.GroupRole(m.GetRole()),
			Nickname: m.GetNickname(), ExpectRole: store.GroupRole(m.GetExpectRole()),
		}
		if u := m.GetUpdate(); u != nil {
			mc.Update = memberUpdateOf(u)
		}
		mc.FromRequest = m.GetAdd() && m.GetFromRequest()
		mc.Ban, mc.Unban = m.GetBan(), m.GetUnban()
		ch.Members = append(ch.Members, mc)
		if m.GetAdd() && ch.JoinSeq == 0 {
			// An added member reads from the next message on (history
			// joined): their member_joined notice, unless a message lands
			// between this read and the commit.
			heads, err := s.docs.ConversationHeads(ctx, []string{groupConversation(r.GetGroupId())})
			if err != nil {
				return nil, s.fail(ctx, "change group: head", err)
			}
			ch.JoinSeq = heads[0] + 1
		}
	}
	res, err := s.rel.ChangeGroupPlus(ctx, ch)
	if err != nil {
		return nil, s.fail(ctx, "change group", err)
	}
	out := &datav1.ChangeGroupPlusResponse{Group: groupPB(res.Group), Members: membersPB(res.Members), Duplicate: res.Duplicate}
	if n, ok := s.appendNotice(ctx, res.Notice); ok {
		out.Notice = messagePB(n)
	}
	return out, nil
}

func (s *groupChangesServer) CreateGroupNoticePlus(ctx context.Context, r *datav1.CreateGroupNoticePlusRequest) (*datav1.CreateGroupNoticePlusResponse, error) {
	var c checker
	gr := r.GetGroup()
	if gr == nil {
		c.add("group", "required")
	} else {
		c.name("group.name", gr.GetName(), maxNameRunes)
		c.id("group.owner_id", gr.GetOwnerId())
		c.maxBytes("group.avatar", gr.GetAvatar(), maxURLBytes)
		c.ids("group.member_ids", gr.GetMemberIds(), 0)
	}
	c.notice("notice", r.GetNotice(), 0)
	if err := c.err(); err != nil {
		return nil, err
	}
	now := s.now()
	id := s.ids.Next()
	notice := s.newNotice(r.GetNotice(), id)
	g, ms, err := s.rel.CreateGroupNoticePlus(ctx, store.Group{
		ID: id, Name: gr.GetName(), OwnerID: gr.GetOwnerId(), Avatar: gr.GetAvatar(), CreatedAt: now, UpdatedAt: now,
	}, gr.GetMemberIds(), notice)
	if err != nil {
		return nil, s.fail(ctx, "create group", err)
	}
	out := &datav1.CreateGroupNoticePlusResponse{Group: groupPB(g), Members: membersPB(ms)}
	if n, ok := s.appendNotice(ctx, notice); ok {
		out.Notice = messagePB(n)
	}
	return out, nil
}

// appendNotice appends an outbox notice to its conversation (a no-op
// answering the stored message when it was appended before) and records
// its seq. A failure is logged, not returned: the change is committed and
// FlushGroupNotices appends the notice later.
func (b *base) appendNotice(ctx context.Context, n store.Message) (store.Message, bool) {
	n.SenderID = 0
	// A group's notices (joins, leaves, renames) are shown in the chat but
	// do not count as unread; a user's own notices (sys:, join requests)
	// do. The outbox keeps no flag: the conversation says which.
	n.Uncounted = strings.HasPrefix(n.Conversation, "g:")
	if n.Seq > 0 { // appended before: answer the stored message
		m, err := b.docs.GetMessageByClientID(ctx, 0, n.ClientMsgID)
		if err != nil {
			b.log.WarnContext(ctx, "read group notice", "client_msg_id", n.ClientMsgID, "err", err)
			return store.Message{}, false
		}
		return m, true
	}
	// A fresh id per attempt: an earlier attempt may have stored the
	// message with the outbox's id, and the id is unique in the document
	// store; the (sender 0, client_msg_id) key finds the stored one.
	n.ID = b.ids.Next()
	res, err := b.docs.AppendMessages(ctx, []store.Message{n})
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("store returned %d results for 1 message", len(res))
	}
	if err != nil {
		b.log.WarnContext(ctx, "append group notice; left in the outbox", "conversation", n.Conversation, "client_msg_id", n.ClientMsgID, "err", err)
		return store.Message{}, false
	}
	m := res[0].Message
	if n.Seq != m.Seq {
		if err := b.rel.GroupNoticeAppended(ctx, n.ClientMsgID, m.Seq); err != nil {
			// The next flush appends it again, which answers the stored message.
			b.log.WarnContext(ctx, "record group notice seq", "client_msg_id", n.ClientMsgID, "err", err)
		}
	}
	return m, true
}

// flushGroupNotices appends the outbox notices older than age that are
// still pending (their change committed, their append failed or the
// process stopped in between). It returns how many it appended.
func (b *base) flushGroupNotices(ctx context.Context, age time.Duration) (int, error) {
	pending, err := b.rel.PendingGroupNotices(ctx, b.now().Add(-age), 100)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, n := range pending {
		if _, ok := b.appendNotice(ctx, n); ok {
			done++
		}
	}
	return done, nil
}
