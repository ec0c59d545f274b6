-- relational schema: users, friendships, groups, members, subscriptions, followers, reset tokens
--
-- Ids are snowflakes from the caller (no AUTO_INCREMENT); times are UTC
-- DATETIME(6) written by the adapter. Column sizes follow the limits in
-- protos/data/v1. Columns compared for identity (email, token hash, the
-- unique subscription name) use utf8mb4_bin: utf8mb4_unicode_ci folds case
-- and weighs every character outside the BMP (emoji) the same, which would
-- make "a@x" equal "A@x" and one emoji name clash with another. Names that
-- are searched by prefix keep the table's case-insensitive collation.
-- "left" is a reserved word, so the flag is has_left; `groups` is reserved
-- in MySQL 8 and is always quoted.

CREATE TABLE IF NOT EXISTS users (
  id BIGINT NOT NULL,
  email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) NOT NULL DEFAULT '',
  mobile VARCHAR(32) NOT NULL DEFAULT '',
  gender INT NOT NULL DEFAULT 0,
  avatar VARCHAR(512) NOT NULL DEFAULT '',
  qr_code VARCHAR(512) NOT NULL DEFAULT '',
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  token_version BIGINT NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (email),
  KEY ix_users_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS reset_tokens (
  id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  token_hash VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  used BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_reset_tokens_hash (token_hash),
  KEY ix_reset_tokens_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS friendships (
  self_id BIGINT NOT NULL,
  friend_id BIGINT NOT NULL,
  note VARCHAR(64) NOT NULL DEFAULT '',
  message VARCHAR(255) NOT NULL DEFAULT '',
  accepted BOOLEAN NOT NULL DEFAULT FALSE,
  blacklisted BOOLEAN NOT NULL DEFAULT FALSE,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (self_id, friend_id),
  KEY ix_friendships_friend (friend_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `groups` (
  id BIGINT NOT NULL,
  name VARCHAR(64) NOT NULL,
  owner_id BIGINT NOT NULL,
  avatar VARCHAR(512) NOT NULL DEFAULT '',
  qr_code VARCHAR(512) NOT NULL DEFAULT '',
  dismissed BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_groups_name (name),
  KEY ix_groups_owner (owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS group_members (
  group_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  nickname VARCHAR(64) NOT NULL DEFAULT '',
  role INT NOT NULL,
  has_left BOOLEAN NOT NULL DEFAULT FALSE,
  joined_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY ix_group_members_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- active_name is name while the account is not deleted and NULL after, so
-- the unique index holds among live accounts only (NULLs never collide).
CREATE TABLE IF NOT EXISTS subscriptions (
  id BIGINT NOT NULL,
  name VARCHAR(64) NOT NULL,
  active_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  owner_id BIGINT NOT NULL,
  intro VARCHAR(1024) NOT NULL DEFAULT '',
  avatar VARCHAR(512) NOT NULL DEFAULT '',
  qr_code VARCHAR(512) NOT NULL DEFAULT '',
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_subscriptions_active_name (active_name),
  KEY ix_subscriptions_name (name),
  KEY ix_subscriptions_owner (owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS followers (
  subscription_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  has_left BOOLEAN NOT NULL DEFAULT FALSE,
  followed_at DATETIME(6) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (subscription_id, user_id),
  KEY ix_followers_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
