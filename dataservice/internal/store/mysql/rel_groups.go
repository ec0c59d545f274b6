package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// relGroupCols ends with member_count, counted per row: a group has at most
// a few thousand members and (group_id, has_left) is read from the primary
// key's leading column.
const relGroupCols = "g.id, g.name, g.owner_id, g.avatar, g.qr_code, g.dismissed, g.created_at, g.updated_at, " +
	"(SELECT COUNT(*) FROM group_members mc WHERE mc.group_id = g.id AND mc.has_left = FALSE), " +
	"g.mute_all, COALESCE(g.announcement, ''), g.announcement_by, g.announcement_at, " +
	"g.join_policy, g.history, g.invite_needs_approval"

func relGroupDest(g *store.Group) []any {
	return []any{&g.ID, &g.Name, &g.OwnerID, &g.Avatar, &g.QRCode, &g.Dismissed, &g.CreatedAt, &g.UpdatedAt, &g.MemberCount,
		&g.MuteAll, &g.Announcement, &g.AnnouncementBy, relNullTime{&g.AnnouncementAt},
		&g.JoinPolicy, &g.History, &g.InviteNeedsApproval}
}

func relGroupKey(g *store.Group) int64 { return g.ID }

const relMemberCols = "m.group_id, m.user_id, m.nickname, m.role, m.has_left, m.joined_at, m.updated_at, m.muted_until, m.join_seq"

func relMemberDest(m *store.GroupMember) []any {
	return []any{&m.GroupID, &m.UserID, &m.Nickname, &m.Role, &m.Left, &m.JoinedAt, &m.UpdatedAt, relNullTime{&m.MutedUntil}, &m.JoinSeq}
}

func relMemberKey(m *store.GroupMember) int64 { return m.UserID }

func relGetGroup(ctx context.Context, q relQuerier, id int64) (store.Group, error) {
	return relOne(ctx, q, relGroupDest, "SELECT "+relGroupCols+" FROM `groups` g WHERE g.id = ?", id)
}

func relGetMember(ctx context.Context, q relQuerier, groupID, userID int64) (store.GroupMember, error) {
	return relOne(ctx, q, relMemberDest,
		"SELECT "+relMemberCols+" FROM group_members m WHERE m.group_id = ? AND m.user_id = ?", groupID, userID)
}

// CreateGroupPlus stores the group, the owner as OWNER and memberIDs
// (deduplicated, owner skipped) as MEMBER, the members in one INSERT. It
// returns the owner first, then the members in input order.
func (r *Relational) CreateGroupPlus(ctx context.Context, g store.Group, memberIDs []int64) (store.Group, []store.GroupMember, error) {
	return r.createGroup(ctx, g, memberIDs, nil)
}

// createGroup is CreateGroupPlus, with notice (when not nil) put in the
// notice outbox in the same transaction.
func (r *Relational) createGroup(ctx context.Context, g store.Group, memberIDs []int64, notice *store.Message) (store.Group, []store.GroupMember, error) {
	now := relNow()
	g.CreatedAt, g.UpdatedAt = now, now
	g.Dismissed = false
	if g.JoinPolicy == 0 {
		g.JoinPolicy = store.JoinApproval
	}
	if g.History == 0 {
		g.History = store.HistoryJoined
	}
	members := []store.GroupMember{{GroupID: g.ID, UserID: g.OwnerID, Role: store.RoleOwner, JoinedAt: now, UpdatedAt: now}}
	seen := map[int64]bool{g.OwnerID: true}
	for _, id := range memberIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		members = append(members, store.GroupMember{GroupID: g.ID, UserID: id, Role: store.RoleMember, JoinedAt: now, UpdatedAt: now})
	}
	g.MemberCount = int64(len(members))
	args := make([]any, 0, 7*len(members))
	for _, m := range members {
		args = append(args, m.GroupID, m.UserID, m.Nickname, m.Role, m.Left, m.JoinedAt, m.UpdatedAt)
	}
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO `groups` (id, name, owner_id, avatar, qr_code, dismissed, created_at, updated_at, join_policy, history, invite_needs_approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			g.ID, g.Name, g.OwnerID, g.Avatar, g.QRCode, g.Dismissed, g.CreatedAt, g.UpdatedAt, g.JoinPolicy, g.History, g.InviteNeedsApproval)
		if isDuplicate(err) {
			return &store.ExistsError{Field: "id"}
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO group_members (group_id, user_id, nickname, role, has_left, joined_at, updated_at) VALUES "+
			"(?, ?, ?, ?, ?, ?, ?)"+strings.Repeat(", (?, ?, ?, ?, ?, ?, ?)", len(members)-1), args...)
		if err != nil {
			return err
		}
		return relOutboxNotice(ctx, tx, notice)
	})
	if err != nil {
		return store.Group{}, nil, fmt.Errorf("create group %d: %w", g.ID, err)
	}
	return g, members, nil
}

func (r *Relational) GetGroup(ctx context.Context, id int64) (store.Group, error) {
	g, err := relGetGroup(ctx, r.db, id)
	if err != nil {
		return store.Group{}, fmt.Errorf("get group %d: %w", id, err)
	}
	return g, nil
}

