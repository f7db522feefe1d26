-- Async queries (Delta Sharing, 2026): submitted on one replica, polled on any. A row holds what
-- was asked (the parameters, as canonical JSON), the version it resolved to and how it ended,
-- until it expires. The lease lets another replica take over a query whose replica died.
CREATE TABLE async_queries (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    table_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    params TEXT NOT NULL,
    max_files BIGINT,
    status TEXT NOT NULL,
    version BIGINT,
    error_code TEXT,
    error_message TEXT,
    lease_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX async_queries_by_key ON async_queries (recipient_id, table_id, idempotency_key);
CREATE INDEX async_queries_by_expiry ON async_queries (expires_at);
