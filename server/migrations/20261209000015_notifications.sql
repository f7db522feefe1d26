-- The people of a recipient the portal writes to, and the kinds of notification each declined.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT,
    opted_out TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_by_recipient_email ON contacts (recipient_id, email_key);

-- Partners' webhooks: a URL the portal POSTs events to, signed with a secret derived from the
-- portal's webhook key (`portal_secrets`) and the webhook's id: nothing secret is stored per hook.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_by_recipient ON webhooks (recipient_id);

-- Keys the portal generates once and every replica shares (`webhook-root`).
CREATE TABLE portal_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Messages waiting to go out, and what became of them. `dedupe_key` makes a notification once
-- only, whichever replica notices its cause first; a sender holds a message by a lease.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    dedupe_key TEXT NOT NULL,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    contact_id TEXT REFERENCES contacts(id) ON DELETE CASCADE,
    webhook_id TEXT REFERENCES webhooks(id) ON DELETE CASCADE,
    -- `email` (to a contact) or `webhook` (a signed POST).
    channel TEXT NOT NULL DEFAULT 'email',
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE UNIQUE INDEX outbox_once ON outbox (dedupe_key);
CREATE INDEX outbox_due ON outbox (status, next_at);
CREATE INDEX outbox_by_webhook ON outbox (webhook_id, created_at);

-- Scheduled deliveries of a saved view: daily or weekly at an hour (UTC), or on every new
-- table version; the whole view or its changes since the last delivery; as CSV or Excel.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    saved_view_id TEXT NOT NULL REFERENCES saved_views(id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES recipients(id) ON DELETE CASCADE,
    schedule TEXT NOT NULL,
    weekday BIGINT,
    hour BIGINT NOT NULL DEFAULT 6,
    content TEXT NOT NULL,
    format TEXT NOT NULL,
    dialect TEXT NOT NULL,
    next_at BIGINT,
    -- The version the last run started at, and the version the last file delivered held.
    last_version BIGINT,
    delivered_version BIGINT,
    last_run_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX deliveries_one_per_view ON deliveries (saved_view_id);

-- An export job a delivery started; `notified_at` once its partner was told it is ready or failed.
ALTER TABLE export_jobs ADD COLUMN delivery_id TEXT;
ALTER TABLE export_jobs ADD COLUMN notified_at BIGINT;

INSERT INTO chores (name, until) VALUES ('deliveries', 0);
INSERT INTO chores (name, until) VALUES ('reminders', 0);