func (r *Relational) GetGroups(ctx context.Context, ids []int64) ([]store.Group, error) {
	gs, err := relByIDs(ctx, r.db, relGroupDest, relGroupKey, "SELECT "+relGroupCols+" FROM `groups` g", "g.id", ids)
	if err != nil {
		return nil, fmt.Errorf("get %d groups: %w", len(ids), err)
	}
	return gs, nil
}

// SearchGroups lists groups whose name starts with namePrefix, by id.
func (r *Relational) SearchGroups(ctx context.Context, namePrefix string, includeDismissed bool, p store.Page) ([]store.Group, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("search groups: %w", err)
	}
	limit := relLimit(p)
	gs, err := relList(ctx, r.db, relGroupDest, "SELECT "+relGroupCols+" FROM `groups` g"+`
		WHERE g.name LIKE ? ESCAPE '!' AND (? OR g.dismissed = FALSE) AND g.id > ?
		ORDER BY g.id LIMIT ?`,
		relLikePrefix(namePrefix), includeDismissed, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("search groups: %w", err)
	}
	gs, next := relPage(gs, limit, relGroupKey)
	return gs, next, nil
}

// UpdateGroup changes the fields set in up. Setting OwnerID here does not
// touch member roles; TransferGroupPlus does.
func (r *Relational) UpdateGroup(ctx context.Context, id int64, up store.GroupUpdate) (store.Group, error) {
	set := relGroupSet(up, relNow())
	var g store.Group
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE `groups` SET "+set.String()+" WHERE id = ?", append(set.args, id)...); err != nil {
			return err
		}
		var err error
		g, err = relGetGroup(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("update group %d: %w", id, err)
	}
	return g, nil
}

// ListGroupsByMember lists the groups userID has not left, by group id.
func (r *Relational) ListGroupsByMember(ctx context.Context, userID int64, includeDismissed bool, p store.Page) ([]store.Group, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list groups of member: %w", err)
	}
	limit := relLimit(p)
	gs, err := relList(ctx, r.db, relGroupDest, "SELECT "+relGroupCols+" FROM group_members m JOIN `groups` g ON g.id = m.group_id"+`
		WHERE m.user_id = ? AND m.has_left = FALSE AND (? OR g.dismissed = FALSE) AND m.group_id > ?
		ORDER BY m.group_id LIMIT ?`,
		userID, includeDismissed, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list groups of member %d: %w", userID, err)
	}
	gs, next := relPage(gs, limit, relGroupKey)
	return gs, next, nil
}

// ListMemberships lists userID's memberships of live groups by group id:
// the member index (ix_group_members_user) and the groups' primary key,
// no per-group count.
func (r *Relational) ListMemberships(ctx context.Context, userID int64, p store.Page) ([]store.Membership, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list memberships: %w", err)
	}
	limit := relLimit(p)
	ms, err := relList(ctx, r.db, func(m *store.Membership) []any { return append(relMemberDest(&m.Member), &m.History) },
		"SELECT "+relMemberCols+", g.history FROM group_members m JOIN `groups` g ON g.id = m.group_id"+`
		WHERE m.user_id = ? AND m.has_left = FALSE AND g.dismissed = FALSE AND m.group_id > ?
		ORDER BY m.group_id LIMIT ?`,
		userID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list memberships of %d: %w", userID, err)
	}
	ms, next := relPage(ms, limit, func(m *store.Membership) int64 { return m.Member.GroupID })
	return ms, next, nil
}

// AddGroupMember inserts the membership or, when the user has left,
// re-activates it with the new role and nickname and a fresh joined_at.
// A role of 0 means MEMBER.
func (r *Relational) AddGroupMember(ctx context.Context, m store.GroupMember) (store.GroupMember, error) {
	now := relNow()
	if m.Role == 0 {
		m.Role = store.RoleMember
	}
	m.Left = false
	m.JoinedAt, m.UpdatedAt = now, now
	// Groups are never deleted (only dismissed), so checking outside the
	// insert's transaction cannot race with a removal.
	var one int
	err := r.db.QueryRowContext(ctx, "SELECT 1 FROM `groups` WHERE id = ?", m.GroupID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.GroupMember{}, fmt.Errorf("add member %d to group %d: group: %w", m.UserID, m.GroupID, store.ErrNotFound)
	}
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("add member %d to group %d: %w", m.UserID, m.GroupID, err)
	}
	_, err = r.db.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, nickname, role, has_left, joined_at, updated_at, join_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.GroupID, m.UserID, m.Nickname, m.Role, m.Left, m.JoinedAt, m.UpdatedAt, m.JoinSeq)
	if err == nil {
		return m, nil
	}
	if !isDuplicate(err) {
		return store.GroupMember{}, fmt.Errorf("add member %d to group %d: %w", m.UserID, m.GroupID, err)
	}
	// A row is there. Each statement commits on its own, so the shared lock
	// the duplicate-key error took is gone and racing adds do not deadlock.
	res, err := r.db.ExecContext(ctx, `UPDATE group_members SET nickname = ?, role = ?, has_left = FALSE, joined_at = ?, updated_at = ?, join_seq = ?
		WHERE group_id = ? AND user_id = ? AND has_left = TRUE`, m.Nickname, m.Role, m.JoinedAt, m.UpdatedAt, m.JoinSeq, m.GroupID, m.UserID)
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("add member %d to group %d: %w", m.UserID, m.GroupID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.GroupMember{}, fmt.Errorf("add member %d to group %d: %w", m.UserID, m.GroupID, err)
	} else if n == 0 {
		return store.GroupMember{}, fmt.Errorf("add member %d to group %d: %w", m.UserID, m.GroupID, &store.ExistsError{Field: "member"})
	}
	return m, nil
}

