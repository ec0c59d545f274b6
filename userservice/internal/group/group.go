// Package group is the userservice's group feature: creating groups with
// friends as first members, joining, quitting, the powers of the owner
// and admins (rename, remove members, roles, mutes, the announcement,
// transfer ownership, dismiss; roles.go is the table), nicknames, and
// finding groups by name through the search index, which it keeps current
// (a group is put on create and rename, deleted on dismiss). Every change
// is a system message in the group's conversation (notice.go).
//
// Rules (the OpenAPI document repeats them for clients):
//
//   - Who may join and what a new member reads: access.go.
//   - member_ids at creation must all be the creator's friends (403
//     "not_friend" naming member_ids otherwise); duplicates and the creator
//     are ignored.
//   - A group holds at most MemberLimit members, the owner included: a
//     creation or join beyond it is 409 "group_full". The DataService
//     counts inside the join's transaction with the group row locked, so
//     the limit holds under concurrent joins and accepts.
//   - Who may do what is roles.go's table: rename, the announcement, mutes
//     and removing members are the owner's and admins' (403 "not_admin"),
//     roles, transfer and dismiss the owner's (403 "not_owner"); the rest
//     the members' (403 "not_member" for anyone else). Admins act on
//     members only, never on other admins or the owner (403
//     "target_role"). At most MaxAdmins admins (409 "admin_limit").
//     Acting on a user who is not a member is 404 "member_not_found". The
//     owner cannot quit or be removed: 409 "owner_must_transfer" (transfer
//     ownership or dismiss first).
//   - A dismissed group is gone for reading (404 "group_not_found") and
//     every change to it is 409 "group_dismissed".
//
// Each membership change, and each change of who may send, is announced
// through relation.Publisher after the DataService stored it. It never imports gin, grpc or an adapter.
package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/privateim/privateim/foundation/errs"
	"github.com/privateim/privateim/foundation/textfield"
	"github.com/privateim/privateim/userservice/internal/paging"
	"github.com/privateim/privateim/userservice/internal/relation"
	"github.com/privateim/privateim/userservice/internal/search"
)

// Limits of what people type.
const (
	MaxNameRunes     = 32
	MaxNicknameRunes = 32
	// DefaultMemberLimit is used when Config.MemberLimit is 0.
	DefaultMemberLimit = 500
	// DefaultMaxAdmins is used when Deps.MaxAdmins is 0.
	DefaultMaxAdmins = 10
)

// Group as stored.
type Group struct {
	ID          int64
	Name        string
	OwnerID     int64
	Avatar      string
	Dismissed   bool
	MemberCount int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Access (access.go).
	JoinPolicy          JoinPolicy
	History             History
	InviteNeedsApproval bool
	// MuteAll: only the owner and admins send.
	MuteAll      bool
	Announcement Announcement
}

// Announcement is a group's announcement; the zero value is none.
type Announcement struct {
	Text     string
	AuthorID int64
	At       time.Time
}

// Role of a member.
type Role string

// Roles.
const (
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
	RoleOwner  Role = "owner"
)

// Member is one membership.
type Member struct {
	GroupID  int64
	UserID   int64
	Nickname string
	Role     Role
	Left     bool
	JoinedAt time.Time
	JoinSeq  int64 // first seq of the group conversation the member reads (history "joined")
	// MutedUntil: the member may not send before it; zero: not muted,
	// MutedForever: until lifted.
	MutedUntil time.Time
}

// Profile is what a member list shows of a user.
type Profile struct {
	ID      int64
	Name    string
	Avatar  string
	Deleted bool
}

// MemberInfo is a member with their profile.
type MemberInfo struct {
	Member Member
	User   Profile
}

// Update changes the fields that are not nil.
type Update struct {
	Name      *string
	Avatar    *string // an uploaded picture's URL (avatar.go)
	OwnerID   *int64
	Dismissed *bool
	MuteAll   *bool
	// Announcement, when set, is stored with its author and time.
	Announcement *Announcement

	JoinPolicy          *JoinPolicy
	History             *History
	InviteNeedsApproval *bool
}

// MemberUpdate changes the fields that are not nil.
type MemberUpdate struct {
	Nickname *string
	Left     *bool
	Role     *Role
	// MutedUntil set to the zero time unmutes.
	MutedUntil *time.Time
}

