-- Self-service tokens carry a name ("Power BI refresh"); recipients may have their own token policy
-- (NULL = the portal's defaults). Background exports are jobs with progress, owned by a recipient.
ALTER TABLE tokens ADD COLUMN name TEXT;
ALTER TABLE recipients ADD COLUMN max_token_days BIGINT;
ALTER TABLE recipients ADD COLUMN max_active_tokens BIGINT;

CREATE TABLE export_jobs (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    share_name TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    format TEXT NOT NULL,
    dialect TEXT NOT NULL,
    view_query TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    rows_written BIGINT NOT NULL DEFAULT 0,
    rows_total BIGINT,
    bytes BIGINT,
    file_name TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    expires_at BIGINT
);
CREATE INDEX export_jobs_by_recipient ON export_jobs (recipient_id, created_at);
CREATE INDEX export_jobs_by_status ON export_jobs (status);
