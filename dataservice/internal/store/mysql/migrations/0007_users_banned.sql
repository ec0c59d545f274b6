-- users.banned: set by an operator (userservice Admin/BanUser); a banned
-- user cannot sign in and their tokens are refused.
ALTER TABLE users
  ADD COLUMN banned BOOLEAN NOT NULL DEFAULT FALSE;