// Store is what the feature needs of storage. Errors wrap the errs store
// sentinels; lists answer errs.ErrInvalid for a page token they did not
// hand out.
type Store interface {
	// IsFriend reports whether userID holds otherID as an accepted friend.
	IsFriend(ctx context.Context, userID, otherID int64) (bool, error)
	// CreateGroup stores the group with ownerID as OWNER and memberIDs as
	// members, and its notice, at once; seq is the notice's (0 while its
	// append is pending).
	CreateGroup(ctx context.Context, name string, ownerID int64, memberIDs []int64, notice Notice) (g Group, seq int64, err error)
	Group(ctx context.Context, id int64) (Group, error)       // errs.ErrNotFound
	Groups(ctx context.Context, ids []int64) ([]Group, error) // unknown ids left out
	UpdateGroup(ctx context.Context, id int64, u Update) (Group, error)
	// GroupsOf lists the live groups userID is a member of, by id.
	GroupsOf(ctx context.Context, userID int64, limit int, token string) ([]Group, string, error)
	Member(ctx context.Context, groupID, userID int64) (Member, error) // errs.ErrNotFound
	UpdateMember(ctx context.Context, groupID, userID int64, u MemberUpdate) (Member, error)
	// MembersInfo lists the members that have not left, by user id.
	MembersInfo(ctx context.Context, groupID int64, limit int, token string) ([]MemberInfo, string, error)
	// ChangeGroup applies c with its notice (notice.go); errs.ErrExists
	// when an added user is a member, ErrFull and ErrAdminLimit for the
	// caps, errs.ErrPrecondition for the other preconditions.
	ChangeGroup(ctx context.Context, c Change) (ChangeResult, error)

	AccessStore
}

// Errors of the feature, beyond field-level *errs.Error from validation.
var (
	ErrGroupNotFound     = errs.New(errs.KindNotFound, "group_not_found", "no such group")
	ErrDismissed         = errs.New(errs.KindConflict, "group_dismissed", "the group was dismissed")
	ErrNotOwner          = errs.New(errs.KindForbidden, "not_owner", "only the group's owner may do this")
	ErrTargetRole        = &errs.Error{Kind: errs.KindForbidden, Code: "target_role", Field: "user_id", Message: "you may act only on members below your role"}
	ErrNotMember         = errs.New(errs.KindForbidden, "not_member", "you are not a member of this group")
	ErrMemberNotFound    = &errs.Error{Kind: errs.KindNotFound, Code: "member_not_found", Field: "user_id", Message: "this user is not a member of the group"}
	ErrAlreadyMember     = errs.New(errs.KindConflict, "already_member", "you are a member already")
	ErrFull              = errs.New(errs.KindConflict, "group_full", "the group has reached its member limit")
	ErrOwnerMustTransfer = errs.New(errs.KindConflict, "owner_must_transfer", "the owner cannot leave; transfer ownership or dismiss the group first")
	ErrNotFriend         = &errs.Error{Kind: errs.KindForbidden, Code: "not_friend", Field: "member_ids", Message: "only your friends can be added"}
	ErrTransferToSelf    = &errs.Error{Kind: errs.KindInvalid, Code: "self", Field: "user_id", Message: "you own the group already"}
)

// Deps are the feature's collaborators.
type Deps struct {
	Store  Store
	Index  search.Index
	Events relation.Publisher // relation.Nop when nil
	// Deliverer hands the notices of changes to the members' devices;
	// NoDelivery when nil.
	Deliverer Deliverer
	Log       *slog.Logger
	Now       func() time.Time // time.Now when nil
	// MemberLimit is the most members a group may have; DefaultMemberLimit
	// when 0.
	MemberLimit int
	// MaxAdmins is the most admins a group may have; DefaultMaxAdmins when 0.
	MaxAdmins int
}

// Service is the feature. Safe for concurrent use.
type Service struct {
	store  Store
	index  search.Index
	events relation.Publisher
	log    *slog.Logger
	now    func() time.Time
	limit  int

	deliverer Deliverer
	maxAdmins int
}

