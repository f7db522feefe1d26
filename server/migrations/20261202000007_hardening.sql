-- Failed authentications by client address (an IPv4 address or an IPv6 /64), in fixed windows:
-- every replica counts into the same row, so a throttled address is throttled everywhere.
CREATE TABLE auth_failures (
    client TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);
CREATE INDEX auth_failures_by_window ON auth_failures (window_start);

-- The audit log is swept past `audit_retention_days` by one replica at a time (by its time index).
INSERT INTO chores (name, until) VALUES ('audit-retention', 0);
