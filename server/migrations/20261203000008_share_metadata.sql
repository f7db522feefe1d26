-- What Get Share tells recipients besides the name (Delta Sharing, 2026): a display name and
-- string properties (a JSON object), set by admins.
ALTER TABLE shares ADD COLUMN display_name TEXT;
ALTER TABLE shares ADD COLUMN properties TEXT NOT NULL DEFAULT '{}';