// New returns the feature.
func New(d Deps) *Service {
	if d.Events == nil {
		d.Events = relation.Nop{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MemberLimit <= 0 {
		d.MemberLimit = DefaultMemberLimit
	}
	if d.Deliverer == nil {
		d.Deliverer = NoDelivery{}
	}
	if d.MaxAdmins <= 0 {
		d.MaxAdmins = DefaultMaxAdmins
	}
	return &Service{store: d.Store, index: d.Index, events: d.Events, log: d.Log, now: d.Now, limit: d.MemberLimit,
		deliverer: d.Deliverer, maxAdmins: d.MaxAdmins}
}

// MemberLimit is the configured limit.
func (s *Service) MemberLimit() int { return s.limit }

// Create makes a group owned by me with my friends memberIDs.
func (s *Service) Create(ctx context.Context, me int64, name string, memberIDs []int64) (Group, error) {
	name, err := textfield.Name("name", name, MaxNameRunes)
	if err != nil {
		return Group{}, err
	}
	ids := make([]int64, 0, len(memberIDs))
	for _, id := range memberIDs {
		if id != me && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		if len(ids)+1 > s.limit {
			return Group{}, ErrFull
		}
	}
	for _, id := range ids {
		ok, err := s.store.IsFriend(ctx, me, id)
		if err != nil {
			return Group{}, fmt.Errorf("create group: friendship %d->%d: %w", me, id, err)
		}
		if !ok {
			return Group{}, ErrNotFriend
		}
	}
	g, seq, err := s.store.CreateGroup(ctx, name, me, ids, NewNotice(EventCreated, me, ids, map[string]any{"name": name}))
	if err != nil {
		return Group{}, fmt.Errorf("create group of %d: %w", me, err)
	}
	at := s.now()
	evs := []relation.Event{{Kind: relation.GroupMemberJoined, UserID: me, GroupID: g.ID, At: at}}
	for _, id := range ids {
		evs = append(evs, relation.Event{Kind: relation.GroupMemberJoined, UserID: id, PeerUserID: me, GroupID: g.ID, At: at})
	}
	s.events.Publish(ctx, evs...)
	s.deliver(ctx, g.ID, seq, nil)
	s.indexPut(ctx, g)
	return g, nil
}

// indexPut keeps the search index current; the group is stored already, so
// a failure is logged, not returned.
func (s *Service) indexPut(ctx context.Context, g Group) {
	if err := s.index.Put(ctx, search.Doc{Kind: search.KindGroup, ID: g.ID, Name: g.Name}); err != nil {
		s.log.ErrorContext(ctx, "index group", "group", g.ID, "err", err)
	}
}

// live reads a group that is not dismissed: ErrGroupNotFound for unknown,
// dismissedErr for dismissed.
func (s *Service) live(ctx context.Context, id int64, dismissedErr error) (Group, error) {
	g, err := s.store.Group(ctx, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Group{}, ErrGroupNotFound
	case err != nil:
		return Group{}, fmt.Errorf("get group %d: %w", id, err)
	case g.Dismissed:
		return Group{}, dismissedErr
	}
	return g, nil
}

// Authorize reads a live group and my membership and checks my role may
// do a (roles.go): ErrGroupNotFound, ErrDismissed, ErrNotMember, or
// ErrNotOwner / ErrNotAdmin naming the role the action needs. The other
// group features (avatars, join requests) check their actions with it.
func (s *Service) Authorize(ctx context.Context, me, id int64, a Action) (Group, Member, error) {
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return Group{}, Member{}, err
	}
	m, ok, err := s.member(ctx, id, me)
	switch {
	case err != nil:
		return Group{}, Member{}, err
	case !ok:
		return Group{}, Member{}, ErrNotMember
	case !Can(m.Role, a) && MinRole(a) == RoleOwner:
		return Group{}, Member{}, ErrNotOwner
	case !Can(m.Role, a):
		return Group{}, Member{}, ErrNotAdmin
	}
	return g, m, nil
}

// target reads the live membership of user, whom a member of role actor
// acts on: ErrMemberNotFound or ErrTargetRole (both naming user_id).
func (s *Service) target(ctx context.Context, id, user int64, actor Role) (Member, error) {
	m, ok, err := s.member(ctx, id, user)
	switch {
	case err != nil:
		return Member{}, err
	case !ok:
		return Member{}, ErrMemberNotFound
	case !CanTarget(actor, m.Role):
		return Member{}, ErrTargetRole
	}
	return m, nil
}

// member reads userID's live membership; ok is false when they are none.
func (s *Service) member(ctx context.Context, groupID, userID int64) (Member, bool, error) {
	m, err := s.store.Member(ctx, groupID, userID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return Member{}, false, nil
	case err != nil:
		return Member{}, false, fmt.Errorf("get member %d of group %d: %w", userID, groupID, err)
	}
	return m, !m.Left, nil
}

// Get returns a live group; anyone signed in may look (to decide to
// join), the announcement only its members.
func (s *Service) Get(ctx context.Context, me, id int64) (Group, error) {
	g, err := s.live(ctx, id, ErrGroupNotFound)
	if err != nil {
		return Group{}, err
	}
	if _, ok, err := s.member(ctx, id, me); err != nil {
		return Group{}, err
	} else if !ok {
		g.Announcement = Announcement{}
	}
	return g, nil
}

// Mine lists the live groups I am a member of, by id.
func (s *Service) Mine(ctx context.Context, me int64, limit int, token string) ([]Group, string, error) {
	gs, next, err := s.store.GroupsOf(ctx, me, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list my groups", err)
	}
	return gs, next, nil
}

// Search finds live groups by name (search.Index rules), best first.
func (s *Service) Search(ctx context.Context, q string, limit int, token string) ([]Group, string, error) {
	page, err := s.index.Search(ctx, search.KindGroup, q, limit, token)
	if err != nil {
		return nil, "", paging.SearchError(err)
	}
	if len(page.IDs) == 0 {
		return nil, page.Next, nil
	}
	gs, err := s.store.Groups(ctx, page.IDs)
	if err != nil {
		return nil, "", fmt.Errorf("get %d groups: %w", len(page.IDs), err)
	}
	byID := make(map[int64]Group, len(gs))
	for _, g := range gs {
		byID[g.ID] = g
	}
	out := make([]Group, 0, len(gs))
	for _, id := range page.IDs {
		// Invite-only groups are found by invite alone (a page may be short).
		if g, ok := byID[id]; ok && !g.Dismissed && g.JoinPolicy != JoinInvite {
			out = append(out, g)
		}
	}
	return out, page.Next, nil
}

// Rename sets the name of a group I own or administer; a nil name changes
// nothing.
func (s *Service) Rename(ctx context.Context, me, id int64, name *string) (Group, error) {
	var n string
	if name != nil {
		var err error
		if n, err = textfield.Name("name", *name, MaxNameRunes); err != nil {
			return Group{}, err
		}
	}
	g, _, err := s.Authorize(ctx, me, id, ActRename)
	if err != nil || name == nil || n == g.Name {
		return g, err
	}
	res, err := s.apply(ctx, Change{
		GroupID: id, Group: &Update{Name: &n}, ActorID: me, ActorMinRole: MinRole(ActRename),
		Notice: NewNotice(EventRenamed, me, nil, map[string]any{"name": n}),
	}, nil)
	if err != nil {
		return Group{}, err
	}
	s.indexPut(ctx, res.Group)
	return res.Group, nil
}

// Quit ends my membership; the owner must transfer or dismiss first.
func (s *Service) Quit(ctx context.Context, me, id int64) error {
	g, err := s.live(ctx, id, ErrDismissed)
	if err != nil {
		return err
	}
	m, ok, err := s.member(ctx, id, me)
	if err != nil {
		return err
	} else if !ok {
		return ErrNotMember
	}
	if g.OwnerID == me || m.Role == RoleOwner {
		return ErrOwnerMustTransfer
	}
	// Mine is the one change a member's own notice must reach after
	// they left: my other devices learn of it too.
	if _, err := s.apply(ctx, Change{
		GroupID: id, Members: []MemberChange{{UserID: me, Update: MemberUpdate{Left: ptr(true)}, ExpectRole: m.Role}}, ActorID: me,
		Notice: NewNotice(EventMemberLeft, me, []int64{me}, nil),
	}, []int64{me}); err != nil {
		return err
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupMemberLeft, UserID: me, GroupID: id, At: s.now()})
	return nil
}

