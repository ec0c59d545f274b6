package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/privateim/privateim/dataservice/internal/store"
)

// Who may join a group: joins under the group row's lock, bans, join
// requests and invites. Locks are taken in the order group row, then member
// and request rows, as in rel_groups.go.

const relBanCols = "b.group_id, b.user_id, b.banned_by, b.created_at"

func relBanDest(b *store.GroupBan) []any {
	return []any{&b.GroupID, &b.UserID, &b.BannedBy, &b.CreatedAt}
}

const relJoinCols = "j.group_id, j.user_id, j.kind, j.inviter_id, j.state, j.created_at, j.updated_at"

func relJoinDest(j *store.GroupJoinRequest) []any {
	return []any{&j.GroupID, &j.UserID, &j.Kind, &j.InviterID, &j.State, &j.CreatedAt, &j.UpdatedAt}
}

func relGetJoin(ctx context.Context, q relQuerier, groupID, userID int64) (store.GroupJoinRequest, error) {
	return relOne(ctx, q, relJoinDest, "SELECT "+relJoinCols+" FROM group_join_requests j WHERE j.group_id = ? AND j.user_id = ?", groupID, userID)
}

// relBanned reads whether userID is banned from groupID inside tx.
func relBanned(ctx context.Context, tx *sql.Tx, groupID, userID int64) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM group_bans WHERE group_id = ? AND user_id = ?", groupID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// relAdmit checks, with the group row locked, that userID may be added:
// not banned, and with fromRequest a pending join request, which becomes
// ACCEPTED. Every path that adds a member runs it.
func relAdmit(ctx context.Context, tx *sql.Tx, groupID, userID int64, fromRequest bool, now time.Time) error {
	if banned, err := relBanned(ctx, tx, groupID, userID); err != nil {
		return err
	} else if banned {
		return store.Preconditionf("user %d is banned from the group", userID)
	}
	if !fromRequest {
		return nil
	}
	res, err := tx.ExecContext(ctx, "UPDATE group_join_requests SET state = ?, updated_at = ? WHERE group_id = ? AND user_id = ? AND state = ?",
		store.JoinAccepted, now, groupID, userID, store.JoinPending)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil {
		return err
	} else if k == 0 {
		return store.Preconditionf("user %d has no pending join request", userID)
	}
	return nil
}

// relBanChange bans userID (by actor, cancelling their pending request)
// or, when ban is false, lifts their ban: a *PreconditionError when there
// is none.
func relBanChange(ctx context.Context, tx *sql.Tx, groupID, userID, actor int64, ban bool, now time.Time) error {
	if !ban {
		res, err := tx.ExecContext(ctx, "DELETE FROM group_bans WHERE group_id = ? AND user_id = ?", groupID, userID)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return store.Preconditionf("user %d is not banned from the group", userID)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO group_bans (group_id, user_id, banned_by, created_at) VALUES (?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE banned_by = VALUES(banned_by), created_at = VALUES(created_at)`, groupID, userID, actor, now); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "UPDATE group_join_requests SET state = ?, updated_at = ? WHERE group_id = ? AND user_id = ? AND state = ?",
		store.JoinCancelled, now, groupID, userID, store.JoinPending)
	return err
}

// JoinGroupPlus locks the group row, so joins and accepts of one group run
// one after the other and the member count it reads stays true until the
// commit: the cap holds and one pending request is accepted once.
func (r *Relational) JoinGroupPlus(ctx context.Context, m store.GroupMember, maxMembers int, fromRequest bool, notice *store.Message) (store.GroupMember, error) {
	now := relNow()
	m.Role, m.Left, m.Nickname = store.RoleMember, false, ""
	m.JoinedAt, m.UpdatedAt = now, now
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var dismissed bool
		err := tx.QueryRowContext(ctx, "SELECT dismissed FROM `groups` WHERE id = ? FOR UPDATE", m.GroupID).Scan(&dismissed)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if dismissed {
			return store.Preconditionf("the group is dismissed")
		}
		var left sql.NullBool
		err = tx.QueryRowContext(ctx, "SELECT has_left FROM group_members WHERE group_id = ? AND user_id = ? FOR UPDATE", m.GroupID, m.UserID).Scan(&left)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if left.Valid && !left.Bool {
			return &store.ExistsError{Field: "member"}
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM group_members WHERE group_id = ? AND has_left = FALSE", m.GroupID).Scan(&n); err != nil {
			return err
		}
		if n >= maxMembers {
			return store.Preconditionf("the group has %d members, its limit", n)
		}
		if err := relAdmit(ctx, tx, m.GroupID, m.UserID, fromRequest, now); err != nil {
			return err
		}
		if left.Valid {
			_, err = tx.ExecContext(ctx, `UPDATE group_members SET nickname = '', role = ?, has_left = FALSE, joined_at = ?, updated_at = ?, join_seq = ?
				WHERE group_id = ? AND user_id = ?`, m.Role, m.JoinedAt, m.UpdatedAt, m.JoinSeq, m.GroupID, m.UserID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id, nickname, role, has_left, joined_at, updated_at, join_seq)
				VALUES (?, ?, '', ?, FALSE, ?, ?, ?)`, m.GroupID, m.UserID, m.Role, m.JoinedAt, m.UpdatedAt, m.JoinSeq)
		}
		if err != nil {
			return err
		}
		return relOutboxNotice(ctx, tx, notice)
	})
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("join %d to group %d: %w", m.UserID, m.GroupID, err)
	}
	return m, nil
}

