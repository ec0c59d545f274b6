-- document role: conversation state (issue 14). Each user's read seq and
-- settings per conversation; an append moves the sender's read_seq and
-- last_sent_seq to the message's seq in its own transaction, so unread is
-- head - read_seq without counting messages.
CREATE TABLE IF NOT EXISTS conversation_states (
  user_id BIGINT NOT NULL,
  conversation VARBINARY(128) NOT NULL,
  read_seq BIGINT NOT NULL DEFAULT 0,
  last_sent_seq BIGINT NOT NULL DEFAULT 0,
  muted BOOLEAN NOT NULL DEFAULT FALSE,
  pinned BOOLEAN NOT NULL DEFAULT FALSE,
  hidden_seq BIGINT NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id, conversation),
  -- readers of a message: a conversation's rows (read_seq is read from
  -- the row). Not (conversation, read_seq): every send and read moves
  -- read_seq, and an index holding it would be rewritten each time (the
  -- append path pays for that; docs/benchmarks.md, issue 14).
  KEY idx_conversation_states_conversation (conversation, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- when each conversation's head was appended (the conversation list orders
-- by it); NULL for heads appended before this migration.
ALTER TABLE conversation_seq
  ADD COLUMN updated_at DATETIME(6) NULL;

-- delivered counts: a conversation's cursors (acked_seq read from the row;
-- not in the index, which every ack would rewrite)
ALTER TABLE cursors
  ADD KEY idx_cursors_conversation (conversation, user_id);
