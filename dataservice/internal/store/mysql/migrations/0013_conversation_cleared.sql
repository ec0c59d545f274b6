-- conversation_states.cleared_seq (issue 15, delete for me): the user
-- cleared the conversation for themselves up to this seq; raised by a clear
-- event's append, never moved back.
ALTER TABLE conversation_states
  ADD COLUMN cleared_seq BIGINT NOT NULL DEFAULT 0;
