-- Many replicas on one catalog: what used to live in one process's memory lives here.

-- The portal's HMAC keys when no `secret_key` is configured: generated once, shared by every
-- replica. A key signs from `active_from` (it verifies at once, so replicas learn it before any of
-- them signs with it) and stops verifying at `retired_at`.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active_from BIGINT NOT NULL,
    retired_at BIGINT
);

-- Values waiting to be shown or used once (a new token, an activation link, a sign-in in
-- progress), sealed under a secret the catalog never holds; the row goes when it is taken.
CREATE TABLE reveals (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    sealed TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX reveals_by_expiry ON reveals (expires_at);

-- Export jobs are a queue: a replica's worker holds a job by a lease it keeps renewing; a job
-- whose lease lapsed (its replica died) is taken over, up to a few attempts.
ALTER TABLE export_jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE export_jobs ADD COLUMN lease_until BIGINT;
ALTER TABLE export_jobs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX export_jobs_queue ON export_jobs (status, created_at);
-- Jobs an earlier (single-process) release left running have lapsed: the queue takes them over.
UPDATE export_jobs SET lease_until = 0 WHERE status = 'running';

-- Chores that one replica does at a time (the expiry sweep): whoever holds the row until `until`.
CREATE TABLE chores (
    name TEXT PRIMARY KEY,
    holder TEXT,
    until BIGINT NOT NULL DEFAULT 0
);
INSERT INTO chores (name, until) VALUES ('export-sweep', 0);
-- Its row lock makes "check that no location overlaps, then add one" one step across replicas.
INSERT INTO chores (name, until) VALUES ('locations', 0);
