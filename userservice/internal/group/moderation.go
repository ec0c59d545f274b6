package group

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/userservice/internal/relation"
)

// Moderation: roles, mutes, mute all and the announcement. Each is a
// change with its notice (notice.go); those that change who may send also
// announce GROUP_CHANGED, so every message node rereads the group.

// Limits of moderation.
const (
	MaxAnnouncementRunes = 2000
	MaxMute              = 365 * 24 * time.Hour
)

// MutedForever is the muted_until of a mute with no end (until lifted).
var MutedForever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// SetRole makes user an admin or a member again; the owner's alone.
func (s *Service) SetRole(ctx context.Context, me, id, user int64, role Role) (Member, error) {
	if role != RoleAdmin && role != RoleMember {
		return Member{}, errs.Invalid("role", "must be admin or member")
	}
	if _, _, err := s.Authorize(ctx, me, id, ActSetRole); err != nil {
		return Member{}, err
	}
	t, err := s.target(ctx, id, user, RoleOwner)
	if err != nil {
		return Member{}, err
	}
	if t.Role == role {
		return t, nil
	}
	c := Change{
		GroupID: id, Members: []MemberChange{{UserID: user, Update: MemberUpdate{Role: &role}, ExpectRole: t.Role}},
		ActorID: me, ActorMinRole: RoleOwner,
		Notice: NewNotice(EventRoleChanged, me, []int64{user}, map[string]any{"role": string(role)}),
	}
	if role == RoleAdmin {
		c.MaxAdmins = s.maxAdmins
	}
	res, err := s.apply(ctx, c, nil)
	if err != nil {
		return Member{}, err
	}
	s.changed(ctx, me, id)
	return res.Members[0], nil
}

// MuteUntil turns a mute request into its end: until (in the future, at
// most MaxMute ahead), or now + seconds (1..MaxMute), or MutedForever when
// neither is given.
func MuteUntil(now time.Time, until *time.Time, seconds *int64) (time.Time, error) {
	switch {
	case until != nil && seconds != nil:
		return time.Time{}, errs.Invalid("until", "give until or duration_seconds, not both")
	case seconds != nil:
		if *seconds < 1 || *seconds > int64(MaxMute/time.Second) {
			return time.Time{}, errs.Invalid("duration_seconds", "must be 1..%d (one year)", int64(MaxMute/time.Second))
		}
		return now.Add(time.Duration(*seconds) * time.Second).UTC().Truncate(time.Second), nil
	case until != nil:
		if !until.After(now) {
			return time.Time{}, errs.Invalid("until", "must be in the future")
		}
		if until.Sub(now) > MaxMute {
			return time.Time{}, errs.Invalid("until", "at most one year ahead")
		}
		return until.UTC().Truncate(time.Second), nil
	}
	return MutedForever, nil
}

// Mute keeps user from sending to the group until the given end
// (MuteUntil); the owner's and admins', on members below them.
func (s *Service) Mute(ctx context.Context, me, id, user int64, until *time.Time, seconds *int64) (Member, error) {
	end, err := MuteUntil(s.now(), until, seconds)
	if err != nil {
		return Member{}, err
	}
	fields := map[string]any{"until": end.Format(time.RFC3339)}
	return s.setMute(ctx, me, id, user, end, NewNotice(EventMemberMuted, me, []int64{user}, fields))
}

// Unmute lifts user's mute.
func (s *Service) Unmute(ctx context.Context, me, id, user int64) (Member, error) {
	return s.setMute(ctx, me, id, user, time.Time{}, NewNotice(EventMemberUnmuted, me, []int64{user}, nil))
}

func (s *Service) setMute(ctx context.Context, me, id, user int64, end time.Time, n Notice) (Member, error) {
	_, actor, err := s.Authorize(ctx, me, id, ActMuteMember)
	if err != nil {
		return Member{}, err
	}
	t, err := s.target(ctx, id, user, actor.Role)
	if err != nil {
		return Member{}, err
	}
	if end.IsZero() && t.MutedUntil.IsZero() {
		return t, nil // not muted: nothing to lift
	}
	res, err := s.apply(ctx, Change{
		GroupID: id, Members: []MemberChange{{UserID: user, Update: MemberUpdate{MutedUntil: &end}, ExpectRole: t.Role}},
		ActorID: me, ActorMinRole: actor.Role, Notice: n,
	}, nil)
	if err != nil {
		return Member{}, err
	}
	s.changed(ctx, me, id)
	return res.Members[0], nil
}

// MuteAll turns mute-all on or off: while on, only the owner and admins
// send.
func (s *Service) MuteAll(ctx context.Context, me, id int64, on bool) (Group, error) {
	g, _, err := s.Authorize(ctx, me, id, ActMuteAll)
	if err != nil || g.MuteAll == on {
		return g, err
	}
	res, err := s.apply(ctx, Change{
		GroupID: id, Group: &Update{MuteAll: &on}, ActorID: me, ActorMinRole: MinRole(ActMuteAll),
		Notice: NewNotice(EventMuteAll, me, nil, map[string]any{"on": on}),
	}, nil)
	if err != nil {
		return Group{}, err
	}
	s.changed(ctx, me, id)
	return res.Group, nil
}

// Announce sets the group's announcement ("" clears it), stored with me as
// its author and now as its time, and pushed to the members as a notice.
func (s *Service) Announce(ctx context.Context, me, id int64, text *string) (Group, error) {
	if text == nil {
		return Group{}, errs.Required("text")
	}
	t, err := announcementText(*text)
	if err != nil {
		return Group{}, err
	}
	if _, _, err := s.Authorize(ctx, me, id, ActAnnounce); err != nil {
		return Group{}, err
	}
	a := Announcement{Text: t, AuthorID: me, At: s.now().UTC().Truncate(time.Microsecond)}
	res, err := s.apply(ctx, Change{
		GroupID: id, Group: &Update{Announcement: &a}, ActorID: me, ActorMinRole: MinRole(ActAnnounce),
		Notice: NewNotice(EventAnnouncement, me, nil, map[string]any{"text": t}),
	}, nil)
	if err != nil {
		return Group{}, err
	}
	return res.Group, nil
}

// announcementText trims an announcement and checks it: valid UTF-8, at
// most MaxAnnouncementRunes, no control characters but line breaks and tabs.
func announcementText(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		return "", errs.Invalid("text", "not valid UTF-8")
	case utf8.RuneCountInString(v) > MaxAnnouncementRunes:
		return "", errs.Invalid("text", "at most %d characters", MaxAnnouncementRunes)
	case strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' && r != '\n' && r != '\t' }) >= 0:
		return "", errs.Invalid("text", "control or invisible characters are not allowed")
	}
	return v, nil
}

// changed announces that who may send in the group changed.
func (s *Service) changed(ctx context.Context, me, id int64) {
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupChanged, UserID: me, GroupID: id, At: s.now()})
}
