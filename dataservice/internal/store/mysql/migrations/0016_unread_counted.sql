-- unread counts of messages a person sees as new (issue 14): lifecycle
-- events (recall, edit, react, unreact, a delete for me's cleared event)
-- and a group's system notices do not count. Kept incrementally:
-- conversation_seq.counted is how many messages up to the head count,
-- messages.counted the conversation's count as of the message (itself
-- included), conversation_states.read_counted the count as of read_seq
-- (moved with it; the count grows with seq, so GREATEST keeps them paired).
-- Unread is the head's count minus the read point's: no count over messages.
ALTER TABLE conversation_seq
  ADD COLUMN counted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages
  ADD COLUMN counted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversation_states
  ADD COLUMN read_counted BIGINT NOT NULL DEFAULT 0;
-- the messages stored before: counted from their kinds, in seq order
UPDATE messages m JOIN (
  SELECT id, SUM(CASE WHEN kind IN ('recall', 'edit', 'react', 'unreact', 'cleared')
      OR (sender_id = 0 AND conversation LIKE 'g:%') THEN 0 ELSE 1 END)
    OVER (PARTITION BY conversation ORDER BY seq) AS c
  FROM messages) x ON x.id = m.id
SET m.counted = x.c;
UPDATE conversation_seq cs JOIN messages m ON m.conversation = cs.conversation AND m.seq = cs.seq
SET cs.counted = m.counted;
UPDATE conversation_states st JOIN messages m ON m.conversation = st.conversation AND m.seq = st.read_seq
SET st.read_counted = m.counted;
