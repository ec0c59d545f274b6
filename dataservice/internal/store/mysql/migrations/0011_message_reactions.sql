-- Reactions (issue 15): one row per (message, emoji, user), written by
-- reaction events in their append's transaction; a recall deletes the
-- message's rows. created_at orders a message's emoji by first reaction.
CREATE TABLE IF NOT EXISTS message_reactions (
  conversation VARBINARY(128) NOT NULL,
  seq BIGINT NOT NULL,
  emoji VARBINARY(64) NOT NULL,
  user_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (conversation, seq, emoji, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