func (r *Relational) RemoveGroupMemberPlus(ctx context.Context, groupID, userID int64, ban *store.GroupBan, notice *store.Message) (store.GroupMember, error) {
	var m store.GroupMember
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		now := relNow()
		res, err := tx.ExecContext(ctx, "UPDATE group_members SET has_left = TRUE, updated_at = ? WHERE group_id = ? AND user_id = ? AND has_left = FALSE",
			now, groupID, userID)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return store.ErrNotFound
		}
		if ban != nil {
			if err := relBanChange(ctx, tx, groupID, userID, ban.BannedBy, true, relTime(ban.CreatedAt)); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, "UPDATE group_join_requests SET state = ?, updated_at = ? WHERE group_id = ? AND user_id = ? AND state = ?",
			store.JoinCancelled, now, groupID, userID, store.JoinPending); err != nil {
			return err
		}
		if err := relOutboxNotice(ctx, tx, notice); err != nil {
			return err
		}
		m, err = relGetMember(ctx, tx, groupID, userID)
		return err
	})
	if err != nil {
		return store.GroupMember{}, fmt.Errorf("remove member %d of group %d: %w", userID, groupID, err)
	}
	return m, nil
}

func (r *Relational) GetGroupBan(ctx context.Context, groupID, userID int64) (store.GroupBan, error) {
	b, err := relOne(ctx, r.db, relBanDest, "SELECT "+relBanCols+" FROM group_bans b WHERE b.group_id = ? AND b.user_id = ?", groupID, userID)
	if err != nil {
		return store.GroupBan{}, fmt.Errorf("get ban of %d in group %d: %w", userID, groupID, err)
	}
	return b, nil
}

// ListGroupBans lists a group's bans by user id.
func (r *Relational) ListGroupBans(ctx context.Context, groupID int64, p store.Page) ([]store.GroupBan, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list bans: %w", err)
	}
	limit := relLimit(p)
	bs, err := relList(ctx, r.db, relBanDest, "SELECT "+relBanCols+` FROM group_bans b
		WHERE b.group_id = ? AND b.user_id > ? ORDER BY b.user_id LIMIT ?`, groupID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list bans of group %d: %w", groupID, err)
	}
	bs, next := relPage(bs, limit, func(b *store.GroupBan) int64 { return b.UserID })
	return bs, next, nil
}

func (r *Relational) DeleteGroupBan(ctx context.Context, groupID, userID int64) (store.GroupBan, error) {
	var b store.GroupBan
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var err error
		if b, err = relOne(ctx, tx, relBanDest, "SELECT "+relBanCols+" FROM group_bans b WHERE b.group_id = ? AND b.user_id = ? FOR UPDATE", groupID, userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM group_bans WHERE group_id = ? AND user_id = ?", groupID, userID)
		return err
	})
	if err != nil {
		return store.GroupBan{}, fmt.Errorf("lift ban of %d in group %d: %w", userID, groupID, err)
	}
	return b, nil
}

