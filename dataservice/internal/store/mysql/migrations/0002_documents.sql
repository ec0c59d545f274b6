-- document role: messages, conversation counters, cursors, articles
--
-- Conversation names, device ids and client message ids are opaque byte
-- strings compared exactly (VARBINARY: no case folding, no trailing-space
-- padding). Ids are snowflakes from the caller; nothing auto-increments.
--
-- The idempotency key is (sender_id, client_msg_id) and is NOT NULL: a system
-- message (sender_id 0) carries a client id too, chosen by the service that
-- writes it, so a retried system notice is deduplicated like any other.
CREATE TABLE IF NOT EXISTS messages (
  id BIGINT NOT NULL,
  conversation VARBINARY(128) NOT NULL,
  seq BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  client_msg_id VARBINARY(64) NOT NULL,
  kind VARBINARY(32) NOT NULL,
  content MEDIUMBLOB NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_messages_conversation_seq (conversation, seq),
  UNIQUE KEY uq_messages_sender_client (sender_id, client_msg_id),
  KEY idx_messages_conversation_time (conversation, created_at, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The last seq handed out per conversation. Appends lock these rows (in
-- sorted conversation order) for the length of their transaction, which is
-- what makes seqs gap-free.
CREATE TABLE IF NOT EXISTS conversation_seq (
  conversation VARBINARY(128) NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (conversation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS cursors (
  user_id BIGINT NOT NULL,
  device_id VARBINARY(64) NOT NULL,
  conversation VARBINARY(128) NOT NULL,
  delivered_seq BIGINT NOT NULL,
  acked_seq BIGINT NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id, device_id, conversation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS articles (
  id BIGINT NOT NULL,
  subscription_id BIGINT NOT NULL,
  author_id BIGINT NOT NULL,
  title VARCHAR(255) NOT NULL,
  body MEDIUMTEXT NOT NULL,
  cover_url VARCHAR(512) NOT NULL,
  state TINYINT NOT NULL,
  reject_reason TEXT NOT NULL,
  reviewer_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  published_at DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY idx_articles_subscription_id (subscription_id, id),
  KEY idx_articles_state_id (state, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
