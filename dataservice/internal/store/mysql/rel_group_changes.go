package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// The group changes that carry a system message (ChangeGroupPlus,
// CreateGroupNoticePlus) and the notice outbox, group_notices
// (migrations/0004_group_moderation.sql). The notice is written in the
// change's transaction; the message may live in another database
// (MongoDB), so its append is a second step the grpcapi layer runs after
// the commit and again, for those still pending, every few seconds
// (PendingGroupNotices, GroupNoticeAppended). The append is idempotent on
// (sender 0, client_msg_id), so running it twice stores one message.

// relNullTime scans a nullable DATETIME into a time.Time, NULL as zero.
type relNullTime struct{ t *time.Time }

func (n relNullTime) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	*n.t = time.Time{}
	if nt.Valid {
		*n.t = nt.Time.UTC()
	}
	return nil
}

// relNullable is t for a nullable DATETIME column: NULL when zero.
func relNullable(t time.Time) driver.Valuer {
	return sql.NullTime{Time: relTime(t), Valid: !t.IsZero()}
}

// relGroupSet is the SET list of a group update stamped now.
func relGroupSet(up store.GroupUpdate, now time.Time) relSet {
	var set relSet
	if up.Name != nil {
		set.add("name", *up.Name)
	}
	if up.Avatar != nil {
		set.add("avatar", *up.Avatar)
	}
	if up.QRCode != nil {
		set.add("qr_code", *up.QRCode)
	}
	if up.OwnerID != nil {
		set.add("owner_id", *up.OwnerID)
	}
	if up.Dismissed != nil {
		set.add("dismissed", *up.Dismissed)
	}
	if up.MuteAll != nil {
		set.add("mute_all", *up.MuteAll)
	}
	if up.JoinPolicy != nil {
		set.add("join_policy", *up.JoinPolicy)
	}
	if up.History != nil {
		set.add("history", *up.History)
	}
	if up.InviteNeedsApproval != nil {
		set.add("invite_needs_approval", *up.InviteNeedsApproval)
	}
	if up.Announcement != nil {
		set.add("announcement", *up.Announcement)
		set.add("announcement_by", up.AnnouncementBy)
		set.add("announcement_at", relNullable(up.AnnouncementAt))
	}
	set.add("updated_at", now)
	return set
}

// relMemberSet is the SET list of a member update stamped now.
func relMemberSet(up store.GroupMemberUpdate, now time.Time) relSet {
	var set relSet
	if up.Nickname != nil {
		set.add("nickname", *up.Nickname)
	}
	if up.Role != nil {
		set.add("role", *up.Role)
	}
	if up.Left != nil {
		set.add("has_left", *up.Left)
	}
	if up.MutedUntil != nil {
		set.add("muted_until", relNullable(*up.MutedUntil))
	}
	set.add("updated_at", now)
	return set
}

const relNoticeCols = "id, conversation, client_msg_id, kind, content, created_at, seq"

func relNoticeDest(m *store.Message) []any {
	return []any{&m.ID, &m.Conversation, &m.ClientMsgID, &m.Kind, &m.Content, &m.CreatedAt, &m.Seq}
}

// relInsertNotice puts n in the outbox; stored is the notice of an earlier
// change with the same client id (dup true), then nothing was written.
func relInsertNotice(ctx context.Context, tx *sql.Tx, n store.Message) (stored store.Message, dup bool, err error) {
	if n.Content == nil {
		n.Content = []byte{}
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO group_notices ("+relNoticeCols+") VALUES (?, ?, ?, ?, ?, ?, 0)",
		n.ID, n.Conversation, n.ClientMsgID, n.Kind, n.Content, relTime(n.CreatedAt))
	if isDuplicate(err) {
		stored, err = relOne(ctx, tx, relNoticeDest, "SELECT "+relNoticeCols+" FROM group_notices WHERE client_msg_id = ?", n.ClientMsgID)
		return stored, true, err
	}
	n.CreatedAt = relTime(n.CreatedAt)
	return n, false, err
}

// relOutboxNotice puts a change's notice (nil: none) in the outbox; one
// whose client id was stored before fails the change, which is then a
// repeat of an earlier one.
func relOutboxNotice(ctx context.Context, tx *sql.Tx, n *store.Message) error {
	if n == nil {
		return nil
	}
	if _, dup, err := relInsertNotice(ctx, tx, *n); err != nil {
		return err
	} else if dup {
		return &store.ExistsError{Field: "notice.client_msg_id"}
	}
	return nil
}

// errNoticeDup rolls back a change whose notice was stored before.
var errNoticeDup = errors.New("notice stored before")

// CreateGroupNoticePlus is CreateGroupPlus with notice in the outbox.
func (r *Relational) CreateGroupNoticePlus(ctx context.Context, g store.Group, memberIDs []int64, notice store.Message) (store.Group, []store.GroupMember, error) {
	return r.createGroup(ctx, g, memberIDs, &notice)
}

