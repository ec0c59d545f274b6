-- relational schema: who may join a group and what a member reads (issue 13,
-- access). join_policy and history hold the API's enum values (2 APPROVAL,
-- 1 JOINED are the defaults: a group is private unless its owner opens it).
-- group_members.join_seq is the first seq of the group conversation a
-- membership covers (0 for rows from before: the whole history).
-- group_join_requests keeps the latest request or invite per (group, user);
-- the user index serves a user's own list. group_bans keeps banned users out.
ALTER TABLE `groups`
  ADD COLUMN join_policy INT NOT NULL DEFAULT 2,
  ADD COLUMN history INT NOT NULL DEFAULT 1,
  ADD COLUMN invite_needs_approval BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE group_members
  ADD COLUMN join_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE IF NOT EXISTS group_join_requests (
  group_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  kind INT NOT NULL,
  inviter_id BIGINT NOT NULL DEFAULT 0,
  state INT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY ix_group_join_requests_user (user_id, state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS group_bans (
  group_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  banned_by BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (group_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
