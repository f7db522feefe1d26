-- The portal catalog. Portable SQL (SQLite and Postgres): TEXT ids, BIGINT epoch milliseconds.
-- Names keep their spelling in `name`; `name_key` is the lower-cased form used for lookups,
-- because protocol names are case-insensitive.

CREATE TABLE shares (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    comment TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE shared_tables (
    id TEXT PRIMARY KEY,
    share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    schema_name TEXT NOT NULL,
    schema_key TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    location TEXT NOT NULL,
    comment TEXT,
    history_shared BIGINT NOT NULL DEFAULT 0,
    scope_column TEXT,
    scope_property TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (share_id, schema_key, name_key)
);

CREATE TABLE recipients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    comment TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

CREATE TABLE grants (
    share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (share_id, recipient_id)
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_by_recipient ON tokens (recipient_id);

CREATE TABLE activation_links (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT,
    status BIGINT NOT NULL,
    files BIGINT,
    bytes BIGINT,
    detail TEXT,
    user_agent TEXT,
    client_ip TEXT
);
CREATE INDEX audit_events_by_time ON audit_events (at);
