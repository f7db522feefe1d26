-- Browser sessions of partners. A session stands on the token it was opened with: revoking or
-- expiring that token ends the session too. Only the hash of the cookie value is stored.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
