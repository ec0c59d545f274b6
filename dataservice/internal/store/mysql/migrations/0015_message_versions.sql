-- Kept versions of edited messages (issue 15; the messageservice's
-- EDIT_HISTORY): the kind and content a message had until the edit event
-- replaced_by_seq of its conversation replaced them. Written by the edit's
-- append in its transaction, deleted by the message's recall.
CREATE TABLE IF NOT EXISTS message_versions (
  conversation VARBINARY(128) NOT NULL,
  seq BIGINT NOT NULL,
  replaced_by_seq BIGINT NOT NULL,
  kind VARBINARY(32) NOT NULL,
  content MEDIUMBLOB NOT NULL,
  replaced_at DATETIME(6) NOT NULL,
  PRIMARY KEY (conversation, seq, replaced_by_seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
