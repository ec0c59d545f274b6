-- relational role: group moderation (mute all, the announcement, member
-- mutes) and the outbox of group system messages. A group change writes
-- its notice here in the change's transaction; the DataService then
-- appends it to the group's conversation (which may live in MongoDB) and
-- records the seq it got. seq = 0 marks the notices still to append.
ALTER TABLE `groups`
  ADD COLUMN mute_all BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN announcement TEXT NULL,
  ADD COLUMN announcement_by BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN announcement_at DATETIME(6) NULL;

ALTER TABLE group_members
  ADD COLUMN muted_until DATETIME(6) NULL;

CREATE TABLE IF NOT EXISTS group_notices (
  client_msg_id VARBINARY(64) NOT NULL,
  id BIGINT NOT NULL,
  conversation VARCHAR(128) NOT NULL,
  kind VARCHAR(32) NOT NULL,
  content MEDIUMBLOB NOT NULL,
  created_at DATETIME(6) NOT NULL,
  seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (client_msg_id),
  KEY ix_group_notices_pending (seq, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
