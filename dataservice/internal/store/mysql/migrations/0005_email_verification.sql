-- relational role: email verification. users.email_verified is set when the
-- owner of the address opens a one-time link (VerifyEmailPlus);
-- email_tokens holds those links' token hashes, apart from reset_tokens so
-- a token of one kind is never accepted as the other.
ALTER TABLE users
  ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE IF NOT EXISTS email_tokens (
  id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  token_hash VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  used BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_email_tokens_hash (token_hash),
  KEY ix_email_tokens_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
