-- Reaction counts kept on the message row (issue 15): a history page with
-- reactions reads messages only (doc_reactions.go). messages.reactions is
-- "" or, per emoji in the order of (first reaction, emoji),
-- "<HEX(emoji)> <count> <first reaction, unix microseconds> <users>" joined
-- by ",", users being the user ids in ascending order joined by "." when
-- there are at most 16, else "*"; every reaction's append rewrites it under
-- the message's row lock. idx_message_reactions_user finds a viewer's own
-- reactions when the users are not listed.
ALTER TABLE messages
  ADD COLUMN reactions BLOB NOT NULL DEFAULT '';
ALTER TABLE message_reactions
  ADD KEY idx_message_reactions_user (conversation, user_id, seq);
-- The counts of the reactions stored before.
UPDATE messages m JOIN (
    SELECT conversation, seq,
      GROUP_CONCAT(CONCAT(HEX(emoji), ' ', n, ' ', f, ' ', u) ORDER BY f, emoji SEPARATOR ',') AS counts
    FROM (
      SELECT conversation, seq, emoji, COUNT(*) AS n,
        TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', MIN(created_at)) AS f,
        IF(COUNT(*) <= 16, GROUP_CONCAT(user_id ORDER BY user_id SEPARATOR '.'), '*') AS u
      FROM message_reactions GROUP BY conversation, seq, emoji
    ) e
    GROUP BY conversation, seq
  ) a ON a.conversation = m.conversation AND a.seq = m.seq
  SET m.reactions = a.counts;
