package grpcapi

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/privateim/privateim/dataservice/internal/store"
	datav1 "github.com/privateim/privateim/protos/data/v1"
)

// ts converts a stored time; the zero time (never set) is nil.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// fromTS converts a validated timestamp.
func fromTS(t *timestamppb.Timestamp) time.Time { return t.AsTime().UTC() }

func userPB(u store.User) *datav1.User {
	return &datav1.User{
		Id:            u.ID,
		Email:         u.Email,
		Name:          u.Name,
		PasswordHash:  u.PasswordHash,
		Mobile:        u.Mobile,
		Gender:        datav1.Gender(u.Gender),
		Avatar:        u.Avatar,
		QrCode:        u.QRCode,
		Deleted:       u.Deleted,
		CreatedAt:     ts(u.CreatedAt),
		UpdatedAt:     ts(u.UpdatedAt),
		TokenVersion:  u.TokenVersion,
		EmailVerified: u.EmailVerified,
		Banned:        u.Banned,
		LastSeenMs:    u.LastSeenMS,
		// The store holds 1..3, the enum's values.
		LastSeenVisibility: datav1.LastSeenVisibility(u.LastSeenVisibility),
	}
}

func usersPB(us []store.User) []*datav1.User {
	out := make([]*datav1.User, len(us))
	for i, u := range us {
		out[i] = userPB(u)
	}
	return out
}

func resetTokenPB(t store.ResetToken) *datav1.ResetToken {
	return &datav1.ResetToken{
		Id:        t.ID,
		UserId:    t.UserID,
		TokenHash: t.TokenHash,
		ExpiresAt: ts(t.ExpiresAt),
		Used:      t.Used,
		CreatedAt: ts(t.CreatedAt),
	}
}

func emailTokenPB(t store.EmailToken) *datav1.EmailToken {
	return &datav1.EmailToken{
		Id:        t.ID,
		UserId:    t.UserID,
		TokenHash: t.TokenHash,
		ExpiresAt: ts(t.ExpiresAt),
		Used:      t.Used,
		CreatedAt: ts(t.CreatedAt),
	}
}

func friendshipPB(f store.Friendship) *datav1.Friendship {
	return &datav1.Friendship{
		SelfId:      f.SelfID,
		FriendId:    f.FriendID,
		Note:        f.Note,
		Message:     f.Message,
		Accepted:    f.Accepted,
		Blacklisted: f.Blacklisted,
		Deleted:     f.Deleted,
		CreatedAt:   ts(f.CreatedAt),
		UpdatedAt:   ts(f.UpdatedAt),
	}
}

func groupPB(g store.Group) *datav1.Group {
	return &datav1.Group{
		Id:          g.ID,
		Name:        g.Name,
		OwnerId:     g.OwnerID,
		Avatar:      g.Avatar,
		QrCode:      g.QRCode,
		Dismissed:   g.Dismissed,
		CreatedAt:   ts(g.CreatedAt),
		UpdatedAt:   ts(g.UpdatedAt),
		MemberCount: g.MemberCount,

		MuteAll:        g.MuteAll,
		Announcement:   g.Announcement,
		AnnouncementBy: g.AnnouncementBy,
		AnnouncementAt: ts(g.AnnouncementAt),

		JoinPolicy:          datav1.GroupJoinPolicy(g.JoinPolicy),
		History:             datav1.GroupHistory(g.History),
		InviteNeedsApproval: g.InviteNeedsApproval,
	}
}

func groupsPB(gs []store.Group) []*datav1.Group {
	out := make([]*datav1.Group, len(gs))
	for i, g := range gs {
		out[i] = groupPB(g)
	}
	return out
}

func memberPB(m store.GroupMember) *datav1.GroupMember {
	return &datav1.GroupMember{
		GroupId:    m.GroupID,
		UserId:     m.UserID,
		Nickname:   m.Nickname,
		Role:       datav1.GroupRole(m.Role),
		Left:       m.Left,
		JoinedAt:   ts(m.JoinedAt),
		UpdatedAt:  ts(m.UpdatedAt),
		MutedUntil: ts(m.MutedUntil),
		JoinSeq:    m.JoinSeq,
	}
}

func membersPB(ms []store.GroupMember) []*datav1.GroupMember {
	out := make([]*datav1.GroupMember, len(ms))
	for i, m := range ms {
		out[i] = memberPB(m)
	}
	return out
}

func subscriptionPB(s store.Subscription) *datav1.Subscription {
	return &datav1.Subscription{
		Id:            s.ID,
		Name:          s.Name,
		OwnerId:       s.OwnerID,
		Intro:         s.Intro,
		Avatar:        s.Avatar,
		QrCode:        s.QRCode,
		Deleted:       s.Deleted,
		CreatedAt:     ts(s.CreatedAt),
		UpdatedAt:     ts(s.UpdatedAt),
		FollowerCount: s.FollowerCount,
	}
}

func subscriptionsPB(ss []store.Subscription) []*datav1.Subscription {
	out := make([]*datav1.Subscription, len(ss))
	for i, s := range ss {
		out[i] = subscriptionPB(s)
	}
	return out
}

func followerPB(f store.Follower) *datav1.Follower {
	return &datav1.Follower{
		SubscriptionId: f.SubscriptionID,
		UserId:         f.UserID,
		Left:           f.Left,
		FollowedAt:     ts(f.FollowedAt),
		UpdatedAt:      ts(f.UpdatedAt),
	}
}

func messagePB(m store.Message) *datav1.Message {
	return &datav1.Message{
		Id:           m.ID,
		Conversation: m.Conversation,
		Seq:          m.Seq,
		SenderId:     m.SenderID,
		ClientMsgId:  m.ClientMsgID,
		Kind:         m.Kind,
		Content:      m.Content,
		CreatedAt:    ts(m.CreatedAt),
	}
}

func messagesPB(ms []store.Message) []*datav1.Message {
	out := make([]*datav1.Message, len(ms))
	for i, m := range ms {
		out[i] = messagePB(m)
	}
	return out
}

func appendResultPB(r store.AppendResult) *datav1.AppendMessageResponse {
	return &datav1.AppendMessageResponse{Message: messagePB(r.Message), Duplicate: r.Duplicate}
}

func cursorPB(c store.Cursor) *datav1.Cursor {
	return &datav1.Cursor{
		UserId:       c.UserID,
		DeviceId:     c.DeviceID,
		Conversation: c.Conversation,
		DeliveredSeq: c.DeliveredSeq,
		AckedSeq:     c.AckedSeq,
		UpdatedAt:    ts(c.UpdatedAt),
	}
}

func cursorsPB(cs []store.Cursor) []*datav1.Cursor {
	out := make([]*datav1.Cursor, len(cs))
	for i, c := range cs {
		out[i] = cursorPB(c)
	}
	return out
}

func articlePB(a store.Article) *datav1.Article {
	return &datav1.Article{
		Id:             a.ID,
		SubscriptionId: a.SubscriptionID,
		AuthorId:       a.AuthorID,
		Title:          a.Title,
		Body:           a.Body,
		CoverUrl:       a.CoverURL,
		State:          datav1.ArticleState(a.State),
		RejectReason:   a.RejectReason,
		CreatedAt:      ts(a.CreatedAt),
		UpdatedAt:      ts(a.UpdatedAt),
		PublishedAt:    ts(a.PublishedAt),
		ReviewerId:     a.ReviewerID,
		Pushed:         a.Pushed,
	}
}

// optEnum converts an optional proto enum to an optional store enum.
func optEnum[P ~int32, S ~int32](v *P) *S {
	if v == nil {
		return nil
	}
	s := S(*v)
	return &s
}