func (r *Relational) GetGroupMember(ctx context.Context, groupID, userID int64) (store.GroupMember, error) {
	m, err := relGetMember(ctx, r.db, groupID, userID)
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("get member %d of group %d: %w", userID, groupID, err)
	}
	return m, nil
}

func (r *Relational) UpdateGroupMember(ctx context.Context, groupID, userID int64, up store.GroupMemberUpdate) (store.GroupMember, error) {
	set := relMemberSet(up, relNow())
	var m store.GroupMember
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE group_members SET "+set.String()+" WHERE group_id = ? AND user_id = ?",
			append(set.args, groupID, userID)...); err != nil {
			return err
		}
		var err error
		m, err = relGetMember(ctx, tx, groupID, userID)
		return err
	})
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("update member %d of group %d: %w", userID, groupID, err)
	}
	return m, nil
}

// ListGroupMembers lists members by user id, left ones only when asked.
func (r *Relational) ListGroupMembers(ctx context.Context, groupID int64, includeLeft bool, p store.Page) ([]store.GroupMember, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list members: %w", err)
	}
	limit := relLimit(p)
	ms, err := relList(ctx, r.db, relMemberDest, "SELECT "+relMemberCols+` FROM group_members m
		WHERE m.group_id = ? AND (? OR m.has_left = FALSE) AND m.user_id > ?
		ORDER BY m.user_id LIMIT ?`, groupID, includeLeft, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list members of group %d: %w", groupID, err)
	}
	ms, next := relPage(ms, limit, relMemberKey)
	return ms, next, nil
}

// TransferGroupPlus locks the group row first, so of two racing transfers
// from the same owner the second sees the new owner and fails. Locks are
// taken in the order group, then member rows, as everywhere in this file.
func (r *Relational) TransferGroupPlus(ctx context.Context, groupID, fromOwnerID, newOwnerID int64) (store.Group, error) {
	var g store.Group
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var owner int64
		err := tx.QueryRowContext(ctx, "SELECT owner_id FROM `groups` WHERE id = ? FOR UPDATE", groupID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if owner != fromOwnerID {
			return store.Preconditionf("group owner is not the given from-owner")
		}
		var left bool
		err = tx.QueryRowContext(ctx, "SELECT has_left FROM group_members WHERE group_id = ? AND user_id = ? FOR UPDATE",
			groupID, newOwnerID).Scan(&left)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && left) {
			return store.Preconditionf("new owner is not a member of the group")
		}
		if err != nil {
			return err
		}
		now := relNow()
		if _, err := tx.ExecContext(ctx, "UPDATE `groups` SET owner_id = ?, updated_at = ? WHERE id = ?", newOwnerID, now, groupID); err != nil {
			return err
		}
		// Demote first, then promote: when newOwnerID == fromOwnerID the
		// owner keeps OWNER.
		if _, err := tx.ExecContext(ctx, "UPDATE group_members SET role = ?, updated_at = ? WHERE group_id = ? AND user_id = ?",
			store.RoleMember, now, groupID, fromOwnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE group_members SET role = ?, updated_at = ? WHERE group_id = ? AND user_id = ?",
			store.RoleOwner, now, groupID, newOwnerID); err != nil {
			return err
		}
		g, err = relGetGroup(ctx, tx, groupID)
		return err
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("transfer group %d from %d to %d: %w", groupID, fromOwnerID, newOwnerID, err)
	}
	return g, nil
}

// GroupMembersInfoPlus joins the members that have not left with their
// profiles, by user id. Members whose user is missing are left out.
func (r *Relational) GroupMembersInfoPlus(ctx context.Context, groupID int64, p store.Page) ([]store.GroupMemberInfo, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("members info: %w", err)
	}
	limit := relLimit(p)
	dest := func(mi *store.GroupMemberInfo) []any {
		return append(relMemberDest(&mi.Member), relUserDest(&mi.User)...)
	}
	rows, err := relList(ctx, r.db, dest, "SELECT "+relMemberCols+", "+relUserCols+`
		FROM group_members m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = ? AND m.has_left = FALSE AND m.user_id > ?
		ORDER BY m.user_id LIMIT ?`, groupID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("members info of group %d: %w", groupID, err)
	}
	rows, next := relPage(rows, limit, func(mi *store.GroupMemberInfo) int64 { return mi.Member.UserID })
	return rows, next, nil
}
