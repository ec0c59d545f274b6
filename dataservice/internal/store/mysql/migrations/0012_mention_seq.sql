-- document role: each user's latest mention per conversation (issue 15).
-- The user is mentioned there while mention_seq > read_seq (the
-- conversation list's "mentioned"). Not indexed: read with the row.
ALTER TABLE conversation_states
  ADD COLUMN mention_seq BIGINT NOT NULL DEFAULT 0;