// PutGroupJoinRequest takes the group row's shared lock, so a ban or a
// join committing meanwhile is seen.
func (r *Relational) PutGroupJoinRequest(ctx context.Context, j store.GroupJoinRequest, notice *store.Message) (store.GroupJoinRequest, error) {
	now := relNow()
	j.State, j.CreatedAt, j.UpdatedAt = store.JoinPending, now, now
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM `groups` WHERE id = ? LOCK IN SHARE MODE", j.GroupID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if banned, err := relBanned(ctx, tx, j.GroupID, j.UserID); err != nil {
			return err
		} else if banned {
			return store.Preconditionf("the user is banned from the group")
		}
		var state store.JoinState
		err = tx.QueryRowContext(ctx, "SELECT state FROM group_join_requests WHERE group_id = ? AND user_id = ? FOR UPDATE", j.GroupID, j.UserID).Scan(&state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO group_join_requests (group_id, user_id, kind, inviter_id, state, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, j.GroupID, j.UserID, j.Kind, j.InviterID, j.State, j.CreatedAt, j.UpdatedAt)
			if isDuplicate(err) {
				return &store.ExistsError{Field: "join_request"}
			}
		case err != nil:
			return err
		case state == store.JoinPending:
			return &store.ExistsError{Field: "join_request"}
		default:
			_, err = tx.ExecContext(ctx, `UPDATE group_join_requests SET kind = ?, inviter_id = ?, state = ?, created_at = ?, updated_at = ?
				WHERE group_id = ? AND user_id = ?`, j.Kind, j.InviterID, j.State, j.CreatedAt, j.UpdatedAt, j.GroupID, j.UserID)
		}
		if err != nil {
			return err
		}
		return relOutboxNotice(ctx, tx, notice)
	})
	if err != nil {
		return store.GroupJoinRequest{}, fmt.Errorf("put join request of %d to group %d: %w", j.UserID, j.GroupID, err)
	}
	return j, nil
}

func (r *Relational) GetGroupJoinRequest(ctx context.Context, groupID, userID int64) (store.GroupJoinRequest, error) {
	j, err := relGetJoin(ctx, r.db, groupID, userID)
	if err != nil {
		return store.GroupJoinRequest{}, fmt.Errorf("get join request of %d to group %d: %w", userID, groupID, err)
	}
	return j, nil
}

func (r *Relational) UpdateGroupJoinRequest(ctx context.Context, groupID, userID int64, state, expected store.JoinState, kind *store.JoinKind, notice *store.Message) (store.GroupJoinRequest, error) {
	var j store.GroupJoinRequest
	err := inTx(ctx, r.db, func(tx *sql.Tx) error {
		var set relSet
		set.add("state", state)
		if kind != nil {
			set.add("kind", *kind)
		}
		set.add("updated_at", relNow())
		res, err := tx.ExecContext(ctx, "UPDATE group_join_requests SET "+set.String()+" WHERE group_id = ? AND user_id = ? AND state = ?",
			append(set.args, groupID, userID, expected)...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if j, err = relGetJoin(ctx, tx, groupID, userID); err != nil {
			return err // ErrNotFound: none
		}
		if k == 0 {
			return store.Preconditionf("the join request is not in the expected state")
		}
		return relOutboxNotice(ctx, tx, notice)
	})
	if err != nil {
		return store.GroupJoinRequest{}, fmt.Errorf("update join request of %d to group %d: %w", userID, groupID, err)
	}
	return j, nil
}

// ListGroupJoinRequests lists pending rows: a group's by user id, or a
// user's by group id.
func (r *Relational) ListGroupJoinRequests(ctx context.Context, f store.JoinRequestFilter, p store.Page) ([]store.GroupJoinRequest, string, error) {
	after, err := relAfter(p)
	if err != nil {
		return nil, "", fmt.Errorf("list join requests: %w", err)
	}
	limit := relLimit(p)
	where, keyCol, id := "j.group_id = ?", "j.user_id", f.GroupID
	key := func(j *store.GroupJoinRequest) int64 { return j.UserID }
	if f.GroupID == 0 {
		where, keyCol, id = "j.user_id = ?", "j.group_id", f.UserID
		key = func(j *store.GroupJoinRequest) int64 { return j.GroupID }
	}
	js, err := relList(ctx, r.db, relJoinDest, "SELECT "+relJoinCols+" FROM group_join_requests j WHERE "+where+
		" AND j.state = ? AND (? = 0 OR j.kind = ?) AND "+keyCol+" > ? ORDER BY "+keyCol+" LIMIT ?",
		id, store.JoinPending, f.Kind, f.Kind, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list join requests: %w", err)
	}
	js, next := relPage(js, limit, key)
	return js, next, nil
}
