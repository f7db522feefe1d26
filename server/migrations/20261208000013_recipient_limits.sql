-- Per-recipient limits an admin sets: whether the partner may download files at all (CSV,
-- Excel, export jobs, Power Query), the most rows one download may hold, and the most export
-- jobs the partner may start in 24 hours. NULL: no limit beyond the portal's own.
ALTER TABLE recipients ADD COLUMN downloads_allowed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE recipients ADD COLUMN max_download_rows BIGINT;
ALTER TABLE recipients ADD COLUMN max_export_jobs_per_day BIGINT;
