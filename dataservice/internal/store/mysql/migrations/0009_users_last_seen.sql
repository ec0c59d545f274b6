-- users.last_seen_ms: when the user's last connection closed (unix ms), 0
-- while connected or never seen; presence_at_ms: the time of the presence
-- change last applied (SetPresence ignores older ones: two messageservice
-- nodes may report out of order); last_seen_visibility: the API's
-- LastSeenVisibility (1 everyone, 2 friends: the default, 3 nobody).
ALTER TABLE users
  ADD COLUMN last_seen_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN presence_at_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_seen_visibility TINYINT NOT NULL DEFAULT 2;
