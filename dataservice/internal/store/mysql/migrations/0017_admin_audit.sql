-- admin_audit: every admin action (docs/operations.md, "Admin API and
-- imctl"): who (the admin certificate's identity), what, on what, how it
-- ended; appended by the services that serve admin methods, never changed.
-- Listed newest first, optionally by target or action.
CREATE TABLE admin_audit (
  id BIGINT NOT NULL PRIMARY KEY,
  actor VARCHAR(64) NOT NULL,
  action VARCHAR(64) NOT NULL,
  target VARCHAR(255) NOT NULL,
  detail TEXT NOT NULL,
  outcome VARCHAR(32) NOT NULL,
  service VARCHAR(32) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  KEY ix_admin_audit_target (target, id),
  KEY ix_admin_audit_action (action, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