// ChangeGroupPlus locks the group row first (as TransferGroupPlus does),
// then the member rows in request order, so changes of one group run one
// at a time and every precondition is read under the lock.
func (r *Relational) ChangeGroupPlus(ctx context.Context, c store.GroupChange) (store.GroupChangeResult, error) {
	var res store.GroupChangeResult
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		res = store.GroupChangeResult{}
		var dismissed bool
		err := tx.QueryRowContext(ctx, "SELECT dismissed FROM `groups` WHERE id = ? FOR UPDATE", c.GroupID).Scan(&dismissed)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		stored, dup, err := relInsertNotice(ctx, tx, c.Notice)
		if err != nil {
			return err
		}
		if dup {
			res.Notice, res.Duplicate = stored, true
			return errNoticeDup
		}
		res.Notice = stored
		if dismissed && (c.Group == nil || c.Group.Dismissed == nil || !*c.Group.Dismissed) {
			return store.Preconditionf("the group is dismissed")
		}
		if c.ActorMinRole != 0 {
			var role store.GroupRole
			var left bool
			err := tx.QueryRowContext(ctx, "SELECT role, has_left FROM group_members WHERE group_id = ? AND user_id = ? FOR UPDATE",
				c.GroupID, c.ActorID).Scan(&role, &left)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && (left || role < c.ActorMinRole)) {
				return store.Preconditionf("actor_id: not a member with the role needed")
			}
			if err != nil {
				return err
			}
		}
		now := relNow()
		for _, mc := range c.Members {
			if mc.Unban || mc.Ban {
				if err := relBanChange(ctx, tx, c.GroupID, mc.UserID, c.ActorID, mc.Ban, now); err != nil {
					return err
				}
				if mc.Unban {
					continue
				}
			}
			if err := relChangeMember(ctx, tx, c.GroupID, mc, c.JoinSeq, now); err != nil {
				return err
			}
		}
		if c.Group != nil {
			set := relGroupSet(*c.Group, now)
			if _, err := tx.ExecContext(ctx, "UPDATE `groups` SET "+set.String()+" WHERE id = ?", append(set.args, c.GroupID)...); err != nil {
				return err
			}
		}
		if c.MaxAdmins > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM group_members WHERE group_id = ? AND has_left = FALSE AND role = ?",
				c.GroupID, store.RoleAdmin).Scan(&n); err != nil {
				return err
			}
			if n > c.MaxAdmins {
				return store.Refuse(store.RefusalAdminLimit, "max_admins: the group would have %d admins, at most %d are allowed", n, c.MaxAdmins)
			}
		}
		if res.Group, err = relGetGroup(ctx, tx, c.GroupID); err != nil {
			return err
		}
		if c.MaxMembers > 0 && res.Group.MemberCount > int64(c.MaxMembers) {
			return store.Refuse(store.RefusalMemberLimit, "max_members: the group would have %d members, at most %d are allowed", res.Group.MemberCount, c.MaxMembers)
		}
		for _, mc := range c.Members {
			m, err := relGetMember(ctx, tx, c.GroupID, mc.UserID)
			if err != nil {
				return err
			}
			res.Members = append(res.Members, m)
		}
		return nil
	})
	if errors.Is(err, errNoticeDup) {
		g, err := relGetGroup(ctx, r.db, c.GroupID)
		if err != nil {
			return store.GroupChangeResult{}, fmt.Errorf("change group %d: %w", c.GroupID, err)
		}
		res.Group = g
		return res, nil
	}
	if err != nil {
		return store.GroupChangeResult{}, fmt.Errorf("change group %d: %w", c.GroupID, err)
	}
	return res, nil
}

// relChangeMember applies one member's part of a change.
func relChangeMember(ctx context.Context, tx *sql.Tx, groupID int64, mc store.GroupMemberChange, joinSeq int64, now time.Time) error {
	if mc.Add {
		if err := relAdmit(ctx, tx, groupID, mc.UserID, mc.FromRequest, now); err != nil {
			return err
		}
		role := mc.Role
		if role == 0 {
			role = store.RoleMember
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, nickname, role, has_left, joined_at, updated_at, join_seq)
			VALUES (?, ?, ?, ?, FALSE, ?, ?, ?)`, groupID, mc.UserID, mc.Nickname, role, now, now, joinSeq)
		if err == nil {
			return nil
		}
		if !isDuplicate(err) {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE group_members SET nickname = ?, role = ?, has_left = FALSE, joined_at = ?, updated_at = ?, join_seq = ?
			WHERE group_id = ? AND user_id = ? AND has_left = TRUE`, mc.Nickname, role, now, now, joinSeq, groupID, mc.UserID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return &store.ExistsError{Field: "member"}
		}
		return nil
	}
	var role store.GroupRole
	var left bool
	err := tx.QueryRowContext(ctx, "SELECT role, has_left FROM group_members WHERE group_id = ? AND user_id = ? FOR UPDATE",
		groupID, mc.UserID).Scan(&role, &left)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && left) {
		return store.Preconditionf("user %d is not a member of the group", mc.UserID)
	}
	if err != nil {
		return err
	}
	if mc.ExpectRole != 0 && role != mc.ExpectRole {
		return store.Preconditionf("user %d no longer has the expected role", mc.UserID)
	}
	set := relMemberSet(mc.Update, now)
	_, err = tx.ExecContext(ctx, "UPDATE group_members SET "+set.String()+" WHERE group_id = ? AND user_id = ?",
		append(set.args, groupID, mc.UserID)...)
	return err
}

// PendingGroupNotices lists the outbox notices still to append.
func (r *Relational) PendingGroupNotices(ctx context.Context, before time.Time, limit int) ([]store.Message, error) {
	ms, err := relList(ctx, r.db, relNoticeDest, "SELECT "+relNoticeCols+` FROM group_notices
		WHERE seq = 0 AND created_at < ? ORDER BY created_at LIMIT ?`, relTime(before), relLimit(store.Page{Limit: limit}))
	if err != nil {
		return nil, fmt.Errorf("pending group notices: %w", err)
	}
	return ms, nil
}

// GroupNoticeAppended records the seq of an appended notice.
func (r *Relational) GroupNoticeAppended(ctx context.Context, clientMsgID string, seq int64) error {
	if _, err := r.db.ExecContext(ctx, "UPDATE group_notices SET seq = ? WHERE client_msg_id = ?", seq, clientMsgID); err != nil {
		return fmt.Errorf("group notice %q appended: %w", clientMsgID, err)
	}
	return nil
}