// Members lists a live group's members, for its members; deleted accounts
// are left out (a page may be short).
func (s *Service) Members(ctx context.Context, me, id int64, limit int, token string) ([]MemberInfo, string, error) {
	if _, err := s.live(ctx, id, ErrGroupNotFound); err != nil {
		return nil, "", err
	}
	if _, ok, err := s.member(ctx, id, me); err != nil {
		return nil, "", err
	} else if !ok {
		return nil, "", ErrNotMember
	}
	ms, next, err := s.store.MembersInfo(ctx, id, limit, token)
	if err != nil {
		return nil, "", paging.ListError("list members", err)
	}
	// Deleted accounts are gone for everyone, as in friend lists.
	ms = slices.DeleteFunc(ms, func(mi MemberInfo) bool { return mi.User.Deleted })
	return ms, next, nil
}

// Transfer makes member to the owner of a group I own; I stay a member.
func (s *Service) Transfer(ctx context.Context, me, id, to int64) (Group, error) {
	if to == 0 {
		return Group{}, errs.Required("user_id")
	}
	if _, _, err := s.Authorize(ctx, me, id, ActTransfer); err != nil {
		return Group{}, err
	}
	if to == me {
		return Group{}, ErrTransferToSelf
	}
	t, err := s.target(ctx, id, to, RoleOwner)
	if err != nil {
		return Group{}, err
	}
	res, err := s.apply(ctx, Change{
		GroupID: id, Group: &Update{OwnerID: &to},
		Members: []MemberChange{
			{UserID: me, Update: MemberUpdate{Role: ptr(RoleMember)}, ExpectRole: RoleOwner},
			{UserID: to, Update: MemberUpdate{Role: ptr(RoleOwner)}, ExpectRole: t.Role},
		},
		ActorID: me, ActorMinRole: RoleOwner,
		Notice: NewNotice(EventOwnershipTransferred, me, []int64{to}, nil),
	}, nil)
	if errors.Is(err, ErrChanged) {
		// A racing transfer or quit changed things since the checks.
		return Group{}, errs.New(errs.KindConflict, "transfer_conflict", "the group changed meanwhile; look again")
	}
	if err != nil {
		return Group{}, err
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupChanged, UserID: me, GroupID: id, At: s.now()})
	return res.Group, nil
}

