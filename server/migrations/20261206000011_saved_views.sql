-- A partner's saved table views: a name for a view of one table (the grammar's canonical query
-- string: filters, sort, columns, facets, page size), private to the recipient that saved it.
-- The table is named as its URL names it (keys for matching, names for showing), so a view
-- outlives the table being removed and added again, and is hidden while it is not granted.
CREATE TABLE saved_views (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    share_key TEXT NOT NULL,
    schema_key TEXT NOT NULL,
    table_key TEXT NOT NULL,
    share_name TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (recipient_id, share_key, schema_key, table_key, name)
);
