-- The table version of the recipient's last complete download of a saved view (and when), so
-- that the portal can offer the changes since then.
ALTER TABLE saved_views ADD COLUMN last_download_version BIGINT;
ALTER TABLE saved_views ADD COLUMN last_download_at BIGINT;