// SetNickname sets my nickname in a live group (empty clears it).
func (s *Service) SetNickname(ctx context.Context, me, id int64, nickname *string) (Member, error) {
	if nickname == nil {
		return Member{}, errs.Required("nickname")
	}
	// A nickname shows as a name: the same rule, and blank clears it.
	var n string
	if strings.TrimSpace(*nickname) != "" {
		var err error
		if n, err = textfield.Name("nickname", *nickname, MaxNicknameRunes); err != nil {
			return Member{}, err
		}
	}
	if _, err := s.live(ctx, id, ErrDismissed); err != nil {
		return Member{}, err
	}
	if _, ok, err := s.member(ctx, id, me); err != nil {
		return Member{}, err
	} else if !ok {
		return Member{}, ErrNotMember
	}
	m, err := s.store.UpdateMember(ctx, id, me, MemberUpdate{Nickname: &n})
	if err != nil {
		return Member{}, fmt.Errorf("set nickname in group %d: %w", id, err)
	}
	return m, nil
}

// Dismiss ends a group I own, for everyone.
func (s *Service) Dismiss(ctx context.Context, me, id int64) error {
	if _, _, err := s.Authorize(ctx, me, id, ActDismiss); err != nil {
		return err
	}
	return s.dismiss(ctx, id, me, RoleOwner)
}

// Errors of DismissByAdmin, which name the request's field.
var (
	ErrAdminGroupNotFound = &errs.Error{Kind: errs.KindNotFound, Code: "group_not_found", Field: "group_id", Message: "no such group"}
	ErrAdminDismissed     = &errs.Error{Kind: errs.KindNotFound, Code: "group_dismissed", Field: "group_id", Message: "the group was dismissed already"}
)

// DismissByAdmin dismisses any live group for an admin of the deployment
// (the userservice's Admin gRPC): what the owner's Dismiss does, the
// notice's actor 0 (no member). ErrAdminGroupNotFound, ErrAdminDismissed.
func (s *Service) DismissByAdmin(ctx context.Context, id int64) error {
	if id <= 0 {
		return errs.Invalid("group_id", "must be > 0")
	}
	if _, err := s.live(ctx, id, ErrAdminDismissed); err != nil {
		if errors.Is(err, ErrGroupNotFound) {
			return ErrAdminGroupNotFound
		}
		return err
	}
	if err := s.dismiss(ctx, id, 0, ""); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "group dismissed by an admin", "group", id)
	return nil
}

// dismiss stores the dismissal of group id by actor, who must hold
// minRole when it is set, with its notice to the members, and tells the
// message nodes and the search index.
func (s *Service) dismiss(ctx context.Context, id, actor int64, minRole Role) error {
	// After the dismissal nobody is a member: the notice goes to those who
	// were.
	was, err := s.memberIDs(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.apply(ctx, Change{
		GroupID: id, Group: &Update{Dismissed: ptr(true)}, ActorID: actor, ActorMinRole: minRole,
		Notice: NewNotice(EventDismissed, actor, nil, nil),
	}, was); err != nil {
		return err
	}
	s.events.Publish(ctx, relation.Event{Kind: relation.GroupDismissed, UserID: actor, GroupID: id, At: s.now()})
	if err := s.index.Delete(ctx, search.KindGroup, id); err != nil {
		s.log.ErrorContext(ctx, "unindex group", "group", id, "err", err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// memberIDs lists the ids of a group's members (not left).
func (s *Service) memberIDs(ctx context.Context, id int64) ([]int64, error) {
	var ids []int64
	token := ""
	for {
		ms, next, err := s.store.MembersInfo(ctx, id, 1000, token)
		if err != nil {
			return nil, fmt.Errorf("list members of group %d: %w", id, err)
		}
		for _, m := range ms {
			ids = append(ids, m.Member.UserID)
		}
		if token = next; token == "" {
			return ids, nil
		}
	}
}
