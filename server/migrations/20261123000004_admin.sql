-- Provider teams, admin sign-in, admin API tokens, IP allow-lists and OIDC federation of partners.
-- Every share and recipient belongs to a team; existing ones move to the `default` team. (SQLite cannot
-- add a column that REFERENCES another table with a non-NULL default, so the team is checked in code.)

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
INSERT INTO teams (id, name, name_key, created_at) VALUES ('default', 'default', 'default', 0);

ALTER TABLE shares ADD COLUMN team_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE recipients ADD COLUMN team_id TEXT NOT NULL DEFAULT 'default';
-- JSON array of CIDRs; empty = any address.
ALTER TABLE recipients ADD COLUMN ip_allow TEXT NOT NULL DEFAULT '[]';
-- Partner employees may sign in with their own identity provider: issuer plus an email domain or a claim.
ALTER TABLE recipients ADD COLUMN oidc_issuer TEXT;
ALTER TABLE recipients ADD COLUMN oidc_email_domain TEXT;
ALTER TABLE recipients ADD COLUMN oidc_claim TEXT;

-- Rows a partner read (previews, API pages), beside files and bytes of protocol reads.
ALTER TABLE audit_events ADD COLUMN rows_read BIGINT;
-- What an event concerns, for the audit page's filters: the recipient (the partner itself for its
-- reads), the share, and the team of an admin action (NULL for platform-wide actions and reads).
ALTER TABLE audit_events ADD COLUMN recipient TEXT;
ALTER TABLE audit_events ADD COLUMN share TEXT;
ALTER TABLE audit_events ADD COLUMN team_id TEXT;
CREATE INDEX audit_events_by_actor ON audit_events (actor, at);

-- Admin browser sessions. `team_id` NULL = platform admin.
CREATE TABLE admin_sessions (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    actor TEXT NOT NULL,
    team_id TEXT REFERENCES teams(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- One-time admin sign-in links (`portal admin login-link`).
CREATE TABLE admin_links (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    team_id TEXT REFERENCES teams(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Admin API tokens for automation, scoped to a team (NULL = platform).
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    team_id TEXT REFERENCES teams(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
